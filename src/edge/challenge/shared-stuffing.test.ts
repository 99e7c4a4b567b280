import { describe, expect, it } from 'vitest';
import { contractEdgeRedis, redisAvailable } from '../../../test/support/redis.js';
import { RedisStuffingCounters } from './shared-stuffing.js';
import { stuffingCountersContract } from './stuffing.contract.js';
import { DEFAULT_STUFFING_SETTINGS, MemoryStuffingCounters, StuffingDetector, type StuffingCounters } from './stuffing.js';

describe('StuffingCounters contract on memory', () => {
  stuffingCountersContract(async () => new MemoryStuffingCounters());
});

describe.runIf(await redisAvailable())('StuffingCounters contract on Redis', () => {
  const redis = contractEdgeRedis();
  stuffingCountersContract(async () => new RedisStuffingCounters(await redis()));
});

/** An attack: 120 failures on 40 accounts from 20 addresses within a minute. */
function attack(d: StuffingDetector, nowMs: number): void {
  for (let i = 0; i < 120; i++) d.record(nowMs, { account: `acct${i % 40}`, address: `10.1.${i % 20}.1`, success: false, knownBadPassword: false });
}

describe('StuffingDetector over shared counters', () => {
  const T = Date.UTC(2026, 8, 7, 8, 0, 0);

  it('an attack spread over two nodes is seen whole by each, though neither alone crosses the thresholds', async () => {
    const counters = new MemoryStuffingCounters();
    const shared = { counters, usable: () => true, refreshMs: 1_000, staleMs: 5_000 };
    const node1 = new StuffingDetector(DEFAULT_STUFFING_SETTINGS, shared);
    const node2 = new StuffingDetector(DEFAULT_STUFFING_SETTINGS, shared);
    const alone = new StuffingDetector();
    // 60 failures on each node: each is under the 100 failures threshold.
    for (let i = 0; i < 60; i++) {
      const e = { account: `acct${i % 40}`, address: `10.1.${i % 20}.1`, success: false, knownBadPassword: false };
      node1.record(T, e);
      node2.record(T, { ...e, account: `other${i % 40}` });
      alone.record(T, e);
    }
    await node1.refreshNow(T);
    expect(node1.level(T)).toBe('elevated');
    expect(alone.level(T)).toBe('normal');
  });

  it('shared counts unavailable or stale: the node decides on its own logins (fails open to local)', async () => {
    const broken: StuffingCounters = { record: async () => Promise.reject(new Error('away')), summary: async () => undefined };
    const d = new StuffingDetector(DEFAULT_STUFFING_SETTINGS, { counters: broken, usable: () => true, refreshMs: 1_000, staleMs: 5_000 });
    attack(d, T);
    await d.refreshNow(T);
    expect(d.level(T)).toBe('elevated');
    // A stale shared summary (normal) is not believed over fresh local counts.
    const counters = new MemoryStuffingCounters();
    const d2 = new StuffingDetector(DEFAULT_STUFFING_SETTINGS, { counters, usable: () => true, refreshMs: 60_000, staleMs: 5_000 });
    await d2.refreshNow(T);
    d2.record(T + 10_000, { account: 'x', address: '10.9.9.9', success: false, knownBadPassword: false });
    expect(d2.summary(T + 10_000).attempts).toBe(1);
  });
});
