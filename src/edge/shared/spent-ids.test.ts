import { describe } from 'vitest';
import { contractEdgeRedis, redisAvailable } from '../../../test/support/redis.js';
import { spentIdsContract } from './spent-ids.contract.js';
import { MemorySpentIds, RedisSpentIds } from './spent-ids.js';

describe('SpentIds contract on memory', () => {
  spentIdsContract(async () => new MemorySpentIds(1_000));
});

describe.runIf(await redisAvailable())('SpentIds contract on Redis', () => {
  const redis = contractEdgeRedis();
  spentIdsContract(async () => new RedisSpentIds(await redis(), 'test'));
});
