import type { Kysely } from 'kysely';

/*
 * What the web client needs from storage:
 * - people.preferred_lang: the interface language a person chose (null = French, the default);
 * - idempotency_keys: the first answer to a cookie-authenticated write sent with an
 *   `Idempotency-Key`, kept 24 h so that a retried write (the web client's offline outbox, a flaky
 *   network) is answered again instead of being applied twice. status_code 0 marks a write still in
 *   flight. Rows go with their person (GDPR purge) by cascade.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations run against any schema version
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('people').addColumn('preferred_lang', 'text').execute();

  await db.schema
    .createTable('idempotency_keys')
    .addColumn('person_id', 'text', (c) => c.notNull().references('people.id').onDelete('cascade'))
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('request_hash', 'text', (c) => c.notNull())
    .addColumn('status_code', 'integer', (c) => c.notNull())
    .addColumn('content_type', 'text')
    .addColumn('body', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('idempotency_keys_pk', ['person_id', 'key'])
    .execute();
  await db.schema.createIndex('idempotency_keys_expires_idx').on('idempotency_keys').column('expires_at').execute();
}
