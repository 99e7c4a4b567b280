/**
 * A short cache for reads that many people make at once and whose sources say when they changed:
 * an entry is good while its source's version counter has not moved and it is younger than the
 * TTL (the TTL bounds what a version cannot see: another node's writes, a scheduled publication
 * becoming visible). Concurrent misses of one key share one load (at 8:30 thirty pupils of a class
 * ask within the same millisecond: one database read, not thirty). Bounded: beyond `maxEntries` the
 * oldest entries go. A failed load is not kept (the next request tries again).
 */
export class VersionedCache<T> {
  private readonly entries = new Map<string, { value: T; atMs: number; version: number }>();
  private readonly loading = new Map<string, { version: number; promise: Promise<T> }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
  ) {}

  /** The fresh value, if there is one (synchronous: the hot path answers without a promise). */
  peek(key: string, version: number, nowMs: number): T | undefined {
    const hit = this.entries.get(key);
    return hit && hit.version === version && nowMs - hit.atMs < this.ttlMs ? hit.value : undefined;
  }

  get(key: string, version: number, nowMs: number, load: () => Promise<T>): Promise<T> {
    const hit = this.peek(key, version, nowMs);
    if (hit !== undefined) return Promise.resolve(hit);
    const inFlight = this.loading.get(key);
    if (inFlight && inFlight.version === version) return inFlight.promise;
    const promise = load().then(
      (value) => {
        if (this.loading.get(key)?.promise === promise) this.loading.delete(key);
        this.entries.delete(key);
        this.entries.set(key, { value, atMs: nowMs, version });
        while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
        return value;
      },
      (err: unknown) => {
        if (this.loading.get(key)?.promise === promise) this.loading.delete(key);
        throw err;
      },
    );
    this.loading.set(key, { version, promise });
    return promise;
  }

  size(): number {
    return this.entries.size;
  }
}
