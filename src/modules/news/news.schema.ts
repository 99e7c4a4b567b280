import { Type, type Static } from '@sinclair/typebox';

/** Request schemas of the actualités: every object closed, every string and list bounded. */
const Id = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' });
/** ISO instant with its zone. */
const Instant = Type.String({ format: 'date-time', maxLength: 40 });

export const MAX_HEADLINE_CHARS = 150;
/** Raw HTML accepted for sanitising; the sanitised result is bounded again. */
export const MAX_BODY_INPUT_CHARS = 30_000;
export const MAX_BODY_HTML_CHARS = 25_000;
export const NEWS_JSON_MAX_BYTES = 64 * 1024;
/** Pinned news per audience at once: a pin is for what matters most, not for everything. */
export const MAX_PINNED_PER_AUDIENCE = 3;
/** How far ahead a publication may be scheduled, and how long a news may stay up. */
export const MAX_SCHEDULE_AHEAD_MS = 365 * 24 * 3600_000;
export const MAX_WINDOW_MS = 365 * 24 * 3600_000;
/** People a publication notifies at most: a large lycée's pupils, parents and staff with room to spare. */
export const MAX_RECIPIENTS = 10_000;
export const MAX_PAGE_SIZE = 50;
export const DEFAULT_PAGE_SIZE = 20;
/** News shown on Aujourd'hui. */
export const TODAY_NEWS_COUNT = 5;

const Audience = Type.Object(
  { kind: Type.Union([Type.Literal('school'), Type.Literal('class'), Type.Literal('group')]), id: Id },
  { additionalProperties: false },
);

/** Absent or null: a draft; "now": published at once; an instant: scheduled. */
const PublishFrom = Type.Union([Type.Null(), Type.Literal('now'), Instant]);

const Editable = {
  headline: Type.String({ minLength: 1, maxLength: MAX_HEADLINE_CHARS }),
  bodyHtml: Type.String({ maxLength: MAX_BODY_INPUT_CHARS }),
  publishFrom: Type.Optional(PublishFrom),
  /** Absent or null: stays up until withdrawn. */
  publishUntil: Type.Optional(Type.Union([Type.Null(), Instant])),
  pinned: Type.Optional(Type.Boolean()),
  requiresAck: Type.Optional(Type.Boolean()),
};

export const CreateNewsBody = Type.Object({ audience: Audience, ...Editable }, { additionalProperties: false });
export type CreateNewsBody = Static<typeof CreateNewsBody>;

export const UpdateNewsBody = Type.Partial(Type.Object(Editable, { additionalProperties: false }), { additionalProperties: false });
export type UpdateNewsBody = Static<typeof UpdateNewsBody>;

export const NewsParams = Type.Object({ newsId: Id }, { additionalProperties: false });
export type NewsParams = Static<typeof NewsParams>;

export const AttachmentParams = Type.Object({ newsId: Id, attachmentId: Id }, { additionalProperties: false });
export type AttachmentParams = Static<typeof AttachmentParams>;

/** A few files (a letter, a form, a photo) per news: a news points at them, it is not a file share. */
export const MAX_ATTACHMENTS_PER_NEWS = 5;
export const MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024;

const Limit = Type.String({ pattern: '^[0-9]{1,3}$' });
const Offset = Type.String({ pattern: '^[0-9]{1,5}$' });

/** current: what is up now (readers); upcoming: drafts and scheduled; archive: expired and withdrawn (authors, staff). */
export const ListQuery = Type.Object(
  { view: Type.Optional(Type.Union([Type.Literal('current'), Type.Literal('upcoming'), Type.Literal('archive')])), offset: Type.Optional(Offset), limit: Type.Optional(Limit) },
  { additionalProperties: false },
);
export type ListQuery = Static<typeof ListQuery>;

export const AcksQuery = Type.Object(
  { state: Type.Optional(Type.Union([Type.Literal('all'), Type.Literal('done'), Type.Literal('pending')])), offset: Type.Optional(Offset), limit: Type.Optional(Limit) },
  { additionalProperties: false },
);
export type AcksQuery = Static<typeof AcksQuery>;

export function page(query: { offset?: string | undefined; limit?: string | undefined }): { offset: number; limit: number } {
  const limit = query.limit === undefined ? DEFAULT_PAGE_SIZE : Math.min(MAX_PAGE_SIZE, Math.max(1, Number(query.limit)));
  return { offset: Number(query.offset ?? 0), limit };
}
