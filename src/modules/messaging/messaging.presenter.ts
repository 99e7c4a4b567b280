import type { MessageAttachmentRow, MessageSummary, PersonName } from './messaging.repository.js';
import type { ChosenRecipient, MessageDetail } from './messaging.service.js';

const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

function personName(p: { first_name: string | null; last_name: string | null; title: string | null } | undefined): string | null {
  return p?.last_name ? [p.title, p.first_name, p.last_name].filter(Boolean).join(' ') : null;
}

function senderOf(id: string, p: Pick<PersonName, 'first_name' | 'last_name' | 'title'> | undefined) {
  return { id, name: personName(p) };
}

function recipients(json: string) {
  return (JSON.parse(json) as ChosenRecipient[]).map((c) => ({ kind: c.kind, id: c.id, name: c.name, ...(c.audience ? { audience: c.audience } : {}) }));
}

export function presentAttachment(a: MessageAttachmentRow) {
  return { id: a.id, fileName: a.file_name, sizeBytes: a.size_bytes, contentType: a.content_type, sha256: a.blob_sha256, url: `/api/v1/messages/${a.message_id}/attachments/${a.id}` };
}

export function presentSummary(m: MessageSummary) {
  return {
    id: m.id,
    threadId: m.thread_id,
    from: senderOf(m.sender_id, { first_name: m.sender_first_name ?? '', last_name: m.sender_last_name ?? '', title: m.sender_title }),
    subject: m.subject,
    to: recipients(m.to_json),
    sentAt: iso(m.sent_at),
    updatedAt: iso(m.updated_at),
    read: m.read_at !== null,
    attachmentCount: m.attachment_count,
  };
}

/** A message as its sender or a recipient sees it. The list of every person reached is not shown: only what was chosen. */
export function presentMessage(d: MessageDetail, actorId: string) {
  const m = d.message;
  return {
    id: m.id,
    threadId: m.thread_id,
    inReplyTo: m.in_reply_to,
    from: senderOf(m.sender_id, d.sender),
    to: recipients(m.to_json),
    cc: recipients(m.cc_json),
    subject: m.subject,
    bodyHtml: m.body_html,
    state: m.sent_at === null ? 'draft' : 'sent',
    sentAt: iso(m.sent_at),
    updatedAt: iso(m.updated_at),
    read: d.delivery ? d.delivery.read_at !== null : true,
    attachments: d.attachments.map(presentAttachment),
    thread: d.thread.map((t) => ({ id: t.id, from: senderOf(t.sender_id, { first_name: t.sender_first_name ?? '', last_name: t.sender_last_name ?? '', title: t.sender_title }), subject: t.subject, sentAt: iso(t.sent_at), read: t.sender_id === actorId || t.read_at !== null })),
  };
}
