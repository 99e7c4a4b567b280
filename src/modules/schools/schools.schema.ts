import { Type, type Static } from '@sinclair/typebox';

const Id = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' });

export const SchoolParams = Type.Object({ schoolId: Id }, { additionalProperties: false });
export type SchoolParams = Static<typeof SchoolParams>;
export const ClassParams = Type.Object({ classId: Id }, { additionalProperties: false });
export type ClassParams = Static<typeof ClassParams>;
export const PersonParams = Type.Object({ personId: Id }, { additionalProperties: false });
export type PersonParams = Static<typeof PersonParams>;

export const ActivationCodesBody = Type.Object(
  {
    include: Type.Optional(Type.Union([Type.Literal('pupils'), Type.Literal('parents'), Type.Literal('both')])),
    /** By default only accounts not yet activated get a code; true also re-issues codes for active accounts. */
    includeActive: Type.Optional(Type.Boolean()),
    format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('csv'), Type.Literal('html')])),
  },
  { additionalProperties: false },
);
export type ActivationCodesBody = Static<typeof ActivationCodesBody>;

export const SMALL_BODY_BYTES = 2 * 1024;
