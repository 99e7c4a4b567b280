import type { Kysely } from 'kysely';
import { chunkForInsert, type StorageCapabilities } from '../../storage/db.js';
import type { Database } from '../../storage/schema.js';
import type { PatternRow, SchoolCalendar, SlotRow } from './timetable.calendar.js';

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
  original_starts_at?: number | null;
  original_ends_at?: number | null;
  original_room?: string | null;
  original_teacher_title?: string | null;
  original_teacher_last_name?: string | null;
}

export interface SlotFilter {
  classIds?: readonly string[];
  groupIds?: readonly string[];
  teacherId?: string;
  /** A room of a school. */
  room?: { schoolId: string; name: string };
}

/** A week holds at most this many lessons for one timetable (a room, a teacher, a pupil with groups). */
export const MAX_SLOTS_PER_READ = 200;

/**
 * No lesson lasts longer than this. It gives the overlap query a lower bound on `starts_at`, so
 * the index range covers one day instead of every lesson since September.
 */
export const MAX_SLOT_DURATION_MS = 12 * 3_600_000;

/**
 * Dated lessons overlapping [fromMs, toMs) for classes, groups, a teacher or a room, with what a
 * pupil reads; weekly patterns, school calendars and calendar subscriptions. `slots` is the read
 * of "Aujourd'hui": its shape and `version()` are what that cache relies on.
 */
export class TimetableRepository {
  private writes = 0;
  constructor(
    private readonly db: Kysely<Database>,
    private readonly caps?: StorageCapabilities,
  ) {}

  /** Changes on every write through this repository: readers key their caches on it. */
  version(): number {
    return this.writes;
  }

