import { Readable } from 'node:stream';
import type { Kysely } from 'kysely';
import { newId } from '../../platform/ids.js';
import type { Database } from '../schema.js';
import { isSha256Hex, PutDigest, type BlobStore, type ByteRange, type PutOptions, type StoredBlob } from './blob-store.js';

/** Bytes per chunk row: large enough that a 20 MB hand-in is 20 rows, small enough to hold one in memory per write. */
export const BLOB_CHUNK_BYTES = 1024 * 1024;
/** A write unfinished for this long is a crash's leftover: its chunks are removed (see list()). */
export const ABANDONED_WRITE_MS = 24 * 3600_000;

/**
 * Blobs in the database (PostgreSQL in scaled mode; it runs on SQLite too), in 1 MiB chunk rows:
 * replicated with the database — an acknowledged hand-in is on the synchronous standby of the
 * other site — and readable by every node, with nothing on a node's disk.
 *
 * A put streams chunk rows under a fresh write id (one chunk in memory at a time), then in one
 * transaction names them by their SHA-256 — or, when those bytes are already stored, drops its
 * own chunks and renews the existing object's time (deduplication; concurrent puts of the same
 * bytes: the first to commit wins, the others drop theirs). A reader only ever sees committed
 * objects: never half a file. Fails closed: any error deletes the write's chunks and rejects.
 */
export class DatabaseBlobStore implements BlobStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly nowMs: () => number = Date.now,
  ) {}

  async put(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, options: PutOptions): Promise<StoredBlob> {
    const writeId = newId();
    await this.db.insertInto('blob_store_writes').values({ write_id: writeId, started_at: this.nowMs() }).execute();
    const digest = new PutDigest(options.maxBytes);
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let seq = 0;
    const flush = async (bytes: Buffer) => {
      await this.db.insertInto('blob_store_chunks').values({ write_id: writeId, seq: seq++, bytes }).execute();
    };
    try {
      for await (const chunk of source) {
        digest.add(chunk);
        pending.push(Buffer.from(chunk));
        pendingBytes += chunk.length;
        while (pendingBytes >= BLOB_CHUNK_BYTES) {
          const all = Buffer.concat(pending);
          await flush(all.subarray(0, BLOB_CHUNK_BYTES));
          pending = [all.subarray(BLOB_CHUNK_BYTES)];
          pendingBytes = all.length - BLOB_CHUNK_BYTES;
        }
      }
      if (pendingBytes > 0) await flush(Buffer.concat(pending));
      const stored = digest.finish();
      const { sha256, sizeBytes } = stored;
      const now = this.nowMs();
      const created = await this.db.transaction().execute(async (trx) => {
        const inserted = await trx
          .insertInto('blob_store_objects')
          .values({ sha256, write_id: writeId, size_bytes: sizeBytes, modified_at: now })
          .onConflict((oc) => oc.column('sha256').doNothing())
          .executeTakeFirst();
        await trx.deleteFrom('blob_store_writes').where('write_id', '=', writeId).execute();
        if (Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0) return true;
        // Already stored: renewed (the orphan sweep spares bytes being attached again), ours dropped.
        await trx.updateTable('blob_store_objects').set({ modified_at: now }).where('sha256', '=', sha256).execute();
        await trx.deleteFrom('blob_store_chunks').where('write_id', '=', writeId).execute();
        return false;
      });
      return { ...stored, created };
    } catch (err) {
      await this.dropWrite(writeId).catch(() => undefined);
      throw err;
    }
  }

  private async dropWrite(writeId: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('blob_store_chunks').where('write_id', '=', writeId).execute();
      await trx.deleteFrom('blob_store_writes').where('write_id', '=', writeId).execute();
    });
  }

  async open(sha256: string, range?: ByteRange): Promise<Readable | undefined> {
    if (!isSha256Hex(sha256)) return undefined;
    const object = await this.db.selectFrom('blob_store_objects').select(['write_id', 'size_bytes']).where('sha256', '=', sha256).executeTakeFirst();
    if (!object) return undefined;
    const start = range?.start ?? 0;
    const end = range?.end ?? object.size_bytes - 1;
    const db = this.db;
    // One chunk row in memory at a time, fetched as the reader pulls (backpressure from the socket).
    async function* bytes(): AsyncGenerator<Buffer> {
      if (end < start) return;
      for (let seq = Math.floor(start / BLOB_CHUNK_BYTES); seq <= Math.floor(end / BLOB_CHUNK_BYTES); seq++) {
        const row = await db.selectFrom('blob_store_chunks').select('bytes').where('write_id', '=', object!.write_id).where('seq', '=', seq).executeTakeFirst();
        if (!row) throw new Error(`blob ${sha256} : morceau ${seq} manquant`);
        const chunkStart = seq * BLOB_CHUNK_BYTES;
        const from = Math.max(start - chunkStart, 0);
        const to = Math.min(end - chunkStart + 1, row.bytes.length);
        yield Buffer.from(row.bytes.subarray(from, to));
      }
    }
    return Readable.from(bytes(), { objectMode: false });
  }

  async stat(sha256: string): Promise<{ sizeBytes: number } | undefined> {
    if (!isSha256Hex(sha256)) return undefined;
    const row = await this.db.selectFrom('blob_store_objects').select('size_bytes').where('sha256', '=', sha256).executeTakeFirst();
    return row ? { sizeBytes: row.size_bytes } : undefined;
  }

  async delete(sha256: string): Promise<void> {
    if (!isSha256Hex(sha256)) return;
    await this.db.transaction().execute(async (trx) => {
      const row = await trx.deleteFrom('blob_store_objects').where('sha256', '=', sha256).returning('write_id').executeTakeFirst();
      if (row) await trx.deleteFrom('blob_store_chunks').where('write_id', '=', row.write_id).execute();
    });
  }

  /**
   * Every stored object, in pages of 1 000 (the orphan sweep's walk). The sweep is also when the
   * chunks of writes a crash left unfinished for ABANDONED_WRITE_MS are removed.
   */
  async *list(): AsyncGenerator<{ sha256: string; modifiedAtMs: number }> {
    await this.dropAbandonedWrites();
    let after = '';
    for (;;) {
      const page = await this.db.selectFrom('blob_store_objects').select(['sha256', 'modified_at']).where('sha256', '>', after).orderBy('sha256').limit(1000).execute();
      for (const row of page) yield { sha256: row.sha256, modifiedAtMs: row.modified_at };
      if (page.length < 1000) return;
      after = page[page.length - 1]!.sha256;
    }
  }

  private async dropAbandonedWrites(): Promise<void> {
    const old = await this.db.selectFrom('blob_store_writes').select('write_id').where('started_at', '<', this.nowMs() - ABANDONED_WRITE_MS).limit(1000).execute();
    for (const { write_id } of old) await this.dropWrite(write_id);
  }
}
