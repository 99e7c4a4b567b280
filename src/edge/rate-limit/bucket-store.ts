import { takeTokens, type BucketPolicy, type TakeOutcome, type BucketState } from './token-bucket.js';

/**
 * Where buckets live. Synchronous on purpose: a rate-limit check is on the path of every request
 * and must cost no promise. The memory store is the embedded one; with several nodes,
 * `SyncedBucketStore` (shared-buckets.ts) keeps this interface by judging locally and charging
 * Redis in the background (a node can overspend a key by what it admits during one round trip).
 */
export interface BucketStore {
  take(key: string, policy: BucketPolicy, cost: number, nowMs: number): TakeOutcome;
  size(): number;
}

/**
 * Bounded: beyond `maxEntries`, the oldest buckets (by creation) are forgotten. Fails open for
 * them (a forgotten bucket starts full again): an attacker spraying keys to exhaust memory gets
 * nothing more than fresh buckets, which the per-network bucket and admission still bound. Not a
 * true LRU on purpose: keeping recency would cost a delete and an insert per request.
 */
export class MemoryBucketStore implements BucketStore {
  private readonly buckets = new Map<string, BucketState>();
  constructor(private readonly maxEntries = 200_000) {}

  take(key: string, policy: BucketPolicy, cost: number, nowMs: number): TakeOutcome {
    const state = this.buckets.get(key);
    const outcome = takeTokens(policy, state, nowMs, cost);
    if (state) {
      // Updated in place: no new entry, no rehash on the path of every request.
      state.tokens = outcome.state.tokens;
      state.updatedMs = outcome.state.updatedMs;
    } else {
      this.buckets.set(key, outcome.state);
      if (this.buckets.size > this.maxEntries) this.buckets.delete(this.buckets.keys().next().value!);
    }
    return outcome;
  }

  size(): number {
    return this.buckets.size;
  }
}
