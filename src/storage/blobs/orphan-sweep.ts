import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';
import type { BlobStore } from './blob-store.js';

/**
 * Every column that references a blob. A table that starts keeping blob references is added here
 * (orphan-sweep.test.ts checks the list against the database's columns named `blob_sha256`).
 */
export const BLOB_REFERENCES = ['homework_attachments', 'handin_files', 'handin_feedback', 'message_attachments', 'doc_entries', 'news_attachments', 'doc_upload_chunks'] as const;

/**
 * Bytes nothing referenced for this long are deleted. Well over the time between a blob's put and
 * the insert of the row that references it (one request), so only real orphans go: uploads refused
 * after their bytes were written, purged documents, hand-ins of purged pupils, replaced drafts.
 */
export const ORPHAN_BLOB_GRACE_MS = 24 * 3600_000;

/** Candidates checked against the references per round (one `in (…)` query per referencing table). */
const BATCH = 500;

async function referenced(db: Kysely<Database>, shas: string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (const table of BLOB_REFERENCES) {
    const rows = await db.selectFrom(table as 'doc_entries').select('blob_sha256').distinct().where('blob_sha256', 'in', shas).execute();
    for (const r of rows) if (r.blob_sha256) found.add(r.blob_sha256);
  }
  return found;
}

/**
 * Deletes stored bytes that no table references and that nobody wrote for ORPHAN_BLOB_GRACE_MS
 * (a put of bytes already stored renews their time), with their `blobs` row. Run by `preau purge`.
 * Fails closed on the side of keeping bytes: a blob referenced anywhere, or written recently, stays;
 * `maxDeleted` bounds one run. `nowMs` is the wall clock (blob times are the filesystem's).
 */
export async function sweepOrphanBlobs(db: Kysely<Database>, blobs: BlobStore, nowMs: number, options: { graceMs?: number; maxDeleted?: number } = {}): Promise<{ deleted: number }> {
  const cutoff = nowMs - (options.graceMs ?? ORPHAN_BLOB_GRACE_MS);
  const maxDeleted = options.maxDeleted ?? 10_000;
  let deleted = 0;
  let batch: string[] = [];
  const flush = async () => {
    const keep = await referenced(db, batch);
    for (const sha of batch) {
      if (keep.has(sha) || deleted >= maxDeleted) continue;
      await blobs.delete(sha);
      await db.deleteFrom('blobs').where('sha256', '=', sha).execute();
      deleted++;
    }
    batch = [];
  };
  for await (const b of blobs.list()) {
    if (b.modifiedAtMs > cutoff) continue;
    batch.push(b.sha256);
    if (batch.length >= BATCH) await flush();
    if (deleted >= maxDeleted) break;
  }
  if (batch.length > 0) await flush();
  return { deleted };
}
