import ICAL from 'ical.js';
import { parisWallTimeToUtcMs } from '../../platform/clock.js';

/**
 * Reading timetables from files: a simple CSV a secretary can write in a spreadsheet, and
 * iCalendar (what other tools export). Parsers only: they return rows with references by code
 * (class code, subject code or label, teacher login) and every error with its line, and the
 * service resolves and stores all or nothing.
 *
 * CSV, one weekly lesson per line, `;` or `,` separated, a header line first:
 *   jour;debut;fin;semaine;classe;groupe;matiere;enseignant;salle
 *   lundi;08:30;09:25;;6A;;061300;m.dupont;B12
 *   mardi;10:30;11:25;A;;LATIN;LATIN;m.dupont;
 * `semaine` is empty (every week), A or B; exactly one of `classe` and `groupe`.
 */
export const CSV_COLUMNS = ['jour', 'debut', 'fin', 'semaine', 'classe', 'groupe', 'matiere', 'enseignant', 'salle'] as const;
export const MAX_IMPORT_LINES = 5000;
export const MAX_IMPORT_ERRORS = 50;
export const MAX_ICS_OCCURRENCES = 5000;

export interface ImportError {
  line: number;
  message: string;
}

export interface CsvPattern {
  line: number;
  weekday: number;
  startMinute: number;
  endMinute: number;
  week: '*' | 'A' | 'B';
  classCode: string | null;
  groupCode: string | null;
  subject: string | null;
  teacherLogin: string | null;
  room: string | null;
}

const DAYS: Record<string, number> = { lundi: 1, mardi: 2, mercredi: 3, jeudi: 4, vendredi: 5, samedi: 6 };

const fold = (s: string) => s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().trim();

function splitCsvLine(line: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"' && cur.trim() === '') {
      quoted = true;
      cur = '';
    } else if (ch === sep) {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  out.push(cur.trim());
  return out;
}

function minutes(value: string): number | undefined {
  const m = /^(\d{1,2})[:h](\d{2})$/.exec(value.trim());
  if (!m) return undefined;
  const h = Number(m[1]);
  const min = Number(m[2]);
  return h < 24 && min < 60 ? h * 60 + min : undefined;
}

export function parseTimetableCsv(text: string): { rows: CsvPattern[]; errors: ImportError[] } {
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);
  const errors: ImportError[] = [];
  const rows: CsvPattern[] = [];
  const header = lines[0] ?? '';
  const sep = header.includes(';') ? ';' : ',';
  const names = splitCsvLine(header, sep).map(fold);
  const index = new Map(names.map((n, i) => [n, i]));
  const missing = CSV_COLUMNS.filter((c) => !index.has(c));
  if (missing.length > 0) return { rows, errors: [{ line: 1, message: `colonnes manquantes : ${missing.join(', ')} (attendu : ${CSV_COLUMNS.join(';')})` }] };
  if (lines.length > MAX_IMPORT_LINES + 1) return { rows, errors: [{ line: MAX_IMPORT_LINES + 2, message: `au plus ${MAX_IMPORT_LINES} lignes par fichier` }] };
  for (let n = 1; n < lines.length && errors.length < MAX_IMPORT_ERRORS; n++) {
    const raw = lines[n]!;
    if (raw.trim() === '') continue;
    const cells = splitCsvLine(raw, sep);
    const get = (c: (typeof CSV_COLUMNS)[number]) => cells[index.get(c)!] ?? '';
    const line = n + 1;
    const problems: string[] = [];
    const day = DAYS[fold(get('jour'))] ?? (/^[1-6]$/.test(get('jour')) ? Number(get('jour')) : undefined);
    if (!day) problems.push(`jour « ${get('jour').slice(0, 20)} » inconnu (lundi … samedi)`);
    const start = minutes(get('debut'));
    const end = minutes(get('fin'));
    if (start === undefined) problems.push(`heure de début « ${get('debut').slice(0, 10)} » invalide (HH:MM)`);
    if (end === undefined) problems.push(`heure de fin « ${get('fin').slice(0, 10)} » invalide (HH:MM)`);
    if (start !== undefined && end !== undefined && end <= start) problems.push('la fin doit suivre le début');
    const weekRaw = get('semaine').toUpperCase();
    const week = weekRaw === '' || weekRaw === '*' ? '*' : weekRaw === 'A' || weekRaw === 'B' ? weekRaw : undefined;
    if (!week) problems.push(`semaine « ${weekRaw.slice(0, 10)} » invalide (vide, A ou B)`);
    const classCode = get('classe') || null;
    const groupCode = get('groupe') || null;
    if ((classCode ? 1 : 0) + (groupCode ? 1 : 0) !== 1) problems.push('indiquez une classe ou un groupe (l’un des deux)');
    const room = get('salle') || null;
    if (room && room.length > 40) problems.push('nom de salle trop long (40 caractères au plus)');
    if (problems.length > 0) {
      errors.push({ line, message: problems.join(' ; ') });
      continue;
    }
    rows.push({ line, weekday: day!, startMinute: start!, endMinute: end!, week: week!, classCode, groupCode, subject: get('matiere') || null, teacherLogin: get('enseignant') || null, room });
  }
  return { rows, errors };
}

