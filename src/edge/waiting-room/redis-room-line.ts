import type { SharedState } from '../shared/edge-redis.js';
import { Script } from '../shared/script.js';
import { LANES } from './fair-queue.js';
import type { Look, NewTicket, RoomLine, RoomLineSettings } from './room-line.js';

/**
 * The line in Redis, one for every node. Per lane a sorted set of ticket ids; per ticket a hash
 * (state, lane, last seen) expiring with the ticket; spent ids as keys expiring with their ticket.
 *
 * Fair share per school without a line per school: a ticket's score is a virtual time (start-time
 * fair queuing), max(the score last admitted in its lane, its school's last score) + 1 — a school
 * with 2,000 waiting has scores running far ahead, and a small school arriving now gets the next
 * ones, so their tickets interleave (one each per round) and each school keeps its own order.
 *
 * Lifetimes are relative (PEXPIRE ticket's expiry − the node's now): nodes' clocks need not match Redis's.
 * Every step is one Lua script (atomic: two nodes cannot admit or spend one ticket twice). Keys
 * other than the lines are derived inside the scripts: a single Redis (or a primary with replicas,
 * Sentinel), not Redis Cluster. Expired tickets leave their id in the line until their turn comes
 * (they are skipped then): counts and positions may include them, as the memory line's do.
 */
const POSITION = `local function position(lane, id)
  local ahead = 0
  for i = 1, lane - 1 do ahead = ahead + redis.call('ZCARD', KEYS[i]) end
  local r = redis.call('ZRANK', KEYS[lane], id)
  if not r then return 1 end
  return ahead + r + 1
end
`;

/** KEYS: 4 lines, v(lane), last(lane), ticket. ARGV: id, lane index, school, now, expiresAt, maxWaiting. */
const PUSH = new Script(`local total = 0
for i = 1, 4 do total = total + redis.call('ZCARD', KEYS[i]) end
if total >= tonumber(ARGV[6]) or redis.call('EXISTS', KEYS[7]) == 1 then return 0 end
local v = tonumber(redis.call('GET', KEYS[5]) or '0')
local last = tonumber(redis.call('HGET', KEYS[6], ARGV[3]) or '0')
local s = math.max(v, last) + 1
local lane = tonumber(ARGV[2])
redis.call('HSET', KEYS[6], ARGV[3], s)
redis.call('ZADD', KEYS[lane], s, ARGV[1])
redis.call('HSET', KEYS[7], 'state', 'waiting', 'lane', lane, 'seen', ARGV[4])
local ttl = math.max(1, tonumber(ARGV[5]) - tonumber(ARGV[4]))
for _, k in ipairs({KEYS[7], KEYS[lane], KEYS[5], KEYS[6]}) do
  if redis.call('PTTL', k) < ttl then redis.call('PEXPIRE', k, ttl) end
end
return 1`);

/** KEYS: 4 lines, ticket, used. ARGV: id, now, claim (1|0), expiresAt, spent-list key prefix. */
const LOOK = new Script(`${POSITION}
if redis.call('EXISTS', KEYS[6]) == 1 then return {'used'} end
local t = redis.call('HMGET', KEYS[5], 'state', 'lane', 'node')
if not t[1] then return {'unknown'} end
if t[1] == 'admitted' then
  if ARGV[3] == '1' then
    -- The admitting node learns it at its next tick (its capacity is no longer reserved).
    if t[3] then
      local spent = ARGV[5] .. t[3]
      redis.call('RPUSH', spent, ARGV[1])
      redis.call('PEXPIRE', spent, 60000)
    end
    redis.call('DEL', KEYS[5])
    redis.call('SET', KEYS[6], '1', 'PX', math.max(1, tonumber(ARGV[4]) - tonumber(ARGV[2])))
  end
  return {'admitted'}
end
redis.call('HSET', KEYS[5], 'seen', ARGV[2])
return {'waiting', position(tonumber(t[2]), ARGV[1])}`);

