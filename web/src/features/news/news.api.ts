import { api } from '../../api/client.js';
import type { Attachment, NewsItem } from '../../api/types.js';

/** A news item opened on its own: its text, and what the reader or the author may do with it. */
export interface NewsDetail extends NewsItem {
  bodyHtml: string;
  createdAt: string;
  withdrawnAt: string | null;
  /** The reader may edit, publish and withdraw it (its author, the school's staff). */
  canManage: boolean;
  attachments: Omit<Attachment, 'sha256'>[];
  /** Present when it is the reader's to acknowledge: null until they do. */
  acknowledgedAt?: string | null;
  /** For its author and the school's staff, when it asks for acknowledgement. */
  acks?: { done: number; total: number };
}

export interface AckRow {
  person: { id: string; name: string; profile: string };
  acknowledgedAt: string | null;
}

export type NewsView = 'current' | 'upcoming' | 'archive';
export type AckFilter = 'all' | 'done' | 'pending';

const one = (id: string) => `/api/v1/news/${encodeURIComponent(id)}`;

export const listNews = (view: NewsView, offset = 0) => api<{ news: NewsItem[]; nextOffset: number | null }>('GET', `/api/v1/news?view=${view}&offset=${offset}&limit=20`);
export const getNews = (id: string) => api<{ news: NewsDetail }>('GET', one(id));
export const createNews = (body: object) => api<{ news: NewsDetail }>('POST', '/api/v1/news', { body });
export const updateNews = (id: string, body: object) => api<{ news: NewsDetail }>('PATCH', one(id), { body });
export const acknowledgePath = (id: string) => `${one(id)}/acknowledge`;
export const attachmentsPath = (id: string) => `${one(id)}/attachments`;
export const withdrawNews = (id: string) => api<undefined>('DELETE', one(id));
export const listAcks = (id: string, state: AckFilter, offset: number) =>
  api<{ done: number; total: number; rows: AckRow[]; nextOffset: number | null }>('GET', `${one(id)}/acknowledgements?state=${state}&offset=${offset}&limit=50`);

/** The audiences a writer may choose: each school of theirs (staff), its classes and groups (all for staff, the taught ones for teachers). */
export async function writerAudiences(staff: boolean): Promise<{ value: string; label: string }[]> {
  const { data } = await api<{ schools: { id: string; name: string }[] }>('GET', '/api/v1/schools');
  const out: { value: string; label: string }[] = [];
  for (const school of data.schools.slice(0, 5)) {
    if (staff) out.push({ value: `school:${school.id}`, label: school.name });
    const { data: c } = await api<{ classes: { id: string; name: string }[]; groups: { id: string; name: string }[] }>('GET', `/api/v1/schools/${encodeURIComponent(school.id)}/classes`);
    for (const k of c.classes) out.push({ value: `class:${k.id}`, label: k.name });
    for (const g of c.groups) out.push({ value: `group:${g.id}`, label: g.name });
  }
  return out;
}
