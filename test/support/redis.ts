import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { afterAll } from 'vitest';
import { EdgeRedis } from '../../src/edge/shared/edge-redis.js';
import { createLogger } from '../../src/platform/logger.js';
import { Metrics } from '../../src/platform/metrics.js';

/**
 * Redis for the suites that need it (the Redis pub/sub). Like PostgreSQL (backends.ts): outside CI
 * an unreachable server is skipped with a loud message; in CI (`CI=true`) it is a failure.
 */
export const REDIS_URL = process.env.PREAU_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

let available: Promise<boolean> | undefined;
export function redisAvailable(): Promise<boolean> {
  available ??= new Promise<boolean>((resolve) => {
    const url = new URL(REDIS_URL);
    const s = net.connect({ host: url.hostname, port: Number(url.port || 6379) });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1500, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  }).then((ok) => {
    if (!ok) {
      if (process.env.CI === 'true') throw new Error(`Redis injoignable à ${REDIS_URL} alors que CI=true : les tests Redis doivent tourner en CI.`);
      console.warn(`\n!!! Redis injoignable à ${REDIS_URL} : les tests Redis sont SAUTÉS (ils tournent en CI). !!!\n`);
    }
    return ok;
  });
  return available;
}

/**
 * A Redis server of the test's own, on a free port, that the test may stop (the shared one on
 * 6379 is never stopped). Without the `redis-server` binary, `undefined` (and a failure in CI).
 */
export async function startOwnRedis(onPort?: number): Promise<{ url: string; port: number; stop(): Promise<void> } | undefined> {
  const { spawn, spawnSync } = await import('node:child_process');
  if (spawnSync('redis-server', ['--version']).status !== 0) {
    if (process.env.CI === 'true') throw new Error('redis-server absent alors que CI=true (apt-get install redis-server)');
    console.warn('\n!!! redis-server absent : les tests qui arrêtent Redis sont SAUTÉS. !!!\n');
    return undefined;
  }
  const port = onPort ?? await new Promise<number>((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const p = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(p));
    });
  });
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const until = Date.now() + 5_000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (up) break;
    if (Date.now() > until) {
      child.kill('SIGKILL');
      throw new Error(`redis-server de test n’a pas démarré sur le port ${port}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
}

/**
 * The edge's Redis connection for a contract suite: a key prefix of its own, a generous timeout
 * (the suites test the adapters, not the breaker: a busy CI host may be slow). Call inside a
 * `describe`: the connections it opened are closed after the suite.
 */
export function contractEdgeRedis(): () => Promise<EdgeRedis> {
  const open: EdgeRedis[] = [];
  afterAll(async () => {
    await Promise.all(open.splice(0).map((r) => r.close()));
  });
  return async () => {
    const redis = new EdgeRedis(REDIS_URL, `test:${randomBytes(6).toString('hex')}:`, { timeoutMs: 2_000, breaker: { failuresToOpen: 3, openMs: 1_000 } }, createLogger('silent'), new Metrics());
    await redis.connect();
    open.push(redis);
    return redis;
  };
}
