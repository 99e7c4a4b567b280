import { sql, type Kysely } from 'kysely';

/*
 * Documents. One table of entries (folders and files together: one namespace per folder, one
 * listing query, one soft delete) in spaces: a person's own space ("Mes documents") or the shared
 * space of a class or a group. `folder_id` is the containing folder, '' at the root of the space;
 * `path` lists the ancestor folder ids ('/a/b/') so that a subtree is found, moved or purged with
 * one statement and an ancestor's deletion is seen without walking up. Names are unique among the
 * live entries of a folder, case-insensitively (`name_key`), by a partial unique index.
 * Files point at content-addressed blobs; `size_bytes` is the logical size charged to `owner_id`.
 * `person_id` ties personal files and pupils' deposits to their person, so that purging a departed
 * pupil removes them (cascade); a teacher's files in a class space stay with the class.
 * Resumable uploads are sessions (`doc_uploads`) whose bytes sit in a temporary file under the
 * data directory until completion.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations run against any schema version
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('doc_entries')
    .addColumn('id', 'text', (c) => c.primaryKey())
    /** 'folder' | 'file' */
    .addColumn('kind', 'text', (c) => c.notNull())
    /** 'personal' | 'class' | 'group' */
    .addColumn('space_kind', 'text', (c) => c.notNull())
    .addColumn('space_id', 'text', (c) => c.notNull())
    .addColumn('folder_id', 'text', (c) => c.notNull())
    .addColumn('path', 'text', (c) => c.notNull())
    .addColumn('depth', 'integer', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('name_key', 'text', (c) => c.notNull())
    .addColumn('drop_box', 'integer', (c) => c.notNull())
    .addColumn('owner_id', 'text', (c) => c.references('people.id').onDelete('set null'))
    .addColumn('person_id', 'text', (c) => c.references('people.id').onDelete('cascade'))
    .addColumn('blob_sha256', 'text', (c) => c.references('blobs.sha256'))
    .addColumn('size_bytes', 'bigint', (c) => c.notNull())
    .addColumn('content_type', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('deleted_at', 'bigint')
    .addColumn('deleted_by', 'text')
    .execute();
  await db.schema
    .createIndex('doc_entries_name_uq')
    .on('doc_entries')
    .columns(['space_kind', 'space_id', 'folder_id', 'name_key'])
    .unique()
    .where(sql.ref('deleted_at'), 'is', null)
    .execute();
  await db.schema.createIndex('doc_entries_owner_idx').on('doc_entries').columns(['owner_id', 'kind']).execute();
  await db.schema.createIndex('doc_entries_trash_idx').on('doc_entries').columns(['deleted_by', 'deleted_at']).execute();
  await db.schema.createIndex('doc_entries_blob_idx').on('doc_entries').column('blob_sha256').execute();

  await db.schema
    .createTable('doc_uploads')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('owner_id', 'text', (c) => c.notNull().references('people.id').onDelete('cascade'))
    .addColumn('space_kind', 'text', (c) => c.notNull())
    .addColumn('space_id', 'text', (c) => c.notNull())
    .addColumn('folder_id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('size_bytes', 'bigint', (c) => c.notNull())
    .addColumn('expected_sha256', 'text')
    .addColumn('received_bytes', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('doc_uploads_owner_idx').on('doc_uploads').columns(['owner_id', 'expires_at']).execute();
  await db.schema.createIndex('doc_uploads_expiry_idx').on('doc_uploads').column('expires_at').execute();
}
