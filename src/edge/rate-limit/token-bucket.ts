/**
 * A token bucket: `burst` tokens at most, refilled at `ratePerS`; a request costs `cost` tokens
 * (an export costs more than a page). Pure: `takeTokens(policy, state, nowMs, cost) → outcome`.
 */
export interface BucketPolicy {
  /** Name shown in `RateLimit-Policy` (a structured-field token: letters, digits, `-`). */
  name: string;
  ratePerS: number;
  burst: number;
}

export interface BucketState {
  tokens: number;
  updatedMs: number;
}

export interface TakeOutcome {
  allowed: boolean;
  state: BucketState;
  /** Tokens left after this request (0 when refused). */
  remaining: number;
  /** When a refused request could be accepted (ms from now); 0 when allowed. */
  retryAfterMs: number;
  /** Time until the bucket is full again (ms): the `t` of `RateLimit`. */
  fullInMs: number;
}

export function takeTokens(policy: BucketPolicy, state: BucketState | undefined, nowMs: number, cost: number): TakeOutcome {
  // A clock that went backwards refills nothing (never a negative elapsed time).
  const elapsedMs = state ? Math.max(0, nowMs - state.updatedMs) : 0;
  const available = state ? Math.min(policy.burst, state.tokens + (elapsedMs * policy.ratePerS) / 1000) : policy.burst;
  // A cost above the burst could never be paid: it is capped, so such a request is slow, not impossible.
  const price = Math.min(Math.max(0, cost), policy.burst);
  if (available >= price) {
    const tokens = available - price;
    return { allowed: true, state: { tokens, updatedMs: nowMs }, remaining: Math.floor(tokens), retryAfterMs: 0, fullInMs: Math.ceil(((policy.burst - tokens) * 1000) / policy.ratePerS) };
  }
  return {
    allowed: false,
    state: { tokens: available, updatedMs: nowMs },
    remaining: 0,
    retryAfterMs: Math.ceil(((price - available) * 1000) / policy.ratePerS),
    fullInMs: Math.ceil(((policy.burst - available) * 1000) / policy.ratePerS),
  };
}
