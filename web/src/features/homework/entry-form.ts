import type { HomeworkEntry } from '../../api/types.js';

/**
 * Pure logic of the teacher's entry form (unit-tested in entry-form.test.ts): the small text
 * syntax of the editor and its HTML, the form's fields to the API's body, and the checks the
 * server would make (its limits, from src/modules/homework/homework.schema.ts; the test compares).
 */

export const LIMITS = {
  titleChars: 200,
  bodyInputChars: 60_000,
  links: 10,
  linkUrlChars: 2000,
  linkLabelChars: 200,
  attachments: 10,
  attachmentBytes: 20 * 1024 * 1024,
  estimatedMinutesMax: 600,
  visaCommentChars: 1000,
} as const;

// ---------------------------------------------------------------------------------------------
// The editor's text: a few marks a teacher can type or get from the toolbar buttons.
//   **gras**   _italique_   [texte](https://…)   lines "- " (list) or "1. " (numbered list)
//   a blank line between paragraphs, a single line break kept as such.
// The HTML made here is only ever sent to the server, which sanitises it (allow-list); the page
// shows the server's answer, never this.

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function inline(text: string): string {
  return escapeHtml(text)
    .replace(/\[([^\]\n]+)\]\(((?:https?:\/\/|mailto:)[^\s)]+)\)/g, (_m, label: string, url: string) => `<a href="${url}">${label}</a>`)
    .replace(/\*\*([^*\n]+)\*\*/g, '<strong>$1</strong>')
    .replace(/(^|[\s(>])_([^_\n]+)_(?=$|[\s.,;:!?)<])/g, '$1<em>$2</em>');
}

const BULLET = /^\s*[-*•]\s+/;
const NUMBERED = /^\s*\d{1,3}[.)]\s+/;

/** The editor's text as HTML (paragraphs, line breaks, lists, bold, italic, links). */
export function markupToHtml(text: string): string {
  const blocks = text.replace(/\r\n?/g, '\n').split(/\n\s*\n/);
  const out: string[] = [];
  for (const block of blocks) {
    const lines = block.split('\n').filter((l) => l.trim() !== '');
    if (lines.length === 0) continue;
    let para: string[] = [];
    const flush = () => {
      if (para.length) out.push(`<p>${para.map(inline).join('<br>')}</p>`);
      para = [];
    };
    for (let i = 0; i < lines.length; ) {
      const kind = BULLET.test(lines[i]!) ? 'ul' : NUMBERED.test(lines[i]!) ? 'ol' : undefined;
      if (!kind) {
        para.push(lines[i]!);
        i++;
        continue;
      }
      flush();
      const mark = kind === 'ul' ? BULLET : NUMBERED;
      const items: string[] = [];
      while (i < lines.length && mark.test(lines[i]!)) items.push(`<li>${inline(lines[i++]!.replace(mark, ''))}</li>`);
      out.push(`<${kind}>${items.join('')}</${kind}>`);
    }
    flush();
  }
  return out.join('');
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

function decode(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, body: string) =>
    body[0] === '#' ? String.fromCodePoint(body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10)) : (ENTITIES[body] ?? whole),
  );
}

/** The server's sanitised HTML back to the editor's text (to edit an entry); other tags keep their text. */
export function htmlToMarkup(html: string): string {
  let s = html
    .replace(/<a\b[^>]*\bhref="([^"]*)"[^>]*>([\s\S]*?)<\/a>/gi, (_m, href: string, label: string) => `[${label.replace(/<[^>]*>/g, '')}](${href})`)
    .replace(/<\/?(strong|b)>/gi, '**')
    .replace(/<\/?(em|i)>/gi, '_')
    .replace(/<br\s*\/?>/gi, '\n');
  s = s.replace(/<ol>([\s\S]*?)<\/ol>/gi, (_m, inner: string) => {
    let n = 0;
    return `\n\n${inner.replace(/<li>([\s\S]*?)<\/li>/gi, (_l, item: string) => `${++n}. ${item}\n`)}\n`;
  });
  s = s.replace(/<ul>([\s\S]*?)<\/ul>/gi, (_m, inner: string) => `\n\n${inner.replace(/<li>([\s\S]*?)<\/li>/gi, (_l, item: string) => `- ${item}\n`)}\n`);
  s = s.replace(/<\/(p|h3|h4|blockquote|pre)>/gi, '\n\n').replace(/<[^>]*>/g, '');
  return decode(s).replace(/\n{3,}/g, '\n\n').trim();
}

