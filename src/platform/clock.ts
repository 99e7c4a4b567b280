/** Time is injected so that rules depending on it (expiry, throttling, the school day) are testable. */
export interface Clock {
  nowMs(): number;
}

export const systemClock: Clock = { nowMs: () => Date.now() };

export class ManualClock implements Clock {
  constructor(private current = Date.UTC(2026, 8, 7, 6, 30)) {}
  nowMs(): number {
    return this.current;
  }
  advance(ms: number): void {
    this.current += ms;
  }
  set(ms: number): void {
    this.current = ms;
  }
}

export const SCHOOL_TIME_ZONE = 'Europe/Paris';

const parisParts = new Intl.DateTimeFormat('en-CA', {
  timeZone: SCHOOL_TIME_ZONE,
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

function partsOf(ms: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of parisParts.formatToParts(new Date(ms))) if (p.type !== 'literal') out[p.type] = Number(p.value);
  return out;
}

/** Offset of Paris from UTC at this instant, in ms (+1 h in winter, +2 h in summer). */
function parisOffsetMs(ms: number): number {
  const p = partsOf(ms);
  const asUtc = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/** The school day (in Paris) that contains this instant, as `YYYY-MM-DD`. */
export function parisDate(ms: number): string {
  const p = partsOf(ms);
  return `${p.year}-${String(p.month).padStart(2, '0')}-${String(p.day).padStart(2, '0')}`;
}

/** The UTC instant of a Paris wall-clock time (DST-aware). */
export function parisWallTimeToUtcMs(date: string, hour: number, minute = 0): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const guess = Date.UTC(y, m - 1, d, hour, minute);
  const first = guess - parisOffsetMs(guess);
  // Re-evaluate once at the corrected instant: right across DST changes.
  return guess - parisOffsetMs(first);
}

export interface DayBounds {
  startMs: number;
  endMs: number;
  date: string;
}

/** The last day computed: every request of a day asks for the same one, and Intl is slow. */
let lastDay: DayBounds | undefined;

/** [start, end) of the Paris day containing `ms`, in UTC ms. */
export function parisDayBounds(ms: number): DayBounds {
  if (lastDay && ms >= lastDay.startMs && ms < lastDay.endMs) return lastDay;
  const date = parisDate(ms);
  const startMs = parisWallTimeToUtcMs(date, 0);
  const next = new Date(Date.parse(`${date}T12:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  lastDay = { startMs, endMs: parisWallTimeToUtcMs(next, 0), date };
  return lastDay;
}

/** Monday of the Paris week containing `ms`, as `YYYY-MM-DD`. */
export function parisMonday(ms: number): string {
  const date = parisDate(ms);
  const noon = Date.parse(`${date}T12:00:00Z`);
  const dow = (new Date(noon).getUTCDay() + 6) % 7; // 0 = lundi
  return new Date(noon - dow * 86_400_000).toISOString().slice(0, 10);
}

export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T12:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}
