import { Type, type Static } from '@sinclair/typebox';

/** An incident message is a sentence or two for the banner, not an article. */
export const MAX_INCIDENT_LENGTH = 500;

export const StatusBody = Type.Object(
  { incident: Type.Union([Type.String({ minLength: 1, maxLength: MAX_INCIDENT_LENGTH }), Type.Null()]), readOnly: Type.Boolean() },
  { additionalProperties: false },
);
export type StatusBody = Static<typeof StatusBody>;

export const STATUS_MAX_BODY_BYTES = 4 * 1024;