export type Mark = 'bold' | 'italic' | 'list' | 'link';

/** A toolbar button applied to the textarea's selection: the new text and what to select next. */
export function applyMark(value: string, start: number, end: number, mark: Mark): { value: string; start: number; end: number } {
  const before = value.slice(0, start);
  const selected = value.slice(start, end);
  const after = value.slice(end);
  if (mark === 'bold' || mark === 'italic') {
    const m = mark === 'bold' ? '**' : '_';
    const inner = selected || (mark === 'bold' ? 'texte en gras' : 'texte en italique');
    return { value: `${before}${m}${inner}${m}${after}`, start: start + m.length, end: start + m.length + inner.length };
  }
  if (mark === 'list') {
    const lineStart = before.lastIndexOf('\n') + 1;
    const block = value.slice(lineStart, end) || '';
    const listed = block.split('\n').map((l) => (BULLET.test(l) ? l : `- ${l}`)).join('\n');
    const prefix = value.slice(0, lineStart);
    return { value: `${prefix}${listed}${after}`, start: lineStart, end: lineStart + listed.length };
  }
  const label = selected || 'lien';
  const url = 'https://';
  const text = `[${label}](${url})`;
  const urlAt = start + label.length + 3;
  return { value: `${before}${text}${after}`, start: urlAt, end: urlAt + url.length };
}

// ---------------------------------------------------------------------------------------------
// The form.

export type Kind = 'seance' | 'travail';
export type PublishChoice = 'now' | 'later' | 'draft';

export interface EntryFields {
  kind: Kind;
  title: string;
  text: string;
  date: string;
  dueTime: string;
  estimatedMinutes: string;
  onlineHandin: boolean;
  links: { url: string; label: string }[];
  publish: PublishChoice;
  /** The `datetime-local` value (the device's time zone), for `publish: 'later'`. */
  publishAt: string;
}

export interface FileInfo {
  name: string;
  size: number;
}

/** What is wrong, field by field (message keys of the i18n catalogue); empty when the form may be sent. */
export type FieldErrors = Partial<Record<'title' | 'date' | 'estimatedMinutes' | 'links' | 'publishAt' | 'attachments' | 'text', string>>;

const URL_SCHEME = /^(https?:\/\/[^\s]+|mailto:[^\s]+)$/i;

export function validateEntry(f: EntryFields, files: readonly FileInfo[], existingAttachments: number, nowMs: number): FieldErrors {
  const errors: FieldErrors = {};
  const title = f.title.trim();
  if (!title) errors.title = 'entryForm.error.titleRequired';
  else if (title.length > LIMITS.titleChars) errors.title = 'entryForm.error.titleTooLong';
  if (!/^\d{4}-\d{2}-\d{2}$/.test(f.date)) errors.date = 'entryForm.error.dateRequired';
  if (markupToHtml(f.text).length > LIMITS.bodyInputChars) errors.text = 'entryForm.error.textTooLong';
  if (f.kind === 'travail' && f.estimatedMinutes.trim() !== '') {
    const n = Number(f.estimatedMinutes);
    if (!Number.isInteger(n) || n < 1 || n > LIMITS.estimatedMinutesMax) errors.estimatedMinutes = 'entryForm.error.minutes';
  }
  const links = f.links.filter((l) => l.url.trim() || l.label.trim());
  if (links.length > LIMITS.links) errors.links = 'entryForm.error.tooManyLinks';
  else if (links.some((l) => !URL_SCHEME.test(l.url.trim()) || l.url.trim().length > LIMITS.linkUrlChars || l.label.length > LIMITS.linkLabelChars)) errors.links = 'entryForm.error.linkUrl';
  if (files.length + existingAttachments > LIMITS.attachments) errors.attachments = 'entryForm.error.tooManyFiles';
  else if (files.some((x) => x.size > LIMITS.attachmentBytes)) errors.attachments = 'entryForm.error.fileTooLarge';
  if (f.publish === 'later') {
    const at = Date.parse(f.publishAt);
    if (!Number.isFinite(at) || at <= nowMs) errors.publishAt = 'entryForm.error.publishAt';
  }
  return errors;
}

