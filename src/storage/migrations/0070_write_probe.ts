import type { Kysely } from 'kysely';

/*
 * The automatic read-only watcher's write probe (storage/health.ts): one row, rewritten by every
 * node every few seconds. A table of its own so that the probe never changes a table features or
 * tests read (settings holds the status banner and the secret).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations run against any schema version
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('storage_write_probe')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('probed_at', 'bigint', (c) => c.notNull())
    .execute();
}