/** KEYS: 4 lines, 4 v(lane). ARGV: n, now, abandonAfterMs, admittedTtlMs, ticket key prefix, admitting node. */
const ADMIT = new Script(`local n = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
local admitted = {}
local abandoned = 0
for i = 1, 4 do
  while #admitted < n do
    local top = redis.call('ZPOPMIN', KEYS[i])
    if #top == 0 then break end
    redis.call('SET', KEYS[4 + i], top[2], 'KEEPTTL')
    local tk = ARGV[5] .. top[1]
    local seen = redis.call('HGET', tk, 'seen')
    if seen then
      if now - tonumber(seen) > tonumber(ARGV[3]) then
        abandoned = abandoned + 1
        redis.call('DEL', tk)
      else
        redis.call('HSET', tk, 'state', 'admitted', 'node', ARGV[6])
        redis.call('PEXPIRE', tk, ARGV[4])
        admitted[#admitted + 1] = top[1]
      end
    end
  end
end
return {abandoned, admitted}`);

export class RedisRoomLine implements RoomLine {
  private readonly lines: string[];
  private readonly clocks: string[];
  private readonly lasts: string[];
  private readonly base: string;

  constructor(private readonly shared: SharedState, private readonly settings: RoomLineSettings) {
    this.base = `${shared.prefix}wr:`;
    this.lines = LANES.map((l) => `${this.base}line:${l}`);
    this.clocks = LANES.map((l) => `${this.base}v:${l}`);
    this.lasts = LANES.map((l) => `${this.base}last:${l}`);
  }

  private ticket(id: string): string {
    return `${this.base}t:${id}`;
  }

  /** Throws when Redis did not answer: the room then uses its own line (see WaitingRoom). */
  private async run(script: Script, keys: string[], args: (string | number)[]): Promise<unknown> {
    const out = await this.shared.run((r) => script.run(r, keys, args));
    if (out === undefined) throw new RedisAway();
    return out;
  }

  async push(t: NewTicket): Promise<boolean> {
    const lane = LANES.indexOf(t.lane);
    const out = await this.run(PUSH, [...this.lines, this.clocks[lane]!, this.lasts[lane]!, this.ticket(t.id)], [t.id, lane + 1, t.school, t.nowMs, t.expiresAtMs, this.settings.maxWaiting]);
    return out === 1;
  }

  private async lookOrClaim(id: string, nowMs: number, claim: boolean, expiresAtMs: number): Promise<Look> {
    const [state, position] = (await this.run(LOOK, [...this.lines, this.ticket(id), `${this.base}used:${id}`], [id, nowMs, claim ? 1 : 0, expiresAtMs, `${this.base}spent:`])) as [string, number?];
    if (state === 'waiting') return { state, position: position ?? 1 };
    return { state: state as 'admitted' | 'used' | 'unknown' };
  }

  look(id: string, nowMs: number): Promise<Look> {
    return this.lookOrClaim(id, nowMs, false, 0);
  }

  claim(id: string, nowMs: number, expiresAtMs: number): Promise<Look> {
    return this.lookOrClaim(id, nowMs, true, expiresAtMs);
  }

  async admit(n: number, nowMs: number): Promise<{ admitted: string[]; abandoned: number }> {
    if (n <= 0) return { admitted: [], abandoned: 0 };
    const [abandoned, admitted] = (await this.run(ADMIT, [...this.lines, ...this.clocks], [n, nowMs, this.settings.abandonAfterMs, this.settings.admittedTtlMs, `${this.base}t:`, this.shared.nodeId])) as [number, string[]];
    return { admitted, abandoned };
  }

  async size(): Promise<number> {
    const out = await this.shared.run(async (r) => {
      const p = r.pipeline();
      for (const l of this.lines) p.zcard(l);
      return p.exec();
    });
    if (!out || out.some(([err]) => err)) throw new RedisAway();
    return out.reduce((n, [, v]) => n + Number(v), 0);
  }

  async spentElsewhere(): Promise<string[]> {
    // At most a tick's worth of admissions: bounded work per call.
    const out = await this.shared.run((r) => r.lpop(`${this.base}spent:${this.shared.nodeId}`, 1_000));
    if (out === undefined) throw new RedisAway();
    return out ?? [];
  }

  /** Tickets and spent ids expire by themselves in Redis. */
  async cleanup(): Promise<void> {}
}

/** Redis did not answer (down, slow, or the breaker open): the caller falls back to its own line. */
export class RedisAway extends Error {
  constructor() {
    super('Redis injoignable');
    this.name = 'RedisAway';
  }
}
