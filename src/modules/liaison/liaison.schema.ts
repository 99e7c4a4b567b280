import { Type, type Static } from '@sinclair/typebox';

/** Request schemas of the carnet de liaison: every object closed, every string and list bounded. */
const Id = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' });

export const MAX_TITLE_CHARS = 200;
export const MAX_BODY_INPUT_CHARS = 30_000;
export const MAX_BODY_HTML_CHARS = 25_000;
export const LIAISON_JSON_MAX_BYTES = 64 * 1024;
/** Parent × pupil rows one note may create: a whole collège's families with room to spare. */
export const MAX_TARGETS = 3_000;
/** Reminders per note, and the least time between two: a reminder must stay a reminder, not a flood. */
export const MAX_REMINDERS = 3;
export const MIN_REMINDER_INTERVAL_MS = 24 * 3600_000;
export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 20;

export const CreateNoteBody = Type.Object(
  {
    audience: Type.Object(
      { kind: Type.Union([Type.Literal('pupil'), Type.Literal('class'), Type.Literal('group')]), id: Id },
      { additionalProperties: false },
    ),
    title: Type.String({ minLength: 1, maxLength: MAX_TITLE_CHARS }),
    bodyHtml: Type.String({ maxLength: MAX_BODY_INPUT_CHARS }),
  },
  { additionalProperties: false },
);
export type CreateNoteBody = Static<typeof CreateNoteBody>;

export const NoteParams = Type.Object({ noteId: Id }, { additionalProperties: false });
export type NoteParams = Static<typeof NoteParams>;

const Limit = Type.String({ pattern: '^[0-9]{1,3}$' });
const Cursor = Type.String({ pattern: '^\\d{1,15}~[A-Za-z0-9_-]{1,64}$', maxLength: 90 });
export const ListQuery = Type.Object(
  { toSign: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')])), cursor: Type.Optional(Cursor), limit: Type.Optional(Limit) },
  { additionalProperties: false },
);
export type ListQuery = Static<typeof ListQuery>;

export const PageQuery = Type.Object({ offset: Type.Optional(Type.String({ pattern: '^[0-9]{1,5}$' })), limit: Type.Optional(Limit) }, { additionalProperties: false });
export type PageQuery = Static<typeof PageQuery>;

export function pageSize(limit: string | undefined): number {
  const n = limit === undefined ? DEFAULT_PAGE_SIZE : Number(limit);
  return Math.min(MAX_PAGE_SIZE, Math.max(1, n));
}
