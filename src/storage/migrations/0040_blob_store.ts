import { sql, type Kysely } from 'kysely';

/*
 * The database blob store (storage/blobs/database-blob-store.ts): file bytes in the database, so
 * that they are replicated with it (to the synchronous standby of the other site) and any node
 * reads them. `blob_store_objects` maps a SHA-256 to the chunks of one write; `blob_store_chunks`
 * holds the bytes, 1 MiB per row; `blob_store_writes` marks writes in progress (a crash leaves
 * their chunks behind: the orphan sweep removes those older than a day).
 * Separate from `blobs` (the metadata every feature references): this is the store's own index.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations run against any schema version
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('blob_store_objects')
    .addColumn('sha256', 'text', (c) => c.primaryKey())
    .addColumn('write_id', 'text', (c) => c.notNull())
    .addColumn('size_bytes', 'bigint', (c) => c.notNull())
    .addColumn('modified_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('blob_store_chunks')
    .addColumn('write_id', 'text', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull())
    // bytea on PostgreSQL; SQLite takes any type name and stores a Buffer as a BLOB as it is.
    .addColumn('bytes', sql`bytea`, (c) => c.notNull())
    .addPrimaryKeyConstraint('blob_store_chunks_pk', ['write_id', 'seq'])
    .execute();
  await db.schema
    .createTable('blob_store_writes')
    .addColumn('write_id', 'text', (c) => c.primaryKey())
    .addColumn('started_at', 'bigint', (c) => c.notNull())
    .execute();
}
