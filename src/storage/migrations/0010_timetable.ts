import type { Kysely } from 'kysely';

/*
 * The full timetable: a school-year calendar per school (week A/B, holidays), recurring patterns
 * materialised into the dated `timetable_slots` that "Aujourd'hui" reads, one-off changes kept on
 * the dated slot (what it was before), and per-user secret iCalendar subscriptions.
 * Numbered 0010 so that other branches' 0003… never collide with it.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations run against any schema version
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('school_calendars')
    .addColumn('school_id', 'text', (c) => c.primaryKey().references('schools.id').onDelete('cascade'))
    .addColumn('year_start', 'text', (c) => c.notNull())
    .addColumn('year_end', 'text', (c) => c.notNull())
    .addColumn('week_a_monday', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('school_holidays')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('school_id', 'text', (c) => c.notNull().references('schools.id').onDelete('cascade'))
    .addColumn('label', 'text', (c) => c.notNull())
    .addColumn('first_day', 'text', (c) => c.notNull())
    .addColumn('last_day', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('school_holidays_school_idx').on('school_holidays').column('school_id').execute();

  await db.schema
    .createTable('timetable_patterns')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('school_id', 'text', (c) => c.notNull().references('schools.id').onDelete('cascade'))
    .addColumn('class_id', 'text', (c) => c.references('classes.id').onDelete('cascade'))
    .addColumn('group_id', 'text', (c) => c.references('teaching_groups.id').onDelete('cascade'))
    .addColumn('teacher_id', 'text', (c) => c.references('people.id').onDelete('set null'))
    .addColumn('subject_id', 'text', (c) => c.references('subjects.id'))
    .addColumn('weekday', 'integer', (c) => c.notNull())
    .addColumn('start_minute', 'integer', (c) => c.notNull())
    .addColumn('end_minute', 'integer', (c) => c.notNull())
    .addColumn('week', 'text', (c) => c.notNull())
    .addColumn('room', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('timetable_patterns_school_idx').on('timetable_patterns').column('school_id').execute();

  await db.schema.alterTable('timetable_slots').addColumn('pattern_id', 'text').execute();
  await db.schema.alterTable('timetable_slots').addColumn('original_starts_at', 'bigint').execute();
  await db.schema.alterTable('timetable_slots').addColumn('original_ends_at', 'bigint').execute();
  await db.schema.alterTable('timetable_slots').addColumn('original_teacher_id', 'text').execute();
  await db.schema.alterTable('timetable_slots').addColumn('original_room', 'text').execute();
  await db.schema.alterTable('timetable_slots').addColumn('changed_at', 'bigint').execute();
  await db.schema.createIndex('timetable_pattern_time_idx').on('timetable_slots').columns(['pattern_id', 'starts_at']).execute();
  await db.schema.createIndex('timetable_original_teacher_idx').on('timetable_slots').columns(['original_teacher_id', 'starts_at']).execute();
  await db.schema.createIndex('timetable_room_time_idx').on('timetable_slots').columns(['school_id', 'room', 'starts_at']).execute();

  await db.schema
    .createTable('calendar_feeds')
    .addColumn('person_id', 'text', (c) => c.primaryKey().references('people.id').onDelete('cascade'))
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_used_at', 'bigint')
    .execute();
}
