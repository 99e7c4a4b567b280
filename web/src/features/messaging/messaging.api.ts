import { api } from '../../api/client.js';
import type { Attachment, Directory, Message, MessageBox, MessageSummary } from '../../api/types.js';
import { refsOf, type Choice } from './messaging.state.js';

/** The messagerie API (src/modules/messaging/messaging.routes.ts). */
const PAGE = 20;
type Page = { messages: MessageSummary[]; nextCursor: string | null };

export function listBox(box: MessageBox, cursor?: string, search?: string) {
  const q = new URLSearchParams({ box, limit: String(PAGE) });
  if (cursor) q.set('cursor', cursor);
  if (search) q.set('q', search);
  return api<Page>('GET', `/api/v1/messages${search ? '/search' : ''}?${q}`);
}
export const unreadCount = () => api<{ unread: number }>('GET', '/api/v1/messages/unread');
export const getMessage = (id: string) => api<{ message: Message }>('GET', `/api/v1/messages/${encodeURIComponent(id)}`);

export function searchDirectory(q: string, signal?: AbortSignal) {
  const query = new URLSearchParams({ limit: '20' });
  if (q.trim()) query.set('q', q.trim().slice(0, 100));
  return api<Directory>('GET', `/api/v1/messages/directory?${query}`, signal ? { signal } : {});
}

export interface Outgoing {
  to: Choice[];
  cc: Choice[];
  subject: string;
  bodyHtml: string;
  replyTo?: string;
}
const body = (m: Outgoing) => ({ to: refsOf(m.to), cc: refsOf(m.cc), subject: m.subject, bodyHtml: m.bodyHtml });

/** One key per message written, kept through retries: a send whose answer was lost is not sent twice. */
export const sendMessage = (m: Outgoing, idempotencyKey: string) =>
  api<{ message: Message }>('POST', '/api/v1/messages', { body: { ...body(m), ...(m.replyTo ? { replyTo: m.replyTo } : {}) }, idempotencyKey });
export const createDraft = (m: Outgoing, idempotencyKey: string) =>
  api<{ message: Message }>('POST', '/api/v1/messages/drafts', { body: { ...body(m), ...(m.replyTo ? { replyTo: m.replyTo } : {}) }, idempotencyKey });
export const updateDraft = (id: string, m: Outgoing) => api<{ message: Message }>('PATCH', `/api/v1/messages/drafts/${encodeURIComponent(id)}`, { body: body(m) });
export const sendDraft = (id: string, idempotencyKey: string) => api<{ message: Message }>('POST', `/api/v1/messages/drafts/${encodeURIComponent(id)}/send`, { idempotencyKey });
export const removeAttachment = (messageId: string, a: Pick<Attachment, 'id'>) => api<void>('DELETE', `/api/v1/messages/drafts/${encodeURIComponent(messageId)}/attachments/${encodeURIComponent(a.id)}`);
export const attachmentPath = (messageId: string) => `/api/v1/messages/drafts/${encodeURIComponent(messageId)}/attachments`;
