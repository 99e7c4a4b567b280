import type { Clock } from '../../platform/clock.js';
import { addDays, parisDayBounds, parisWallTimeToUtcMs } from '../../platform/clock.js';
import { AppError } from '../../platform/errors.js';
import { newId, newSecretToken, sha256Hex } from '../../platform/ids.js';
import type { SchoolsService, Scope } from '../schools/index.js';
import type { DueView } from '../homework/index.js';
import { calendarProblem, holidayOf, materialise, mondayOf, weekType, type PatternRow, type SchoolCalendar, type SlotRow } from './timetable.calendar.js';
import { parseIcs, parseTimetableCsv, type ImportError } from './timetable.import.js';
import { toIcs, type IcsEvent } from './timetable.ical.js';
import { canManageTimetable, canViewCalendar, canViewClassTimetable, canViewPupilTimetable, canViewRoomTimetable, canViewTeacherTimetable } from './timetable.policy.js';
import { MAX_SLOT_DURATION_MS, presentSlot, type SlotFilter, type SlotView, type TimetableRepository } from './timetable.repository.js';
import type { CalendarBody, ChangeBody, WeekQuery } from './timetable.schema.js';

/** Work due, for the calendar subscription (the cahier de textes provides it). */
export interface WorkDue {
  dueFor(scope: Pick<Scope, 'classIds' | 'groupIds'>, fromDate: string, toDate: string): Promise<DueView[]>;
}

/** The subscription covers a week back and five ahead: what a phone shows, bounded. */
const FEED_DAYS_BACK = 7;
const FEED_WEEKS_AHEAD = 5;

function isValidDate(date: string): boolean {
  const ms = Date.parse(`${date}T12:00:00Z`);
  return Number.isFinite(ms) && new Date(ms).toISOString().slice(0, 10) === date;
}

/** The emploi du temps: week views, the school calendar, imports, one-off changes, calendar subscriptions. */
export class TimetableService {
  constructor(
    private readonly repo: TimetableRepository,
    private readonly schools: SchoolsService,
    private readonly work: WorkDue,
    private readonly clock: Clock,
    private readonly publicUrl: string,
  ) {}

  private today(): string {
    return parisDayBounds(this.clock.nowMs()).date;
  }

  /** Resolves which timetable is asked for, checks the actor may see it, and says which school's calendar applies. */
  private async target(actor: Scope, q: WeekQuery): Promise<{ filter: SlotFilter; schoolId: string | undefined; kind: string; id: string; originalTeacherToo: boolean }> {
    const given = [q.classId, q.groupId, q.teacherId, q.pupilId, q.room].filter((x) => x !== undefined).length;
    if (given !== 1 || (q.room !== undefined) !== (q.schoolId !== undefined) || (q.schoolId && !q.room)) throw new AppError('request.invalid', { details: { in: 'querystring', rule: 'classId, groupId, teacherId, pupilId ou schoolId + room (un seul)' } });
    if (q.classId || q.groupId) {
      const kind = q.classId ? 'class' : 'group';
      const id = (q.classId ?? q.groupId)!;
      const schoolId = kind === 'class' ? await this.repo.schoolOfClass(id) : await this.repo.schoolOfGroup(id);
      if (!schoolId || !canViewClassTimetable(actor, { id, schoolId, kind })) throw new AppError('class.not_found');
      return { filter: kind === 'class' ? { classIds: [id] } : { groupIds: [id] }, schoolId, kind, id, originalTeacherToo: false };
    }
    if (q.teacherId || q.pupilId) {
      const id = (q.teacherId ?? q.pupilId)!;
      const person = await this.schools.scopeOf(id).catch(() => undefined);
      const ok = person && (q.teacherId ? canViewTeacherTimetable(actor, person) : canViewPupilTimetable(actor, person));
      if (!person || !ok) throw new AppError('person.not_found');
      const filter = q.teacherId ? { teacherId: id } : { classIds: [...person.classIds], groupIds: [...person.groupIds] };
      return { filter, schoolId: [...person.schoolIds][0], kind: q.teacherId ? 'teacher' : 'pupil', id, originalTeacherToo: Boolean(q.teacherId) };
    }
    if (!canViewRoomTimetable(actor, q.schoolId!)) throw new AppError('school.not_found');
    return { filter: { room: { schoolId: q.schoolId!, name: q.room! } }, schoolId: q.schoolId, kind: 'room', id: q.room!, originalTeacherToo: false };
  }

