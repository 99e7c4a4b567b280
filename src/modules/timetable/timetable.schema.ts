import { Type, type Static } from '@sinclair/typebox';

const Id = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' });
const DateString = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', maxLength: 10 });

export const WeekQuery = Type.Object(
  {
    classId: Type.Optional(Id),
    groupId: Type.Optional(Id),
    teacherId: Type.Optional(Id),
    pupilId: Type.Optional(Id),
    schoolId: Type.Optional(Id),
    room: Type.Optional(Type.String({ minLength: 1, maxLength: 40 })),
    /** Any day of the week wanted (default: this week). */
    week: Type.Optional(DateString),
  },
  { additionalProperties: false },
);
export type WeekQuery = Static<typeof WeekQuery>;

export const MyWeekQuery = Type.Object({ week: Type.Optional(DateString) }, { additionalProperties: false });
export type MyWeekQuery = Static<typeof MyWeekQuery>;

export const SchoolParams = Type.Object({ schoolId: Id }, { additionalProperties: false });
export type SchoolParams = Static<typeof SchoolParams>;
export const SlotParams = Type.Object({ slotId: Id }, { additionalProperties: false });
export type SlotParams = Static<typeof SlotParams>;

export const MAX_HOLIDAYS = 40;
export const CalendarBody = Type.Object(
  {
    yearStart: DateString,
    yearEnd: DateString,
    weekAMonday: DateString,
    holidays: Type.Array(Type.Object({ label: Type.String({ minLength: 1, maxLength: 100 }), firstDay: DateString, lastDay: DateString }, { additionalProperties: false }), { maxItems: MAX_HOLIDAYS }),
  },
  { additionalProperties: false },
);
export type CalendarBody = Static<typeof CalendarBody>;

export const ChangeBody = Type.Object(
  {
    change: Type.Union([Type.Literal('annule'), Type.Literal('deplace'), Type.Literal('remplace'), Type.Literal('modifie'), Type.Literal('retabli')]),
    startsAt: Type.Optional(Type.String({ format: 'date-time', maxLength: 40 })),
    endsAt: Type.Optional(Type.String({ format: 'date-time', maxLength: 40 })),
    teacherId: Type.Optional(Id),
    room: Type.Optional(Type.String({ minLength: 1, maxLength: 40 })),
    note: Type.Optional(Type.String({ maxLength: 300 })),
  },
  { additionalProperties: false },
);
export type ChangeBody = Static<typeof ChangeBody>;

export const ImportQuery = Type.Object({ classId: Type.Optional(Id), groupId: Type.Optional(Id) }, { additionalProperties: false });
export type ImportQuery = Static<typeof ImportQuery>;

export const FeedParams = Type.Object({ token: Type.String({ minLength: 20, maxLength: 100, pattern: '^[A-Za-z0-9_-]+(\\.ics)?$' }) }, { additionalProperties: false });
export type FeedParams = Static<typeof FeedParams>;

/** A timetable file (CSV or iCalendar) is at most this large. */
export const MAX_IMPORT_BYTES = 2 * 1024 * 1024;
export const TIMETABLE_JSON_MAX_BYTES = 16 * 1024;
