import { addDays, parisDate, parisDayBounds, parisMonday, parisWallTimeToUtcMs, type Clock } from '../../platform/clock.js';
import { AppError } from '../../platform/errors.js';
import type { Notifier } from '../../platform/notify.js';
import type { Storage } from '../../storage/db.js';
import type { SchoolsService, Scope } from '../schools/index.js';
import type { SchoolCalendar, TimetableRepository } from '../timetable/index.js';
import { ACCESS_LOG_PAGE_MAX, EngagementRepository, type DayCounts, type DueWork, type RosterRow, type SettingsRow } from './engagement.repository.js';
import { canAdminister, canViewClass, canViewPupil, canViewSchool, knowsSchool } from './engagement.policy.js';
import {
  concernsOf, consecutiveMissedClasses, DEFAULT_THRESHOLDS, isSchoolDay, lastSchoolDays, MAX_DAYS_WALKED, missingWorks, SCHOOL_DAY_END_MINUTE, schoolDaysWithoutConnection,
  type Concern, type Thresholds,
} from './engagement.rules.js';

/** School days in the CPE's trend. */
export const TREND_SCHOOL_DAYS = 10;
/** Virtual classes looked back at for "absent des N dernières classes virtuelles". */
export const CLASS_LOOKBACK_DAYS = 31;
/** Minutes a pupil may be reported in one virtual class at most (a school day). */
export const MAX_CLASS_MINUTES = 600;
/** Default time of the CPE's digest: 16:30, Paris. */
export const DEFAULT_DIGEST_MINUTE = 16 * 60 + 30;
/** Pupils named in one digest at most (the rest are counted). */
export const DIGEST_MAX_NAMES = 12;

export type Period = 'today' | 'week';

/** What the classroom module (issue 8) reports when a virtual class starts. */
export interface ClassSessionSignal {
  sessionId: string;
  schoolId: string;
  /** Exactly one of the two. */
  classId: string | null;
  groupId: string | null;
  startsAt: number;
}

/** What the classroom module reports for a pupil of a virtual class (when they leave, or at its end: the total so far). */
export interface ClassAttendanceSignal {
  pupilId: string;
  sessionId: string;
  joinedAt: number;
  minutes: number;
  audioOnly: boolean;
}

export interface SchoolSettings extends Thresholds {
  digestEnabled: boolean;
  /** Minutes after midnight, Paris. */
  digestMinute: number;
}

export interface PupilLine {
  pupil: { id: string; firstName: string; lastName: string; classId: string; className: string };
  lastSeenDay: string | null;
  /** School days of the period so far, and those with a connection. */
  schoolDays: number;
  daysSeen: number;
  works: { due: number; onTime: number; late: number; missing: number; opened: number; done: number };
  /** Days of the week's virtual classes missed (Paris dates). */
  classes: { held: number; attended: number; minutes: number; audioOnly: number; missedDays: string[] };
  messagesRead: number;
  /** `ids`: to write to them through the messagerie (its own communication rules apply when sending). */
  parents: { ids: string[]; count: number; everConnected: number; liaisonsSigned: number; liaisonsTotal: number };
  concerns: Concern[];
}

interface Window {
  nowMs: number;
  today: string;
  todayOver: boolean;
  monday: string;
  weekStartMs: number;
  weekEndMs: number;
  fromDay: string;
  fromMs: number;
}

/**
 * Suivi du décrochage: signals (recorded by the batched recorder, see engagement.recorder.ts; and
 * the virtual-class port below), the views of teachers, CPE/direction, parents and the pupil
 * themself, the access log, the CPE's daily digest and the purge. Every view of a pupil's signals
 * is logged before it is answered.
 */
export class EngagementService {
  constructor(
    private readonly repo: EngagementRepository,
    private readonly schools: SchoolsService,
    private readonly timetable: TimetableRepository,
    private readonly clock: Clock,
    private readonly notifier: Notifier,
  ) {}

  // ——— The virtual-class port (issue 8 will call these; nothing calls them yet) ———

  async recordClassSession(s: ClassSessionSignal): Promise<void> {
    if ((s.classId === null) === (s.groupId === null)) throw new Error('une classe virtuelle a une classe ou un groupe, pas les deux');
    await this.repo.insertClassSession({ id: s.sessionId, school_id: s.schoolId, class_id: s.classId, group_id: s.groupId, day: parisDate(s.startsAt), starts_at: s.startsAt });
  }

