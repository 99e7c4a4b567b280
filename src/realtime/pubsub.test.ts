import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { REDIS_URL, redisAvailable, startOwnRedis } from '../../test/support/redis.js';
import { eventually, pubSubContract } from './pubsub.contract.js';
import { MemoryPubSub } from './pubsub.js';
import { RedisPubSub } from './redis-pubsub.js';

const prefix = () => `test:${randomBytes(6).toString('hex')}:`;

describe('PubSub contract on memory', () => {
  pubSubContract(async () => ({ pubsub: new MemoryPubSub(), prefix: prefix() }));
});

describe.runIf(await redisAvailable())('PubSub contract on Redis', () => {
  pubSubContract(async () => {
    const pubsub = new RedisPubSub(REDIS_URL);
    await pubsub.connect();
    return { pubsub, prefix: prefix() };
  });
});

describe('Redis pub/sub when Redis is away', () => {
  it('fails to connect with a cause that says what to fix, and stops retrying', async () => {
    const pubsub = new RedisPubSub('redis://:secret@127.0.0.1:1');
    const err = await pubsub.connect().then(() => undefined, (e: unknown) => e as Error);
    expect(err?.message).toMatch(/^Redis injoignable \(redis:\/\/127\.0\.0\.1:1\) : .*PREAU_REDIS_URL/);
    expect(err?.message).not.toContain('secret');
    await pubsub.close();
  });

  it('booting without Redis: says so, keeps retrying, and delivers once Redis is there', async () => {
    const own = await startOwnRedis();
    if (!own) return;
    await own.stop();
    const pubsub = new RedisPubSub(own.url);
    let back: Awaited<ReturnType<typeof startOwnRedis>>;
    try {
      expect(await pubsub.connectOrDegrade()).toBe(false);
      const got: string[] = [];
      // Queued until Redis answers.
      const subscribed = pubsub.subscribe('test:late', (m) => got.push(m));
      back = await startOwnRedis(own.port);
      await subscribed;
      // The publishing connection reconnects on its own backoff: a publish fails at once until then.
      const until = Date.now() + 5_000;
      for (;;) {
        const ok = await pubsub.publish('test:late', 'enfin').then(() => true, () => false);
        if (ok || Date.now() > until) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      await eventually(() => expect(got).toContain('enfin'), 5_000);
    } finally {
      await pubsub.close();
      await back?.stop();
    }
  });
});
