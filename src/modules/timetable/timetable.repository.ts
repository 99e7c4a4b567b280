import type { Kysely } from 'kysely';
import type { Database } from '../../storage/schema.js';

export interface SlotView {
  id: string;
  starts_at: number;
  ends_at: number;
  room: string | null;
  status: string;
  note: string | null;
  subject_label: string | null;
  teacher_first_name: string | null;
  teacher_last_name: string | null;
  teacher_title: string | null;
  class_name: string | null;
  group_name: string | null;
}

/**
 * No lesson lasts longer than this. It gives the overlap query a lower bound on `starts_at`, so
 * the index range covers one day instead of every lesson since September.
 */
export const MAX_SLOT_DURATION_MS = 12 * 3_600_000;

/** Slots overlapping [fromMs, toMs) for classes, groups or a teacher, with what a pupil reads. */
export class TimetableRepository {
  private writes = 0;
  constructor(private readonly db: Kysely<Database>) {}

  /** Changes on every write through this repository: readers key their caches on it. */
  version(): number {
    return this.writes;
  }

  async slots(filter: { classIds?: string[]; groupIds?: string[]; teacherId?: string }, fromMs: number, toMs: number): Promise<SlotView[]> {
    const classIds = filter.classIds ?? [];
    const groupIds = filter.groupIds ?? [];
    if (classIds.length === 0 && groupIds.length === 0 && !filter.teacherId) return [];
    return this.db
      .selectFrom('timetable_slots as s')
      .leftJoin('subjects as sub', 'sub.id', 's.subject_id')
      .leftJoin('people as t', 't.id', 's.teacher_id')
      .leftJoin('classes as c', 'c.id', 's.class_id')
      .leftJoin('teaching_groups as g', 'g.id', 's.group_id')
      .select([
        's.id', 's.starts_at', 's.ends_at', 's.room', 's.status', 's.note',
        'sub.label as subject_label', 't.first_name as teacher_first_name', 't.last_name as teacher_last_name', 't.title as teacher_title',
        'c.name as class_name', 'g.name as group_name',
      ])
      .where((eb) => {
        const ors = [];
        if (classIds.length > 0) ors.push(eb('s.class_id', 'in', classIds));
        if (groupIds.length > 0) ors.push(eb('s.group_id', 'in', groupIds));
        if (filter.teacherId) ors.push(eb('s.teacher_id', '=', filter.teacherId));
        return eb.or(ors);
      })
      .where('s.starts_at', '<', toMs)
      .where('s.starts_at', '>=', fromMs - MAX_SLOT_DURATION_MS)
      .where('s.ends_at', '>', fromMs)
      .orderBy('s.starts_at')
      .limit(200)
      .execute();
  }

  async insertSlots(rows: Database['timetable_slots'][]): Promise<void> {
    if (rows.length > 0) await this.db.insertInto('timetable_slots').values(rows).execute();
    this.writes++;
  }
}

export function presentSlot(s: SlotView) {
  return {
    id: s.id,
    startsAt: new Date(s.starts_at).toISOString(),
    endsAt: new Date(s.ends_at).toISOString(),
    subject: s.subject_label,
    teacher: s.teacher_last_name ? [s.teacher_title, s.teacher_last_name].filter(Boolean).join(' ') : null,
    room: s.room,
    status: s.status,
    note: s.note,
    audience: s.class_name ?? s.group_name,
  };
}
