import type { Kysely } from 'kysely';

/*
 * La classe virtuelle (issue 8). A room attached to a class or a group of a school (ad hoc, or
 * from a timetable lesson), its teachers (the one who created it and co-teachers), the guest link
 * (only the token's SHA-256 is kept, with its expiry; revoking clears it) and the attendance of
 * each participant (one row per room and person: first join, last leave, seconds in the room,
 * whether video was received). The live state of an open room is in the memory of the node that
 * hosts it (`host_node`), never here.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations run against any schema version
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('classroom_rooms')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('school_id', 'text', (c) => c.notNull().references('schools.id').onDelete('cascade'))
    .addColumn('class_id', 'text', (c) => c.references('classes.id').onDelete('cascade'))
    .addColumn('group_id', 'text', (c) => c.references('teaching_groups.id').onDelete('cascade'))
    .addColumn('lesson_id', 'text')
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.references('people.id').onDelete('set null'))
    .addColumn('starts_at', 'bigint', (c) => c.notNull())
    .addColumn('ends_at', 'bigint', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('opened_at', 'bigint')
    .addColumn('closed_at', 'bigint')
    .addColumn('host_node', 'text')
    .addColumn('guests_allowed', 'integer', (c) => c.notNull())
    .addColumn('guest_token_hash', 'text')
    .addColumn('guest_token_expires_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('classroom_rooms_school_idx').on('classroom_rooms').columns(['school_id', 'status']).execute();
  await db.schema.createIndex('classroom_rooms_class_idx').on('classroom_rooms').columns(['class_id', 'starts_at']).execute();
  await db.schema.createIndex('classroom_rooms_group_idx').on('classroom_rooms').columns(['group_id', 'starts_at']).execute();
  await db.schema.createIndex('classroom_rooms_guest_idx').on('classroom_rooms').columns(['guest_token_hash']).execute();

  await db.schema
    .createTable('classroom_teachers')
    .addColumn('room_id', 'text', (c) => c.notNull().references('classroom_rooms.id').onDelete('cascade'))
    .addColumn('person_id', 'text', (c) => c.notNull().references('people.id').onDelete('cascade'))
    .addColumn('role', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('classroom_teachers_pk', ['room_id', 'person_id'])
    .execute();
  await db.schema.createIndex('classroom_teachers_person_idx').on('classroom_teachers').columns(['person_id']).execute();

  await db.schema
    .createTable('classroom_attendance')
    .addColumn('room_id', 'text', (c) => c.notNull().references('classroom_rooms.id').onDelete('cascade'))
    .addColumn('person_id', 'text', (c) => c.notNull().references('people.id').onDelete('cascade'))
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('first_joined_at', 'bigint', (c) => c.notNull())
    .addColumn('last_left_at', 'bigint', (c) => c.notNull())
    .addColumn('seconds', 'integer', (c) => c.notNull())
    .addColumn('with_video', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('classroom_attendance_pk', ['room_id', 'person_id'])
    .execute();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations run against any schema version
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('classroom_attendance').execute();
  await db.schema.dropTable('classroom_teachers').execute();
  await db.schema.dropTable('classroom_rooms').execute();
}
