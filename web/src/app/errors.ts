import { ApiError } from '../api/client.js';
import { describeWait, hasMessage, type Lang, translate } from '../i18n/index.js';

/** MIN_PASSWORD_LENGTH of the server (identity.service.ts), for hints and local checks. */
export const MIN_PASSWORD_LENGTH = 8;

/**
 * A refusal as the person should read it: from the client's catalogue by the server's error id
 * (so it is in the interface language), else the server's own message, else a generic one.
 */
export function errorMessage(err: unknown, lang: Lang): string {
  if (!(err instanceof ApiError)) return translate(lang, 'error.unknown');
  if (err.kind === 'network') return translate(lang, 'error.network');
  const key = `error.${err.id}`;
  const wait = err.retryAfterSeconds !== undefined ? describeWait(err.retryAfterSeconds, lang) : '';
  if (hasMessage(key)) return translate(lang, key, { wait, seconds: Math.ceil(err.retryAfterSeconds ?? 0), min: MIN_PASSWORD_LENGTH });
  return err.serverMessage || translate(lang, 'error.unknown');
}