export interface IcsLesson {
  uid: string;
  startsAt: number;
  endsAt: number;
  summary: string;
  room: string | null;
  cancelled: boolean;
}

/**
 * Events of an iCalendar file between two instants, recurrences expanded (bounded). Floating
 * times (no zone) are school time (Paris).
 */
export function parseIcs(text: string, fromMs: number, toMs: number): { lessons: IcsLesson[]; errors: ImportError[] } {
  let root: ICAL.Component;
  try {
    root = new ICAL.Component(ICAL.parse(text) as unknown[]);
  } catch (err) {
    return { lessons: [], errors: [{ line: 0, message: `fichier iCalendar illisible : ${err instanceof Error ? err.message.slice(0, 200) : 'format inconnu'}` }] };
  }
  for (const tz of root.getAllSubcomponents('vtimezone')) ICAL.TimezoneService.register(new ICAL.Timezone(tz));
  const lessons: IcsLesson[] = [];
  const errors: ImportError[] = [];
  const toMsOf = (t: ICAL.Time) => (t.zone === ICAL.Timezone.localTimezone || !t.zone ? floatingParis(t) : t.toJSDate().getTime());
  for (const vevent of root.getAllSubcomponents('vevent')) {
    if (lessons.length >= MAX_ICS_OCCURRENCES) {
      errors.push({ line: 0, message: `au plus ${MAX_ICS_OCCURRENCES} cours par fichier` });
      break;
    }
    const event = new ICAL.Event(vevent);
    if (!event.startDate || !event.endDate || event.startDate.isDate) continue;
    const base = { uid: event.uid || '', summary: (event.summary || '').slice(0, 200), room: event.location ? event.location.slice(0, 40) : null, cancelled: String(vevent.getFirstPropertyValue('status') ?? '').toUpperCase() === 'CANCELLED' };
    if (!event.isRecurring()) {
      const startsAt = toMsOf(event.startDate);
      if (startsAt >= fromMs && startsAt < toMs) lessons.push({ ...base, uid: `${base.uid}|${startsAt}`, startsAt, endsAt: toMsOf(event.endDate) });
      continue;
    }
    const it = event.iterator();
    for (let next = it.next(), n = 0; next && n < MAX_ICS_OCCURRENCES; next = it.next(), n++) {
      const startsAt = toMsOf(next);
      if (startsAt >= toMs) break;
      if (startsAt < fromMs) continue;
      const details = event.getOccurrenceDetails(next);
      lessons.push({ ...base, uid: `${base.uid}|${startsAt}`, startsAt, endsAt: toMsOf(details.endDate) });
      if (lessons.length >= MAX_ICS_OCCURRENCES) break;
    }
  }
  return { lessons, errors };
}

function floatingParis(t: ICAL.Time): number {
  const date = `${String(t.year).padStart(4, '0')}-${String(t.month).padStart(2, '0')}-${String(t.day).padStart(2, '0')}`;
  return parisWallTimeToUtcMs(date, t.hour, t.minute);
}
