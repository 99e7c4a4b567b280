import { Type, type Static } from '@sinclair/typebox';

/** Request schemas of the notifications feed: every object closed, every string bounded. */
const Id = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' });

export const MAX_PAGE_SIZE = 50;
export const DEFAULT_PAGE_SIZE = 20;
/** Titles are cut to this (they are copies of a title kept by its module, for the feed's sentence). */
export const MAX_TITLE_CHARS = 200;
export const MAX_LINK_CHARS = 300;
/**
 * People one notification may reach: a whole collège's pupils and parents with room to spare. The
 * excess is dropped and logged (a feed entry is a pointer; the thing itself is in its module).
 */
export const MAX_RECIPIENTS_PER_CALL = 10_000;
/** The feed's writes carry a flag or an instant; anything larger is refused. */
export const NOTIFICATIONS_JSON_MAX_BYTES = 1024;

export const FeedQuery = Type.Object(
  {
    cursor: Type.Optional(Type.String({ pattern: '^\\d{1,15}~[A-Za-z0-9_-]{1,64}$', maxLength: 90 })),
    limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,3}$' })),
  },
  { additionalProperties: false },
);
export type FeedQuery = Static<typeof FeedQuery>;

export const NotificationParams = Type.Object({ notificationId: Id }, { additionalProperties: false });
export type NotificationParams = Static<typeof NotificationParams>;

/** Read, or unread again ("marquer comme non lu"). */
export const ReadBody = Type.Object({ read: Type.Boolean() }, { additionalProperties: false });
export type ReadBody = Static<typeof ReadBody>;

/**
 * "Tout marquer comme lu" up to what the person has seen: what arrived after the page was shown
 * stays unread (a notification pushed a second before the click is not lost unseen).
 */
export const ReadAllBody = Type.Object({ upTo: Type.String({ format: 'date-time', maxLength: 40 }) }, { additionalProperties: false });
export type ReadAllBody = Static<typeof ReadAllBody>;

export function pageSize(limit: string | undefined): number {
  const n = limit === undefined ? DEFAULT_PAGE_SIZE : Number(limit);
  return Math.min(MAX_PAGE_SIZE, Math.max(1, n));
}