  async week(actor: Scope, q: WeekQuery) {
    const day = q.week ?? this.today();
    if (!isValidDate(day)) throw new AppError('request.invalid', { details: { in: 'querystring', field: 'week' } });
    const t = await this.target(actor, q);
    return { target: { kind: t.kind, id: t.id }, ...(await this.weekOf(t.filter, t.schoolId, day, t.originalTeacherToo)) };
  }

  /** One's own week: a pupil their classes and groups, a teacher their lessons. */
  async myWeek(actor: Scope, week: string | undefined) {
    if (actor.profile === 'eleve') return this.week(actor, { pupilId: actor.id, ...(week ? { week } : {}) });
    if (actor.profile === 'enseignant') return this.week(actor, { teacherId: actor.id, ...(week ? { week } : {}) });
    throw new AppError('request.invalid', { details: { in: 'querystring', rule: 'utilisez /api/v1/timetable?pupilId=… pour un enfant' } });
  }

  private async weekOf(filter: SlotFilter, schoolId: string | undefined, day: string, originalTeacherToo: boolean) {
    const monday = mondayOf(day);
    const fromMs = parisWallTimeToUtcMs(monday, 0);
    const toMs = parisWallTimeToUtcMs(addDays(monday, 7), 0);
    const [slots, cal] = await Promise.all([this.repo.weekSlots(filter, fromMs, toMs, originalTeacherToo), schoolId ? this.repo.calendar(schoolId) : Promise.resolve(undefined)]);
    const holidays = cal ? [...new Set(Array.from({ length: 6 }, (_, d) => holidayOf(cal, addDays(monday, d))).filter((h): h is string => Boolean(h)))] : [];
    return { week: { monday, type: cal ? weekType(cal, monday) : null, holidays }, slots: slots.map(presentSlot) };
  }

  async calendar(actor: Scope, schoolId: string): Promise<SchoolCalendar> {
    if (!canViewCalendar(actor, schoolId)) throw new AppError('school.not_found');
    const cal = await this.repo.calendar(schoolId);
    if (!cal) throw new AppError('timetable.no_calendar');
    return cal;
  }

  private manage(actor: Scope, schoolId: string): void {
    if (!canManageTimetable(actor, schoolId)) throw new AppError(actor.schoolIds.has(schoolId) ? 'access.forbidden' : 'school.not_found');
  }

  /** Sets the school year; coming lessons of the weekly timetable follow (holidays, weeks A/B). */
  async setCalendar(actor: Scope, schoolId: string, body: CalendarBody): Promise<{ lessons: number }> {
    this.manage(actor, schoolId);
    const cal: SchoolCalendar = { yearStart: body.yearStart, yearEnd: body.yearEnd, weekAMonday: body.weekAMonday, holidays: body.holidays };
    const problem = calendarProblem(cal, isValidDate);
    if (problem) throw new AppError('timetable.invalid_calendar', { params: { reason: problem } });
    const slots = materialise(cal, await this.repo.patterns(schoolId), this.today());
    await this.repo.replaceSchoolYear(schoolId, this.clock.nowMs(), { calendar: cal, slots }, this.clock.nowMs());
    return { lessons: slots.length };
  }

  private invalid(errors: ImportError[]): never {
    throw new AppError('timetable.import_invalid', { details: { errors: errors.slice(0, 50) } });
  }

