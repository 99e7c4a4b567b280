import type { Kysely } from 'kysely';
import type { ClassroomAttendanceTable, ClassroomRoomsTable, Database } from '../../storage/schema.js';

export type RoomRow = ClassroomRoomsTable;
export type AttendanceRow = ClassroomAttendanceTable;

/** SQL of the classe virtuelle (the live state is never here: see room.runtime.ts). */
export class ClassroomRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(room: RoomRow, teachers: { person_id: string; role: 'teacher' | 'co_teacher' }[]): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx.insertInto('classroom_rooms').values(room).execute();
      if (teachers.length > 0) await tx.insertInto('classroom_teachers').values(teachers.map((t) => ({ room_id: room.id, ...t }))).execute();
    });
  }

  find(id: string): Promise<RoomRow | undefined> {
    return this.db.selectFrom('classroom_rooms').selectAll().where('id', '=', id).executeTakeFirst();
  }

  findByGuestToken(tokenHash: string): Promise<RoomRow | undefined> {
    return this.db.selectFrom('classroom_rooms').selectAll().where('guest_token_hash', '=', tokenHash).executeTakeFirst();
  }

  teachers(roomId: string): Promise<{ person_id: string; role: string }[]> {
    return this.db.selectFrom('classroom_teachers').select(['person_id', 'role']).where('room_id', '=', roomId).execute();
  }

  /** This person's teacher rows in these rooms (one query for a whole list). */
  async teacherRolesOf(personId: string, roomIds: readonly string[]): Promise<Map<string, string>> {
    if (roomIds.length === 0) return new Map();
    const rows = await this.db.selectFrom('classroom_teachers').select(['room_id', 'role']).where('person_id', '=', personId).where('room_id', 'in', roomIds).execute();
    return new Map(rows.map((r) => [r.room_id, r.role]));
  }

  /** Rooms of these audiences, or with this person as a teacher, that start in [from, to) or are open now. */
  async listFor(who: { classIds: readonly string[]; groupIds: readonly string[]; teacherId?: string; schoolIds?: readonly string[] }, fromMs: number, toMs: number, limit: number): Promise<RoomRow[]> {
    return this.db
      .selectFrom('classroom_rooms as r')
      .selectAll('r')
      .where((eb) => {
        const ors = [];
        if (who.classIds.length > 0) ors.push(eb('r.class_id', 'in', who.classIds));
        if (who.groupIds.length > 0) ors.push(eb('r.group_id', 'in', who.groupIds));
        if (who.schoolIds && who.schoolIds.length > 0) ors.push(eb('r.school_id', 'in', who.schoolIds));
        if (who.teacherId) ors.push(eb.exists(eb.selectFrom('classroom_teachers as t').select('t.room_id').whereRef('t.room_id', '=', 'r.id').where('t.person_id', '=', who.teacherId)));
        return ors.length > 0 ? eb.or(ors) : eb.val(false);
      })
      .where((eb) => eb.or([eb.and([eb('r.starts_at', '>=', fromMs), eb('r.starts_at', '<', toMs)]), eb('r.status', '=', 'open')]))
      .orderBy('r.starts_at')
      .orderBy('r.id')
      .limit(limit)
      .execute();
  }

  async openCount(schoolId: string): Promise<number> {
    const row = await this.db.selectFrom('classroom_rooms').select((eb) => eb.fn.countAll<number>().as('n')).where('school_id', '=', schoolId).where('status', '=', 'open').executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  /** Claims the room for this node (compare-and-set: only when no node holds it, or this one does). */
  async claimHost(roomId: string, nodeId: string): Promise<boolean> {
    const r = await this.db.updateTable('classroom_rooms').set({ host_node: nodeId }).where('id', '=', roomId).where((eb) => eb.or([eb('host_node', 'is', null), eb('host_node', '=', nodeId)])).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /** Lets a room go from a node that is gone (only if it still holds it: another node may have taken it already). */
  async releaseHost(roomId: string, nodeId: string): Promise<void> {
    await this.db.updateTable('classroom_rooms').set({ host_node: null }).where('id', '=', roomId).where('host_node', '=', nodeId).execute();
  }

  async update(roomId: string, patch: Partial<RoomRow>): Promise<void> {
    await this.db.updateTable('classroom_rooms').set(patch).where('id', '=', roomId).execute();
  }

  /** Records a participant's presence so far: first join kept, video once seen stays. */
  async addAttendance(row: AttendanceRow): Promise<void> {
    await this.db
      .insertInto('classroom_attendance')
      .values(row)
      .onConflict((oc) =>
        oc.columns(['room_id', 'person_id']).doUpdateSet({
          // The live state counts seconds since the room went live on its node: the larger count is kept (a re-hosted room restarts its count).
          seconds: (eb) => eb.fn('max', [eb.ref('classroom_attendance.seconds'), eb.val(row.seconds)]),
          last_left_at: row.last_left_at,
          with_video: (eb) => eb.fn('max', [eb.ref('classroom_attendance.with_video'), eb.val(row.with_video)]),
        }),
      )
      .execute();
  }

  attendance(roomId: string): Promise<(AttendanceRow & { first_name: string; last_name: string })[]> {
    return this.db
      .selectFrom('classroom_attendance as a')
      .innerJoin('people as p', 'p.id', 'a.person_id')
      .select(['a.room_id', 'a.person_id', 'a.role', 'a.first_joined_at', 'a.last_left_at', 'a.seconds', 'a.with_video', 'p.first_name', 'p.last_name'])
      .where('a.room_id', '=', roomId)
      .orderBy('p.last_name')
      .orderBy('p.first_name')
      .execute();
  }

  /** Pupils of the audience (sizes the room). */
  async audienceSize(room: Pick<RoomRow, 'class_id' | 'group_id'>): Promise<number> {
    const q = room.class_id
      ? this.db.selectFrom('class_enrolments').select((eb) => eb.fn.countAll<number>().as('n')).where('class_id', '=', room.class_id)
      : this.db.selectFrom('group_members').select((eb) => eb.fn.countAll<number>().as('n')).where('group_id', '=', room.group_id ?? '');
    return Number((await q.executeTakeFirst())?.n ?? 0);
  }

  /** The audience's school, or undefined when the class or group does not exist. */
  async audience(kind: 'class' | 'group', id: string): Promise<{ school_id: string; name: string } | undefined> {
    return kind === 'class'
      ? this.db.selectFrom('classes').select(['school_id', 'name']).where('id', '=', id).executeTakeFirst()
      : this.db.selectFrom('teaching_groups').select(['school_id', 'name']).where('id', '=', id).executeTakeFirst();
  }

  async displayName(personId: string): Promise<string> {
    const p = await this.db.selectFrom('people').select(['first_name', 'last_name', 'title']).where('id', '=', personId).executeTakeFirst();
    return p ? [p.title, p.first_name, p.last_name].filter(Boolean).join(' ') : '?';
  }
}
