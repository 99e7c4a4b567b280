import type { Scope } from '../schools/index.js';

/**
 * Who may see and change a message, in one place, tested as a matrix (messaging.test.ts). Who may
 * write to whom is not decided here: it is the core's communication rules (`canWrite` of schools),
 * applied by the service to every recipient chosen. Unknown and forbidden look the same (404).
 */
export interface MessageRef {
  sender_id: string;
  sent_at: number | null;
  sender_deleted_at: number | null;
}

/** The actor's delivery of a message, when they are among its recipients. */
export interface DeliveryRef {
  deleted_at: number | null;
}

const active = (a: Scope) => a.status !== 'departed';

/** Read a message: its sender (until they delete their copy) or a recipient (until they delete theirs). Drafts: the sender only. */
export function canReadMessage(a: Scope, m: MessageRef, delivery: DeliveryRef | undefined): boolean {
  if (!active(a)) return false;
  if (m.sender_id === a.id && m.sender_deleted_at === null) return true;
  return m.sent_at !== null && delivery !== undefined && delivery.deleted_at === null;
}

/** Change, attach to, send or discard a draft: its author. */
export function canEditDraft(a: Scope, m: MessageRef): boolean {
  return active(a) && m.sender_id === a.id && m.sent_at === null && m.sender_deleted_at === null;
}

/** Mark read or unread: a recipient. */
export function canMarkRead(a: Scope, m: MessageRef, delivery: DeliveryRef | undefined): boolean {
  return active(a) && m.sent_at !== null && delivery !== undefined && delivery.deleted_at === null;
}
