import type { Directory, LiaisonNote } from '../../api/types.js';

/** Pure state logic of the carnet de liaison (unit-tested in liaison.state.test.ts). */

/** The server's limits (src/modules/liaison/liaison.schema.ts). */
export const MAX_TITLE_CHARS = 200;
export const MAX_BODY_HTML_CHARS = 25_000;
export const MAX_REMINDERS = 3;
export const MIN_REMINDER_INTERVAL_MS = 24 * 3600_000;
/** Rows of "who signed" per page. */
export const SIGNATURES_PAGE_SIZE = 20;

export type ReminderAvailability =
  | { allowed: true; left: number }
  | { allowed: false; reason: 'allSigned' }
  | { allowed: false; reason: 'exhausted' }
  | { allowed: false; reason: 'tooSoon'; atMs: number };

/**
 * Whether "Relancer" may be pressed now, and if not why, from what the note says: the server's
 * rule (at most 3 reminders, a day apart) and nobody left to remind. The server decides again.
 */
export function reminderAvailability(note: Pick<LiaisonNote, 'reminders' | 'lastRemindedAt' | 'signed' | 'total'>, nowMs: number): ReminderAvailability {
  if (note.total !== undefined && note.signed !== undefined && note.signed >= note.total) return { allowed: false, reason: 'allSigned' };
  if (note.reminders >= MAX_REMINDERS) return { allowed: false, reason: 'exhausted' };
  if (note.lastRemindedAt) {
    const atMs = Date.parse(note.lastRemindedAt) + MIN_REMINDER_INTERVAL_MS;
    if (nowMs < atMs) return { allowed: false, reason: 'tooSoon', atMs };
  }
  return { allowed: true, left: MAX_REMINDERS - note.reminders };
}

/** After a reminder the server counts it: the note as it now is, without asking again. */
export function afterReminder<T extends Pick<LiaisonNote, 'reminders' | 'lastRemindedAt'>>(note: T, nowMs: number): T {
  return { ...note, reminders: note.reminders + 1, lastRemindedAt: new Date(nowMs).toISOString() };
}

/** A parent's view of one note: a row per child in the server's list, one line here. */
export interface ParentNote {
  note: LiaisonNote;
  pupilIds: string[];
  /** Signed for every child concerned (one press signs for all); the latest time. */
  signedAt: string | null;
}

export function parentNotes(rows: readonly LiaisonNote[]): ParentNote[] {
  const byId = new Map<string, { note: LiaisonNote; rows: LiaisonNote[] }>();
  for (const r of rows) {
    const found = byId.get(r.id);
    if (found) found.rows.push(r);
    else byId.set(r.id, { note: r, rows: [r] });
  }
  return [...byId.values()].map(({ note, rows: mine }) => ({
    note,
    pupilIds: mine.map((r) => r.pupilId).filter((p): p is string => Boolean(p)),
    signedAt: signedAtOf(mine.map((r) => r.signedAt ?? null)),
  }));
}

/** Signed when every child's row is; then the latest of their times. */
export function signedAtOf(times: readonly (string | null)[]): string | null {
  if (times.length === 0 || times.some((t) => t === null)) return null;
  return [...(times as string[])].sort().at(-1)!;
}

/** A parent's list split as the page shows it: to sign first, then signed. */
export function splitToSign(notes: readonly ParentNote[]): { toSign: ParentNote[]; signed: ParentNote[] } {
  return { toSign: notes.filter((n) => n.signedAt === null), signed: notes.filter((n) => n.signedAt !== null) };
}

/** Who a note can be addressed to, from the directory the server offers: classes' and groups' parents, pupils (their parents). */
export interface LiaisonAudience {
  kind: 'pupil' | 'class' | 'group';
  id: string;
  name: string;
}
export function liaisonAudiences(directory: Directory): LiaisonAudience[] {
  const classes = directory.audiences
    .filter((a) => (a.kind === 'class' || a.kind === 'group') && a.audience === 'parents')
    .map((a): LiaisonAudience => ({ kind: a.kind as 'class' | 'group', id: a.id, name: a.name }));
  const pupils = directory.people.filter((p) => p.profile === 'eleve').map((p): LiaisonAudience => ({ kind: 'pupil', id: p.id, name: p.name }));
  return [...classes, ...pupils];
}

/** "12 / 25": share signed, as a whole percentage for a progress bar. */
export function signedShare(signed: number, total: number): number {
  return total === 0 ? 0 : Math.round((signed / total) * 100);
}
