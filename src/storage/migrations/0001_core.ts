import type { Kysely } from 'kysely';

/* Portable DDL: text ids, bigint epoch-ms instants, integer flags. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations run against any schema version
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('settings')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('schools')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('uai', 'text', (c) => c.notNull().unique())
    .addColumn('aaf_jointure', 'text', (c) => c.unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('academie', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('people')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('aaf_jointure', 'text', (c) => c.unique())
    .addColumn('profile', 'text', (c) => c.notNull())
    .addColumn('staff_function', 'text')
    .addColumn('login', 'text', (c) => c.notNull().unique())
    .addColumn('first_name', 'text', (c) => c.notNull())
    .addColumn('last_name', 'text', (c) => c.notNull())
    .addColumn('title', 'text')
    .addColumn('password_hash', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('school_id', 'text', (c) => c.references('schools.id'))
    .addColumn('mef_code', 'text')
    .addColumn('departed_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('people_school_idx').on('people').column('school_id').execute();
  await db.schema.createIndex('people_departed_idx').on('people').column('departed_at').execute();

  await db.schema
    .createTable('school_members')
    .addColumn('school_id', 'text', (c) => c.notNull().references('schools.id').onDelete('cascade'))
    .addColumn('person_id', 'text', (c) => c.notNull().references('people.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('school_members_pk', ['school_id', 'person_id'])
    .execute();
  await db.schema.createIndex('school_members_person_idx').on('school_members').column('person_id').execute();

  await db.schema
    .createTable('mefs')
    .addColumn('code', 'text', (c) => c.primaryKey())
    .addColumn('label', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('subjects')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('code', 'text', (c) => c.notNull().unique())
    .addColumn('label', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('classes')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('school_id', 'text', (c) => c.notNull().references('schools.id').onDelete('cascade'))
    .addColumn('code', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('mef_code', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('classes_school_code_uq', ['school_id', 'code'])
    .execute();

  await db.schema
    .createTable('teaching_groups')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('school_id', 'text', (c) => c.notNull().references('schools.id').onDelete('cascade'))
    .addColumn('code', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('teaching_groups_school_code_uq', ['school_id', 'code'])
    .execute();

  await db.schema
    .createTable('class_enrolments')
    .addColumn('class_id', 'text', (c) => c.notNull().references('classes.id').onDelete('cascade'))
    .addColumn('person_id', 'text', (c) => c.notNull().references('people.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('class_enrolments_pk', ['class_id', 'person_id'])
    .execute();
  await db.schema.createIndex('class_enrolments_person_idx').on('class_enrolments').column('person_id').execute();

  await db.schema
    .createTable('group_members')
    .addColumn('group_id', 'text', (c) => c.notNull().references('teaching_groups.id').onDelete('cascade'))
    .addColumn('person_id', 'text', (c) => c.notNull().references('people.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('group_members_pk', ['group_id', 'person_id'])
    .execute();
  await db.schema.createIndex('group_members_person_idx').on('group_members').column('person_id').execute();

  await db.schema
    .createTable('teachings')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('teacher_id', 'text', (c) => c.notNull().references('people.id').onDelete('cascade'))
    .addColumn('class_id', 'text', (c) => c.references('classes.id').onDelete('cascade'))
    .addColumn('group_id', 'text', (c) => c.references('teaching_groups.id').onDelete('cascade'))
    .addColumn('subject_id', 'text', (c) => c.references('subjects.id'))
    .addColumn('principal', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.createIndex('teachings_teacher_idx').on('teachings').column('teacher_id').execute();
  await db.schema.createIndex('teachings_class_idx').on('teachings').column('class_id').execute();
  await db.schema.createIndex('teachings_group_idx').on('teachings').column('group_id').execute();

  await db.schema
    .createTable('guardianships')
    .addColumn('parent_id', 'text', (c) => c.notNull().references('people.id').onDelete('cascade'))
    .addColumn('child_id', 'text', (c) => c.notNull().references('people.id').onDelete('cascade'))
    .addColumn('legal_guardian', 'integer', (c) => c.notNull())
    .addColumn('relation', 'text')
    .addPrimaryKeyConstraint('guardianships_pk', ['parent_id', 'child_id'])
    .execute();
  await db.schema.createIndex('guardianships_child_idx').on('guardianships').column('child_id').execute();

  await db.schema
    .createTable('sessions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('person_id', 'text', (c) => c.notNull().references('people.id').onDelete('cascade'))
    .addColumn('remember', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('user_agent', 'text')
    .addColumn('ip', 'text')
    .execute();
  await db.schema.createIndex('sessions_person_idx').on('sessions').column('person_id').execute();
  await db.schema.createIndex('sessions_expires_idx').on('sessions').column('expires_at').execute();

  await db.schema
    .createTable('activation_codes')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('person_id', 'text', (c) => c.notNull().references('people.id').onDelete('cascade'))
    .addColumn('code_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('used_at', 'bigint')
    .addColumn('created_by', 'text')
    .execute();
  await db.schema.createIndex('activation_codes_person_idx').on('activation_codes').column('person_id').execute();

  await db.schema
    .createTable('audit_events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('actor_id', 'text')
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('target_id', 'text')
    .addColumn('details', 'text')
    .execute();
  await db.schema.createIndex('audit_events_at_idx').on('audit_events').column('at').execute();

  await db.schema
    .createTable('timetable_slots')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('school_id', 'text', (c) => c.notNull().references('schools.id').onDelete('cascade'))
    .addColumn('class_id', 'text', (c) => c.references('classes.id').onDelete('cascade'))
    .addColumn('group_id', 'text', (c) => c.references('teaching_groups.id').onDelete('cascade'))
    .addColumn('teacher_id', 'text', (c) => c.references('people.id').onDelete('set null'))
    .addColumn('subject_id', 'text', (c) => c.references('subjects.id'))
    .addColumn('starts_at', 'bigint', (c) => c.notNull())
    .addColumn('ends_at', 'bigint', (c) => c.notNull())
    .addColumn('room', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('note', 'text')
    .execute();
  await db.schema.createIndex('timetable_class_time_idx').on('timetable_slots').columns(['class_id', 'starts_at']).execute();
  await db.schema.createIndex('timetable_group_time_idx').on('timetable_slots').columns(['group_id', 'starts_at']).execute();
  await db.schema.createIndex('timetable_teacher_time_idx').on('timetable_slots').columns(['teacher_id', 'starts_at']).execute();
}