  async recordClassAttendance(a: ClassAttendanceSignal): Promise<void> {
    if (!(await this.repo.findClassSession(a.sessionId))) throw new Error(`classe virtuelle inconnue : ${a.sessionId}`);
    const minutes = Math.max(0, Math.min(MAX_CLASS_MINUTES, Math.round(a.minutes)));
    await this.repo.upsertAttendance({ session_id: a.sessionId, pupil_id: a.pupilId, joined_at: a.joinedAt, minutes, audio_only: a.audioOnly ? 1 : 0 });
  }

  // ——— Settings ———

  async settings(schoolId: string): Promise<SchoolSettings> {
    return presentSettings(await this.repo.settings(schoolId));
  }

  async readSettings(actor: Scope, schoolId: string): Promise<SchoolSettings> {
    this.assertSchool(actor, schoolId, canViewSchool(actor, schoolId) || canAdminister(actor, schoolId));
    return this.settings(schoolId);
  }

  async saveSettings(actor: Scope, schoolId: string, s: SchoolSettings): Promise<SchoolSettings> {
    this.assertSchool(actor, schoolId, canAdminister(actor, schoolId));
    const current = await this.repo.settings(schoolId);
    await this.repo.saveSettings({
      school_id: schoolId, inactive_school_days: s.inactiveSchoolDays, missing_works_per_week: s.missingWorksPerWeek, missed_classes: s.missedClasses,
      digest_enabled: s.digestEnabled ? 1 : 0, digest_minute: s.digestMinute, last_digest_day: current?.last_digest_day ?? null, updated_at: this.clock.nowMs(),
    });
    return this.settings(schoolId);
  }

  // ——— Views ———

  /** What this person may follow: the entry page of the web client. */
  async home(actor: Scope) {
    if (actor.status !== 'active') throw new AppError('access.forbidden');
    const followed = [...actor.schoolIds].filter((s) => canViewSchool(actor, s));
    const [classes, children, schoolClasses] = await Promise.all([
      actor.profile === 'enseignant' ? this.repo.classesByIds([...actor.taughtClassIds]) : Promise.resolve([]),
      actor.profile === 'parent' ? this.repo.childrenOf(actor.id) : Promise.resolve([]),
      Promise.all(followed.map(async (id) => ({ id, classes: await this.repo.classesOf(id) }))),
    ]);
    return {
      self: actor.profile === 'eleve',
      classes: classes.map((c) => ({ id: c.id, name: c.name })),
      children: children.map((c) => ({ id: c.id, firstName: c.first_name, lastName: c.last_name })),
      schools: schoolClasses,
    };
  }

  /** A teacher's (or the CPE's) view of a class: one line per pupil, pupils of concern first. */
  async classView(actor: Scope, classId: string, period: Period) {
    const c = await this.repo.findClass(classId);
    if (!c || !knowsSchool(actor, c.school_id)) throw new AppError('class.not_found');
    if (!canViewClass(actor, { id: c.id, schoolId: c.school_id })) throw new AppError('access.forbidden');
    const roster = await this.repo.roster({ classId });
    const { lines, thresholds, window } = await this.evaluate(c.school_id, roster, period, 'class');
    await this.repo.logAccess({ schoolId: c.school_id, actorId: actor.id, pupilIds: lines.map((l) => l.pupil.id), view: `class:${period}`, at: window.nowMs });
    return { class: { id: c.id, name: c.name, schoolId: c.school_id }, period, today: window.today, weekStart: window.monday, thresholds, lines: concernFirst(lines) };
  }

