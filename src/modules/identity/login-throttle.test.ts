import { describe, expect, it } from 'vitest';
import { decideAttempt, DEFAULT_THROTTLE_POLICY as P, LoginThrottle, MemoryFailureStore } from './login-throttle.js';

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