  /** Replaces the weekly timetable of the school from a CSV file (all lines valid, or nothing changes). */
  async importCsv(actor: Scope, schoolId: string, text: string): Promise<{ patterns: number; lessons: number }> {
    this.manage(actor, schoolId);
    const cal = await this.repo.calendar(schoolId);
    if (!cal) throw new AppError('timetable.no_calendar');
    const { rows, errors } = parseTimetableCsv(text);
    const fold = (s: string) => s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().trim();
    const [classes, groups, subjects, teachers] = await Promise.all([this.repo.classesOf(schoolId), this.repo.groupsOf(schoolId), this.repo.subjects(), this.repo.teachersOf(schoolId)]);
    const classByCode = new Map(classes.map((c) => [fold(c.code), c.id]));
    const groupByCode = new Map(groups.map((g) => [fold(g.code), g.id]));
    const subjectByKey = new Map<string, string>();
    for (const s of subjects) {
      subjectByKey.set(fold(s.code), s.id);
      subjectByKey.set(fold(s.label), s.id);
    }
    const teacherByLogin = new Map(teachers.map((t) => [t.login.toLowerCase(), t.id]));
    const now = this.clock.nowMs();
    const patterns: PatternRow[] = [];
    for (const r of rows) {
      const problems: string[] = [];
      const classId = r.classCode ? classByCode.get(fold(r.classCode)) : null;
      const groupId = r.groupCode ? groupByCode.get(fold(r.groupCode)) : null;
      if (r.classCode && !classId) problems.push(`classe « ${r.classCode.slice(0, 20)} » inconnue dans l’établissement`);
      if (r.groupCode && !groupId) problems.push(`groupe « ${r.groupCode.slice(0, 20)} » inconnu dans l’établissement`);
      const subjectId = r.subject ? subjectByKey.get(fold(r.subject)) : null;
      if (r.subject && !subjectId) problems.push(`matière « ${r.subject.slice(0, 40)} » inconnue`);
      const teacherId = r.teacherLogin ? teacherByLogin.get(r.teacherLogin.toLowerCase()) : null;
      if (r.teacherLogin && !teacherId) problems.push(`enseignant « ${r.teacherLogin.slice(0, 40)} » inconnu dans l’établissement`);
      if (problems.length > 0) {
        errors.push({ line: r.line, message: problems.join(' ; ') });
        continue;
      }
      patterns.push({
        id: newId(), school_id: schoolId, class_id: classId ?? null, group_id: groupId ?? null, teacher_id: teacherId ?? null, subject_id: subjectId ?? null,
        weekday: r.weekday, start_minute: r.startMinute, end_minute: r.endMinute, week: r.week, room: r.room, created_at: now,
      });
    }
    if (errors.length > 0) this.invalid(errors.sort((a, b) => a.line - b.line));
    const slots = materialise(cal, patterns, this.today());
    await this.repo.replaceSchoolYear(schoolId, now, { patterns, slots }, now);
    return { patterns: patterns.length, lessons: slots.filter((s) => s.starts_at >= now).length };
  }

  /** Adds the lessons of an iCalendar file to one class or group (re-importing the same file updates them). */
  async importIcs(actor: Scope, schoolId: string, text: string, target: { classId?: string; groupId?: string }): Promise<{ lessons: number }> {
    this.manage(actor, schoolId);
    if ((target.classId ? 1 : 0) + (target.groupId ? 1 : 0) !== 1) throw new AppError('request.invalid', { details: { in: 'querystring', rule: 'classId ou groupId' } });
    const owner = target.classId ? await this.repo.schoolOfClass(target.classId) : await this.repo.schoolOfGroup(target.groupId!);
    if (owner !== schoolId) throw new AppError('class.not_found');
    const cal = await this.repo.calendar(schoolId);
    const today = this.today();
    const fromMs = parisWallTimeToUtcMs(cal?.yearStart ?? addDays(today, -30), 0);
    const toMs = parisWallTimeToUtcMs(addDays(cal?.yearEnd ?? addDays(today, 366), 1), 0);
    const { lessons, errors } = parseIcs(text, fromMs, toMs);
    if (errors.length > 0) this.invalid(errors);
    const fold = (s: string) => s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().trim();
    const subjects = await this.repo.subjects();
    const subjectByKey = new Map<string, string>();
    for (const s of subjects) {
      subjectByKey.set(fold(s.code), s.id);
      subjectByKey.set(fold(s.label), s.id);
    }
    const rows: SlotRow[] = [];
    for (const l of lessons) {
      if (l.endsAt <= l.startsAt || l.endsAt - l.startsAt > MAX_SLOT_DURATION_MS) continue;
      const subjectId = subjectByKey.get(fold(l.summary)) ?? null;
      rows.push({
        id: `ics${sha256Hex(`${schoolId}|${target.classId ?? target.groupId}|${l.uid}`).slice(0, 40)}`, school_id: schoolId,
        class_id: target.classId ?? null, group_id: target.groupId ?? null, teacher_id: null, subject_id: subjectId,
        starts_at: l.startsAt, ends_at: l.endsAt, room: l.room, status: l.cancelled ? 'annule' : 'normal', note: subjectId ? null : l.summary || null,
        pattern_id: null, original_starts_at: null, original_ends_at: null, original_teacher_id: null, original_room: null, changed_at: null,
      });
    }
    await this.repo.upsertSlots(rows);
    return { lessons: rows.length };
  }

