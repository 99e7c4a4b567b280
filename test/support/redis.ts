import net from 'node:net';

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
