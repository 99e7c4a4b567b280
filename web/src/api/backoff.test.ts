import { describe, expect, it } from 'vitest';
import { DEFAULT_BACKOFF, MAX_RESTART_HINT_MS, nextDelayMs, parseRetryAfter, restartDelayMs } from './backoff.js';

describe('backoff policy', () => {
  it('grows exponentially, stays within [ceiling/2, ceiling], and is capped', () => {
    for (let attempt = 0; attempt < 12; attempt++) {
      const ceiling = Math.min(DEFAULT_BACKOFF.maxMs, DEFAULT_BACKOFF.baseMs * 2 ** attempt);
      expect(nextDelayMs(attempt, undefined, () => 0)).toBe(ceiling / 2);
      expect(nextDelayMs(attempt, undefined, () => 0.999_999)).toBeLessThanOrEqual(ceiling);
    }
    expect(nextDelayMs(1_000, undefined, () => 1)).toBe(DEFAULT_BACKOFF.maxMs);
    expect(nextDelayMs(-3, undefined, () => 0)).toBe(DEFAULT_BACKOFF.baseMs / 2);
  });

  it('never retries in lock-step: a thousand clients refused together spread out', () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const delays = Array.from({ length: 1000 }, () => nextDelayMs(3, undefined, random));
    // Spread over the whole window [4 s, 8 s]: no 100 ms slice gets more than a few percent of them.
    const perSlice = new Map<number, number>();
    for (const d of delays) perSlice.set(Math.floor(d / 100), (perSlice.get(Math.floor(d / 100)) ?? 0) + 1);
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(4_000);
    expect(Math.max(...delays)).toBeLessThanOrEqual(8_000);
    expect(Math.max(...perSlice.values())).toBeLessThan(60);
    const withHint = Array.from({ length: 1000 }, () => nextDelayMs(0, 12, random));
    expect(Math.min(...withHint)).toBeGreaterThanOrEqual(12_000);
    expect(Math.max(...withHint)).toBeLessThanOrEqual(18_000);
    expect(new Set(withHint.map((d) => Math.floor(d / 1000))).size).toBeGreaterThanOrEqual(6);
  });

  it('honours Retry-After as a floor, capped against absurd values', () => {
    expect(nextDelayMs(0, 12, () => 0)).toBe(12_000);
    expect(nextDelayMs(9, 2, () => 0)).toBe(2_000);
    expect(nextDelayMs(0, 86_400, () => 0.5)).toBe(DEFAULT_BACKOFF.maxRetryAfterMs);
    expect(nextDelayMs(0, Number.NaN, () => 0)).toBe(500);
    expect(nextDelayMs(0, 0, () => 0)).toBe(500);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-09-07T06:30:00Z');
    expect(parseRetryAfter('12', now)).toBe(12);
    expect(parseRetryAfter(' 3 ', now)).toBe(3);
    expect(parseRetryAfter('Mon, 07 Sep 2026 06:30:30 GMT', now)).toBe(30);
    expect(parseRetryAfter('Mon, 07 Sep 2026 06:29:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('bientôt', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it('follows a stopping node’s reconnect hint, bounded; without one, waits a jittered 1–5 s', () => {
    expect(restartDelayMs('reconnect=2314', () => 0)).toBe(2314);
    expect(restartDelayMs('reconnect=999999', () => 0)).toBe(MAX_RESTART_HINT_MS);
    expect(restartDelayMs('', () => 0)).toBe(1_000);
    expect(restartDelayMs('arrêt du serveur', () => 1)).toBe(5_000);
    expect(restartDelayMs('reconnect=-5', () => 0.5)).toBe(3_000);
  });
});
