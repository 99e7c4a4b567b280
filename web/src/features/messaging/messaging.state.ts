import type { ChosenRecipient, Directory, DirectoryEntry, MessageBox } from '../../api/types.js';
import { textToHtml } from '../../app/text.js';

export { budget, htmlToText, textToHtml } from '../../app/text.js';

/** Pure state logic of the messagerie (unit-tested in messaging.state.test.ts). */

/** The server's limits (src/modules/messaging/messaging.schema.ts), checked here before sending. */
export const MAX_SUBJECT_CHARS = 200;
/** The body as the server keeps it once sanitised; our HTML is a little longer than the text typed. */
export const MAX_BODY_HTML_CHARS = 50_000;
export const MAX_CHOSEN_RECIPIENTS = 50;
export const MAX_ATTACHMENTS_PER_MESSAGE = 5;
export const MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024;
export const MAX_ATTACHMENTS_TOTAL_BYTES = 20 * 1024 * 1024;
export const MIN_SEARCH_CHARS = 2;
export const MAX_SEARCH_CHARS = 100;

export const BOXES: readonly MessageBox[] = ['inbox', 'sent', 'drafts'];

/** What the address bar asks for: `?dossier=envoyes`, `?conversation=<id>`, `?recherche=…`. */
export interface MessagingView {
  box: MessageBox;
  conversation: string | undefined;
  compose: boolean;
  search: string | undefined;
  /** Recipients chosen by the page that opened the form (`?ecrire&a=<id>~<name>`: the suivi's "écrire à l'élève, aux parents"). */
  prefill?: Choice[];
}
const BOX_SLUGS: Record<MessageBox, string> = { inbox: 'recus', sent: 'envoyes', drafts: 'brouillons' };

export function viewOf(search: string): MessagingView {
  const params = new URLSearchParams(search);
  const slug = params.get('dossier');
  const box = (Object.keys(BOX_SLUGS) as MessageBox[]).find((b) => BOX_SLUGS[b] === slug) ?? 'inbox';
  const q = params.get('recherche')?.trim();
  const prefill = params
    .getAll('a')
    .slice(0, MAX_CHOSEN_RECIPIENTS)
    .map((a) => /^([A-Za-z0-9_-]{1,64})~(.{1,120})$/.exec(a))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ kind: 'person' as const, id: m[1]!, name: m[2]! }));
  return {
    box, conversation: params.get('conversation') || undefined, compose: params.has('ecrire'), search: q && q.length >= MIN_SEARCH_CHARS ? q.slice(0, MAX_SEARCH_CHARS) : undefined,
    ...(prefill.length > 0 ? { prefill } : {}),
  };
}

export function searchOf(view: Partial<MessagingView>): string {
  const params = new URLSearchParams();
  if (view.box && view.box !== 'inbox') params.set('dossier', BOX_SLUGS[view.box]);
  if (view.conversation) params.set('conversation', view.conversation);
  if (view.compose) params.set('ecrire', '');
  if (view.search) params.set('recherche', view.search);
  for (const p of view.prefill ?? []) params.append('a', `${p.id}~${p.name}`);
  const s = params.toString().replace(/=(&|$)/g, '$1');
  return s ? `?${s}` : '';
}

/** One recipient as the person chose it; the key tells two choices apart (6e A's parents vs its pupils). */
export type Choice = ChosenRecipient;
export const pickKey = (p: Choice) => `${p.kind}:${p.id}:${p.audience ?? ''}`;

/** Adds a recipient once; refused (same list back) beyond the server's limit on to + cc together. */
export function addPick(list: readonly Choice[], other: readonly Choice[], pick: Choice): Choice[] {
  if (list.some((p) => pickKey(p) === pickKey(pick))) return [...list];
  if (list.length + other.length >= MAX_CHOSEN_RECIPIENTS) return [...list];
  return [...list, pick];
}

export function removePick(list: readonly Choice[], key: string): Choice[] {
  return list.filter((p) => pickKey(p) !== key);
}

/** What the server expects in `to` and `cc`. */
export function refsOf(list: readonly Choice[]) {
  return list.map((p) => (p.kind === 'class' || p.kind === 'group' ? { kind: p.kind, id: p.id, audience: p.audience ?? 'parents' } : { kind: p.kind, id: p.id }));
}

/** The directory as one list of options (classes first, then people), without those already chosen. */
export function optionsOf(directory: Directory, chosen: readonly Choice[]): DirectoryEntry[] {
  const taken = new Set(chosen.map(pickKey));
  return [...directory.audiences, ...directory.people].filter((e) => !taken.has(pickKey(e)));
}

/** The next active option of a listbox for an arrow key (wrapping), or -1 when there is none. */
export function moveActive(active: number, count: number, key: 'ArrowDown' | 'ArrowUp' | 'Home' | 'End'): number {
  if (count === 0) return -1;
  if (key === 'Home') return 0;
  if (key === 'End') return count - 1;
  if (active < 0) return key === 'ArrowDown' ? 0 : count - 1;
  return (active + (key === 'ArrowDown' ? 1 : count - 1)) % count;
}

export type ComposeProblem = 'noRecipient' | 'empty' | 'subjectTooLong' | 'bodyTooLong';

/** What stops a message from being sent, checked before asking the server (which checks again). */
export function composeProblem(draft: { to: readonly Choice[]; cc: readonly Choice[]; subject: string; body: string }): ComposeProblem | undefined {
  if (draft.to.length + draft.cc.length === 0) return 'noRecipient';
  if (!draft.subject.trim() && !draft.body.trim()) return 'empty';
  if (draft.subject.length > MAX_SUBJECT_CHARS) return 'subjectTooLong';
  if (textToHtml(draft.body).length > MAX_BODY_HTML_CHARS) return 'bodyTooLong';
  return undefined;
}

/** Whether a file may still be attached: count and total size of the server. */
export function attachmentProblem(existing: readonly { sizeBytes: number }[], file: { size: number }): 'tooMany' | 'fileTooLarge' | 'totalTooLarge' | undefined {
  if (existing.length >= MAX_ATTACHMENTS_PER_MESSAGE) return 'tooMany';
  if (file.size > MAX_ATTACHMENT_BYTES) return 'fileTooLarge';
  if (existing.reduce((s, a) => s + a.sizeBytes, 0) + file.size > MAX_ATTACHMENTS_TOTAL_BYTES) return 'totalTooLarge';
  return undefined;
}

/** "RE : subject", once however long the conversation. */
export function replySubject(subject: string): string {
  const bare = subject.replace(/^\s*(re\s*:\s*)+/i, '');
  return `RE : ${bare}`.slice(0, MAX_SUBJECT_CHARS);
}
