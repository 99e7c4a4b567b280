import { Type, type Static } from '@sinclair/typebox';

/** Request schemas: every object closed (unknown fields are an error), every string bounded. */
const Login = Type.String({ minLength: 1, maxLength: 128 });
/** Bounded in characters here, and in bytes (MAX_PASSWORD_BYTES) by the service before hashing. */
const Password = Type.String({ minLength: 1, maxLength: 256 });

export const LoginBody = Type.Object({ login: Login, password: Password, remember: Type.Optional(Type.Boolean()) }, { additionalProperties: false });
export type LoginBody = Static<typeof LoginBody>;

export const ActivateBody = Type.Object(
  { login: Login, code: Type.String({ minLength: 4, maxLength: 32 }), password: Password, remember: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);
export type ActivateBody = Static<typeof ActivateBody>;

export const ChangePasswordBody = Type.Object({ currentPassword: Password, newPassword: Password }, { additionalProperties: false });
export type ChangePasswordBody = Static<typeof ChangePasswordBody>;

export const SessionParams = Type.Object({ sessionId: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }) }, { additionalProperties: false });
export type SessionParams = Static<typeof SessionParams>;

/** Interface languages: French first, English second. */
export const LANGS = ['fr', 'en'] as const;
export type UiLang = (typeof LANGS)[number];
export const PreferencesBody = Type.Object({ lang: Type.Union(LANGS.map((l) => Type.Literal(l))) }, { additionalProperties: false });
export type PreferencesBody = Static<typeof PreferencesBody>;

/** Auth bodies are tiny; anything larger is refused before parsing. */
export const AUTH_MAX_BODY_BYTES = 4 * 1024;
