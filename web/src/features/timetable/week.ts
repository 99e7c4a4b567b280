import type { Slot } from '../../api/types.js';

/** Pure logic of the week view (unit-tested in week.test.ts). */

/** The Monday of the week holding an ISO date (YYYY-MM-DD). */
export function mondayOf(isoDate: string): string {
  const d = new Date(`${isoDate}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7));
  return d.toISOString().slice(0, 10);
}

export function shiftWeek(monday: string, weeks: number): string {
  const d = new Date(`${monday}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 7 * weeks);
  return d.toISOString().slice(0, 10);
}

/** The Paris calendar day of an instant. */
export function parisDayOf(instant: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Paris', year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(instant));
}

/** Monday to Friday of a week, each with its lessons in time order (Saturday lessons join Friday's list only if any). */
export function weekDays(monday: string, slots: readonly Slot[]): { date: string; slots: Slot[] }[] {
  const days = Array.from({ length: 5 }, (_, i) => shiftDays(monday, i));
  const saturday = shiftDays(monday, 5);
  if (slots.some((s) => parisDayOf(s.startsAt) === saturday)) days.push(saturday);
  return days.map((date) => ({ date, slots: slots.filter((s) => parisDayOf(s.startsAt) === date).sort((a, b) => a.startsAt.localeCompare(b.startsAt)) }));
}

function shiftDays(iso: string, n: number): string {
  const d = new Date(`${iso}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}
