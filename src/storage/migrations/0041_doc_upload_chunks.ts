import type { Kysely } from 'kysely';

/*
 * Resumable document uploads across nodes: each accepted chunk is a blob (in the shared blob
 * store) recorded here at its offset, in the same transaction that advances the session's
 * received bytes. Any node can then take the next chunk or complete the upload; before, the bytes
 * sat in a file under one node's data directory.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations run against any schema version
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('doc_upload_chunks')
    .addColumn('upload_id', 'text', (c) => c.notNull().references('doc_uploads.id').onDelete('cascade'))
    .addColumn('offset_bytes', 'bigint', (c) => c.notNull())
    .addColumn('size_bytes', 'bigint', (c) => c.notNull())
    .addColumn('blob_sha256', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('doc_upload_chunks_pk', ['upload_id', 'offset_bytes'])
    .execute();
  await db.schema.createIndex('doc_upload_chunks_blob_idx').on('doc_upload_chunks').column('blob_sha256').execute();
}
