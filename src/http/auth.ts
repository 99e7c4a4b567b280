import '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../platform/errors.js';
import { safeEqual } from '../platform/ids.js';
import type { Authenticated, IdentityService, NewSession } from '../modules/identity/index.js';

export const SESSION_COOKIE = 'preau_session';
export const SECURE_SESSION_COOKIE = '__Host-preau_session';
export const CSRF_HEADER = 'x-csrf-token';

declare module 'fastify' {
  interface FastifyRequest {
    auth: Authenticated | null;
  }
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export interface AuthOptions {
  identity: IdentityService;
  publicUrl: string;
  /**
   * Called on every authenticated request (synchronous, must be cheap): the suivi's "connected today"
   * signal, a Map update in the batched recorder.
   */
  onAuthenticated?: (personId: string) => void;
}

/**
 * Cookie sessions. `authenticate` is the pipeline step that resolves the session; on a
 * cookie-authenticated write it also checks the CSRF token (an HMAC of the session id, given to
 * the client with its session) and the Origin. Fails closed: no valid session, no access.
 */
export class HttpAuth {
  readonly https: boolean;
  readonly cookieName: string;
  private readonly publicOrigin: string;

  constructor(private readonly options: AuthOptions) {
    this.https = options.publicUrl.startsWith('https:');
    this.cookieName = this.https ? SECURE_SESSION_COOKIE : SESSION_COOKIE;
    this.publicOrigin = new URL(options.publicUrl).origin;
  }

  install(app: FastifyInstance): void {
    app.decorateRequest('auth', null);
  }

  /**
   * onRequest step for routes that need a signed-in user. A callback hook with a synchronous path
   * for cached sessions: resuming a session at 8:30 costs no promise and no database round-trip.
   */
  authenticate = (request: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void): void => {
    const token = request.cookies[this.cookieName];
    if (!token) return done(new AppError('auth.required'));
    const cached = this.options.identity.resumeCached(token);
    if (cached) return done(this.admit(request, cached));
    this.options.identity.resume(token).then(
      (auth) => done(auth ? this.admit(request, auth) : new AppError('auth.required')),
      (err: unknown) => done(err instanceof Error ? err : new Error(String(err))),
    );
  };

  /**
   * For connections that outlive their request (a WebSocket): asks later whether the session that
   * opened it is still the one signed in (not logged out, revoked or expired since).
   */
  sessionCheck(request: FastifyRequest): () => Promise<boolean> {
    const token = request.cookies[this.cookieName];
    const sessionId = request.auth?.session.id;
    return async () => token !== undefined && (await this.options.identity.resume(token))?.session.id === sessionId;
  }

  /** The request carries a session cookie (valid or not): for the edge's rate limits. */
  hasSessionCookie = (request: FastifyRequest): boolean => request.cookies[this.cookieName] !== undefined;

  /** The request's session is one this node resumed recently (synchronous, no database): for the edge. */
  isCachedSession = (request: FastifyRequest): boolean => {
    const token = request.cookies[this.cookieName];
    return token !== undefined && this.options.identity.resumeCached(token) !== undefined;
  };

  /** Attaches the session; on a write, checks Origin and the CSRF token. Returns the refusal, if any. */
  private admit(request: FastifyRequest, auth: Authenticated): AppError | undefined {
    request.auth = auth;
    this.options.onAuthenticated?.(auth.person.id);
    if (!UNSAFE.has(request.method)) return undefined;
    try {
      this.assertSameOrigin(request);
    } catch (err) {
      return err as AppError;
    }
    const sent = request.headers[CSRF_HEADER];
    if (typeof sent !== 'string' || !safeEqual(sent, this.options.identity.csrfTokenFor(auth.session.id))) return new AppError('auth.csrf');
    return undefined;
  }

  /** For writes without a session yet (login, activation): refuse other sites' pages. */
  sameOrigin = async (request: FastifyRequest): Promise<void> => {
    this.assertSameOrigin(request);
  };

  setSessionCookie(reply: FastifyReply, session: NewSession): void {
    reply.setCookie(this.cookieName, session.token, {
      path: '/',
      httpOnly: true,
      secure: this.https,
      sameSite: 'lax',
      ...(session.maxAgeSeconds !== undefined ? { maxAge: session.maxAgeSeconds } : {}),
    });
  }

  clearSessionCookie(reply: FastifyReply): void {
    reply.clearCookie(this.cookieName, { path: '/', httpOnly: true, secure: this.https, sameSite: 'lax' });
  }

  private assertSameOrigin(request: FastifyRequest): void {
    const origin = request.headers.origin;
    if (origin === undefined) return; // Non-browser clients; browsers always send Origin on cross-site writes.
    const host = request.headers.host;
    const selfOrigins = [this.publicOrigin, ...(host ? [`http://${host}`, `https://${host}`] : [])];
    if (!selfOrigins.includes(origin)) throw new AppError('request.cross_origin');
  }
}
