import { ApiError, api } from '../../api/client.js';
import type { CahierVisa, HandinsOverview, HomeworkEntry, PupilHandins, Receipt, Slot } from '../../api/types.js';
import { lang } from '../../app/state.js';
import { addDays } from './homework.state.js';

/** `from`/`to`: the window the server used (its school day decides the default one). */
export const listEntries = (query: string) => api<{ entries: HomeworkEntry[]; nextCursor: string | null; from: string; to: string }>('GET', `/api/v1/homework?${query}`);
/**
 * The default window (the server's school day and two weeks ahead) and, when asked, `weeksBack`
 * weeks before it (past séances): the server's window start decides, not the device's clock.
 */
export async function listWithEarlierWeeks(query: string, weeksBack: number) {
  const first = await listEntries(query);
  if (weeksBack === 0) return first;
  const earlier = await listEntries(`${query}&from=${addDays(first.data.from, -7 * weeksBack)}&to=${addDays(first.data.from, -1)}`);
  return { ...first, data: { ...first.data, entries: [...earlier.data.entries, ...first.data.entries] } };
}
export const getEntry = (id: string) => api<{ entry: HomeworkEntry }>('GET', `/api/v1/homework/${encodeURIComponent(id)}`);
export const handinsOf = (entryId: string, pupilId: string) => api<PupilHandins>('GET', `/api/v1/homework/${encodeURIComponent(entryId)}/handins/${encodeURIComponent(pupilId)}`);
export const handinsOverview = (entryId: string) => api<HandinsOverview>('GET', `/api/v1/homework/${encodeURIComponent(entryId)}/handins?limit=100`);
const entryPath = (id: string) => `/api/v1/homework/${encodeURIComponent(id)}`;
export const createEntry = (body: object) => api<{ entry: HomeworkEntry }>('POST', '/api/v1/homework', { body });
export const updateEntry = (id: string, body: object) => api<{ entry: HomeworkEntry }>('PATCH', entryPath(id), { body });
/** Publishes now, or at `at` (an instant): scheduling. */
export const publishEntry = (id: string, at?: string) => api<{ entry: HomeworkEntry }>('POST', `${entryPath(id)}/publish`, { body: at ? { at } : {} });
/** Back to draft: nobody but the author sees it any more. */
export const unpublishEntry = (id: string) => updateEntry(id, { publishAt: null });
export const deleteEntry = (id: string) => api<null>('DELETE', entryPath(id));
export const copyEntry = (id: string, body: { classId?: string; groupId?: string; date: string; publishAt: 'now' | null }) => api<{ entry: HomeworkEntry }>('POST', `${entryPath(id)}/copy`, { body });
export const deleteAttachment = (entryId: string, attachmentId: string) => api<null>('DELETE', `${entryPath(entryId)}/attachments/${encodeURIComponent(attachmentId)}`);
export const teacherCahier = (teacherId: string) =>
  api<{ entries: HomeworkEntry[]; nextCursor: string | null; visas: CahierVisa[] }>('GET', `/api/v1/teachers/${encodeURIComponent(teacherId)}/cahier?limit=100`);
export const visaCahier = (teacherId: string, comment: string) => api<{ visa: { id: string; at: string; comment: string | null } }>('POST', `/api/v1/teachers/${encodeURIComponent(teacherId)}/cahier/visas`, { body: comment.trim() ? { comment } : {} });
export const mySchools = () => api<{ schools: { id: string; name: string }[] }>('GET', '/api/v1/schools');
export const schoolClasses = (schoolId: string) =>
  api<{ classes: { id: string; name: string }[]; groups: { id: string; name: string }[] }>('GET', `/api/v1/schools/${encodeURIComponent(schoolId)}/classes`);

export interface Audience {
  value: string;
  label: string;
  classId: string | null;
  groupId: string | null;
  subjectId: string | null;
}

/** The classes and groups a teacher teaches, from their timetable (lesson by lesson, each once). */
export async function teacherAudiences(): Promise<Audience[]> {
  const { data } = await api<{ slots?: (Slot & { classId?: string | null; groupId?: string | null; subjectId?: string | null })[] }>('GET', '/api/v1/me/timetable');
  const seen = new Map<string, Audience>();
  for (const s of data.slots ?? []) {
    const value = `${s.classId ?? ''}|${s.groupId ?? ''}|${s.subjectId ?? ''}`;
    if ((s.classId || s.groupId) && !seen.has(value)) seen.set(value, { value, label: [s.audience, s.subject].filter(Boolean).join(' — '), classId: s.classId ?? null, groupId: s.groupId ?? null, subjectId: s.subjectId ?? null });
  }
  return [...seen.values()].sort((a, b) => a.label.localeCompare(b.label, 'fr'));
}

export const myChildren = () => api<{ children: { id: string; firstName: string; lastName: string }[] }>('GET', '/api/v1/me/children');

export { upload } from '../../api/upload.js';

/** The receipt as the text file to keep (the server's own wording), saved on the device. */
export async function downloadReceipt(receipt: Receipt): Promise<void> {
  const res = await fetch(receipt.receiptUrl, { headers: { accept: 'text/plain', 'accept-language': lang.get() }, credentials: 'same-origin' });
  if (!res.ok) throw new ApiError('http', res.status, 'unknown', '', undefined);
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = `recu-rendu-${receipt.id}.txt`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
