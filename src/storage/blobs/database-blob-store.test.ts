import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { activeBackends, freshStorage } from '../../../test/support/backends.js';
import { blobStoreContract } from './blob-store.contract.js';
import { ABANDONED_WRITE_MS, BLOB_CHUNK_BYTES, DatabaseBlobStore } from './database-blob-store.js';

/** The database blob store passes the same contract as the disk one, on every backend of the matrix. */
for (const backend of await activeBackends()) {
  blobStoreContract(`database (${backend})`, async () => {
    const { storage, drop } = await freshStorage(backend);
    return { store: new DatabaseBlobStore(storage.db), cleanup: drop };
  });

  describe(`DatabaseBlobStore on ${backend}`, () => {
    const read = async (stream: NodeJS.ReadableStream | undefined) => {
      const parts: Buffer[] = [];
      for await (const c of stream!) parts.push(c as Buffer);
      return Buffer.concat(parts);
    };

    it('splits a file into 1 MiB rows and reads any range across their boundaries', async () => {
      const { storage, drop } = await freshStorage(backend);
      try {
        const store = new DatabaseBlobStore(storage.db);
        const data = randomBytes(2 * BLOB_CHUNK_BYTES + 12_345);
        // Sent in pieces that do not line up with the rows.
        const pieces = function* () {
          for (let i = 0; i < data.length; i += 300_001) yield data.subarray(i, i + 300_001);
        };
        const put = await store.put(pieces(), { maxBytes: data.length });
        expect(put.sha256).toBe(createHash('sha256').update(data).digest('hex'));
        const rows = await storage.db.selectFrom('blob_store_chunks').select(['seq']).execute();
        expect(rows.map((r) => r.seq).sort()).toEqual([0, 1, 2]);
        expect((await read(await store.open(put.sha256))).equals(data)).toBe(true);
        for (const [start, end] of [[0, 0], [BLOB_CHUNK_BYTES - 1, BLOB_CHUNK_BYTES], [1_000, 2 * BLOB_CHUNK_BYTES + 5], [data.length - 1, data.length - 1]] as const) {
          expect((await read(await store.open(put.sha256, { start, end }))).equals(data.subarray(start, end + 1)), `${start}-${end}`).toBe(true);
        }
        // A refused put leaves no row behind; the same bytes again keep one copy.
        await expect(store.put([data], { maxBytes: data.length - 1 })).rejects.toThrow();
        expect(await store.put([data], { maxBytes: data.length })).toMatchObject({ created: false });
        expect((await storage.db.selectFrom('blob_store_chunks').select('seq').execute()).length).toBe(3);
        expect(await storage.db.selectFrom('blob_store_writes').selectAll().execute()).toEqual([]);
      } finally {
        await drop();
      }
    });

    it('the sweep removes what a crashed write left, a day later, and keeps a write in progress', async () => {
      const { storage, drop } = await freshStorage(backend);
      try {
        let now = 1_000_000_000_000;
        const store = new DatabaseBlobStore(storage.db, () => now);
        // As a process killed mid-put leaves it.
        await storage.db.insertInto('blob_store_writes').values({ write_id: 'crashed', started_at: now }).execute();
        await storage.db.insertInto('blob_store_chunks').values({ write_id: 'crashed', seq: 0, bytes: Buffer.from('moitié') }).execute();
        const walk = async () => {
          for await (const _ of store.list()) void _;
        };
        now += ABANDONED_WRITE_MS - 1;
        await walk();
        expect((await storage.db.selectFrom('blob_store_chunks').select('seq').execute()).length).toBe(1);
        now += 2;
        await walk();
        expect(await storage.db.selectFrom('blob_store_chunks').select('seq').execute()).toEqual([]);
        expect(await storage.db.selectFrom('blob_store_writes').selectAll().execute()).toEqual([]);
      } finally {
        await drop();
      }
    });
  });
}
