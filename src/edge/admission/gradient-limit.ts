/**
 * An adaptive concurrency limit (the "gradient" controller of Netflix's concurrency-limits, in
 * the spirit of TCP Vegas): it compares the latency measured recently with the latency the node
 * has when it is not queueing, and shrinks the number of requests allowed in flight when the
 * first grows beyond a tolerance; it grows again by a small queue allowance when latency is back.
 * No fixed number to guess: the limit follows what the database and the disks can do today.
 *
 * Pure: `nextLimit(settings, state, window) → state`. The mechanism (admission.ts) measures
 * windows of request latencies and applies the limit.
 */
export interface GradientSettings {
  initialLimit: number;
  minLimit: number;
  maxLimit: number;
  /** How much the recent latency may exceed the long-term latency before the limit shrinks (1.5 = +50 %). */
  tolerance: number;
  /** Weight of a new window in the limit (0..1): changes are smoothed over several windows. */
  smoothing: number;
  /** Windows averaged into the long-term latency (an exponential average). */
  longWindows: number;
}

export const DEFAULT_GRADIENT_SETTINGS: GradientSettings = {
  initialLimit: 64,
  minLimit: 8,
  maxLimit: 2048,
  tolerance: 1.5,
  smoothing: 0.2,
  longWindows: 100,
};

export interface GradientState {
  limit: number;
  /** Long-term average latency of a window (ms); 0 before the first window. */
  longLatencyMs: number;
}

export interface LatencyWindow {
  /** Average in-process latency of the requests completed in the window (ms). */
  avgLatencyMs: number;
  /** Most requests in flight at once during the window. */
  maxInflight: number;
}

export function initialGradientState(settings: GradientSettings): GradientState {
  return { limit: settings.initialLimit, longLatencyMs: 0 };
}

export function nextLimit(settings: GradientSettings, state: GradientState, window: LatencyWindow): GradientState {
  const short = Math.max(0.001, window.avgLatencyMs);
  let long = state.longLatencyMs === 0 ? short : state.longLatencyMs + (short - state.longLatencyMs) / settings.longWindows;
  // After a lasting improvement, forget the old slow baseline faster (else the limit would grow unchecked).
  if (long / short > 2) long *= 0.95;
  // Application-limited: the node was not using its allowance, so the latency says nothing about it.
  if (window.maxInflight < state.limit / 2) return { limit: state.limit, longLatencyMs: long };
  const gradient = Math.max(0.5, Math.min(1, (settings.tolerance * long) / short));
  const queueAllowance = Math.sqrt(state.limit);
  const target = state.limit * gradient + queueAllowance;
  const smoothed = state.limit * (1 - settings.smoothing) + target * settings.smoothing;
  return { limit: Math.max(settings.minLimit, Math.min(settings.maxLimit, smoothed)), longLatencyMs: long };
}
