import type { Kysely } from 'kysely';

/*
 * Suivi du décrochage (issue 9). Signals are aggregated per person and Paris day by a batched
 * recorder (one upsert per person-day every few seconds, never a write per page view):
 * `engagement_days`. Distinct works opened: `engagement_opens`. Virtual classes (issue 8 will feed
 * them through the engagement port): a session held for a class or group, and who attended.
 * Every view of a pupil's signals is logged in `engagement_access_log` for the school's data
 * controller. Thresholds and the CPE's daily digest per school: `engagement_settings`.
 * Everything about a person goes with them (cascade); `preau purge` drops what is older than the
 * school year.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations run against any schema version
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('engagement_days')
    .addColumn('person_id', 'text', (c) => c.notNull().references('people.id').onDelete('cascade'))
    .addColumn('day', 'text', (c) => c.notNull())
    .addColumn('first_seen_at', 'bigint', (c) => c.notNull())
    .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
    .addColumn('works_done', 'integer', (c) => c.notNull())
    .addColumn('handins_on_time', 'integer', (c) => c.notNull())
    .addColumn('handins_late', 'integer', (c) => c.notNull())
    .addColumn('messages_read', 'integer', (c) => c.notNull())
    .addColumn('liaisons_signed', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('engagement_days_pk', ['person_id', 'day'])
    .execute();
  await db.schema.createIndex('engagement_days_day_idx').on('engagement_days').columns(['day', 'person_id']).execute();

  await db.schema
    .createTable('engagement_opens')
    .addColumn('pupil_id', 'text', (c) => c.notNull().references('people.id').onDelete('cascade'))
    .addColumn('entry_id', 'text', (c) => c.notNull())
    .addColumn('day', 'text', (c) => c.notNull())
    .addColumn('opened_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('engagement_opens_pk', ['pupil_id', 'entry_id'])
    .execute();

  await db.schema
    .createTable('engagement_class_sessions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('school_id', 'text', (c) => c.notNull().references('schools.id').onDelete('cascade'))
    .addColumn('class_id', 'text')
    .addColumn('group_id', 'text')
    .addColumn('day', 'text', (c) => c.notNull())
    .addColumn('starts_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('engagement_class_sessions_idx').on('engagement_class_sessions').columns(['school_id', 'starts_at']).execute();

  await db.schema
    .createTable('engagement_attendance')
    .addColumn('session_id', 'text', (c) => c.notNull().references('engagement_class_sessions.id').onDelete('cascade'))
    .addColumn('pupil_id', 'text', (c) => c.notNull().references('people.id').onDelete('cascade'))
    .addColumn('joined_at', 'bigint', (c) => c.notNull())
    .addColumn('minutes', 'integer', (c) => c.notNull())
    .addColumn('audio_only', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('engagement_attendance_pk', ['session_id', 'pupil_id'])
    .execute();
  await db.schema.createIndex('engagement_attendance_pupil_idx').on('engagement_attendance').columns(['pupil_id']).execute();

  await db.schema
    .createTable('engagement_access_log')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('school_id', 'text', (c) => c.references('schools.id').onDelete('cascade'))
    .addColumn('actor_id', 'text', (c) => c.references('people.id').onDelete('set null'))
    .addColumn('pupil_id', 'text', (c) => c.notNull().references('people.id').onDelete('cascade'))
    .addColumn('view', 'text', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('engagement_access_log_school_idx').on('engagement_access_log').columns(['school_id', 'at']).execute();
  await db.schema.createIndex('engagement_access_log_pupil_idx').on('engagement_access_log').columns(['pupil_id', 'at']).execute();

  await db.schema
    .createTable('engagement_settings')
    .addColumn('school_id', 'text', (c) => c.primaryKey().references('schools.id').onDelete('cascade'))
    .addColumn('inactive_school_days', 'integer', (c) => c.notNull())
    .addColumn('missing_works_per_week', 'integer', (c) => c.notNull())
    .addColumn('missed_classes', 'integer', (c) => c.notNull())
    .addColumn('digest_enabled', 'integer', (c) => c.notNull())
    .addColumn('digest_minute', 'integer', (c) => c.notNull())
    .addColumn('last_digest_day', 'text')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
}
