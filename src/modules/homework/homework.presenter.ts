import type { DueView, AttachmentRow, EntryView } from './homework.repository.js';
import type { EntryDetail } from './homework.service.js';
import type { FeedbackRow, HandinFileRow, PupilRow } from './handins.repository.js';
import type { Receipt } from './handins.service.js';

/** A stored file row as `sendBlob` wants it (attachments, hand-in files and returned files share the shape). */
export function storedFile(f: { blob_sha256: string; file_name: string; size_bytes: number; content_type: string }) {
  return { sha256: f.blob_sha256, fileName: f.file_name, sizeBytes: f.size_bytes, contentType: f.content_type };
}

const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

export function entryState(e: Pick<EntryView, 'publish_at'>, nowMs: number): 'draft' | 'scheduled' | 'published' {
  return e.publish_at === null ? 'draft' : e.publish_at > nowMs ? 'scheduled' : 'published';
}

function teacherName(e: Pick<EntryView, 'teacher_title' | 'teacher_last_name'>): string | null {
  return e.teacher_last_name ? [e.teacher_title, e.teacher_last_name].filter(Boolean).join(' ') : null;
}

export function presentAttachment(a: AttachmentRow) {
  return { id: a.id, fileName: a.file_name, sizeBytes: a.size_bytes, contentType: a.content_type, sha256: a.blob_sha256, url: `/api/v1/homework/${a.entry_id}/attachments/${a.id}` };
}

export function presentEntry(d: EntryDetail, nowMs: number) {
  const e = d.entry;
  return {
    id: e.id,
    kind: e.kind,
    title: e.title,
    bodyHtml: e.body_html,
    links: JSON.parse(e.links) as { url: string; label: string }[],
    date: e.on_date,
    dueAt: iso(e.due_at),
    estimatedMinutes: e.estimated_minutes,
    onlineHandin: e.online_handin === 1,
    subject: e.subject_id ? { id: e.subject_id, label: e.subject_label } : null,
    audience: { kind: e.class_id ? 'class' : 'group', id: e.class_id ?? e.group_id, name: e.audience_name },
    teacher: teacherName(e),
    /** Lets the direction open this teacher's cahier to visa it (no list of teachers exists yet). */
    teacherId: e.teacher_id,
    state: entryState(e, nowMs),
    publishAt: iso(e.publish_at),
    attachments: d.attachments.map(presentAttachment),
    ...(d.doneAtMs !== undefined ? { done: d.doneAtMs !== null, doneAt: iso(d.doneAtMs) } : {}),
    copiedFrom: e.copied_from,
    createdAt: iso(e.created_at),
    updatedAt: iso(e.updated_at),
  };
}

/** A line of "Aujourd'hui": work due, nothing personal (the page is shared by a class). */
export function presentDue(d: DueView) {
  return {
    id: d.id, title: d.title, date: d.on_date, dueAt: iso(d.due_at), estimatedMinutes: d.estimated_minutes, onlineHandin: d.online_handin === 1,
    subject: d.subject_label, audience: d.audience_name, url: `/api/v1/homework/${d.id}`,
  };
}

export function presentPupil(p: PupilRow) {
  return { id: p.id, firstName: p.first_name, lastName: p.last_name };
}

function presentHandinFile(f: HandinFileRow) {
  return { id: f.id, fileName: f.file_name, sizeBytes: f.size_bytes, sha256: f.blob_sha256, contentType: f.content_type, url: `/api/v1/handins/${f.handin_id}/files/${f.id}` };
}

export function presentReceipt(r: Receipt) {
  const h = r.handin;
  return {
    id: h.id,
    entry: { id: r.entry.id, title: r.entry.title, subject: r.entry.subject_label, dueAt: iso(r.entry.due_at) },
    pupil: presentPupil(r.pupil),
    handedInAt: iso(h.submitted_at),
    late: h.late === 1,
    replacedAt: iso(h.superseded_at),
    text: h.text === null ? null : { content: h.text, characters: [...h.text].length, sha256: h.text_sha256 },
    files: r.files.map(presentHandinFile),
    totalBytes: r.files.reduce((s, f) => s + f.size_bytes, 0),
    receiptUrl: `/api/v1/handins/${h.id}/receipt`,
  };
}

export function presentFeedback(f: FeedbackRow) {
  return {
    comment: f.comment,
    returnedAt: iso(f.returned_at),
    file: f.blob_sha256 ? { fileName: f.file_name, sizeBytes: f.size_bytes, contentType: f.content_type, sha256: f.blob_sha256, url: `/api/v1/homework/${f.entry_id}/handins/${f.pupil_id}/feedback/file` } : null,
  };
}
