import type { SharedState } from '../shared/edge-redis.js';
import { LUA_NOW_MS, Script } from '../shared/script.js';
import type { BucketStore } from './bucket-store.js';
import { MemoryBucketStore } from './bucket-store.js';
import type { BucketPolicy, TakeOutcome } from './token-bucket.js';

/** One charge to a shared bucket. */
export interface Charge {
  key: string;
  policy: BucketPolicy;
  cost: number;
}

/** A shared bucket's answer: was the charge paid, and what is left. */
export interface SharedTake {
  allowed: boolean;
  tokens: number;
}

/**
 * Buckets every node sees (the port): several charges in one call, each atomic (a bucket is read,
 * refilled and debited in one step). `undefined` when the shared store could not answer (the
 * caller keeps its local verdict). Memory: one process's buckets (the reference the contract
 * suite holds the Redis adapter to); Redis: one Lua script on the server's clock.
 */
export interface SharedBuckets {
  take(charges: readonly Charge[]): Promise<SharedTake[] | undefined>;
}

export class MemorySharedBuckets implements SharedBuckets {
  private readonly store = new MemoryBucketStore();
  constructor(private readonly nowMs: () => number = Date.now) {}

  async take(charges: readonly Charge[]): Promise<SharedTake[]> {
    const now = this.nowMs();
    return charges.map((c) => {
      const o = this.store.take(c.key, c.policy, c.cost, now);
      return { allowed: o.allowed, tokens: o.state.tokens };
    });
  }
}

/**
 * Token buckets in Redis: a hash {t: tokens, u: updated at} per key, refilled on the server's
 * clock, expiring once full again (a full bucket and a missing one are the same thing).
 */
const TAKE = new Script(`${LUA_NOW_MS}
local out = {}
for i, key in ipairs(KEYS) do
  local b = (i - 1) * 3
  local rate = tonumber(ARGV[b + 1])
  local burst = tonumber(ARGV[b + 2])
  local cost = tonumber(ARGV[b + 3])
  local s = redis.call('HMGET', key, 't', 'u')
  local tokens = burst
  if s[1] then
    local elapsed = math.max(0, now - tonumber(s[2]))
    tokens = math.min(burst, tonumber(s[1]) + elapsed * rate / 1000)
  end
  local price = math.min(math.max(0, cost), burst)
  local allowed = 0
  if tokens >= price then
    tokens = tokens - price
    allowed = 1
  end
  redis.call('HSET', key, 't', tostring(tokens), 'u', now)
  redis.call('PEXPIRE', key, math.ceil((burst - tokens) * 1000 / rate) + 1000)
  out[i] = {allowed, tostring(tokens)}
end
return out`);

export class RedisSharedBuckets implements SharedBuckets {
  constructor(private readonly shared: SharedState, private readonly scope: string) {}

  async take(charges: readonly Charge[]): Promise<SharedTake[] | undefined> {
    if (charges.length === 0) return [];
    const keys = charges.map((c) => `${this.shared.prefix}rl:${this.scope}:${c.key}`);
    const args = charges.flatMap((c) => [c.policy.ratePerS, c.policy.burst, c.cost]);
    const raw = await this.shared.run((r) => TAKE.run(r, keys, args));
    if (!Array.isArray(raw)) return undefined;
    return (raw as [number, string][]).map(([allowed, tokens]) => ({ allowed: allowed === 1, tokens: Number(tokens) }));
  }
}

export interface SyncSettings {
  /** Charges are gathered this long and sent in one call (one round trip for many requests). */
  flushEveryMs: number;
  /** Keys per call at most; beyond, charges wait for the next call (bounded memory: `maxPending`). */
  maxBatch: number;
  /** Distinct keys waiting to be charged at most; beyond, charges are not shared (fail open, counted). */
  maxPending: number;
  /** Keys the shared store has said are empty, remembered at most. */
  maxBlocked: number;
}

export const DEFAULT_SYNC_SETTINGS: SyncSettings = { flushEveryMs: 5, maxBatch: 512, maxPending: 50_000, maxBlocked: 100_000 };

interface Blocked {
  untilMs: number;
  fullAtMs: number;
}

