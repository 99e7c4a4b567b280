import type { Kysely } from 'kysely';
import { attachedFileColumns } from './columns.js';

/*
 * Messagerie. A message is written once (`messages`) and delivered to each person it reaches
 * (`message_recipients`, one row per person after expanding "the parents of 6e A"), so read state
 * and deletion are per person. Deletion is soft on both sides: a sender's copy and a recipient's
 * copy disappear from their boxes, the message stays (exchanges with minors are kept for the
 * school's retention period and purged with departed people). `search_text` is the subject and
 * the plain text folded (lower case, no accents) once at write time, so search is a portable LIKE.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations run against any schema version
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('messages')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('thread_id', 'text', (c) => c.notNull())
    .addColumn('in_reply_to', 'text')
    .addColumn('sender_id', 'text', (c) => c.notNull().references('people.id').onDelete('cascade'))
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('body_html', 'text', (c) => c.notNull())
    .addColumn('search_text', 'text', (c) => c.notNull())
    /** The recipients as chosen (people, classes, a school), JSON, for presenting "À : parents de 6e A". */
    .addColumn('to_json', 'text', (c) => c.notNull())
    .addColumn('cc_json', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    /** Null while a draft. */
    .addColumn('sent_at', 'bigint')
    .addColumn('sender_deleted_at', 'bigint')
    .execute();
  await db.schema.createIndex('messages_sender_idx').on('messages').columns(['sender_id', 'sent_at']).execute();
  await db.schema.createIndex('messages_thread_idx').on('messages').columns(['thread_id', 'sent_at']).execute();

  await db.schema
    .createTable('message_recipients')
    .addColumn('message_id', 'text', (c) => c.notNull().references('messages.id').onDelete('cascade'))
    .addColumn('person_id', 'text', (c) => c.notNull().references('people.id').onDelete('cascade'))
    /** 'to' | 'cc' */
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('sent_at', 'bigint', (c) => c.notNull())
    .addColumn('read_at', 'bigint')
    .addColumn('deleted_at', 'bigint')
    .addPrimaryKeyConstraint('message_recipients_pk', ['message_id', 'person_id'])
    .execute();
  await db.schema.createIndex('message_recipients_box_idx').on('message_recipients').columns(['person_id', 'sent_at']).execute();

  await db.schema
    .createTable('message_attachments')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('message_id', 'text', (c) => c.notNull().references('messages.id').onDelete('cascade'))
    .$call(attachedFileColumns)
    .execute();
  await db.schema.createIndex('message_attachments_message_idx').on('message_attachments').column('message_id').execute();
}
