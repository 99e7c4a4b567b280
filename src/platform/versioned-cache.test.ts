import { describe, expect, it } from 'vitest';
import { VersionedCache } from './versioned-cache.js';

describe('versioned cache', () => {
  it('serves a value while its version holds and it is younger than the TTL', async () => {
    const c = new VersionedCache<string>(10_000, 10);
    let loads = 0;
    const load = () => Promise.resolve(`v${++loads}`);
    expect(await c.get('k', 1, 0, load)).toBe('v1');
    expect(c.peek('k', 1, 9_999)).toBe('v1');
    expect(await c.get('k', 1, 9_999, load)).toBe('v1');
    // A write (the version moved) is seen at once; age beyond the TTL reloads too.
    expect(c.peek('k', 2, 1)).toBeUndefined();
    expect(await c.get('k', 2, 1, load)).toBe('v2');
    expect(await c.get('k', 2, 10_001, load)).toBe('v3');
    expect(loads).toBe(3);
  });

  it('concurrent misses of one key share one load; another key loads on its own', async () => {
    const c = new VersionedCache<number>(10_000, 10);
    let loads = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const load = async () => {
      loads++;
      await gate;
      return loads;
    };
    const thirty = Array.from({ length: 30 }, () => c.get('class6A', 1, 0, load));
    const other = c.get('class6B', 1, 0, load);
    release();
    expect(new Set(await Promise.all(thirty)).size).toBe(1);
    await other;
    expect(loads).toBe(2);
  });

  it('a load that started before a write is not served after it', async () => {
    const c = new VersionedCache<string>(10_000, 10);
    await c.get('k', 1, 0, () => Promise.resolve('old'));
    expect(await c.get('k', 2, 0, () => Promise.resolve('new'))).toBe('new');
    expect(c.peek('k', 1, 0)).toBeUndefined();
  });

  it('does not keep a failed load, and stays within its bound', async () => {
    const c = new VersionedCache<string>(10_000, 3);
    await expect(c.get('k', 1, 0, () => Promise.reject(new Error('base indisponible')))).rejects.toThrow('base indisponible');
    expect(await c.get('k', 1, 0, () => Promise.resolve('ok'))).toBe('ok');
    for (const k of ['a', 'b', 'c', 'd']) await c.get(k, 1, 0, () => Promise.resolve(k));
    expect(c.size()).toBe(3);
    expect(c.peek('k', 1, 0)).toBeUndefined();
  });
});
