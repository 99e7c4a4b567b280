import type { Kysely } from 'kysely';
import { addressedColumns } from './columns.js';

/*
 * Carnet de liaison. A note from the school or a teacher to the parents of a pupil, a class or a
 * group, to be "lu et signé". It is expanded at sending into one row per (parent, pupil) in
 * `liaison_targets`: each legal guardian signs for each child concerned, and the sender sees who
 * has signed. Notes are soft-deleted (a signed note is evidence the school keeps for the year).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations run against any schema version
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('liaison_notes')
    .$call(addressedColumns)
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('body_html', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('reminder_count', 'integer', (c) => c.notNull())
    .addColumn('last_reminded_at', 'bigint')
    .addColumn('deleted_at', 'bigint')
    .execute();
  await db.schema.createIndex('liaison_notes_author_idx').on('liaison_notes').columns(['author_id', 'created_at']).execute();

  await db.schema
    .createTable('liaison_targets')
    .addColumn('note_id', 'text', (c) => c.notNull().references('liaison_notes.id').onDelete('cascade'))
    .addColumn('parent_id', 'text', (c) => c.notNull().references('people.id').onDelete('cascade'))
    .addColumn('pupil_id', 'text', (c) => c.notNull().references('people.id').onDelete('cascade'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('signed_at', 'bigint')
    .addColumn('reminded_at', 'bigint')
    .addPrimaryKeyConstraint('liaison_targets_pk', ['note_id', 'parent_id', 'pupil_id'])
    .execute();
  await db.schema.createIndex('liaison_targets_parent_idx').on('liaison_targets').columns(['parent_id', 'created_at']).execute();
}
