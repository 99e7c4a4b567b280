import type { SharedState } from '../edge/shared/edge-redis.js';
import { LUA_NOW_MS, Script } from '../edge/shared/script.js';

/**
 * Presence: who is connected, on which node. Each node announces the people it holds a socket of
 * and renews them with its heartbeat; an entry lives `ttlMs` without renewal, so a node that dies
 * drops its people within that time. Memory: one node's; Redis: every node's (a sorted set per
 * person, node → expiry on the server's clock).
 */
export interface PresenceStore {
  /** `nodeId` holds at least one socket of each of these people, for `ttlMs` unless renewed. */
  announce(nodeId: string, personIds: readonly string[], ttlMs: number): Promise<void>;
  /** `nodeId` holds no socket of this person any more. */
  leave(nodeId: string, personId: string): Promise<void>;
  /** Those of these people connected on some node whose entry has not expired. */
  online(personIds: readonly string[]): Promise<Set<string>>;
}

export class MemoryPresence implements PresenceStore {
  private readonly entries = new Map<string, Map<string, number>>();
  constructor(private readonly nowMs: () => number = Date.now) {}

  async announce(nodeId: string, personIds: readonly string[], ttlMs: number): Promise<void> {
    const until = this.nowMs() + ttlMs;
    for (const id of personIds) {
      let nodes = this.entries.get(id);
      if (!nodes) this.entries.set(id, (nodes = new Map()));
      nodes.set(nodeId, until);
    }
  }

  async leave(nodeId: string, personId: string): Promise<void> {
    const nodes = this.entries.get(personId);
    nodes?.delete(nodeId);
    if (nodes?.size === 0) this.entries.delete(personId);
  }

  async online(personIds: readonly string[]): Promise<Set<string>> {
    const now = this.nowMs();
    const out = new Set<string>();
    for (const id of personIds) {
      const nodes = this.entries.get(id);
      if (!nodes) continue;
      for (const [node, until] of nodes) {
        if (until > now) out.add(id);
        else nodes.delete(node);
      }
      if (nodes.size === 0) this.entries.delete(id);
    }
    return out;
  }
}

/** KEYS: one per person. ARGV: node, ttlMs. */
const ANNOUNCE = new Script(`${LUA_NOW_MS}
local ttl = tonumber(ARGV[2])
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, now + ttl, ARGV[1])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  redis.call('PEXPIRE', key, ttl)
end
return 1`);

/** KEYS: one per person. Returns 1/0 per person. */
const ONLINE = new Script(`${LUA_NOW_MS}
local out = {}
for i, key in ipairs(KEYS) do
  out[i] = redis.call('ZCOUNT', key, '(' .. now, '+inf') > 0 and 1 or 0
end
return out`);

/** Fails as a whole (throws) when Redis does not answer: the gateway then says what this node alone knows. */
export class RedisPresence implements PresenceStore {
  constructor(private readonly shared: SharedState) {}

  private key(personId: string): string {
    return `${this.shared.prefix}presence:${personId}`;
  }

  private async run<T>(op: Parameters<SharedState['run']>[0]): Promise<T> {
    const out = await this.shared.run(op);
    if (out === undefined) throw new Error('Redis injoignable (présence)');
    return out as T;
  }

  async announce(nodeId: string, personIds: readonly string[], ttlMs: number): Promise<void> {
    // A node with many people renews them in slices (one script call each, bounded work on Redis).
    for (let i = 0; i < personIds.length; i += 500) {
      await this.run((r) => ANNOUNCE.run(r, personIds.slice(i, i + 500).map((id) => this.key(id)), [nodeId, ttlMs]));
    }
  }

  async leave(nodeId: string, personId: string): Promise<void> {
    await this.run((r) => r.zrem(this.key(personId), nodeId));
  }

  async online(personIds: readonly string[]): Promise<Set<string>> {
    if (personIds.length === 0) return new Set();
    const flags = await this.run<number[]>((r) => ONLINE.run(r, personIds.map((id) => this.key(id)), []));
    return new Set(personIds.filter((_, i) => flags[i] === 1));
  }
}