  /** The CPE's and direction's view of a school: counts per class, pupils of concern, trend over 10 school days. */
  async schoolView(actor: Scope, schoolId: string) {
    this.assertSchool(actor, schoolId, canViewSchool(actor, schoolId));
    const roster = await this.repo.roster({ schoolId });
    const { lines, thresholds, window, days, cal } = await this.evaluate(schoolId, roster, 'week', 'school');
    const classes = await this.repo.classesOf(schoolId);
    const byClass = new Map(classes.map((c) => [c.id, { classId: c.id, name: c.name, pupils: 0, ofConcern: 0, seenToday: 0 }]));
    for (const l of lines) {
      const row = byClass.get(l.pupil.classId);
      if (!row) continue;
      row.pupils++;
      if (l.concerns.length > 0) row.ofConcern++;
      if (l.lastSeenDay === window.today) row.seenToday++;
    }
    // Trend: pupils of the school connected on each of the last 10 school days.
    const trendDays = lastSchoolDays(cal, window.today, TREND_SCHOOL_DAYS);
    const pupils = new Set(roster.map((r) => r.id));
    const seen = new Map<string, Set<string>>(trendDays.map((d) => [d, new Set()]));
    for (const d of days) if (pupils.has(d.person_id)) seen.get(d.day)?.add(d.person_id);
    const concern = concernFirst(lines).filter((l) => l.concerns.length > 0);
    await this.repo.logAccess({ schoolId, actorId: actor.id, pupilIds: [...new Set(concern.map((l) => l.pupil.id))], view: 'school', at: window.nowMs });
    return {
      schoolId, today: window.today, thresholds, pupils: pupils.size,
      classes: [...byClass.values()],
      ofConcern: concern.map((l) => ({ pupil: l.pupil, lastSeenDay: l.lastSeenDay, concerns: l.concerns })),
      trend: trendDays.map((day) => ({ day, seen: seen.get(day)!.size, over: day < window.today || window.todayOver })),
    };
  }

  /** One pupil's week (parents, the pupil, their teachers, CPE, direction): no comparison with anyone. */
  async pupilView(actor: Scope, pupilId: string, view: 'pupil' | 'mine' = 'pupil') {
    const target = await this.pupilScope(pupilId);
    if (!target || !canViewPupil(actor, target)) throw new AppError('person.not_found');
    const roster = await this.repo.roster({ classId: [...target.classIds][0] ?? '' });
    const entry = roster.find((r) => r.id === pupilId);
    if (!entry) throw new AppError('person.not_found');
    const schoolId = [...target.schoolIds][0]!;
    const { lines, thresholds, window } = await this.evaluate(schoolId, [entry], 'week', 'pupil');
    await this.repo.logAccess({ schoolId, actorId: actor.id, pupilIds: [pupilId], view, at: window.nowMs });
    return { today: window.today, weekStart: window.monday, thresholds, line: lines[0]! };
  }

  /** "Mes données": what is recorded about the pupil, their week, and who looked at it. */
  async myData(actor: Scope) {
    if (actor.profile !== 'eleve' || actor.status !== 'active') throw new AppError('access.forbidden');
    const week = await this.pupilView(actor, actor.id, 'mine');
    const cal = await this.calendarOf([...actor.schoolIds][0]);
    const fromDay = cal?.yearStart ?? addDays(week.today, -366);
    const [recorded, views] = await Promise.all([this.repo.recordedAbout(actor.id, fromDay), this.repo.accessLog({ pupilId: actor.id }, this.clock.nowMs() + 1, ACCESS_LOG_PAGE_MAX)]);
    return { week, recorded, views: views.filter((v) => v.actor_id !== actor.id) };
  }

  /** The access log of a school, for its data controller (the direction). */
  async accessLog(actor: Scope, schoolId: string, beforeMs: number | undefined, limit: number) {
    this.assertSchool(actor, schoolId, canAdminister(actor, schoolId));
    return this.repo.accessLog({ schoolId }, beforeMs ?? this.clock.nowMs() + 1, Math.min(ACCESS_LOG_PAGE_MAX, limit));
  }

  // ——— Digest and purge ———

  /**
   * The CPE's daily digest: for each school that asked for one, once its time has passed on a
   * school day, the pupils who crossed a threshold today (of concern now, not at the end of the
   * previous day). Claimed per school and day in the database, so two nodes send it once.
   */
  async sendDueDigests(): Promise<number> {
    const now = this.clock.nowMs();
    const today = parisDate(now);
    let sent = 0;
    for (const s of await this.repo.digestSchools()) {
      if (s.last_digest_day !== null && s.last_digest_day >= today) continue;
      if (now < parisWallTimeToUtcMs(today, Math.floor(s.digest_minute / 60), s.digest_minute % 60)) continue;
      const cal = await this.calendarOf(s.school_id);
      if (!isSchoolDay(cal, today)) continue;
      if (!(await this.repo.claimDigest(s.school_id, today))) continue;
      const crossed = await this.crossedToday(s.school_id);
      const cpe = (await this.repo.staffOf(s.school_id, 'cpe')).map((r) => r.id);
      // Nobody crossed a threshold today: no notification (a daily "nothing" would teach the CPE to ignore it).
      if (cpe.length === 0 || crossed.length === 0) continue;
      const names = crossed.slice(0, DIGEST_MAX_NAMES).map((l) => `${l.pupil.firstName} ${l.pupil.lastName} (${l.pupil.className})`);
      const more = crossed.length - names.length;
      const title = `Suivi : ${crossed.length} élève${crossed.length > 1 ? 's ont' : ' a'} franchi un seuil aujourd’hui — ${names.join(', ')}${more > 0 ? ` et ${more} autre${more > 1 ? 's' : ''}` : ''}`;
      await this.notifier.notify({ kind: 'engagement.digest', schoolId: s.school_id, recipientIds: cpe, actorId: null, title, link: `/suivi?etablissement=${s.school_id}`, subjectId: `${s.school_id}:${today}` });
      sent++;
    }
    return sent;
  }

