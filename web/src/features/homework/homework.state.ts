import type { HomeworkEntry } from '../../api/types.js';

/** Pure state logic of the cahier de textes pages (unit-tested in homework.state.test.ts). */

/** Today's date in Paris (the school day), as YYYY-MM-DD. */
export function parisToday(nowMs: number): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Paris', year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(nowMs));
}

export function addDays(isoDate: string, days: number): string {
  const d = new Date(`${isoDate}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

export interface Group {
  key: string;
  entries: HomeworkEntry[];
}

/** Entries by day (ascending), each day's entries by subject then title. */
export function groupByDay(entries: readonly HomeworkEntry[]): Group[] {
  return group(entries, (e) => e.date, (a, b) => a.localeCompare(b));
}

/** Entries by subject (alphabetical, entries without a subject last), each subject by date. */
export function groupBySubject(entries: readonly HomeworkEntry[], noSubject: string): Group[] {
  return group(entries, (e) => e.subject?.label ?? noSubject, (a, b) => (a === noSubject ? 1 : b === noSubject ? -1 : a.localeCompare(b, 'fr')));
}

function group(entries: readonly HomeworkEntry[], keyOf: (e: HomeworkEntry) => string, order: (a: string, b: string) => number): Group[] {
  const map = new Map<string, HomeworkEntry[]>();
  for (const e of entries) {
    const k = keyOf(e);
    map.set(k, [...(map.get(k) ?? []), e]);
  }
  return [...map.keys()].sort(order).map((key) => ({
    key,
    entries: map.get(key)!.slice().sort((a, b) => a.date.localeCompare(b.date) || (a.subject?.label ?? '').localeCompare(b.subject?.label ?? '', 'fr') || a.title.localeCompare(b.title, 'fr')),
  }));
}

/**
 * One hand-in attempt: its Idempotency-Key is made once for a given content and kept through every
 * retry (a weak link that drops the answer must never make a second hand-in); it changes only when
 * the content changes or once the server has answered with a receipt.
 */
export class HandinAttempt {
  private key: string | undefined;
  private contentSignature: string | undefined;

  constructor(private readonly newKey: () => string) {}

  /** The key to send for this content. */
  keyFor(signature: string): string {
    if (this.key === undefined || this.contentSignature !== signature) {
      this.key = this.newKey();
      this.contentSignature = signature;
    }
    return this.key;
  }

  /** The server answered with a receipt: the next hand-in (a replacement) is a new one. */
  succeeded(): void {
    this.key = undefined;
    this.contentSignature = undefined;
  }
}

/** What identifies a hand-in's content: its text and each file's name, size and last change. */
export function contentSignature(text: string, files: readonly { name: string; size: number; lastModified: number }[]): string {
  return JSON.stringify([text, files.map((f) => [f.name, f.size, f.lastModified])]);
}

export { formatBytes } from '../../i18n/index.js';
