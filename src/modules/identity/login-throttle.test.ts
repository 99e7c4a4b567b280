import { describe, expect, it } from 'vitest';
import { contractEdgeRedis, redisAvailable } from '../../../test/support/redis.js';
import { failureStoreContract } from './login-throttle.contract.js';
import { decideAttempt, DEFAULT_THROTTLE_POLICY as P, LoginThrottle, MemoryFailureStore, type FailureStore } from './login-throttle.js';
import { FallbackFailureStore, RedisFailureStore } from './login-throttle.redis.js';

describe('decideAttempt (pure policy)', () => {
  it('allows the first failures, then waits grow and are capped', () => {
    const t = 1_000_000;
    expect(decideAttempt(P, { count: 4, firstMs: t, lastMs: t }, undefined, t + 1)).toEqual({ allowed: true });
    expect(decideAttempt(P, { count: 5, firstMs: t, lastMs: t }, undefined, t + 1)).toEqual({ allowed: false, retryAfterMs: 29_999, scope: 'pair' });
    const d7 = decideAttempt(P, { count: 7, firstMs: t, lastMs: t }, undefined, t);
    expect(d7).toEqual({ allowed: false, retryAfterMs: 120_000, scope: 'pair' });
    const d50 = decideAttempt(P, { count: 50, firstMs: t, lastMs: t }, undefined, t);
    expect(d50).toEqual({ allowed: false, retryAfterMs: P.pairMaxWaitMs, scope: 'pair' });
    expect(decideAttempt(P, { count: 5, firstMs: t, lastMs: t }, undefined, t + 30_000)).toEqual({ allowed: true });
  });

  it('blocks an address that failed too often, until its window ends', () => {
    const t = 0;
    const addr = { count: P.addressMaxFailures, firstMs: t, lastMs: t + 1000 };
    expect(decideAttempt(P, undefined, addr, t + 60_000)).toEqual({ allowed: false, retryAfterMs: P.addressWindowMs - 60_000, scope: 'address' });
    expect(decideAttempt(P, undefined, addr, t + P.addressWindowMs)).toEqual({ allowed: true });
  });
});

describe('LoginThrottle', () => {
  it('slows account+address and the address, never the account from another address', async () => {
    const th = new LoginThrottle(new MemoryFailureStore());
    for (let i = 0; i < 5; i++) await th.recordFailure('lea', '198.51.100.7', 1000);
    expect((await th.check('lea', '198.51.100.7', 1001)).allowed).toBe(false);
    expect((await th.check('lea', '203.0.113.9', 1001)).allowed).toBe(true);
    expect((await th.check('tom', '198.51.100.7', 1001)).allowed).toBe(true);
  });

  it('a success clears the pair but not the address count', async () => {
    const store = new MemoryFailureStore();
    const th = new LoginThrottle(store, { ...P, addressMaxFailures: 6 });
    for (let i = 0; i < 4; i++) await th.recordFailure('lea', 'x', 1000);
    await th.recordSuccess('lea', 'x');
    for (let i = 0; i < 2; i++) await th.recordFailure('tom', 'x', 1000);
    expect(await th.check('lea', 'x', 1001)).toMatchObject({ allowed: false, scope: 'address' });
  });

  it('the store is bounded: an attacker spraying addresses cannot grow it without limit', async () => {
    const store = new MemoryFailureStore(100);
    for (let i = 0; i < 1000; i++) await store.add(`a:${i}`, i, 60_000);
    expect(store.size()).toBe(100);
    expect(await store.get('a:999')).toBeDefined();
    expect(await store.get('a:0')).toBeUndefined();
  });
});

describe('FailureStore contract on memory', () => {
  failureStoreContract(async () => new MemoryFailureStore());
});

describe.runIf(await redisAvailable())('FailureStore contract on Redis', () => {
  const redis = contractEdgeRedis();
  failureStoreContract(async () => new RedisFailureStore(await redis()));
});

describe('FallbackFailureStore', () => {
  it('counts on the shared store while it answers, on this node’s memory when it does not', async () => {
    const shared = new MemoryFailureStore();
    const local = new MemoryFailureStore();
    let up = true;
    const broken: FailureStore = { get: async () => Promise.reject(new Error('away')), add: async () => Promise.reject(new Error('away')), reset: async () => Promise.reject(new Error('away')) };
    const store = new FallbackFailureStore(shared, local, () => up);
    await store.add('k', 1_000, 60_000);
    expect([shared.size(), local.size()]).toEqual([1, 0]);
    up = false;
    await store.add('k', 1_001, 60_000);
    expect(await local.get('k')).toMatchObject({ count: 1 });
    // Breaker closed but the call fails: the node's memory answers.
    const failing = new FallbackFailureStore(broken, local, () => true);
    expect(await failing.add('k', 1_002, 60_000)).toMatchObject({ count: 2 });
  });
});
