import { api } from '../../api/client.js';
import type { Notification } from './live.js';

export interface FeedPage {
  notifications: Notification[];
  nextCursor: string | null;
}

export const PAGE_SIZE = 20;

export async function loadFeed(cursor?: string | null): Promise<FeedPage> {
  const query = `?limit=${PAGE_SIZE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
  return (await api<FeedPage>('GET', `/api/v1/me/notifications${query}`)).data;
}

export async function markRead(id: string, read: boolean): Promise<number> {
  return (await api<{ unread: number }>('POST', `/api/v1/me/notifications/${encodeURIComponent(id)}/read`, { body: { read } })).data.unread;
}

/** Marks read what the person has seen: everything up to the newest item shown. */
export async function markAllRead(upTo: string): Promise<number> {
  return (await api<{ unread: number }>('POST', '/api/v1/me/notifications/read-all', { body: { upTo } })).data.unread;
}

/** The feed shown: pushed items first (newest), then the loaded pages, each id once. */
export function mergeFeed(pushed: readonly Notification[], loaded: readonly Notification[]): Notification[] {
  const seen = new Set<string>();
  const out: Notification[] = [];
  for (const n of [...pushed, ...loaded]) {
    if (seen.has(n.id)) continue;
    seen.add(n.id);
    out.push(n);
  }
  return out.sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : a.id < b.id ? 1 : -1));
}
