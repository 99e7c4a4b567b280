import { describe, expect, it } from 'vitest';
import { startOwnRedis } from '../../../test/support/redis.js';
import { createLogger } from '../../platform/logger.js';
import { Metrics } from '../../platform/metrics.js';
import { INITIAL_BREAKER, mayCall, nextBreaker, type BreakerState } from './circuit-breaker.js';
import { EdgeRedis } from './edge-redis.js';

const S = { failuresToOpen: 2, openMs: 1_000 };

describe('circuit breaker (pure)', () => {
  it('the transitions, written out', () => {
    const cases: [BreakerState, Parameters<typeof nextBreaker>[2], BreakerState][] = [
      [INITIAL_BREAKER, { kind: 'success' }, INITIAL_BREAKER],
      [INITIAL_BREAKER, { kind: 'failure', nowMs: 0 }, { mode: 'closed', failures: 1 }],
      [{ mode: 'closed', failures: 1 }, { kind: 'success' }, INITIAL_BREAKER],
      [{ mode: 'closed', failures: 1 }, { kind: 'failure', nowMs: 5 }, { mode: 'open', untilMs: 1_005 }],
      [{ mode: 'open', untilMs: 1_005 }, { kind: 'failure', nowMs: 500 }, { mode: 'open', untilMs: 1_005 }],
      [{ mode: 'open', untilMs: 1_005 }, { kind: 'tick', nowMs: 1_004 }, { mode: 'open', untilMs: 1_005 }],
      [{ mode: 'open', untilMs: 1_005 }, { kind: 'tick', nowMs: 1_005 }, { mode: 'half_open', probing: false }],
      [{ mode: 'half_open', probing: false }, { kind: 'probe' }, { mode: 'half_open', probing: true }],
      [{ mode: 'half_open', probing: true }, { kind: 'failure', nowMs: 2_000 }, { mode: 'open', untilMs: 3_000 }],
      [{ mode: 'half_open', probing: true }, { kind: 'success' }, INITIAL_BREAKER],
      [INITIAL_BREAKER, { kind: 'trip', nowMs: 10 }, { mode: 'open', untilMs: 1_010 }],
    ];
    for (const [from, event, to] of cases) expect(nextBreaker(S, from, event)).toEqual(to);
    expect([INITIAL_BREAKER, { mode: 'closed', failures: 1 }, { mode: 'open', untilMs: 1 }, { mode: 'half_open', probing: false }, { mode: 'half_open', probing: true }].map((s) => mayCall(s as BreakerState))).toEqual([true, true, false, true, false]);
  });
});

function recordingLogger() {
  const lines: string[] = [];
  const logger = createLogger('silent');
  logger.warn = ((_o: unknown, msg?: string) => void lines.push(`warn ${msg ?? String(_o)}`)) as typeof logger.warn;
  logger.info = ((_o: unknown, msg?: string) => void lines.push(`info ${msg ?? String(_o)}`)) as typeof logger.info;
  return { logger, lines };
}

describe('EdgeRedis when Redis is away', () => {
  it('pointed at a closed port: boots degraded, answers undefined at once, says it once, then makes no call', async () => {
    const { logger, lines } = recordingLogger();
    const metrics = new Metrics();
    // Even with a breaker that needs three failures: no connection at boot opens it at once.
    const redis = new EdgeRedis('redis://127.0.0.1:1', 'test:', { timeoutMs: 50, breaker: { failuresToOpen: 3, openMs: 60_000 } }, logger, metrics);
    await redis.connect();
    expect(redis.health()).toBe('degraded');
    expect(redis.usable()).toBe(false);
    let ran = 0;
    for (let i = 0; i < 100; i++) expect(await redis.run(async () => ++ran)).toBeUndefined();
    expect(ran).toBe(0);
    expect(lines.filter((l) => l.startsWith('warn'))).toHaveLength(1);
    expect(metrics.render()).toContain('preau_redis_degraded 1');
    expect(metrics.render()).toContain('preau_redis_calls_total{outcome="skipped"} 100');
    await redis.close();
  });

  it('a real server that stops: the breaker opens, and closes again when a server is back on the port', async () => {
    const own = await startOwnRedis();
    if (!own) return;
    const { logger, lines } = recordingLogger();
    const redis = new EdgeRedis(own.url, 'test:', { timeoutMs: 200, breaker: { failuresToOpen: 2, openMs: 100 } }, logger, new Metrics());
    try {
      await redis.connect();
      expect(await redis.run((r) => r.ping())).toBe('PONG');
      expect(redis.health()).toBe('ok');
      await own.stop();
      for (let i = 0; i < 5 && redis.health() === 'ok'; i++) expect(await redis.run((r) => r.ping())).toBeUndefined();
      expect(redis.health()).toBe('degraded');
      // Open: no call goes out, and each costs no wait.
      expect(await redis.run((r) => r.ping())).toBeUndefined();
      expect(lines.filter((l) => l.startsWith('warn'))).toHaveLength(1);
      // Back on the same port: after the open period, a probe goes out, succeeds, and the breaker closes.
      const back = await startOwnRedis(own.port);
      try {
        const until = Date.now() + 10_000;
        while (redis.health() !== 'ok' && Date.now() < until) {
          await redis.run((r) => r.ping());
          await new Promise((r) => setTimeout(r, 50));
        }
        expect(redis.health()).toBe('ok');
        expect(lines.filter((l) => l.startsWith('info'))).toHaveLength(1);
      } finally {
        await back?.stop();
      }
    } finally {
      await own.stop();
      await redis.close();
    }
  });

  it('a server that answers slower than the timeout counts as away', async () => {
    const own = await startOwnRedis();
    if (!own) return;
    const redis = new EdgeRedis(own.url, 'test:', { timeoutMs: 50, breaker: { failuresToOpen: 1, openMs: 60_000 } }, createLogger('silent'), new Metrics());
    try {
      await redis.connect();
      // A script that keeps the server busy 300 ms: the call gives up at 50 ms.
      const started = Date.now();
      const answer = await redis.run((r) => r.eval('local t = redis.call("TIME") local s = tonumber(t[1]) * 1000000 + tonumber(t[2]) while true do local n = redis.call("TIME") if tonumber(n[1]) * 1000000 + tonumber(n[2]) - s > 300000 then break end end return 1', 0));
      expect(answer).toBeUndefined();
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(redis.health()).toBe('degraded');
    } finally {
      await redis.close();
      await own.stop();
    }
  });
});