  /** Pupils of concern now who were not at the end of the previous day. */
  async crossedToday(schoolId: string): Promise<PupilLine[]> {
    const roster = await this.repo.roster({ schoolId });
    const now = this.clock.nowMs();
    const { lines: nowLines } = await this.evaluate(schoolId, roster, 'week', 'school', now);
    const { lines: before } = await this.evaluate(schoolId, roster, 'week', 'school', parisDayBounds(now).startMs - 1);
    const earlier = new Set(before.filter((l) => l.concerns.length > 0).map((l) => l.pupil.id));
    return concernFirst(nowLines).filter((l) => l.concerns.length > 0 && !earlier.has(l.pupil.id));
  }

  /** Signals are kept for the school year: what is older than a year goes (pupils' departures purge theirs by cascade). */
  async purge(): Promise<number> {
    return this.repo.purgeBefore(...retentionCutoff(this.clock.nowMs()));
  }

  // ——— The computation behind every view ———

  private async evaluate(schoolId: string, roster: readonly RosterRow[], period: Period, scope: 'class' | 'school' | 'pupil', nowMs = this.clock.nowMs()) {
    const [cal, thresholds] = await Promise.all([this.calendarOf(schoolId), this.settings(schoolId)]);
    const window = windowOf(nowMs);
    const trendFrom = lastSchoolDays(cal, window.today, TREND_SCHOOL_DAYS)[0] ?? window.fromDay;
    const fromDay = trendFrom < window.fromDay ? trendFrom : window.fromDay;
    const ids = [...new Set(roster.map((r) => r.id))];
    const [days, groups] = await Promise.all([
      scope === 'school' ? this.repo.daysOfSchool(schoolId, fromDay, window.today) : this.repo.daysOf(ids, fromDay, window.today),
      this.repo.groupsOf(ids),
    ]);
    const classIds = [...new Set(roster.map((r) => r.class_id))];
    const groupIds = [...new Set([...groups.values()].flat())];
    const [due, sessions, parentLinks] = await Promise.all([
      this.repo.dueWorks(classIds, groupIds, window.weekStartMs, window.weekEndMs, nowMs),
      this.repo.classSessions(schoolId, classIds, groupIds, nowMs - CLASS_LOOKBACK_DAYS * 86_400_000, nowMs + 1),
      this.repo.parentsOf(ids),
    ]);
    const parentIds = [...new Set(parentLinks.map((p) => p.parent_id))];
    const [handins, attendance, opens, parentsSeen, liaisons] = await Promise.all([
      this.repo.handinsOf(due.map((w) => w.id)),
      this.repo.attendanceOf(sessions.map((s) => s.id)),
      this.repo.opensOf(ids, due.map((w) => w.id)),
      this.repo.everSeen(parentIds, cal?.yearStart ?? addDays(window.today, -366)),
      this.repo.liaisonsOf(parentIds, window.weekStartMs),
    ]);

    const periodFrom = period === 'today' ? window.today : window.monday;
    const periodFromMs = period === 'today' ? parisDayBounds(nowMs).startMs : window.weekStartMs;
    const periodEndMs = period === 'today' ? parisDayBounds(nowMs).endMs : window.weekEndMs;
    const daysBy = groupBy(days, (d) => d.person_id);
    const handinsBy = groupBy(handins.filter((h) => h.submitted_at <= nowMs), (h) => h.pupil_id);
    const opensBy = groupBy(opens.filter((o) => o.opened_at <= nowMs), (o) => o.pupil_id);
    const attendedBy = groupBy(attendance.filter((a) => a.joined_at <= nowMs), (a) => a.pupil_id);
    const parentsBy = groupBy(parentLinks, (p) => p.child_id);
    const liaisonsBy = groupBy(liaisons, (l) => `${l.parent_id}|${l.pupil_id}`);
    const schoolDaysOfPeriod = countSchoolDays(cal, periodFrom, window.today, window.todayOver);
    const mySessions = sessions.filter((s) => s.starts_at <= nowMs);
    // Works and sessions by audience: each pupil takes those of their class and groups (no scan of the school's per pupil).
    const audienceOf = (w: { class_id: string | null; group_id: string | null }) => (w.class_id !== null ? `c:${w.class_id}` : `g:${w.group_id}`);
    const dueBy = groupBy(due, audienceOf);
    const sessionsBy = groupBy(mySessions, audienceOf);
    const ofAudiences = <W extends { starts_at?: number; due_at?: number }>(by: Map<string, W[]>, classId: string, groupIds: Iterable<string>) => {
      const out = [...(by.get(`c:${classId}`) ?? [])];
      for (const g of groupIds) out.push(...(by.get(`g:${g}`) ?? []));
      return out;
    };

    const lines: PupilLine[] = roster.map((r) => {
      const myGroups = new Set(groups.get(r.id) ?? []);
      const myDays = (daysBy.get(r.id) ?? []).filter((d) => d.day <= window.today && d.first_seen_at <= nowMs);
      const lastSeenDay = myDays.reduce<string | undefined>((m, d) => (m === undefined || d.day > m ? d.day : m), undefined);
      const inPeriod = myDays.filter((d) => d.day >= periodFrom);
      const myHandins = new Map((handinsBy.get(r.id) ?? []).map((h) => [h.entry_id, h]));
      const myDue = ofAudiences(dueBy, r.class_id, myGroups);
      const duePeriod = myDue.filter((w) => w.due_at >= periodFromMs && w.due_at < periodEndMs);
      const attended = new Map((attendedBy.get(r.id) ?? []).map((a) => [a.session_id, a]));
      // Latest first, as the rule reads them.
      const mySess = ofAudiences(sessionsBy, r.class_id, myGroups).sort((a, b) => b.starts_at - a.starts_at);
      const weekSess = mySess.filter((s) => s.starts_at >= periodFromMs);
      const parents = parentsBy.get(r.id) ?? [];
      const myLiaisons = parents.flatMap((p) => liaisonsBy.get(`${p.parent_id}|${r.id}`) ?? []).filter((l) => l.signed_at === null || l.signed_at <= nowMs);
      const counted = (w: DueWork) => myHandins.get(w.id);
      const line: PupilLine = {
        pupil: { id: r.id, firstName: r.first_name, lastName: r.last_name, classId: r.class_id, className: r.class_name },
        lastSeenDay: lastSeenDay ?? null,
        schoolDays: schoolDaysOfPeriod,
        daysSeen: inPeriod.filter((d) => isSchoolDay(cal, d.day)).length,
        works: {
          due: duePeriod.length,
          onTime: duePeriod.filter((w) => counted(w)?.late === 0).length,
          late: duePeriod.filter((w) => counted(w)?.late === 1).length,
          missing: missingWorks(duePeriod, new Set(myHandins.keys()), nowMs),
          opened: (opensBy.get(r.id) ?? []).filter((o) => duePeriod.some((w) => w.id === o.entry_id)).length,
          done: sum(inPeriod, (d) => d.works_done),
        },
        classes: {
          held: weekSess.length,
          attended: weekSess.filter((s) => attended.has(s.id)).length,
          minutes: sum(weekSess, (s) => attended.get(s.id)?.minutes ?? 0),
          audioOnly: weekSess.filter((s) => attended.get(s.id)?.audio_only === 1).length,
          missedDays: weekSess.filter((s) => !attended.has(s.id)).map((s) => s.day).sort(),
        },
        messagesRead: sum(inPeriod, (d) => d.messages_read),
        parents: {
          ids: parents.map((p) => p.parent_id),
          count: parents.length,
          everConnected: parents.filter((p) => parentsSeen.has(p.parent_id)).length,
          liaisonsSigned: myLiaisons.filter((l) => l.signed_at !== null).length,
          liaisonsTotal: myLiaisons.length,
        },
        concerns: concernsOf(
          {
            schoolDaysWithoutConnection: schoolDaysWithoutConnection({ cal, today: window.today, todayOver: window.todayOver, lastSeenDay }),
            missingWorks: missingWorks(myDue, new Set(myHandins.keys()), nowMs),
            missedClassesInARow: consecutiveMissedClasses(mySess, new Set(attended.keys())),
          },
          thresholds,
        ),
      };
      return line;
    });
    return { lines, thresholds, window, days, cal };
  }

