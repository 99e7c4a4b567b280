import type { NotificationRow } from './notifications.repository.js';

/** A notification as clients see it (the feed, and the realtime push). */
export function presentNotification(n: NotificationRow) {
  return {
    id: n.id,
    kind: n.kind,
    title: n.title,
    link: n.link,
    subjectId: n.subject_id,
    at: new Date(n.visible_at).toISOString(),
    read: n.read_at !== null,
  };
}

export type NotificationView = ReturnType<typeof presentNotification>;

/** The realtime messages (see src/realtime/gateway.ts): what a person's channel carries. */
export const pushNotification = (n: NotificationRow): string => JSON.stringify({ type: 'notification', notification: presentNotification(n) });
export const pushUnread = (count: number): string => JSON.stringify({ type: 'unread', count });
