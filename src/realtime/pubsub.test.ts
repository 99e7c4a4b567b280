import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { REDIS_URL, redisAvailable } from '../../test/support/redis.js';
import { pubSubContract } from './pubsub.contract.js';
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
});
