import type { SharedState } from '../../edge/shared/edge-redis.js';
import { Script } from '../../edge/shared/script.js';
import type { FailureRecord, FailureStore, MemoryFailureStore } from './login-throttle.js';

/** KEYS: the record. ARGV: now, windowMs. A record older than the window starts again from zero. */
const ADD = new Script(`local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local r = redis.call('HMGET', KEYS[1], 'c', 'f', 'l')
local c = 1
local f = now
if r[1] and now - tonumber(r[3]) < window then
  c = tonumber(r[1]) + 1
  f = tonumber(r[2])
end
redis.call('HSET', KEYS[1], 'c', c, 'f', f, 'l', now)
redis.call('PEXPIRE', KEYS[1], window)
return {c, f, now}`);

/**
 * Failed logins counted for every node (several nodes behind a load balancer: an attacker's
 * guesses spread over nodes are counted together). A hash per key expiring after its window.
 * Throws when Redis does not answer (see FallbackFailureStore).
 */
export class RedisFailureStore implements FailureStore {
  constructor(private readonly shared: SharedState) {}

  private key(key: string): string {
    return `${this.shared.prefix}login-failures:${key}`;
  }

  private async run<T>(op: Parameters<SharedState['run']>[0]): Promise<T> {
    const out = await this.shared.run(op);
    if (out === undefined) throw new Error('Redis injoignable (échecs de connexion)');
    return out as T;
  }

  async get(key: string): Promise<FailureRecord | undefined> {
    const [c, f, l] = await this.run<(string | null)[]>((r) => r.hmget(this.key(key), 'c', 'f', 'l'));
    return c === null || c === undefined ? undefined : { count: Number(c), firstMs: Number(f), lastMs: Number(l) };
  }

  async add(key: string, nowMs: number, windowMs: number): Promise<FailureRecord> {
    const [count, firstMs, lastMs] = await this.run<number[]>((r) => ADD.run(r, [this.key(key)], [nowMs, windowMs]));
    return { count: count!, firstMs: firstMs!, lastMs: lastMs! };
  }

  async reset(key: string): Promise<void> {
    await this.run((r) => r.del(this.key(key)));
  }
}

/**
 * The shared store while it answers, this node's memory otherwise. Fails open to local limits: while
 * Redis is away a node counts only the failures it sees (from zero), so the throttle is per node.
 */
export class FallbackFailureStore implements FailureStore {
  constructor(
    private readonly shared: FailureStore,
    private readonly local: MemoryFailureStore,
    private readonly usable: () => boolean,
  ) {}

  private async either<T>(op: (store: FailureStore) => Promise<T>): Promise<T> {
    if (!this.usable()) return op(this.local);
    try {
      return await op(this.shared);
    } catch {
      return op(this.local);
    }
  }

  get(key: string): Promise<FailureRecord | undefined> {
    return this.either((s) => s.get(key));
  }

  add(key: string, nowMs: number, windowMs: number): Promise<FailureRecord> {
    return this.either((s) => s.add(key, nowMs, windowMs));
  }

  reset(key: string): Promise<void> {
    return this.either((s) => s.reset(key));
  }
}
