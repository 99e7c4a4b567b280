/**
 * Failed-login throttling. Two paths are slowed, never the account itself:
 *  - the pair (account, client address): after a few failures, a growing wait for that pair only,
 *    so an attacker elsewhere cannot lock a pupil out of their own account;
 *  - the client address alone: a flood of failures from one address across many accounts.
 * The decision is a pure function of the recorded failures (unit-tested); the store is an
 * interface (memory; with several nodes, Redis with a memory fallback: `login-throttle.redis.ts`).
 */

export interface FailureRecord {
  count: number;
  firstMs: number;
  lastMs: number;
}

export interface FailureStore {
  get(key: string): Promise<FailureRecord | undefined>;
  /** Adds one failure; a record older than `windowMs` starts again from zero. */
  add(key: string, nowMs: number, windowMs: number): Promise<FailureRecord>;
  reset(key: string): Promise<void>;
}

export interface ThrottlePolicy {
  /** Failures allowed for one account from one address before waits start. */
  pairFreeFailures: number;
  pairBaseWaitMs: number;
  pairMaxWaitMs: number;
  /** Failures are forgotten after this long without a new one. */
  pairWindowMs: number;
  /** Failures allowed from one address (all accounts) per window. Generous: a whole school may share one address. */
  addressMaxFailures: number;
  addressWindowMs: number;
}

export const DEFAULT_THROTTLE_POLICY: ThrottlePolicy = {
  pairFreeFailures: 5,
  pairBaseWaitMs: 30_000,
  pairMaxWaitMs: 15 * 60_000,
  pairWindowMs: 60 * 60_000,
  addressMaxFailures: 200,
  addressWindowMs: 10 * 60_000,
};

export type ThrottleDecision = { allowed: true } | { allowed: false; retryAfterMs: number; scope: 'pair' | 'address' };

/** Pure: may one more attempt be made now, given the failures recorded so far? */
export function decideAttempt(
  policy: ThrottlePolicy,
  pair: FailureRecord | undefined,
  address: FailureRecord | undefined,
  nowMs: number,
): ThrottleDecision {
  if (address && nowMs - address.firstMs < policy.addressWindowMs && address.count >= policy.addressMaxFailures) {
    return { allowed: false, retryAfterMs: address.firstMs + policy.addressWindowMs - nowMs, scope: 'address' };
  }
  if (pair && nowMs - pair.lastMs < policy.pairWindowMs && pair.count >= policy.pairFreeFailures) {
    const excess = pair.count - policy.pairFreeFailures;
    const waitMs = Math.min(policy.pairMaxWaitMs, policy.pairBaseWaitMs * 2 ** Math.min(excess, 20));
    const remaining = pair.lastMs + waitMs - nowMs;
    if (remaining > 0) return { allowed: false, retryAfterMs: remaining, scope: 'pair' };
  }
  return { allowed: true };
}

/**
 * Bounded in-memory store. When full, the oldest records are forgotten: an attacker spraying
 * addresses cannot exhaust memory, at the price of forgetting some failures (fails open, with
 * the per-address limit still in force for active addresses).
 */
export class MemoryFailureStore implements FailureStore {
  private readonly records = new Map<string, FailureRecord>();
  constructor(private readonly maxEntries = 200_000) {}

  async get(key: string): Promise<FailureRecord | undefined> {
    return this.records.get(key);
  }

  async add(key: string, nowMs: number, windowMs: number): Promise<FailureRecord> {
    const prev = this.records.get(key);
    const next: FailureRecord =
      prev && nowMs - prev.lastMs < windowMs ? { count: prev.count + 1, firstMs: prev.firstMs, lastMs: nowMs } : { count: 1, firstMs: nowMs, lastMs: nowMs };
    this.records.delete(key);
    this.records.set(key, next);
    while (this.records.size > this.maxEntries) this.records.delete(this.records.keys().next().value!);
    return next;
  }

  async reset(key: string): Promise<void> {
    this.records.delete(key);
  }

  size(): number {
    return this.records.size;
  }
}

export class LoginThrottle {
  constructor(
    private readonly store: FailureStore,
    private readonly policy: ThrottlePolicy = DEFAULT_THROTTLE_POLICY,
  ) {}

  private keys(account: string, address: string) {
    return { pair: `p:${account}\u0000${address}`, address: `a:${address}` };
  }

  async check(account: string, address: string, nowMs: number): Promise<ThrottleDecision> {
    const k = this.keys(account, address);
    const [pair, addr] = await Promise.all([this.store.get(k.pair), this.store.get(k.address)]);
    return decideAttempt(this.policy, pair, addr, nowMs);
  }

  async recordFailure(account: string, address: string, nowMs: number): Promise<void> {
    const k = this.keys(account, address);
    await this.store.add(k.pair, nowMs, this.policy.pairWindowMs);
    await this.store.add(k.address, nowMs, this.policy.addressWindowMs);
  }

  /** A success clears the pair only: the address keeps its count (a stuffing run with one valid password stays slowed). */
  async recordSuccess(account: string, address: string): Promise<void> {
    await this.store.reset(this.keys(account, address).pair);
  }
}
