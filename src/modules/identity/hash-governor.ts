/**
 * The hashing governor: reads of signed-in people before new password checks when the node is
 * saturated.
 *
 * Argon2id runs in libuv's threads, beside the event loop, on the same cores. On the crisis
 * morning of 1,440 pupils (docs/STATUS.md, drill measurements) the waiting room admitted logins at
 * the hash pool's own pace, so the pool was always busy and its threads took the one pinned core
 * from the event loop: every pupil's page waited 6 s while the shedder saw no lag to act on (the
 * loop was busy, not late). What that situation does show is the loop's utilisation (the share of
 * wall time it spends in callbacks rather than waiting for I/O): near 1, requests are waiting for
 * it.
 *
 * So the share of CPU given to hashing follows the loop's utilisation: over `highUtilisation`,
 * multiplied by `decreaseFactor` (down to `minShare`, so logins never stop); under
 * `lowUtilisation`, raised by `increaseStep` (up to 1: as many threads as configured, unthrottled).
 * The share is applied as a budget of compute time (`HashBudget`): `share × concurrency` seconds
 * of hashing per second of wall time. Fewer checks complete, the hash queue stays longer, and the
 * waiting room — which admits against the queue and the measured rate — lets fewer visitors in:
 * they wait on its cheap page instead of everyone waiting on a saturated node.
 *
 * Pure: `nextHashShare(settings, share, utilisation) → share`.
 */
export interface HashGovernorSettings {
  /** Utilisation of the event loop over one sample above which hashing yields. */
  highUtilisation: number;
  /** Utilisation under which hashing gets its share back. Between the two nothing moves (hysteresis). */
  lowUtilisation: number;
  decreaseFactor: number;
  increaseStep: number;
  /** Hashing never gets less than this share of its configured threads (a trickle of logins goes on). */
  minShare: number;
  /** How often the loop's utilisation is sampled and the share moved (ms); 0: never (the share stays 1). */
  sampleMs: number;
}

export const DEFAULT_HASH_GOVERNOR: HashGovernorSettings = {
  highUtilisation: 0.9,
  lowUtilisation: 0.7,
  decreaseFactor: 0.7,
  increaseStep: 0.1,
  minShare: 0.1,
  sampleMs: 250,
};

export function nextHashShare(settings: HashGovernorSettings, share: number, utilisation: number): number {
  if (!Number.isFinite(utilisation)) return share;
  if (utilisation > settings.highUtilisation) return Math.max(settings.minShare, share * settings.decreaseFactor);
  if (utilisation < settings.lowUtilisation) return Math.min(1, Math.round((share + settings.increaseStep) * 1e6) / 1e6);
  return share;
}

/**
 * A budget of hashing compute time, refilled at `share × threads` ms per ms of wall time and spent
 * by each finished hash. A new hash may start while the balance is not negative; the balance is
 * capped at `burstMs` so an idle minute does not buy a minute of unthrottled hashing later. At
 * share 1 the budget never binds (the thread count does).
 */
export class HashBudget {
  private balanceMs: number;
  private atMs: number;
  private share = 1;

  constructor(
    private readonly threads: number,
    private readonly burstMs: number,
    nowMs: number,
  ) {
    this.balanceMs = burstMs;
    this.atMs = nowMs;
  }

  currentShare(): number {
    return this.share;
  }

  setShare(share: number, nowMs: number): void {
    this.refill(nowMs);
    this.share = Math.min(1, Math.max(0, share));
  }

  /** Threads the governor allows at once: the configured count scaled by the share, at least one. */
  threadsAllowed(): number {
    return Math.max(1, Math.min(this.threads, Math.ceil(this.share * this.threads)));
  }

  /** May a hash start now? (At share 1 always.) */
  canStart(nowMs: number): boolean {
    if (this.share >= 1) return true;
    this.refill(nowMs);
    return this.balanceMs >= 0;
  }

  /** Ms until `canStart` turns true (0 if it is). */
  waitMs(nowMs: number): number {
    if (this.canStart(nowMs)) return 0;
    const rate = this.share * this.threads;
    return rate > 0 ? Math.ceil(-this.balanceMs / rate) : Number.POSITIVE_INFINITY;
  }

  spend(computeMs: number, nowMs: number): void {
    this.refill(nowMs);
    if (this.share < 1) this.balanceMs -= computeMs;
  }

  private refill(nowMs: number): void {
    const elapsed = Math.max(0, nowMs - this.atMs);
    this.atMs = nowMs;
    this.balanceMs = Math.min(this.burstMs, this.balanceMs + elapsed * this.share * this.threads);
  }
}