function publishAtOf(f: EntryFields): string | null {
  return f.publish === 'now' ? 'now' : f.publish === 'later' ? new Date(f.publishAt).toISOString() : null;
}

function common(f: EntryFields) {
  const travail = f.kind === 'travail';
  return {
    title: f.title.trim(),
    bodyHtml: markupToHtml(f.text),
    links: f.links.filter((l) => l.url.trim()).map((l) => ({ url: l.url.trim(), ...(l.label.trim() ? { label: l.label.trim() } : {}) })),
    date: f.date,
    ...(travail && f.dueTime ? { dueTime: f.dueTime } : {}),
    ...(travail ? { estimatedMinutes: f.estimatedMinutes.trim() ? Number(f.estimatedMinutes) : null, onlineHandin: f.onlineHandin } : {}),
  };
}

/** POST /api/v1/homework. */
export function createBody(f: EntryFields, audience: { classId: string | null; groupId: string | null; subjectId: string | null }) {
  return {
    kind: f.kind,
    ...(audience.classId ? { classId: audience.classId } : { groupId: audience.groupId! }),
    ...(audience.subjectId ? { subjectId: audience.subjectId } : {}),
    ...common(f),
    publishAt: publishAtOf(f),
  };
}

/** PATCH /api/v1/homework/:id (the publication is changed by its own actions). */
export function updateBody(f: EntryFields) {
  return common(f);
}

/** The `HH:MM` of an instant in Paris (the deadline's wall time). */
export function parisTime(iso: string): string {
  return new Intl.DateTimeFormat('fr-FR', { timeZone: 'Europe/Paris', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(iso));
}

/** A `datetime-local` value for an instant, in the device's zone. */
export function localDateTimeValue(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** The form filled from an existing entry (to edit it). */
export function fieldsOf(e: HomeworkEntry): EntryFields {
  return {
    kind: e.kind,
    title: e.title,
    text: htmlToMarkup(e.bodyHtml),
    date: e.date,
    dueTime: e.dueAt ? parisTime(e.dueAt) : '',
    estimatedMinutes: e.estimatedMinutes === null ? '' : String(e.estimatedMinutes),
    onlineHandin: e.onlineHandin,
    links: e.links.map((l) => ({ url: l.url, label: l.label === l.url ? '' : l.label })),
    publish: e.state === 'draft' ? 'draft' : 'now',
    publishAt: '',
  };
}

export function emptyFields(kind: Kind, date: string): EntryFields {
  return { kind, title: '', text: '', date, dueTime: '', estimatedMinutes: '', onlineHandin: false, links: [], publish: 'now', publishAt: '' };
}

/** The state shown on the teacher's list: a message key and its parameters. */
export function stateLabel(e: Pick<HomeworkEntry, 'state' | 'publishAt'>): { key: 'homework.state.draft' | 'homework.state.scheduledAt' | 'homework.state.published'; publishAt?: string } {
  if (e.state === 'draft') return { key: 'homework.state.draft' };
  if (e.state === 'scheduled') return { key: 'homework.state.scheduledAt', publishAt: e.publishAt! };
  return { key: 'homework.state.published' };
}

/**
 * The teacher's own list as the API's query: kind is filtered by the server; the class or group is
 * filtered here (see `ofAudience`), because the API's class view shows published entries only and
 * a teacher must see their drafts.
 */
export function teacherListQuery(kind: Kind | ''): string {
  const q = new URLSearchParams();
  if (kind) q.set('kind', kind);
  q.set('limit', '100');
  return q.toString();
}

export function ofAudience(entries: readonly HomeworkEntry[], audience: { classId: string | null; groupId: string | null } | undefined): HomeworkEntry[] {
  if (!audience) return [...entries];
  return entries.filter((e) => (audience.classId ? e.audience.kind === 'class' && e.audience.id === audience.classId : e.audience.kind === 'group' && e.audience.id === audience.groupId));
}
