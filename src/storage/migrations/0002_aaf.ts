import type { Kysely } from 'kysely';

/*
 * Staging tables of the AAF import. A partial feed can name a person, school, class or subject that
 * has not arrived yet: the link waits in aaf_pending_links and is made by a later run.
 * aaf_import_seen lists who a full feed mentioned, so that absentees can be marked departed
 * without holding every identifier in memory.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations run against any schema version
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('aaf_pending_links')
    // Deterministic key (kind, person, target, code, subject): re-importing a feed rewrites nothing.
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('person_jointure', 'text', (c) => c.notNull())
    .addColumn('target_jointure', 'text', (c) => c.notNull())
    .addColumn('code', 'text')
    .addColumn('subject_code', 'text')
    .addColumn('legal_guardian', 'integer')
    .addColumn('relation', 'text')
    .addColumn('principal', 'integer')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('aaf_pending_person_idx').on('aaf_pending_links').column('person_jointure').execute();
  await db.schema.createIndex('aaf_pending_target_idx').on('aaf_pending_links').column('target_jointure').execute();

  await db.schema
    .createTable('aaf_import_seen')
    .addColumn('run_id', 'text', (c) => c.notNull())
    .addColumn('jointure', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('aaf_import_seen_pk', ['run_id', 'jointure'])
    .execute();
}
