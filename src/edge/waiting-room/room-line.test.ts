import { describe } from 'vitest';
import { contractEdgeRedis, redisAvailable } from '../../../test/support/redis.js';
import { RedisRoomLine } from './redis-room-line.js';
import { CONTRACT_LINE_SETTINGS, roomLineContract } from './room-line.contract.js';
import { MemoryRoomLine } from './room-line.js';

describe('RoomLine contract on memory', () => {
  roomLineContract(async () => new MemoryRoomLine(CONTRACT_LINE_SETTINGS));
});

describe.runIf(await redisAvailable())('RoomLine contract on Redis', () => {
  const redis = contractEdgeRedis();
  roomLineContract(async () => new RedisRoomLine(await redis(), CONTRACT_LINE_SETTINGS));
});
