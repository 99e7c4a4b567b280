import { describe, expect, it } from 'vitest';
import { contractEdgeRedis, redisAvailable } from '../../../test/support/redis.js';
import { sharedBucketsContract } from './shared-buckets.contract.js';
import { MemorySharedBuckets, RedisSharedBuckets, SyncedBucketStore, type SharedBuckets } from './shared-buckets.js';
import type { BucketPolicy } from './token-bucket.js';


describe('SharedBuckets contract on memory', () => {
  sharedBucketsContract(async () => ({ buckets: new MemorySharedBuckets(), key: (k) => k }));
});

describe.runIf(await redisAvailable())('SharedBuckets contract on Redis', () => {
  const redis = contractEdgeRedis();
  sharedBucketsContract(async () => ({ buckets: new RedisSharedBuckets(await redis(), 'address'), key: (k) => k }));
});

const POLICY: BucketPolicy = { name: 'address', ratePerS: 0.001, burst: 4 };

describe('SyncedBucketStore (local verdict now, shared verdict in the background)', () => {
  it('a key spent on node 1 is refused on node 2 after at most one request there', async () => {
    const shared = new MemorySharedBuckets();
    const node1 = new SyncedBucketStore(shared, () => true);
    const node2 = new SyncedBucketStore(shared, () => true);
    const now = Date.now();
    for (let i = 0; i < 4; i++) expect(node1.take('a', POLICY, 1, now).allowed).toBe(true);
    await node1.flush();
    // Node 2 knows nothing yet: its own bucket is full, so its first request passes and is charged…
    expect(node2.take('a', POLICY, 1, now).allowed).toBe(true);
    await node2.flush();
    // …and the shared answer (empty) refuses the next ones, with a Retry-After from the shared bucket.
    const refused = node2.take('a', POLICY, 1, now + 10);
    expect(refused.allowed).toBe(false);
    expect(refused.retryAfterMs).toBeGreaterThan(900_000);
    // Node 1 learnt it too from its own charges (the fourth left less than a token).
    expect(node1.take('a', POLICY, 1, now + 10).allowed).toBe(false);
    // Another key is untouched.
    expect(node2.take('b', POLICY, 1, now + 10).allowed).toBe(true);
  });

  it('while the shared store cannot answer, local limits hold (fail open to per-node buckets)', async () => {
    const broken: SharedBuckets = { take: async () => undefined };
    const store = new SyncedBucketStore(broken, () => true);
    const now = Date.now();
    const verdicts = [];
    for (let i = 0; i < 6; i++) {
      verdicts.push(store.take('a', POLICY, 1, now).allowed);
      await store.flush();
    }
    expect(verdicts).toEqual([true, true, true, true, false, false]);
    expect(store.counts.dropped).toBe(4);
  });

  it('with the breaker open, nothing is queued for Redis (a dead Redis costs nothing per request)', async () => {
    let calls = 0;
    const counting: SharedBuckets = {
      take: async (c) => {
        calls++;
        return c.map(() => ({ allowed: true, tokens: 3 }));
      },
    };
    const store = new SyncedBucketStore(counting, () => false);
    for (let i = 0; i < 3; i++) store.take('a', POLICY, 1, Date.now());
    await store.flush();
    expect(calls).toBe(0);
  });

  it('gathers the charges of many requests into one call', async () => {
    const batches: number[] = [];
    const shared = new MemorySharedBuckets();
    const spy: SharedBuckets = {
      take: async (c) => {
        batches.push(c.length);
        return shared.take(c);
      },
    };
    const store = new SyncedBucketStore(spy, () => true, { flushEveryMs: 5, maxBatch: 2, maxPending: 100, maxBlocked: 100 });
    const now = Date.now();
    for (const k of ['a', 'a', 'b', 'c']) store.take(k, POLICY, 1, now);
    await store.flush();
    // 'a' twice is one charge of 2; three keys in batches of at most 2.
    expect(batches).toEqual([2, 1]);
    expect((await shared.take([{ key: 'a', policy: POLICY, cost: 0 }]))[0]!.tokens).toBeCloseTo(2, 2);
  });
});

describe('SyncedBucketStore bounds', () => {
  it('its memory of shared verdicts is bounded, and expired verdicts make room for new ones', async () => {
    let now = Date.now();
    const shared = new MemorySharedBuckets(() => now);
    const limits = { flushEveryMs: 5, maxBatch: 100, maxPending: 100, maxBlocked: 2 };
    const node1 = new SyncedBucketStore(shared, () => true, limits, () => now);
    const node2 = new SyncedBucketStore(shared, () => true, limits, () => now);
    const fast: BucketPolicy = { name: 'address', ratePerS: 100, burst: 2 };
    // Node 2 fills its two places with verdicts that expire within 10 ms.
    for (const k of ['a', 'a', 'b', 'b']) node2.take(k, fast, 1, now);
    await node2.flush();
    now += 1_000;
    // Node 1 spends 'd'; node 2's first 'd' passes locally and learns the shared verdict…
    node1.take('d', fast, 2, now);
    await node1.flush();
    expect(node2.take('d', fast, 1, now).allowed).toBe(true);
    await node2.flush();
    // …which it keeps although its places were full (of expired verdicts): its own bucket still has a token.
    expect(node2.take('d', fast, 1, now).allowed).toBe(false);
  });
});
