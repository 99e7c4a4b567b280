import { Type, type Static } from '@sinclair/typebox';

/** Request schemas: every object closed, every string and list bounded. */
const Id = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' });
const DateString = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', maxLength: 10 });
const TimeString = Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d$', maxLength: 5 });
/** ISO instant (with its zone) or "now". */
const PublishAt = Type.Union([Type.Null(), Type.Literal('now'), Type.String({ format: 'date-time', maxLength: 40 })]);

/** Raw HTML accepted for sanitising; the sanitised result is bounded again (MAX_BODY_HTML_CHARS). */
export const MAX_BODY_INPUT_CHARS = 60_000;
export const MAX_BODY_HTML_CHARS = 50_000;
export const MAX_TITLE_CHARS = 200;
export const MAX_LINKS = 10;
export const MAX_ATTACHMENTS_PER_ENTRY = 10;
export const MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024;
/** JSON bodies of this module (the largest is an entry with its text). */
export const HOMEWORK_JSON_MAX_BYTES = 128 * 1024;
export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 50;

const Link = Type.Object(
  { url: Type.String({ minLength: 1, maxLength: 2000 }), label: Type.Optional(Type.String({ maxLength: 200 })) },
  { additionalProperties: false },
);

const EntryFields = {
  subjectId: Type.Optional(Type.Union([Id, Type.Null()])),
  title: Type.String({ minLength: 1, maxLength: MAX_TITLE_CHARS }),
  bodyHtml: Type.String({ maxLength: MAX_BODY_INPUT_CHARS }),
  links: Type.Optional(Type.Array(Link, { maxItems: MAX_LINKS })),
  /** Lesson date (séance) or due date (travail). */
  date: DateString,
  /** Deadline on the due date (travail), Paris time; default 08:00. */
  dueTime: Type.Optional(TimeString),
  estimatedMinutes: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 600 }), Type.Null()])),
  onlineHandin: Type.Optional(Type.Boolean()),
  /** Absent or null: a draft; "now": published; an instant: scheduled. */
  publishAt: Type.Optional(PublishAt),
};

export const CreateEntryBody = Type.Object(
  {
    kind: Type.Union([Type.Literal('seance'), Type.Literal('travail')]),
    classId: Type.Optional(Id),
    groupId: Type.Optional(Id),
    ...EntryFields,
  },
  { additionalProperties: false },
);
export type CreateEntryBody = Static<typeof CreateEntryBody>;

export const UpdateEntryBody = Type.Object(
  {
    subjectId: EntryFields.subjectId,
    title: Type.Optional(EntryFields.title),
    bodyHtml: Type.Optional(EntryFields.bodyHtml),
    links: EntryFields.links,
    date: Type.Optional(DateString),
    dueTime: EntryFields.dueTime,
    estimatedMinutes: EntryFields.estimatedMinutes,
    onlineHandin: EntryFields.onlineHandin,
    publishAt: EntryFields.publishAt,
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateEntryBody = Static<typeof UpdateEntryBody>;

export const PublishBody = Type.Object({ at: Type.Optional(Type.String({ format: 'date-time', maxLength: 40 })) }, { additionalProperties: false });
export type PublishBody = Static<typeof PublishBody>;

export const CopyBody = Type.Object(
  { classId: Type.Optional(Id), groupId: Type.Optional(Id), date: Type.Optional(DateString), publishAt: Type.Optional(PublishAt) },
  { additionalProperties: false },
);
export type CopyBody = Static<typeof CopyBody>;

export const DoneBody = Type.Object({ done: Type.Boolean() }, { additionalProperties: false });
export type DoneBody = Static<typeof DoneBody>;

export const VisaBody = Type.Object({ comment: Type.Optional(Type.String({ maxLength: 1000 })) }, { additionalProperties: false });
export type VisaBody = Static<typeof VisaBody>;

export const EntryParams = Type.Object({ entryId: Id }, { additionalProperties: false });
export type EntryParams = Static<typeof EntryParams>;
export const AttachmentParams = Type.Object({ entryId: Id, attachmentId: Id }, { additionalProperties: false });
export type AttachmentParams = Static<typeof AttachmentParams>;
export const TeacherParams = Type.Object({ teacherId: Id }, { additionalProperties: false });
export type TeacherParams = Static<typeof TeacherParams>;

/** `cursor` is what the previous page returned as `nextCursor`. */
const Cursor = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}~[A-Za-z0-9_-]{1,64}$', maxLength: 80 });
const Limit = Type.String({ pattern: '^[0-9]{1,3}$' });

export const ListQuery = Type.Object(
  {
    classId: Type.Optional(Id),
    groupId: Type.Optional(Id),
    pupilId: Type.Optional(Id),
    subjectId: Type.Optional(Id),
    kind: Type.Optional(Type.Union([Type.Literal('seance'), Type.Literal('travail')])),
    from: Type.Optional(DateString),
    to: Type.Optional(DateString),
    cursor: Type.Optional(Cursor),
    limit: Type.Optional(Limit),
  },
  { additionalProperties: false },
);
export type ListQuery = Static<typeof ListQuery>;

export const CahierQuery = Type.Object(
  { from: Type.Optional(DateString), to: Type.Optional(DateString), cursor: Type.Optional(Cursor), limit: Type.Optional(Limit) },
  { additionalProperties: false },
);
export type CahierQuery = Static<typeof CahierQuery>;

/** Hand-ins. */
export const MAX_HANDIN_FILES = 10;
export const MAX_HANDIN_FILE_BYTES = 20 * 1024 * 1024;
export const MAX_HANDIN_TOTAL_BYTES = 50 * 1024 * 1024;
export const MAX_HANDIN_TEXT_BYTES = 50_000;
export const MAX_FEEDBACK_COMMENT_BYTES = 10_000;
export const MAX_FEEDBACK_FILE_BYTES = 20 * 1024 * 1024;
/** Zip of all hand-ins of one entry. */
export const MAX_ZIP_BYTES = 2 * 1024 * 1024 * 1024;

export const IdempotencyKey = Type.String({ minLength: 8, maxLength: 128, pattern: '^[A-Za-z0-9_.:-]+$' });
export const HandinHeaders = Type.Object({ 'idempotency-key': Type.Optional(IdempotencyKey) });
export type HandinHeaders = Static<typeof HandinHeaders>;

export const HandinParams = Type.Object({ handinId: Id }, { additionalProperties: false });
export type HandinParams = Static<typeof HandinParams>;
export const HandinFileParams = Type.Object({ handinId: Id, fileId: Id }, { additionalProperties: false });
export type HandinFileParams = Static<typeof HandinFileParams>;
export const EntryPupilParams = Type.Object({ entryId: Id, pupilId: Id }, { additionalProperties: false });
export type EntryPupilParams = Static<typeof EntryPupilParams>;
export const PageQuery = Type.Object({ offset: Type.Optional(Type.String({ pattern: '^[0-9]{1,5}$' })), limit: Type.Optional(Limit) }, { additionalProperties: false });
export type PageQuery = Static<typeof PageQuery>;
