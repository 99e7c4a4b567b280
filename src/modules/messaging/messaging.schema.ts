import { Type, type Static } from '@sinclair/typebox';

/** Request schemas of the messagerie: every object closed, every string and list bounded. */
const Id = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' });
const Audience = Type.Union([Type.Literal('pupils'), Type.Literal('parents')]);

export const MAX_SUBJECT_CHARS = 200;
/** Raw HTML accepted for sanitising; the sanitised result is bounded again. */
export const MAX_BODY_INPUT_CHARS = 60_000;
export const MAX_BODY_HTML_CHARS = 50_000;
/** Recipients as chosen (people, classes, a school) in to + cc. */
export const MAX_CHOSEN_RECIPIENTS = 50;
/** People reached once classes and schools are expanded: a whole collège with room to spare. */
export const MAX_EXPANDED_RECIPIENTS = 3_000;
export const MAX_ATTACHMENTS_PER_MESSAGE = 5;
export const MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024;
export const MAX_ATTACHMENTS_TOTAL_BYTES = 20 * 1024 * 1024;
/** JSON bodies of this module (the largest is a message with its text). */
export const MESSAGING_JSON_MAX_BYTES = 128 * 1024;
export const MAX_PAGE_SIZE = 50;
export const DEFAULT_PAGE_SIZE = 20;
/** Messages of one conversation shown with a message. */
export const MAX_THREAD_MESSAGES = 100;
export const MAX_SEARCH_CHARS = 100;

export const RecipientRef = Type.Union([
  Type.Object({ kind: Type.Literal('person'), id: Id }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('class'), id: Id, audience: Audience }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('group'), id: Id, audience: Audience }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('school'), id: Id }, { additionalProperties: false }),
]);
export type RecipientRef = Static<typeof RecipientRef>;

const Recipients = Type.Array(RecipientRef, { maxItems: MAX_CHOSEN_RECIPIENTS });
const Subject = Type.String({ maxLength: MAX_SUBJECT_CHARS });
const Body = Type.String({ maxLength: MAX_BODY_INPUT_CHARS });

export const SendBody = Type.Object(
  { to: Recipients, cc: Type.Optional(Recipients), subject: Subject, bodyHtml: Body, replyTo: Type.Optional(Id) },
  { additionalProperties: false },
);
export type SendBody = Static<typeof SendBody>;

export const DraftBody = Type.Object(
  { to: Type.Optional(Recipients), cc: Type.Optional(Recipients), subject: Type.Optional(Subject), bodyHtml: Type.Optional(Body), replyTo: Type.Optional(Id) },
  { additionalProperties: false },
);
export type DraftBody = Static<typeof DraftBody>;

export const DraftPatch = Type.Object(
  { to: Type.Optional(Recipients), cc: Type.Optional(Recipients), subject: Type.Optional(Subject), bodyHtml: Type.Optional(Body) },
  { additionalProperties: false, minProperties: 1 },
);
export type DraftPatch = Static<typeof DraftPatch>;

export const ReadBody = Type.Object({ read: Type.Boolean() }, { additionalProperties: false });
export type ReadBody = Static<typeof ReadBody>;

export const MessageParams = Type.Object({ messageId: Id }, { additionalProperties: false });
export type MessageParams = Static<typeof MessageParams>;
export const AttachmentParams = Type.Object({ messageId: Id, attachmentId: Id }, { additionalProperties: false });
export type AttachmentParams = Static<typeof AttachmentParams>;

/** `cursor` is what the previous page returned as `nextCursor`: `<epoch ms>~<id>`. */
const Cursor = Type.String({ pattern: '^\\d{1,15}~[A-Za-z0-9_-]{1,64}$', maxLength: 90 });
const Limit = Type.String({ pattern: '^[0-9]{1,3}$' });
const Box = Type.Union([Type.Literal('inbox'), Type.Literal('sent'), Type.Literal('drafts')]);

export const ListQuery = Type.Object({ box: Type.Optional(Box), cursor: Type.Optional(Cursor), limit: Type.Optional(Limit) }, { additionalProperties: false });
export type ListQuery = Static<typeof ListQuery>;

export const SearchQuery = Type.Object(
  { q: Type.String({ minLength: 2, maxLength: MAX_SEARCH_CHARS }), box: Type.Optional(Box), cursor: Type.Optional(Cursor), limit: Type.Optional(Limit) },
  { additionalProperties: false },
);
export type SearchQuery = Static<typeof SearchQuery>;

/** Directory cursor: the last name and id of the last person scanned. */
const DirectoryCursor = Type.String({ pattern: '^[^~]{0,200}~[A-Za-z0-9_-]{1,64}$', maxLength: 270 });
export const DirectoryQuery = Type.Object(
  { q: Type.Optional(Type.String({ maxLength: MAX_SEARCH_CHARS })), cursor: Type.Optional(DirectoryCursor), limit: Type.Optional(Limit) },
  { additionalProperties: false },
);
export type DirectoryQuery = Static<typeof DirectoryQuery>;

export function pageSize(limit: string | undefined): number {
  const n = limit === undefined ? DEFAULT_PAGE_SIZE : Number(limit);
  return Math.min(MAX_PAGE_SIZE, Math.max(1, n));
}
