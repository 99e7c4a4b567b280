import type { CreateTableBuilder } from 'kysely';

/**
 * Columns shared by what a school member addresses to an audience (a liaison note, a news item):
 * its id, its school, its author (kept as null when the author's record is purged) and the audience
 * (kind, id, and its name at writing time). Not a migration: migrations call it with `$call`.
 */
export function addressedColumns(t: CreateTableBuilder<string, string>): CreateTableBuilder<string, string> {
  return t
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('school_id', 'text', (c) => c.notNull().references('schools.id').onDelete('cascade'))
    .addColumn('author_id', 'text', (c) => c.references('people.id').onDelete('set null'))
    /** liaison: 'pupil' | 'class' | 'group'; news: 'school' | 'class' | 'group' */
    .addColumn('audience_kind', 'text', (c) => c.notNull())
    .addColumn('audience_id', 'text', (c) => c.notNull())
    .addColumn('audience_name', 'text', (c) => c.notNull());
}

/** An attached file (a cahier entry's, a message's, a news item's): a blob of the store, its name, size, type, and when. */
export function attachedFileColumns(t: CreateTableBuilder<string, string>): CreateTableBuilder<string, string> {
  return t
    .addColumn('blob_sha256', 'text', (c) => c.notNull().references('blobs.sha256'))
    .addColumn('file_name', 'text', (c) => c.notNull())
    .addColumn('size_bytes', 'bigint', (c) => c.notNull())
    .addColumn('content_type', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull());
}