  /** Lessons with the names a reader sees (subject, teacher, class or group). */
  private lessons() {
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
      ]);
  }

  async slots(filter: SlotFilter, fromMs: number, toMs: number): Promise<SlotView[]> {
    const classIds = filter.classIds ?? [];
    const groupIds = filter.groupIds ?? [];
    if (classIds.length === 0 && groupIds.length === 0 && !filter.teacherId && !filter.room) return [];
    return this.lessons()
      .where((eb) => {
        const ors = [];
        if (classIds.length > 0) ors.push(eb('s.class_id', 'in', classIds));
        if (groupIds.length > 0) ors.push(eb('s.group_id', 'in', groupIds));
        if (filter.teacherId) ors.push(eb('s.teacher_id', '=', filter.teacherId));
        if (filter.room) ors.push(eb.and([eb('s.school_id', '=', filter.room.schoolId), eb('s.room', '=', filter.room.name)]));
        return eb.or(ors);
      })
      .where('s.starts_at', '<', toMs)
      .where('s.starts_at', '>=', fromMs - MAX_SLOT_DURATION_MS)
      .where('s.ends_at', '>', fromMs)
      .orderBy('s.starts_at')
      .limit(MAX_SLOTS_PER_READ)
      .execute();
  }

  /** A week's lessons with what they were before a change (the week view; not the hot path). */
  async weekSlots(filter: SlotFilter, fromMs: number, toMs: number, originalTeacherToo: boolean): Promise<SlotView[]> {
    const base = await this.slots(filter, fromMs, toMs);
    // A teacher also sees the lessons they were replaced in.
    const replaced = originalTeacherToo && filter.teacherId
      ? await this.db.selectFrom('timetable_slots').select('id').where('original_teacher_id', '=', filter.teacherId).where('starts_at', '>=', fromMs).where('starts_at', '<', toMs).limit(MAX_SLOTS_PER_READ).execute()
      : [];
    const ids = [...new Set([...base.map((s) => s.id), ...replaced.map((r) => r.id)])];
    if (ids.length === 0) return [];
    return this.lessons()
      .leftJoin('people as ot', 'ot.id', 's.original_teacher_id')
      .select(['s.original_starts_at', 's.original_ends_at', 's.original_room', 'ot.title as original_teacher_title', 'ot.last_name as original_teacher_last_name'])
      .where('s.id', 'in', ids)
      .orderBy('s.starts_at')
      .orderBy('s.id')
      .execute();
  }

  async insertSlots(rows: Database['timetable_slots'][]): Promise<void> {
    if (rows.length > 0) await this.db.insertInto('timetable_slots').values(rows).execute();
    this.writes++;
  }

  findSlot(id: string) {
    return this.db.selectFrom('timetable_slots').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async updateSlot(id: string, patch: Partial<SlotRow>): Promise<void> {
    await this.db.updateTable('timetable_slots').set(patch).where('id', '=', id).execute();
    this.writes++;
  }

  async calendar(schoolId: string): Promise<SchoolCalendar | undefined> {
    const row = await this.db.selectFrom('school_calendars').selectAll().where('school_id', '=', schoolId).executeTakeFirst();
    if (!row) return undefined;
    const holidays = await this.db.selectFrom('school_holidays').select(['label', 'first_day', 'last_day']).where('school_id', '=', schoolId).orderBy('first_day').execute();
    return { yearStart: row.year_start, yearEnd: row.year_end, weekAMonday: row.week_a_monday, holidays: holidays.map((h) => ({ label: h.label, firstDay: h.first_day, lastDay: h.last_day })) };
  }

  patterns(schoolId: string): Promise<PatternRow[]> {
    return this.db.selectFrom('timetable_patterns').selectAll().where('school_id', '=', schoolId).execute();
  }

  /**
   * Replaces, in one transaction, the school's calendar and/or weekly patterns, and the lessons
   * they give from `fromMs` on (lessons already past stay as they were: history).
   */
  async replaceSchoolYear(schoolId: string, fromMs: number, change: { calendar?: SchoolCalendar; patterns?: PatternRow[]; slots: SlotRow[] }, nowMs: number): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      if (change.calendar) {
        const c = change.calendar;
        await tx.deleteFrom('school_holidays').where('school_id', '=', schoolId).execute();
        await tx.deleteFrom('school_calendars').where('school_id', '=', schoolId).execute();
        await tx.insertInto('school_calendars').values({ school_id: schoolId, year_start: c.yearStart, year_end: c.yearEnd, week_a_monday: c.weekAMonday, updated_at: nowMs }).execute();
        if (c.holidays.length > 0) {
          await tx.insertInto('school_holidays').values(c.holidays.map((h, i) => ({ id: `${schoolId}-h${i}`.slice(0, 64), school_id: schoolId, label: h.label, first_day: h.firstDay, last_day: h.lastDay }))).execute();
        }
      }
      // A new calendar keeps the one-off changes already made to coming lessons; new patterns start afresh.
      let stale = tx.deleteFrom('timetable_slots').where('school_id', '=', schoolId).where('pattern_id', 'is not', null).where('starts_at', '>=', fromMs);
      if (!change.patterns) stale = stale.where('status', '=', 'normal');
      await stale.execute();
      if (change.patterns) {
        await tx.updateTable('timetable_slots').set({ pattern_id: null }).where('school_id', '=', schoolId).where('pattern_id', 'is not', null).execute();
        await tx.deleteFrom('timetable_patterns').where('school_id', '=', schoolId).execute();
        for (const chunk of this.chunks(change.patterns, 12)) await tx.insertInto('timetable_patterns').values(chunk).execute();
      }
      for (const chunk of this.chunks(change.slots.filter((s) => s.starts_at >= fromMs), 17)) {
        await tx.insertInto('timetable_slots').values(chunk).onConflict((oc) => oc.column('id').doNothing()).execute();
      }
    });
    this.writes++;
  }

  /** One-off lessons (an iCalendar import): inserted, or updated when already imported. */
  async upsertSlots(rows: SlotRow[]): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      for (const r of rows) {
        await tx.insertInto('timetable_slots').values(r).onConflict((oc) => oc.column('id').doUpdateSet({ starts_at: r.starts_at, ends_at: r.ends_at, room: r.room, status: r.status, note: r.note, subject_id: r.subject_id, teacher_id: r.teacher_id })).execute();
      }
    });
    this.writes++;
  }

  private chunks<T>(rows: readonly T[], columns: number): T[][] {
    return this.caps ? chunkForInsert(rows, columns, this.caps) : [rows.slice()];
  }

  async setFeed(personId: string, tokenHash: string, nowMs: number): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('calendar_feeds').where('person_id', '=', personId).execute();
      await tx.insertInto('calendar_feeds').values({ person_id: personId, token_hash: tokenHash, created_at: nowMs, last_used_at: null }).execute();
    });
  }

  async revokeFeed(personId: string): Promise<boolean> {
    const r = await this.db.deleteFrom('calendar_feeds').where('person_id', '=', personId).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  feedOf(personId: string) {
    return this.db.selectFrom('calendar_feeds').select(['created_at', 'last_used_at']).where('person_id', '=', personId).executeTakeFirst();
  }

  async personOfFeed(tokenHash: string, nowMs: number): Promise<string | undefined> {
    const row = await this.db.selectFrom('calendar_feeds').select('person_id').where('token_hash', '=', tokenHash).executeTakeFirst();
    if (row) await this.db.updateTable('calendar_feeds').set({ last_used_at: nowMs }).where('token_hash', '=', tokenHash).execute();
    return row?.person_id;
  }

  /** Resolving import references: classes and groups by code, subjects by code or label, teachers by login. */
  classesOf(schoolId: string) {
    return this.db.selectFrom('classes').select(['id', 'code']).where('school_id', '=', schoolId).execute();
  }

  groupsOf(schoolId: string) {
    return this.db.selectFrom('teaching_groups').select(['id', 'code']).where('school_id', '=', schoolId).execute();
  }

  subjects() {
    return this.db.selectFrom('subjects').select(['id', 'code', 'label']).execute();
  }

  teachersOf(schoolId: string) {
    return this.db
      .selectFrom('people as p')
      .innerJoin('school_members as m', 'm.person_id', 'p.id')
      .select(['p.id', 'p.login'])
      .where('m.school_id', '=', schoolId)
      .where('p.profile', '=', 'enseignant')
      .where('p.status', '!=', 'departed')
      .execute();
  }

  /** The school of a class, group or teacher (for policies). */
  async schoolOfClass(id: string) {
    return (await this.db.selectFrom('classes').select('school_id').where('id', '=', id).executeTakeFirst())?.school_id;
  }

  async schoolOfGroup(id: string) {
    return (await this.db.selectFrom('teaching_groups').select('school_id').where('id', '=', id).executeTakeFirst())?.school_id;
  }
}

const CHANGE_LABELS_FR: Record<string, string> = { annule: 'Cours annulé', deplace: 'Cours déplacé', remplace: 'Remplacement', modifie: 'Cours modifié' };

/**
 * A lesson as clients show it. A one-off change comes with a French label and what the lesson was
 * before (`change`), so that it can be shown clearly rather than silently.
 */
export function presentSlot(s: SlotView) {
  const was = s.original_starts_at != null || s.original_room != null || s.original_teacher_last_name != null;
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
    ...(s.status !== 'normal'
      ? {
          change: {
            label: CHANGE_LABELS_FR[s.status] ?? 'Cours modifié',
            ...(was
              ? {
                  before: {
                    startsAt: s.original_starts_at != null ? new Date(s.original_starts_at).toISOString() : null,
                    endsAt: s.original_ends_at != null ? new Date(s.original_ends_at).toISOString() : null,
                    room: s.original_room ?? null,
                    teacher: s.original_teacher_last_name ? [s.original_teacher_title, s.original_teacher_last_name].filter(Boolean).join(' ') : null,
                  },
                }
              : {}),
          },
        }
      : {}),
  };
}
