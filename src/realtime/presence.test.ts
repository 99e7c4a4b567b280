import { describe } from 'vitest';
import { contractEdgeRedis, redisAvailable } from '../../test/support/redis.js';
import { presenceContract } from './presence.contract.js';
import { MemoryPresence, RedisPresence } from './presence.js';

describe('Presence contract on memory', () => {
  presenceContract(async () => new MemoryPresence());
});

describe.runIf(await redisAvailable())('Presence contract on Redis', () => {
  const redis = contractEdgeRedis();
  presenceContract(async () => new RedisPresence(await redis()));
});
