/**
 * When to try again after a refusal or a failure: a pure policy (attempt, server hint, a random
 * draw → delay), applied by the callers. Exponential and capped, with jitter so that thousands of
 * phones refused at the same second do not come back at the same second (never lock-step). A
 * server's `Retry-After` is a floor, never shortened: the server knows its queue.
 */
export interface BackoffPolicy {
  /** Delay around the first retry. */
  baseMs: number;
  /** No computed delay exceeds this (a pupil waiting longer than a minute reloads anyway). */
  maxMs: number;
  /** A server's Retry-After is honoured up to this (a broken header must not park a client for hours). */
  maxRetryAfterMs: number;
  /** Share of a Retry-After added at random on top of it, to spread the herd it released. */
  retryAfterSpread: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 1_000, maxMs: 60_000, maxRetryAfterMs: 10 * 60_000, retryAfterSpread: 0.5 };

/** Exponents beyond this change nothing (the cap is reached) and would overflow. */
const MAX_EXPONENT = 20;

/**
 * Delay before retry number `attempt` (0 for the first retry). Without a server hint: "equal
 * jitter", between half and all of min(max, base·2^attempt), so the wait grows yet never
 * synchronises. With `Retry-After: R`: between R and R·(1 + spread), capped.
 * `random` returns a number in [0, 1).
 */
export function nextDelayMs(attempt: number, retryAfterSeconds: number | undefined, random: () => number, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  const draw = Math.min(Math.max(random(), 0), 1);
  if (retryAfterSeconds !== undefined && Number.isFinite(retryAfterSeconds) && retryAfterSeconds > 0) {
    const floorMs = Math.min(retryAfterSeconds * 1000, policy.maxRetryAfterMs);
    return Math.round(Math.min(floorMs * (1 + policy.retryAfterSpread * draw), policy.maxRetryAfterMs));
  }
  const exponent = Math.min(Math.max(0, Math.floor(attempt)), MAX_EXPONENT);
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
  return Math.round(ceiling / 2 + (ceiling / 2) * draw);
}

/** A Retry-After header as seconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(header: string | null, nowMs: number): number | undefined {
  if (!header) return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - nowMs) / 1000));
}

/** A node's reconnect hint is followed up to this (a broken hint must not park a client). */
export const MAX_RESTART_HINT_MS = 60_000;

/**
 * After a node said "service restart" (WebSocket close 1012, reason `reconnect=<ms>`): wait the
 * delay it drew for this client (it spreads its clients itself; the load balancer sends the
 * reconnection to another node). Without a readable hint, a jittered 1–5 s.
 */
export function restartDelayMs(reason: string, random: () => number): number {
  const hint = /^reconnect=(\d{1,6})$/.exec(reason);
  if (hint) return Math.min(Number(hint[1]), MAX_RESTART_HINT_MS);
  return Math.round(1_000 + Math.min(Math.max(random(), 0), 1) * 4_000);
}
