import type { SharedState } from '../../edge/index.js';
import { LUA_NOW_MS, Script } from '../../edge/shared/script.js';

/**
 * Per-school participant counts across nodes: each node says how many participants its live rooms
 * hold per school and learns the other nodes' counts for those schools, so the per-school cap holds
 * for the whole deployment. Without it (one node, or Redis away) the cap counts this node alone.
 */
export interface SharedSchoolCounts {
  /**
   * Says this node's count per school (0: none any more) and answers the other nodes' sum per school
   * asked; `undefined` when the shared store does not answer (the caller then counts alone: fails open).
   */
  exchange(counts: ReadonlyMap<string, number>): Promise<ReadonlyMap<string, number> | undefined>;
}

/**
 * KEYS: one hash per school (field: node → "count:expiresAtMs" on the server's clock).
 * ARGV: node, ttlMs, then this node's count for each key. Returns the other nodes' live sum per key.
 */
const EXCHANGE = new Script(`${LUA_NOW_MS}
local node = ARGV[1]
local ttl = tonumber(ARGV[2])
local out = {}
for i, key in ipairs(KEYS) do
  local mine = tonumber(ARGV[2 + i])
  if mine > 0 then redis.call('HSET', key, node, mine .. ':' .. (now + ttl)) else redis.call('HDEL', key, node) end
  local others = 0
  local all = redis.call('HGETALL', key)
  for j = 1, #all, 2 do
    local v = all[j + 1]
    local sep = string.find(v, ':', 1, true)
    local count = tonumber(string.sub(v, 1, sep - 1))
    if tonumber(string.sub(v, sep + 1)) <= now then redis.call('HDEL', key, all[j])
    elseif all[j] ~= node then others = others + count end
  end
  if redis.call('HLEN', key) > 0 then redis.call('PEXPIRE', key, ttl) end
  out[i] = others
end
return out`);

/**
 * In Redis, through the edge's guarded connection (timeout and breaker: `undefined` when away). A
 * node's entry lives `ttlMs` without renewal: the counts of a node that died leave within that.
 */
export class RedisSchoolCounts implements SharedSchoolCounts {
  constructor(
    private readonly shared: SharedState,
    private readonly nodeId: string,
    private readonly ttlMs: number,
  ) {}

  async exchange(counts: ReadonlyMap<string, number>): Promise<ReadonlyMap<string, number> | undefined> {
    const schools = [...counts.keys()];
    if (schools.length === 0) return new Map();
    const keys = schools.map((id) => `${this.shared.prefix}classroom:school-participants:${id}`);
    const out = await this.shared.run((r) => EXCHANGE.run(r, keys, [this.nodeId, this.ttlMs, ...schools.map((id) => counts.get(id) ?? 0)]));
    if (!Array.isArray(out)) return undefined;
    return new Map(schools.map((id, i) => [id, Number(out[i]) || 0]));
  }
}
