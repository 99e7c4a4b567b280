import type { SharedState } from './edge-redis.js';

/**
 * Single-use ids (solved proof-of-work challenges): `spend` is true for the first spender only,
 * until the id's token expires. Memory: one node's (bounded); Redis: every node's (SET NX PX), so
 * a solution cannot be replayed on another node.
 */
export interface SpentIds {
  /** True when this call spent the id; false when it was spent already (a replay). Throws when the store could not answer. */
  spend(id: string, expiresAtMs: number, nowMs: number): Promise<boolean>;
}

/** Bounded: beyond `maxEntries`, expired ids first, then the oldest (fails open for a very old token: it has expired by then anyway). */
export class MemorySpentIds implements SpentIds {
  private readonly spent = new Map<string, number>();
  constructor(private readonly maxEntries: number) {}

  has(id: string): boolean {
    return this.spent.has(id);
  }

  async spend(id: string, expiresAtMs: number, nowMs: number): Promise<boolean> {
    return this.spendNow(id, expiresAtMs, nowMs);
  }

  spendNow(id: string, expiresAtMs: number, nowMs: number): boolean {
    const known = this.spent.get(id);
    if (known !== undefined && known > nowMs) return false;
    this.spent.set(id, expiresAtMs);
    if (this.spent.size > this.maxEntries) {
      for (const [k, exp] of this.spent) if (exp <= nowMs) this.spent.delete(k);
      while (this.spent.size > this.maxEntries) this.spent.delete(this.spent.keys().next().value!);
    }
    return true;
  }
}

export class RedisSpentIds implements SpentIds {
  constructor(private readonly shared: SharedState, private readonly kind: string) {}

  async spend(id: string, expiresAtMs: number, nowMs: number): Promise<boolean> {
    const ttlMs = Math.max(1, expiresAtMs - nowMs);
    const out = await this.shared.run((r) => r.set(`${this.shared.prefix}spent:${this.kind}:${id}`, '1', 'PX', ttlMs, 'NX'));
    if (out === undefined) throw new Error('Redis injoignable (identifiants à usage unique)');
    return out === 'OK';
  }
}