/**
 * A bucket store for several nodes that keeps the hot path synchronous (no promise per request):
 * - every request is judged at once by this node's own buckets (the same policies): the local limit;
 * - what it spends is charged to the shared buckets in the background, gathered every few ms;
 * - when the shared bucket says empty (spent by any node), the key is refused here until one
 *   token is back there.
 * So a client is limited across nodes, each node can overspend a key by what it admits during one
 * round trip to Redis (about a request per node), and while Redis is away (breaker open) the store
 * is exactly the per-node memory store: fails open to local limits, and costs nothing more.
 */
export class SyncedBucketStore implements BucketStore {
  private readonly local: MemoryBucketStore;
  private pending = new Map<string, Charge>();
  private readonly blocked = new Map<string, Blocked>();
  private timer: NodeJS.Timeout | undefined;
  private flushing = false;
  readonly counts = { sharedRefusals: 0, dropped: 0 };

  constructor(
    private readonly shared: SharedBuckets,
    private readonly usable: () => boolean,
    private readonly settings: SyncSettings = DEFAULT_SYNC_SETTINGS,
    private readonly nowMs: () => number = Date.now,
    maxLocalEntries?: number,
  ) {
    this.local = new MemoryBucketStore(maxLocalEntries);
  }

  take(key: string, policy: BucketPolicy, cost: number, nowMs: number): TakeOutcome {
    const b = this.blocked.get(key);
    if (b !== undefined) {
      if (nowMs < b.untilMs) {
        this.counts.sharedRefusals++;
        return { allowed: false, state: { tokens: 0, updatedMs: nowMs }, remaining: 0, retryAfterMs: b.untilMs - nowMs, fullInMs: Math.max(0, b.fullAtMs - nowMs) };
      }
      this.blocked.delete(key);
    }
    const outcome = this.local.take(key, policy, cost, nowMs);
    if (outcome.allowed && cost > 0 && this.usable()) this.charge(key, policy, cost);
    return outcome;
  }

  size(): number {
    return this.local.size();
  }

  private charge(key: string, policy: BucketPolicy, cost: number): void {
    const p = this.pending.get(key);
    if (p) p.cost += cost;
    else if (this.pending.size < this.settings.maxPending) this.pending.set(key, { key, policy, cost });
    else this.counts.dropped++;
    if (this.timer === undefined && !this.flushing) {
      this.timer = setTimeout(() => void this.flush(), this.settings.flushEveryMs);
      this.timer.unref();
    }
  }

  /** Sends what is pending (one call per `maxBatch` keys); public for tests. */
  async flush(): Promise<void> {
    this.timer = undefined;
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.pending.size > 0) {
        const batch = [...this.pending.values()].slice(0, this.settings.maxBatch);
        for (const c of batch) this.pending.delete(c.key);
        const answers = await this.shared.take(batch);
        // Redis away: these charges are not shared (the local limits held them); later ones wait for the breaker.
        if (answers === undefined) {
          this.counts.dropped += batch.length + this.pending.size;
          this.pending.clear();
          break;
        }
        const now = this.nowMs();
        // Full of verdicts: the expired ones go (else a spray of keys would stop new verdicts being kept).
        if (this.blocked.size >= this.settings.maxBlocked) for (const [k, b] of this.blocked) if (b.untilMs <= now) this.blocked.delete(k);
        batch.forEach((c, i) => {
          const a = answers[i]!;
          // Less than one token left in the shared bucket: this key is spent for every node.
          if (a.tokens < 1 && (this.blocked.size < this.settings.maxBlocked || this.blocked.has(c.key))) {
            this.blocked.set(c.key, { untilMs: now + Math.ceil(((1 - a.tokens) * 1000) / c.policy.ratePerS), fullAtMs: now + Math.ceil(((c.policy.burst - a.tokens) * 1000) / c.policy.ratePerS) });
          }
        });
      }
    } finally {
      this.flushing = false;
      if (this.pending.size > 0 && this.timer === undefined) {
        this.timer = setTimeout(() => void this.flush(), this.settings.flushEveryMs);
        this.timer.unref();
      }
    }
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