  /** A one-off change to a dated lesson (cancelled, moved, replacement, room), or its undoing. */
  async change(actor: Scope, slotId: string, body: ChangeBody) {
    const slot = await this.repo.findSlot(slotId);
    if (!slot) throw new AppError('timetable.not_found');
    if (!canManageTimetable(actor, slot.school_id)) throw new AppError(actor.schoolIds.has(slot.school_id) ? 'access.forbidden' : 'timetable.not_found');
    const now = this.clock.nowMs();
    const note = body.note?.trim() || null;
    const bad = (reason: string): never => {
      throw new AppError('timetable.invalid_change', { params: { reason } });
    };
    let patch: Partial<SlotRow>;
    switch (body.change) {
      case 'annule':
        patch = { status: 'annule', note };
        break;
      case 'deplace': {
        const startsAt = body.startsAt ? Date.parse(body.startsAt) : NaN;
        const endsAt = body.endsAt ? Date.parse(body.endsAt) : NaN;
        if (!Number.isFinite(startsAt) || !Number.isFinite(endsAt)) bad('donnez le nouveau début et la nouvelle fin');
        if (endsAt <= startsAt || endsAt - startsAt > MAX_SLOT_DURATION_MS) bad('la fin doit suivre le début, dans la même demi-journée');
        patch = { status: 'deplace', starts_at: startsAt, ends_at: endsAt, original_starts_at: slot.original_starts_at ?? slot.starts_at, original_ends_at: slot.original_ends_at ?? slot.ends_at, note, ...(body.room ? { room: body.room, original_room: slot.original_room ?? slot.room } : {}) };
        break;
      }
      case 'remplace': {
        if (!body.teacherId) bad('indiquez le professeur remplaçant');
        const teachers = await this.repo.teachersOf(slot.school_id);
        if (!teachers.some((t) => t.id === body.teacherId)) bad('ce professeur n’enseigne pas dans l’établissement');
        patch = { status: 'remplace', teacher_id: body.teacherId!, original_teacher_id: slot.original_teacher_id ?? slot.teacher_id, note };
        break;
      }
      case 'modifie':
        if (!body.room && !note) bad('indiquez la nouvelle salle ou une note');
        patch = { status: 'modifie', note, ...(body.room ? { room: body.room, original_room: slot.original_room ?? slot.room } : {}) };
        break;
      case 'retabli':
        patch = {
          status: 'normal', note: null, starts_at: slot.original_starts_at ?? slot.starts_at, ends_at: slot.original_ends_at ?? slot.ends_at,
          teacher_id: slot.original_teacher_id ?? slot.teacher_id, room: slot.original_room ?? slot.room,
          original_starts_at: null, original_ends_at: null, original_teacher_id: null, original_room: null,
        };
        break;
    }
    await this.repo.updateSlot(slot.id, { ...patch, changed_at: now });
    const [view] = await this.repo.weekSlots({ classIds: slot.class_id ? [slot.class_id] : [], groupIds: slot.group_id ? [slot.group_id] : [] }, (patch.starts_at ?? slot.starts_at) - 1, (patch.starts_at ?? slot.starts_at) + 1, false);
    return view ? presentSlot(view) : undefined;
  }

