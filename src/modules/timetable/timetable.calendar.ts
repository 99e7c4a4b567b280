import { addDays, parisWallTimeToUtcMs } from '../../platform/clock.js';
import type { Database } from '../../storage/schema.js';

/**
 * The school year of a school, as pure functions: which week is A or B, which days are holidays,
 * and which dated lessons a weekly pattern gives. Weeks alternate A/B over *school* weeks: a week
 * entirely in holidays does not count, so the alternation resumes after the holidays where it
 * stopped (the usual rule in French collèges and lycées). Dates are Paris dates `YYYY-MM-DD`.
 */
export interface SchoolCalendar {
  yearStart: string;
  yearEnd: string;
  weekAMonday: string;
  holidays: readonly { label: string; firstDay: string; lastDay: string }[];
}

export type WeekType = 'A' | 'B' | 'vacances' | 'hors_annee';

/** 1 = lundi … 7 = dimanche. */
export function weekdayOf(date: string): number {
  return ((new Date(`${date}T12:00:00Z`).getUTCDay() + 6) % 7) + 1;
}

export function mondayOf(date: string): string {
  return addDays(date, 1 - weekdayOf(date));
}

export function holidayOf(cal: SchoolCalendar, date: string): string | undefined {
  return cal.holidays.find((h) => h.firstDay <= date && date <= h.lastDay)?.label;
}

/** A week with no school day (Monday to Saturday all holidays) does not count in the A/B alternation. */
function isHolidayWeek(cal: SchoolCalendar, monday: string): boolean {
  for (let d = 0; d < 6; d++) if (!holidayOf(cal, addDays(monday, d))) return false;
  return true;
}

/** At most this many weeks are walked between week A's Monday and another week (a school year and some). */
const MAX_WEEKS_WALKED = 60;

export function weekType(cal: SchoolCalendar, date: string): WeekType {
  const monday = mondayOf(date);
  if (addDays(monday, 6) < cal.yearStart || monday > cal.yearEnd) return 'hors_annee';
  if (isHolidayWeek(cal, monday)) return 'vacances';
  const forward = monday >= cal.weekAMonday;
  let schoolWeeks = 0;
  let walked = 0;
  for (let m = cal.weekAMonday; m !== monday && walked < MAX_WEEKS_WALKED; walked++) {
    m = addDays(m, forward ? 7 : -7);
    if (!isHolidayWeek(cal, m)) schoolWeeks++;
  }
  return schoolWeeks % 2 === 0 ? 'A' : 'B';
}

/** What is wrong with a calendar, in French, or undefined. */
export function calendarProblem(cal: SchoolCalendar, isValidDate: (d: string) => boolean): string | undefined {
  for (const d of [cal.yearStart, cal.yearEnd, cal.weekAMonday]) if (!isValidDate(d)) return `la date ${d} n’existe pas`;
  if (cal.yearStart >= cal.yearEnd) return 'l’année doit finir après son début';
  if (cal.yearEnd > addDays(cal.yearStart, 400)) return 'une année scolaire dure moins de 400 jours';
  if (weekdayOf(cal.weekAMonday) !== 1) return 'la semaine A doit être donnée par son lundi';
  if (cal.weekAMonday < mondayOf(cal.yearStart) || cal.weekAMonday > cal.yearEnd) return 'la semaine A doit être dans l’année scolaire';
  for (const h of cal.holidays) {
    if (!isValidDate(h.firstDay) || !isValidDate(h.lastDay)) return `les dates de « ${h.label} » n’existent pas`;
    if (h.firstDay > h.lastDay) return `« ${h.label} » finit avant de commencer`;
  }
  return undefined;
}

export type PatternRow = Database['timetable_patterns'];
export type SlotRow = Database['timetable_slots'];

/** The dated lessons of weekly patterns from `fromDate` to the end of the year, skipping holidays and the other week. */
export function materialise(cal: SchoolCalendar, patterns: readonly PatternRow[], fromDate: string): SlotRow[] {
  const rows: SlotRow[] = [];
  const start = fromDate > cal.yearStart ? fromDate : cal.yearStart;
  const types = new Map<string, WeekType>();
  for (let date = start; date <= cal.yearEnd; date = addDays(date, 1)) {
    const weekday = weekdayOf(date);
    if (weekday === 7 || holidayOf(cal, date)) continue;
    const monday = mondayOf(date);
    let type = types.get(monday);
    if (!type) types.set(monday, (type = weekType(cal, date)));
    for (const p of patterns) {
      if (p.weekday !== weekday || (p.week !== '*' && p.week !== type)) continue;
      rows.push({
        id: `${p.id}-${date.replace(/-/g, '')}`, school_id: p.school_id, class_id: p.class_id, group_id: p.group_id, teacher_id: p.teacher_id, subject_id: p.subject_id,
        starts_at: parisWallTimeToUtcMs(date, Math.floor(p.start_minute / 60), p.start_minute % 60),
        ends_at: parisWallTimeToUtcMs(date, Math.floor(p.end_minute / 60), p.end_minute % 60),
        room: p.room, status: 'normal', note: null, pattern_id: p.id,
        original_starts_at: null, original_ends_at: null, original_teacher_id: null, original_room: null, changed_at: null,
      });
    }
  }
  return rows;
}
