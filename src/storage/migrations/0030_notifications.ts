import type { Kysely } from 'kysely';

/*
 * Notifications: the in-app feed of what is new for a person (work posted, hand-in returned,
 * message, news, liaison to sign). One row per recipient; at most one row per (recipient, kind,
 * subject): a re-publication refreshes the row instead of adding a second. A row is visible from
 * `visible_at` (a scheduled publication appears when due) and deleted when its subject is withdrawn,
 * or after the retention period by `preau purge`. The feed is a pointer: the thing itself lives in
 * its module.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations run against any schema version
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('notifications')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('recipient_id', 'text', (c) => c.notNull().references('people.id').onDelete('cascade'))
    .addColumn('school_id', 'text', (c) => c.references('schools.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('link', 'text', (c) => c.notNull())
    .addColumn('subject_id', 'text', (c) => c.notNull())
    .addColumn('actor_id', 'text', (c) => c.references('people.id').onDelete('set null'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('visible_at', 'bigint', (c) => c.notNull())
    .addColumn('read_at', 'bigint')
    .addUniqueConstraint('notifications_subject_uq', ['recipient_id', 'kind', 'subject_id'])
    .execute();
  await db.schema.createIndex('notifications_feed_idx').on('notifications').columns(['recipient_id', 'visible_at', 'id']).execute();
  await db.schema.createIndex('notifications_subject_idx').on('notifications').columns(['kind', 'subject_id']).execute();
  await db.schema.createIndex('notifications_created_idx').on('notifications').columns(['created_at']).execute();
}
