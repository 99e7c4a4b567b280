import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Preau } from '../src/compose.js';
import { startPeerNode, startTestPreau, uniqueRedisPrefix, type TestPreau } from './support/app.js';
import { eventually } from '../src/realtime/pubsub.contract.js';
import { REDIS_URL, redisAvailable, startOwnRedis } from './support/redis.js';

/** Slow refill: nothing comes back during a test. */
const TIGHT = { address: { name: 'address', ratePerS: 0.01, burst: 5 } };
const fromAddress = (remoteAddress: string) => ({ method: 'GET' as const, url: '/api/v1/status', remoteAddress });

/**
 * Scaled mode: two Préau nodes over one database and one Redis (a key prefix of this suite's own).
 * The edge's state is shared; each node falls back to its own when Redis is away.
 */
describe.runIf(await redisAvailable())('two nodes sharing the edge’s state through Redis', () => {
  let a: TestPreau;
  let b: Preau;
  beforeAll(async () => {
    const redis = { redisUrl: REDIS_URL, redisPrefix: uniqueRedisPrefix() };
    a = await startTestPreau('sqlite', redis, { rateLimits: TIGHT });
    b = await startPeerNode(a, redis, { rateLimits: TIGHT });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('a rate limit spent on node 1 is refused on node 2 (after at most one request there)', async () => {
    for (let i = 0; i < 5; i++) expect((await a.preau.app.inject(fromAddress('127.20.0.1'))).statusCode).toBe(200);
    // Node 1's charges reach Redis within a few ms (they are gathered every 5 ms, then sent).
    await new Promise((r) => setTimeout(r, 100));
    // Node 2 has never seen this address: its first request may pass (charged to Redis, which says empty)…
    const first = await b.app.inject(fromAddress('127.20.0.1'));
    expect([200, 429]).toContain(first.statusCode);
    await new Promise((r) => setTimeout(r, 100));
    // …and then it is refused there, with the shared bucket's wait.
    const res = await b.app.inject(fromAddress('127.20.0.1'));
    expect(res.statusCode).toBe(429);
    expect(res.json()).toMatchObject({ error: { id: 'edge.rate_limited' } });
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(60);
    // Another address is served on both nodes.
    expect((await b.app.inject(fromAddress('127.21.0.1'))).statusCode).toBe(200);
  });

  it('/readyz says Redis is fine as a detail', async () => {
    const res = await b.app.inject({ method: 'GET', url: '/readyz' });
    expect(res.json()).toEqual({ status: 'ready', redis: 'ok' });
  });
});

describe('a node whose Redis goes away keeps serving with per-node state', () => {
  it('Redis stopped while serving: requests keep being served under local limits, readiness stays 200', async () => {
    const own = await startOwnRedis();
    if (!own) return;
    const t = await startTestPreau('sqlite', { redisUrl: own.url, redisPrefix: uniqueRedisPrefix() }, { rateLimits: TIGHT, edgeRedis: { timeoutMs: 50, breaker: { failuresToOpen: 1, openMs: 60_000 } } });
    try {
      expect((await t.preau.app.inject(fromAddress('127.23.0.1'))).statusCode).toBe(200);
      await own.stop();
      const codes = [];
      for (let i = 0; i < 6; i++) {
        codes.push((await t.preau.app.inject(fromAddress('127.23.0.1'))).statusCode);
        // Lets the background charge find Redis gone.
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(codes).toEqual([200, 200, 200, 200, 429, 429]);
      expect(t.preau.metrics.render()).toContain('preau_redis_degraded 1');
      await eventually(() => expect(t.preau.edgeRedis?.health()).toBe('degraded'));
      const ready = await t.anonymous.request({ method: 'GET', url: '/readyz' });
      expect([ready.statusCode, ready.json()]).toEqual([200, { status: 'ready', redis: 'degraded' }]);
      // Signed-in reads still work.
      const pupil = await t.as('pupilA1');
      expect((await pupil.request({ method: 'GET', url: '/api/v1/me/today' })).statusCode).toBe(200);
    } finally {
      await t.close();
      await own.stop();
    }
  });
});