  /** A new secret subscription URL (the previous one stops working). The token is shown once and kept hashed. */
  async createFeed(actor: Scope): Promise<{ url: string; createdAt: string }> {
    const token = newSecretToken();
    const now = this.clock.nowMs();
    await this.repo.setFeed(actor.id, sha256Hex(token), now);
    return { url: `${this.publicUrl}/ical/${token}.ics`, createdAt: new Date(now).toISOString() };
  }

  async revokeFeed(actor: Scope): Promise<void> {
    if (!(await this.repo.revokeFeed(actor.id))) throw new AppError('calendar.feed_not_found');
  }

  async feedStatus(actor: Scope) {
    const f = await this.repo.feedOf(actor.id);
    return f ? { active: true, createdAt: new Date(f.created_at).toISOString(), lastUsedAt: f.last_used_at === null ? null : new Date(f.last_used_at).toISOString() } : { active: false, createdAt: null, lastUsedAt: null };
  }

  /** The calendar behind a subscription token: the person's lessons and work due, a week back and five ahead. */
  async ics(token: string): Promise<string> {
    const now = this.clock.nowMs();
    const personId = await this.repo.personOfFeed(sha256Hex(token.replace(/\.ics$/, '')), now);
    const scope = personId && (await this.schools.scopeOf(personId).catch(() => undefined));
    if (!scope || scope.status === 'departed') throw new AppError('calendar.feed_not_found');
    const today = this.today();
    const from = addDays(today, -FEED_DAYS_BACK);
    const to = addDays(mondayOf(today), 7 * FEED_WEEKS_AHEAD);
    const events: IcsEvent[] = [];
    const lessonsOf = async (filter: SlotFilter, prefix: string) => {
      for (let d = from; d < to; d = addDays(d, 7)) {
        const slots = await this.repo.weekSlots(filter, parisWallTimeToUtcMs(d, 0), parisWallTimeToUtcMs(addDays(d, 7), 0), Boolean(filter.teacherId));
        for (const s of slots) events.push(lessonEvent(s, prefix));
      }
    };
    const workOf = async (who: Pick<Scope, 'classIds' | 'groupIds'>, prefix: string) => {
      for (const w of await this.work.dueFor(who, today, to)) {
        events.push({ uid: `travail-${w.id}${prefix ? `-${prefix}` : ''}@preau`, date: w.on_date, summary: `${prefix}À faire : ${w.title}${w.subject_label ? ` (${w.subject_label})` : ''}`, description: w.online_handin ? 'À rendre en ligne sur Préau.' : undefined });
      }
    };
    let name = 'Préau';
    if (scope.profile === 'eleve') {
      await lessonsOf({ classIds: [...scope.classIds], groupIds: [...scope.groupIds] }, '');
      await workOf(scope, '');
      name = 'Préau — mon emploi du temps';
    } else if (scope.profile === 'parent') {
      for (const child of (await this.schools.children(scope)).slice(0, 10)) {
        const c = await this.schools.scopeOf(child.id);
        await lessonsOf({ classIds: [...c.classIds], groupIds: [...c.groupIds] }, `${child.first_name} · `);
        await workOf(c, `${child.first_name} · `);
      }
      name = 'Préau — mes enfants';
    } else if (scope.profile === 'enseignant') {
      await lessonsOf({ teacherId: scope.id }, '');
      name = 'Préau — mes cours';
    }
    return toIcs(name, events, now);
  }
}

function lessonEvent(s: SlotView, prefix: string): IcsEvent {
  const v = presentSlot(s);
  const what = [v.subject ?? 'Cours', v.audience].filter(Boolean).join(' — ');
  const flag = s.status === 'annule' ? 'Annulé : ' : s.status === 'deplace' ? 'Déplacé : ' : s.status === 'remplace' ? 'Remplacement : ' : s.status === 'modifie' ? 'Modifié : ' : '';
  return {
    uid: `${s.id}${prefix ? `-${prefix.replace(/\W/g, '')}` : ''}@preau`, startsAt: s.starts_at, endsAt: s.ends_at, summary: `${prefix}${flag}${what}`, location: s.room,
    description: [v.teacher, s.note].filter(Boolean).join('\n') || undefined, cancelled: s.status === 'annule',
  };
}
