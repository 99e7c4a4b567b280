import type { Criticality } from '../../http/request-context.js';

/**
 * Load shedding by criticality, driven by event-loop lag. One Node process has one thread: when
 * the CPU is saturated the requests wait in the kernel, unseen, and the only signal the process
 * has is that its own loop comes round late. While the lag stays above target, the share of
 * requests admitted is lowered class by class from the bottom (sheddable, then login, then
 * normal, and critical last); when the lag is back under target it is raised again from the top
 * (critical first). An additive-increase, multiplicative-decrease controller per class, with
 * an order between classes.
 *
 * Only a lag that lasts counts (`sustainSamples` samples in a row over target, CoDel's "standing
 * queue"): a garbage-collection pause or a moment without the CPU on a shared host sheds nothing.
 *
 * Pure: `nextShedState(settings, state, lagMs) → state`. Fails open: without lag samples (timer
 * not started, tests) every share stays 1 and everything is admitted — shedding is an
 * optimisation of an overload, never a gate on a healthy node.
 */
export const SHED_ORDER: readonly Criticality[] = ['sheddable', 'login', 'normal', 'critical'];

export interface ShedSettings {
  /** Lag above which the node is considered behind (ms). */
  targetLagMs: number;
  /** Consecutive samples over target before shedding starts (each further one sheds more). */
  sustainSamples: number;
  /** Multiplicative decrease of the lowest class still admitted, per sample over target. */
  decreaseFactor: number;
  /** Additive increase of the highest class not fully admitted, per sample under target. */
  increaseStep: number;
  /** A class never goes below this share (a trickle keeps measuring the path and answers someone). */
  minShare: Record<Criticality, number>;
}

export const DEFAULT_SHED_SETTINGS: ShedSettings = {
  targetLagMs: 50,
  sustainSamples: 3,
  decreaseFactor: 0.7,
  increaseStep: 0.1,
  minShare: { sheddable: 0, login: 0.05, normal: 0.05, critical: 0.2 },
};

export type Shares = Record<Criticality, number>;

export const FULL_SHARES: Shares = { sheddable: 1, login: 1, normal: 1, critical: 1 };

export interface ShedState {
  shares: Shares;
  /** Consecutive samples over target so far. */
  overSamples: number;
}

export const INITIAL_SHED_STATE: ShedState = { shares: FULL_SHARES, overSamples: 0 };

/** Which classes had requests since the last sample (a class without traffic sheds nothing by lowering). */
export type Activity = Record<Criticality, boolean>;

const ALL_ACTIVE: Activity = { sheddable: true, login: true, normal: true, critical: true };

export function nextShedState(settings: ShedSettings, state: ShedState, lagMs: number, active: Activity = ALL_ACTIVE): ShedState {
  const over = lagMs > settings.targetLagMs;
  const overSamples = over ? state.overSamples + 1 : 0;
  if (over && overSamples < settings.sustainSamples) return { shares: state.shares, overSamples };
  return { shares: nextShares(settings, state.shares, over, active), overSamples };
}

function nextShares(settings: ShedSettings, shares: Shares, over: boolean, active: Activity): Shares {
  const next = { ...shares };
  if (over) {
    // Lower the lowest class with traffic that is still above its floor; quiet classes below it go
    // straight to their floor (lowering them would relieve nothing, and cost the time of the steps).
    // Without any traffic at all there is nothing to relieve: nothing changes.
    if (!SHED_ORDER.some((c) => active[c])) return next;
    let belowTraffic = true;
    for (const c of SHED_ORDER) {
      if (!active[c]) {
        if (belowTraffic && next[c] > settings.minShare[c]) next[c] = settings.minShare[c];
        continue;
      }
      belowTraffic = false;
      if (next[c] > settings.minShare[c]) {
        const lowered = next[c] * settings.decreaseFactor;
        next[c] = lowered < settings.minShare[c] + 0.01 ? settings.minShare[c] : lowered;
        return next;
      }
    }
    return next;
  }
  // Raise the highest class that is not fully admitted.
  for (let i = SHED_ORDER.length - 1; i >= 0; i--) {
    const c = SHED_ORDER[i]!;
    if (next[c] < 1) {
      // Rounded: repeated additions of 0.1 must land on 1, not on 0.9999….
      next[c] = Math.min(1, Math.round((next[c] + settings.increaseStep) * 1e6) / 1e6);
      return next;
    }
  }
  return next;
}
