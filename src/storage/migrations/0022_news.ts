import type { Kysely } from 'kysely';
import { addressedColumns, attachedFileColumns } from './columns.js';

/*
 * Actualités. A news item of a school (written by its staff) or of a class/group (its teachers and
 * the school's staff). Its audience is not expanded into rows: readers are whoever the directory
 * says belongs to the audience when they read (a pupil who joins a class in October reads its
 * September news). Only acknowledgements ("j'ai pris connaissance") are rows, one per person.
 * Publication window: `publish_from` null is a draft, in the future is scheduled; `publish_until`
 * ends it (it then lives on in the archive of its author and the school's staff). Withdrawal is
 * soft (`withdrawn_at`): acknowledgements are evidence the school keeps.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations run against any schema version
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('news')
    .$call(addressedColumns)
    .addColumn('headline', 'text', (c) => c.notNull())
    .addColumn('body_html', 'text', (c) => c.notNull())
    .addColumn('publish_from', 'bigint')
    .addColumn('publish_until', 'bigint')
    .addColumn('pinned', 'integer', (c) => c.notNull())
    .addColumn('requires_ack', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('edited_at', 'bigint')
    .addColumn('withdrawn_at', 'bigint')
    .execute();
  // Readers' lists: by audience, newest publication first.
  await db.schema.createIndex('news_audience_idx').on('news').columns(['audience_kind', 'audience_id', 'publish_from']).execute();
  await db.schema.createIndex('news_school_idx').on('news').columns(['school_id', 'publish_from']).execute();
  await db.schema.createIndex('news_author_idx').on('news').columns(['author_id', 'created_at']).execute();

  await db.schema
    .createTable('news_acks')
    .addColumn('news_id', 'text', (c) => c.notNull().references('news.id').onDelete('cascade'))
    .addColumn('person_id', 'text', (c) => c.notNull().references('people.id').onDelete('cascade'))
    .addColumn('acknowledged_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('news_acks_pk', ['news_id', 'person_id'])
    .execute();
  // Attachments: content-addressed blobs (the blob store), described here like the cahier's.
  await db.schema
    .createTable('news_attachments')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('news_id', 'text', (c) => c.notNull().references('news.id').onDelete('cascade'))
    .$call(attachedFileColumns)
    .execute();
  await db.schema.createIndex('news_attachments_news_idx').on('news_attachments').column('news_id').execute();

  await db.schema.createIndex('news_acks_person_idx').on('news_acks').columns(['person_id', 'acknowledged_at']).execute();
}
