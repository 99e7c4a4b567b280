import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BlobTooLargeError, type BlobStore } from './blob-store.js';
import { tableCrc32 } from './crc32.js';

/**
 * The contract every BlobStore implementation passes (disk today; an object store later runs the
 * same suite): `blobStoreContract('s3', async () => ({ store, cleanup }))` in its own test file.
 */
export function blobStoreContract(name: string, make: () => Promise<{ store: BlobStore; cleanup(): Promise<void> }>): void {
  async function* chunks(data: Buffer, size = 7_000): AsyncGenerator<Buffer> {
    for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
  }
  const read = async (store: BlobStore, sha: string) => {
    const stream = await store.open(sha);
    if (!stream) return undefined;
    const parts: Buffer[] = [];
    for await (const c of stream) parts.push(c as Buffer);
    return Buffer.concat(parts);
  };
  const withStore = (fn: (store: BlobStore) => Promise<void>) => async () => {
    const { store, cleanup } = await make();
    try {
      await fn(store);
    } finally {
      await cleanup();
    }
  };

  describe(`BlobStore contract: ${name}`, () => {
    it('stores streamed bytes under their SHA-256 and gives them back', withStore(async (store) => {
      const data = randomBytes(200_000);
      const put = await store.put(chunks(data), { maxBytes: 1_000_000 });
      expect(put.sha256).toBe(createHash('sha256').update(data).digest('hex'));
      expect(put.sizeBytes).toBe(data.length);
      expect(put.crc32).toBe(tableCrc32(data));
      expect(put.head.equals(data.subarray(0, put.head.length))).toBe(true);
      expect(put.created).toBe(true);
      expect((await read(store, put.sha256))!.equals(data)).toBe(true);
      expect(await store.stat(put.sha256)).toEqual({ sizeBytes: data.length });
    }));

    it('keeps one copy of the same bytes', withStore(async (store) => {
      const data = Buffer.from('la même copie, rendue deux fois');
      const a = await store.put(chunks(data, 5), { maxBytes: 1000 });
      const b = await store.put(chunks(data, 3), { maxBytes: 1000 });
      expect(b.sha256).toBe(a.sha256);
      expect(b.created).toBe(false);
      expect((await read(store, a.sha256))!.toString()).toBe(data.toString());
    }));

    it('stores the empty file', withStore(async (store) => {
      const put = await store.put(chunks(Buffer.alloc(0)), { maxBytes: 10 });
      expect(put.sizeBytes).toBe(0);
      expect((await read(store, put.sha256))!.length).toBe(0);
    }));

    it('refuses a stream over the limit and keeps nothing of it', withStore(async (store) => {
      const data = randomBytes(50_000);
      await expect(store.put(chunks(data), { maxBytes: 49_999 })).rejects.toBeInstanceOf(BlobTooLargeError);
      expect(await store.stat(createHash('sha256').update(data).digest('hex'))).toBeUndefined();
      // Exactly the limit is fine.
      await expect(store.put(chunks(data), { maxBytes: 50_000 })).resolves.toMatchObject({ sizeBytes: 50_000 });
    }));

    it('keeps nothing of a stream that fails midway', withStore(async (store) => {
      async function* broken(): AsyncGenerator<Buffer> {
        yield Buffer.from('début du fichier');
        throw new Error('connexion coupée');
      }
      await expect(store.put(broken(), { maxBytes: 1000 })).rejects.toThrow('connexion coupée');
    }));

    it('answers unknown and malformed keys with nothing', withStore(async (store) => {
      expect(await store.open('0'.repeat(64))).toBeUndefined();
      expect(await store.open('../../etc/passwd')).toBeUndefined();
      expect(await store.stat('ZZ')).toBeUndefined();
    }));

    it('gives back a byte range', withStore(async (store) => {
      const data = randomBytes(10_000);
      const put = await store.put(chunks(data), { maxBytes: 20_000 });
      const parts: Buffer[] = [];
      for await (const c of (await store.open(put.sha256, { start: 1000, end: 1999 }))!) parts.push(c as Buffer);
      expect(Buffer.concat(parts).equals(data.subarray(1000, 2000))).toBe(true);
    }));
    it('lists what it stores, with a modification time renewed by a put of the same bytes', withStore(async (store) => {
      const before = Date.now() - 5_000;
      const a = await store.put(chunks(Buffer.from('premier')), { maxBytes: 100 });
      const b = await store.put(chunks(Buffer.from('second')), { maxBytes: 100 });
      const listed = new Map<string, number>();
      for await (const x of store.list()) listed.set(x.sha256, x.modifiedAtMs);
      expect([...listed.keys()].sort()).toEqual([a.sha256, b.sha256].sort());
      expect(listed.get(a.sha256)).toBeGreaterThan(before);
    }));
    it('deletes', withStore(async (store) => {
      const put = await store.put(chunks(Buffer.from('à effacer')), { maxBytes: 100 });
      await store.delete(put.sha256);
      expect(await store.open(put.sha256)).toBeUndefined();
      await store.delete(put.sha256);
    }));

    it('takes concurrent puts of the same bytes', withStore(async (store) => {
      const data = randomBytes(100_000);
      const puts = await Promise.all([1, 2, 3, 4].map(() => store.put(chunks(data, 10_000), { maxBytes: 200_000 })));
      expect(new Set(puts.map((p) => p.sha256)).size).toBe(1);
      expect((await read(store, puts[0]!.sha256))!.equals(data)).toBe(true);
    }));
  });
}
