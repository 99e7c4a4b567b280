import { api } from '../../api/client.js';
import type { Directory, LiaisonNote, LiaisonSignatures } from '../../api/types.js';
import { SIGNATURES_PAGE_SIZE, type LiaisonAudience } from './liaison.state.js';

/** The carnet de liaison API (src/modules/liaison/liaison.routes.ts). */
type Page = { notes: LiaisonNote[]; nextCursor: string | null };

export function listNotes(cursor?: string) {
  const q = new URLSearchParams({ limit: '50' });
  if (cursor) q.set('cursor', cursor);
  return api<Page>('GET', `/api/v1/liaison?${q}`);
}
export const getNote = (id: string) => api<{ note: LiaisonNote }>('GET', `/api/v1/liaison/${encodeURIComponent(id)}`);
export const signatures = (id: string, offset: number) =>
  api<LiaisonSignatures>('GET', `/api/v1/liaison/${encodeURIComponent(id)}/signatures?offset=${offset}&limit=${SIGNATURES_PAGE_SIZE}`);
export const createNote = (audience: LiaisonAudience, title: string, bodyHtml: string, idempotencyKey: string) =>
  api<{ note: LiaisonNote }>('POST', '/api/v1/liaison', { body: { audience: { kind: audience.kind, id: audience.id }, title, bodyHtml }, idempotencyKey });
export const remind = (id: string) => api<{ reminded: number; remindersLeft: number }>('POST', `/api/v1/liaison/${encodeURIComponent(id)}/reminders`, { idempotencyKey: crypto.randomUUID() });
export const withdraw = (id: string) => api<void>('DELETE', `/api/v1/liaison/${encodeURIComponent(id)}`, { idempotencyKey: crypto.randomUUID() });
/** Who a note may go to: the messagerie's directory, filtered by the same communication rules. */
export const directory = (q: string) => api<Directory>('GET', `/api/v1/messages/directory?limit=50${q.trim() ? `&q=${encodeURIComponent(q.trim().slice(0, 100))}` : ''}`);
export const signPath = (id: string) => `/api/v1/liaison/${encodeURIComponent(id)}/sign`;
