import type { Scope } from '../schools/index.js';

/**
 * Who may do what with notifications, in one place, tested as a matrix (notifications.test.ts).
 * A feed belongs to its recipient alone: nobody else — no teacher, no parent, no administrator —
 * reads or marks another person's notifications. Another person's notification and an unknown id
 * look the same (404).
 */
interface NotificationRef {
  recipient_id: string;
}

/** Read one's own feed and counts: any signed-in person still at the school. */
export function canUseFeed(a: Scope): boolean {
  return a.status !== 'departed';
}

/** Mark a notification read: its recipient. */
export function canMark(a: Scope, n: NotificationRef): boolean {
  return canUseFeed(a) && n.recipient_id === a.id;
}