  private async calendarOf(schoolId: string | undefined): Promise<SchoolCalendar | undefined> {
    return schoolId ? this.timetable.calendar(schoolId) : undefined;
  }

  private async pupilScope(pupilId: string): Promise<Scope | undefined> {
    try {
      const s = await this.schools.scopeOf(pupilId);
      return s.profile === 'eleve' && s.status !== 'departed' ? s : undefined;
    } catch (err) {
      if (err instanceof AppError && err.id === 'person.not_found') return undefined;
      throw err;
    }
  }

  /** Unknown and outside one's school look the same (404); inside the school without the right: 403. */
  private assertSchool(actor: Scope, schoolId: string, allowed: boolean): void {
    if (allowed) return;
    throw new AppError(knowsSchool(actor, schoolId) ? 'access.forbidden' : 'school.not_found');
  }
}

/** Kept for the school year: a year and a day back from today (the calendar's year may be absent). */
export const RETENTION_DAYS = 366;
function retentionCutoff(nowMs: number): [string, number] {
  return [addDays(parisDate(nowMs), -RETENTION_DAYS), nowMs - RETENTION_DAYS * 86_400_000];
}

function presentSettings(row: SettingsRow | undefined): SchoolSettings {
  return row
    ? { inactiveSchoolDays: row.inactive_school_days, missingWorksPerWeek: row.missing_works_per_week, missedClasses: row.missed_classes, digestEnabled: row.digest_enabled === 1, digestMinute: row.digest_minute }
    : { ...DEFAULT_THRESHOLDS, digestEnabled: false, digestMinute: DEFAULT_DIGEST_MINUTE };
}

