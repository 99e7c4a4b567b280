import { FALLBACK_HEADER, FALLBACK_RETRY_AFTER_HEADER, STORED_AT_HEADER, type FallbackReason } from '../offline/cache-names.js';
import { parseRetryAfter } from './backoff.js';

/** An answer taken from the device's cache because the server could not give a fresh one. */
export interface Stale {
  atMs: number;
  reason: FallbackReason;
  retryAfterSeconds: number | undefined;
}

export interface ApiOk<T> {
  data: T;
  stale: Stale | undefined;
}

/**
 * A refused or failed request. `kind: 'network'` means no answer at all (offline, server down);
 * `'http'` carries the server's error id from the catalogue, its message and its Retry-After.
 */
export class ApiError extends Error {
  constructor(
    readonly kind: 'network' | 'http',
    readonly status: number,
    readonly id: string,
    readonly serverMessage: string,
    readonly retryAfterSeconds: number | undefined,
    readonly details: Record<string, unknown> = {},
  ) {
    super(`${id} (${status})`);
    this.name = 'ApiError';
  }

  /** Worth retrying later with the same request: no answer, overload, throttling, a key in flight. */
  get transient(): boolean {
    return this.kind === 'network' || this.status === 408 || this.status === 409 || this.status === 429 || this.status >= 500;
  }
}

interface Session {
  csrfToken: string | undefined;
  lang: string;
}
const session: Session = { csrfToken: undefined, lang: 'fr' };

/** The CSRF token of the current session (from login, activation or GET /me); writes need it. */
export function setCsrfToken(token: string | undefined): void {
  session.csrfToken = token;
}
export function csrfToken(): string | undefined {
  return session.csrfToken;
}
/** Server messages come in the interface language. */
export function setApiLang(lang: string): void {
  session.lang = lang;
}

export interface RequestOptions {
  body?: unknown;
  idempotencyKey?: string;
  /** For a write sent later than it was made (outbox): the token of the session it was made in. */
  csrfToken?: string;
  signal?: AbortSignal;
  /** Extra request headers (the login's proof-of-work solution). */
  headers?: Record<string, string>;
}

export async function api<T>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, options: RequestOptions = {}): Promise<ApiOk<T>> {
  const headers: Record<string, string> = { ...options.headers, accept: 'application/json', 'accept-language': session.lang };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const csrf = options.csrfToken ?? session.csrfToken;
  if (method !== 'GET' && csrf) headers['x-csrf-token'] = csrf;
  if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError('network', 0, 'network', '', undefined);
  }
  const now = Date.now();
  if (!res.ok) {
    const body = (await res.json().catch(() => undefined)) as { error?: { id?: string; message?: string; retryAfterSeconds?: number; details?: Record<string, unknown> } } | undefined;
    const retryAfter = parseRetryAfter(res.headers.get('retry-after'), now) ?? body?.error?.retryAfterSeconds;
    throw new ApiError('http', res.status, body?.error?.id ?? (res.status >= 500 ? 'server.unavailable' : 'unknown'), body?.error?.message ?? '', retryAfter, body?.error?.details ?? {});
  }
  const data = (res.status === 204 ? undefined : await res.json()) as T;
  const reason = res.headers.get(FALLBACK_HEADER);
  const stale =
    reason === 'offline' || reason === 'busy'
      ? { atMs: Number(res.headers.get(STORED_AT_HEADER)) || now, reason: reason as FallbackReason, retryAfterSeconds: parseRetryAfter(res.headers.get(FALLBACK_RETRY_AFTER_HEADER), now) }
      : undefined;
  return { data, stale };
}
