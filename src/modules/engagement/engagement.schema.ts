import { Type, type Static } from '@sinclair/typebox';
import { THRESHOLD_BOUNDS } from './engagement.rules.js';

/** Request schemas of the suivi: every object closed, every string bounded. */
const Id = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' });

export const ENGAGEMENT_JSON_MAX_BYTES = 1024;

export const ClassParams = Type.Object({ classId: Id }, { additionalProperties: false });
export type ClassParams = Static<typeof ClassParams>;
export const SchoolParams = Type.Object({ schoolId: Id }, { additionalProperties: false });
export type SchoolParams = Static<typeof SchoolParams>;
export const PupilParams = Type.Object({ pupilId: Id }, { additionalProperties: false });
export type PupilParams = Static<typeof PupilParams>;

export const ClassQuery = Type.Object({ period: Type.Optional(Type.Union([Type.Literal('today'), Type.Literal('week')])) }, { additionalProperties: false });
export type ClassQuery = Static<typeof ClassQuery>;

export const AccessLogQuery = Type.Object(
  {
    before: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$' })),
    limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,3}$' })),
  },
  { additionalProperties: false },
);
export type AccessLogQuery = Static<typeof AccessLogQuery>;

const bounded = (k: keyof typeof THRESHOLD_BOUNDS) => Type.Integer({ minimum: THRESHOLD_BOUNDS[k].min, maximum: THRESHOLD_BOUNDS[k].max });
export const SettingsBody = Type.Object(
  {
    inactiveSchoolDays: bounded('inactiveSchoolDays'),
    missingWorksPerWeek: bounded('missingWorksPerWeek'),
    missedClasses: bounded('missedClasses'),
    digestEnabled: Type.Boolean(),
    /** Paris time of the CPE's digest, minutes after midnight: between 12:00 and 20:00 (after classes begin, before the evening). */
    digestMinute: Type.Integer({ minimum: 12 * 60, maximum: 20 * 60 }),
  },
  { additionalProperties: false },
);
export type SettingsBody = Static<typeof SettingsBody>;
