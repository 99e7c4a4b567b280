import { sql, type Kysely } from 'kysely';
import { attachedFileColumns } from './columns.js';

/*
 * Cahier de textes and hand-ins. Files are content-addressed blobs (sha256) described once in
 * `blobs`; attachments, hand-in files and returned files point at them, so a file posted to two
 * classes or handed in twice is stored once. Entries are soft-deleted (kept for the school year).
 * Hand-ins are idempotent through the unique (pupil, idempotency key).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations run against any schema version
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('blobs')
    .addColumn('sha256', 'text', (c) => c.primaryKey())
    .addColumn('size_bytes', 'bigint', (c) => c.notNull())
    .addColumn('crc32', 'bigint', (c) => c.notNull())
    .addColumn('content_type', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('homework_entries')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('school_id', 'text', (c) => c.notNull().references('schools.id').onDelete('cascade'))
    .addColumn('teacher_id', 'text', (c) => c.references('people.id').onDelete('set null'))
    .addColumn('class_id', 'text', (c) => c.references('classes.id').onDelete('cascade'))
    .addColumn('group_id', 'text', (c) => c.references('teaching_groups.id').onDelete('cascade'))
    .addColumn('subject_id', 'text', (c) => c.references('subjects.id'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('body_html', 'text', (c) => c.notNull())
    .addColumn('links', 'text', (c) => c.notNull())
    .addColumn('on_date', 'text', (c) => c.notNull())
    .addColumn('due_at', 'bigint')
    .addColumn('estimated_minutes', 'integer')
    .addColumn('online_handin', 'integer', (c) => c.notNull())
    .addColumn('publish_at', 'bigint')
    .addColumn('copied_from', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('deleted_at', 'bigint')
    .execute();
  await db.schema.createIndex('homework_class_date_idx').on('homework_entries').columns(['class_id', 'on_date']).execute();
  await db.schema.createIndex('homework_group_date_idx').on('homework_entries').columns(['group_id', 'on_date']).execute();
  await db.schema.createIndex('homework_teacher_date_idx').on('homework_entries').columns(['teacher_id', 'on_date']).execute();

  await db.schema
    .createTable('homework_attachments')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('entry_id', 'text', (c) => c.notNull().references('homework_entries.id').onDelete('cascade'))
    .$call(attachedFileColumns)
    .execute();
  await db.schema.createIndex('homework_attachments_entry_idx').on('homework_attachments').column('entry_id').execute();

  await db.schema
    .createTable('homework_done')
    .addColumn('entry_id', 'text', (c) => c.notNull().references('homework_entries.id').onDelete('cascade'))
    .addColumn('pupil_id', 'text', (c) => c.notNull().references('people.id').onDelete('cascade'))
    .addColumn('done_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('homework_done_pk', ['entry_id', 'pupil_id'])
    .execute();
  await db.schema.createIndex('homework_done_pupil_idx').on('homework_done').column('pupil_id').execute();

  await db.schema
    .createTable('cahier_visas')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('school_id', 'text', (c) => c.notNull().references('schools.id').onDelete('cascade'))
    .addColumn('teacher_id', 'text', (c) => c.notNull().references('people.id').onDelete('cascade'))
    .addColumn('visa_by', 'text', (c) => c.references('people.id').onDelete('set null'))
    .addColumn('visa_at', 'bigint', (c) => c.notNull())
    .addColumn('comment', 'text')
    .execute();
  await db.schema.createIndex('cahier_visas_teacher_idx').on('cahier_visas').columns(['teacher_id', 'visa_at']).execute();

  await db.schema
    .createTable('handins')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('entry_id', 'text', (c) => c.notNull().references('homework_entries.id').onDelete('cascade'))
    .addColumn('pupil_id', 'text', (c) => c.notNull().references('people.id').onDelete('cascade'))
    .addColumn('idempotency_key', 'text', (c) => c.notNull())
    .addColumn('text', 'text')
    .addColumn('text_sha256', 'text')
    .addColumn('submitted_at', 'bigint', (c) => c.notNull())
    .addColumn('late', 'integer', (c) => c.notNull())
    .addColumn('superseded_at', 'bigint')
    // The retry of an upload with the same key is stored once: this constraint decides, even between nodes.
    .addUniqueConstraint('handins_pupil_key_uq', ['pupil_id', 'idempotency_key'])
    .execute();
  await db.schema.createIndex('handins_entry_pupil_idx').on('handins').columns(['entry_id', 'pupil_id']).execute();
  // One current hand-in per pupil and entry, even when two different uploads race (partial index: SQLite and PostgreSQL).
  await db.schema.createIndex('handins_current_uq').on('handins').columns(['entry_id', 'pupil_id']).unique().where(sql.ref('superseded_at'), 'is', null).execute();

  await db.schema
    .createTable('handin_files')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('handin_id', 'text', (c) => c.notNull().references('handins.id').onDelete('cascade'))
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('blob_sha256', 'text', (c) => c.notNull().references('blobs.sha256'))
    .addColumn('file_name', 'text', (c) => c.notNull())
    .addColumn('size_bytes', 'bigint', (c) => c.notNull())
    .addColumn('content_type', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('handin_files_handin_idx').on('handin_files').column('handin_id').execute();

  await db.schema
    .createTable('handin_feedback')
    .addColumn('entry_id', 'text', (c) => c.notNull().references('homework_entries.id').onDelete('cascade'))
    .addColumn('pupil_id', 'text', (c) => c.notNull().references('people.id').onDelete('cascade'))
    .addColumn('teacher_id', 'text', (c) => c.references('people.id').onDelete('set null'))
    .addColumn('comment', 'text', (c) => c.notNull())
    .addColumn('blob_sha256', 'text', (c) => c.references('blobs.sha256'))
    .addColumn('file_name', 'text')
    .addColumn('size_bytes', 'bigint')
    .addColumn('content_type', 'text')
    .addColumn('returned_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('handin_feedback_pk', ['entry_id', 'pupil_id'])
    .execute();
}
