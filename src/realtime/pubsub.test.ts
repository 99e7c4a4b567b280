import { randomBytes } from 'node:crypto';
import { describe } from 'vitest';
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
