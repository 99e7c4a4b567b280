/**
 * The circuit breaker in front of Redis (pure policy: `nextBreaker(settings, state, event) → state`).
 * Closed: calls go to Redis. After `failuresToOpen` failures in a row (errors or timeouts), open:
 * no call is made for `openMs` (a dead Redis costs nothing per request: the callers use their local
 * state). Then half-open: one probe call; its success closes the breaker, its failure opens it again.
 */
export interface BreakerSettings {
  failuresToOpen: number;
  openMs: number;
}

export const DEFAULT_BREAKER_SETTINGS: BreakerSettings = { failuresToOpen: 3, openMs: 2_000 };

export type BreakerState =
  | { mode: 'closed'; failures: number }
  | { mode: 'open'; untilMs: number }
  | { mode: 'half_open'; probing: boolean };

/** `trip`: Redis is certainly away (no connection at boot): open at once. */
export type BreakerEvent = { kind: 'success' } | { kind: 'failure'; nowMs: number } | { kind: 'trip'; nowMs: number } | { kind: 'tick'; nowMs: number } | { kind: 'probe' };

export const INITIAL_BREAKER: BreakerState = { mode: 'closed', failures: 0 };

export function nextBreaker(s: BreakerSettings, state: BreakerState, e: BreakerEvent): BreakerState {
  switch (e.kind) {
    case 'success':
      return state.mode === 'closed' && state.failures === 0 ? state : INITIAL_BREAKER;
    case 'failure':
      if (state.mode === 'closed' && state.failures + 1 < s.failuresToOpen) return { mode: 'closed', failures: state.failures + 1 };
      if (state.mode === 'open') return state;
      return { mode: 'open', untilMs: e.nowMs + s.openMs };
    case 'trip':
      return { mode: 'open', untilMs: e.nowMs + s.openMs };
    case 'tick':
      return state.mode === 'open' && e.nowMs >= state.untilMs ? { mode: 'half_open', probing: false } : state;
    case 'probe':
      return state.mode === 'half_open' ? { mode: 'half_open', probing: true } : state;
  }
}

/** Pure: may a call go to Redis now? Closed: yes; open: no; half-open: only the one probe. */
export function mayCall(state: BreakerState): boolean {
  return state.mode === 'closed' || (state.mode === 'half_open' && !state.probing);
}