function windowOf(nowMs: number): Window {
  const today = parisDate(nowMs);
  const monday = parisMonday(nowMs);
  const weekStartMs = parisWallTimeToUtcMs(monday, 0);
  return {
    nowMs, today, monday, weekStartMs,
    weekEndMs: parisWallTimeToUtcMs(addDays(monday, 7), 0),
    todayOver: nowMs >= parisWallTimeToUtcMs(today, Math.floor(SCHOOL_DAY_END_MINUTE / 60), SCHOOL_DAY_END_MINUTE % 60),
    fromDay: addDays(today, -MAX_DAYS_WALKED),
    fromMs: nowMs - MAX_DAYS_WALKED * 86_400_000,
  };
}

function countSchoolDays(cal: SchoolCalendar | undefined, from: string, today: string, todayOver: boolean): number {
  let n = 0;
  for (let d = from; d <= today; d = addDays(d, 1)) if (isSchoolDay(cal, d) && (d !== today || todayOver)) n++;
  return n;
}

/** Pupils of concern first, then everyone by name: an order, never a ranking. */
function concernFirst(lines: PupilLine[]): PupilLine[] {
  const name = (l: PupilLine) => `${l.pupil.lastName} ${l.pupil.firstName}`;
  return [...lines].sort((a, b) => Number(b.concerns.length > 0) - Number(a.concerns.length > 0) || name(a).localeCompare(name(b), 'fr'));
}

function groupBy<T>(rows: readonly T[], key: (r: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const r of rows) {
    const k = key(r);
    const list = out.get(k);
    if (list) list.push(r);
    else out.set(k, [r]);
  }
  return out;
}

function sum<T>(rows: readonly T[], f: (r: T) => number): number {
  let s = 0;
  for (const r of rows) s += f(r);
  return s;
}

export type { DayCounts };

/** `preau purge` without a composed server: the suivi's rows older than the school year. */
export function purgeEngagement(storage: Pick<Storage, 'db' | 'capabilities'>, clock: Clock): Promise<number> {
  return new EngagementRepository(storage.db, storage.capabilities).purgeBefore(...retentionCutoff(clock.nowMs()));
}
