import { addDays } from '../../platform/clock.js';
import { holidayOf, weekdayOf, type SchoolCalendar } from '../timetable/index.js';

/**
 * The rules that put a pupil among "the pupils of concern", as pure functions. No score, no
 * ranking: a rule fires or not, and the screen states it in words. Only school days count: a
 * weekend or a holiday never makes a pupil "absent"; today counts only once the school day is over
 * (a pupil not yet connected at 9:00 is not missing today). A connection on any day (a Saturday, an
 * evening) counts as a connection: working outside school hours is never held against anyone, and
 * views show days, never the hour of a connection.
 */
export type RuleId = 'inactive' | 'missing_works' | 'missed_classes';

export interface Thresholds {
  /** "pas connecté depuis N jours d'école" */
  inactiveSchoolDays: number;
  /** "N travaux non rendus cette semaine" */
  missingWorksPerWeek: number;
  /** "absent des N dernières classes virtuelles" */
  missedClasses: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = { inactiveSchoolDays: 3, missingWorksPerWeek: 2, missedClasses: 2 };
/** Bounds of what a school may configure. */
export const THRESHOLD_BOUNDS: Record<keyof Thresholds, { min: number; max: number }> = {
  inactiveSchoolDays: { min: 1, max: 20 },
  missingWorksPerWeek: { min: 1, max: 20 },
  missedClasses: { min: 1, max: 10 },
};
/** A school day is over at this Paris time (minutes after midnight): today counts from then. */
export const SCHOOL_DAY_END_MINUTE = 17 * 60 + 30;
/** Days walked back at most to count school days without connection (beyond, the count stops: it is already far above any threshold). */
export const MAX_DAYS_WALKED = 40;

export interface Concern {
  rule: RuleId;
  /** What was counted (school days, works, classes). */
  value: number;
  threshold: number;
}

/** Monday to Friday, inside the school year, not in a holiday. Without a calendar: Monday to Friday. */
export function isSchoolDay(cal: SchoolCalendar | undefined, date: string): boolean {
  if (weekdayOf(date) > 5) return false;
  if (!cal) return true;
  if (date < cal.yearStart || date > cal.yearEnd) return false;
  return holidayOf(cal, date) === undefined;
}

/** The last `count` school days up to `today` (included), oldest first. */
export function lastSchoolDays(cal: SchoolCalendar | undefined, today: string, count: number): string[] {
  const out: string[] = [];
  for (let d = today, walked = 0; out.length < count && walked < 400; d = addDays(d, -1), walked++) if (isSchoolDay(cal, d)) out.push(d);
  return out.reverse();
}

/**
 * School days in a row without any connection, counted back from today. `todayOver`: the school
 * day is over (today counts if it is a school day). A day seen stops the count, whatever the day.
 */
export function schoolDaysWithoutConnection(input: { cal: SchoolCalendar | undefined; today: string; todayOver: boolean; lastSeenDay: string | undefined }): number {
  const { cal, today, todayOver, lastSeenDay } = input;
  let count = 0;
  for (let d = today, walked = 0; walked < MAX_DAYS_WALKED; d = addDays(d, -1), walked++) {
    if (lastSeenDay !== undefined && d <= lastSeenDay) break;
    if (d === today && !todayOver) continue;
    if (isSchoolDay(cal, d)) count++;
  }
  return count;
}

/** Works due this week, already due, not handed in. */
export function missingWorks(due: readonly { id: string; due_at: number }[], handedIn: ReadonlySet<string>, nowMs: number): number {
  return due.filter((w) => w.due_at <= nowMs && !handedIn.has(w.id)).length;
}

/** Most recent virtual classes of the pupil's classes and groups missed in a row (sessions latest first). */
export function consecutiveMissedClasses(sessionsLatestFirst: readonly { id: string }[], attended: ReadonlySet<string>): number {
  let n = 0;
  for (const s of sessionsLatestFirst) {
    if (attended.has(s.id)) break;
    n++;
  }
  return n;
}

export interface PupilCounts {
  schoolDaysWithoutConnection: number;
  missingWorks: number;
  missedClassesInARow: number;
}

/** The rules that fire for a pupil, in the order the screen states them. */
export function concernsOf(c: PupilCounts, t: Thresholds): Concern[] {
  const out: Concern[] = [];
  if (c.schoolDaysWithoutConnection >= t.inactiveSchoolDays) out.push({ rule: 'inactive', value: c.schoolDaysWithoutConnection, threshold: t.inactiveSchoolDays });
  if (c.missingWorks >= t.missingWorksPerWeek) out.push({ rule: 'missing_works', value: c.missingWorks, threshold: t.missingWorksPerWeek });
  if (c.missedClassesInARow >= t.missedClasses) out.push({ rule: 'missed_classes', value: c.missedClassesInARow, threshold: t.missedClasses });
  return out;
}

/** The rules as the screens state them (French; the web client has its own catalogue for English). */
export function ruleText(rule: RuleId, threshold: number): string {
  switch (rule) {
    case 'inactive':
      return `pas connecté depuis ${threshold} jour${threshold > 1 ? 's' : ''} d’école`;
    case 'missing_works':
      return `${threshold} travau${threshold > 1 ? 'x' : ''} non rendu${threshold > 1 ? 's' : ''} cette semaine`;
    case 'missed_classes':
      return threshold > 1 ? `absent des ${threshold} dernières classes virtuelles` : 'absent de la dernière classe virtuelle';
  }
}
