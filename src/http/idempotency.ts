import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../platform/clock.js';
import { AppError } from '../platform/errors.js';
import type { Logger } from '../platform/logger.js';
import type { IdempotencyRepository, IdempotencyRow } from './idempotency.repository.js';

export const IDEMPOTENCY_HEADER = 'idempotency-key';
/** Set on an answer that is the stored first answer, not a new application of the write. */
export const IDEMPOTENT_REPLAY_HEADER = 'idempotent-replayed';
/** How long a first answer is kept: a phone offline for a school day and a night still delivers once. */
export const IDEMPOTENCY_TTL_MS = 24 * 3_600_000;
export const MAX_IDEMPOTENCY_KEY_LENGTH = 128;
/** Answers to writes are small; a larger one is not kept (the write is then not protected against a retry, and that is logged). */
export const MAX_STORED_BODY_BYTES = 64 * 1024;
/**
 * A claim is a lease: it ends `leaseMs` after it was made or last renewed, and its node renews it
 * every `renewEveryMs` while the request runs. A node that dies (a burnt site, SIGKILL) stops
 * renewing, and its client's retry takes the key over once the lease lapsed, on any node. Defaults
 * (config: PREAU_IDEMPOTENCY_LEASE_MS, PREAU_IDEMPOTENCY_RENEW_MS): 15 s renewed every 5 s, so two
 * renewals in a row may fail (a database failover) before a live request's key can be taken.
 * Leases are judged on the nodes' clocks: they must agree within a few seconds (NTP).
 */
export interface IdempotencyLease {
  leaseMs: number;
  renewEveryMs: number;
}
/**
 * However renewed, a claim older than this is dead: longer than any request may last (the server's
 * request timeout is at most 10 minutes). Renewal stops then too (a bound on a stuck handler).
 */
export const IN_FLIGHT_STALE_MS = 11 * 60_000;
/** What a client waits before retrying a key that is in flight. */
const IN_FLIGHT_RETRY_AFTER_S = 2;
/**
 * A claim whose release failed (the database connection was lost during the request: a primary
 * lost, HAProxy moving to the new one) is released again in the background, this often, this many
 * times. Before claims were leases, the client's retries were refused "in progress" for
 * IN_FLIGHT_STALE_MS (seen in the fire drill: every hand-in of site B stuck for 11 minutes after a
 * failover); now they would be for one lease at most, and this frees the key sooner.
 */
export const RELEASE_RETRY_EVERY_MS = 1_000;
export const RELEASE_RETRIES = 60;

const KEY_PATTERN = new RegExp(`^[A-Za-z0-9_.:-]{1,${MAX_IDEMPOTENCY_KEY_LENGTH}}$`);
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

declare module 'fastify' {
  interface FastifyRequest {
    idempotency: { personId: string; key: string; claimedAt: number; renewal: Renewal } | null;
  }
}

/** A claim's lease renewal; stopped once its answer is being recorded (a late tick then changes nothing and says nothing). */
interface Renewal {
  timer: NodeJS.Timeout;
  stopped: boolean;
}
function stopRenewal(renewal: Renewal): void {
  renewal.stopped = true;
  clearInterval(renewal.timer);
}

export type IdempotencyDecision =
  | { action: 'proceed' }
  | { action: 'replay'; row: IdempotencyRow }
  | { action: 'refuse'; error: AppError };

/** What to do with a request given the stored row for its key (pure: the mechanism applies it). */
export function decideIdempotency(stored: IdempotencyRow | undefined, requestHash: string): IdempotencyDecision {
  if (!stored) return { action: 'proceed' };
  if (stored.request_hash !== requestHash) return { action: 'refuse', error: new AppError('idempotency.key_reused') };
  if (stored.status_code === 0) return { action: 'refuse', error: new AppError('idempotency.in_progress', { retryAfterSeconds: IN_FLIGHT_RETRY_AFTER_S }) };
  return { action: 'replay', row: stored };
}

/**
 * Whether an answer is final for its key. Transient refusals (timeout, conflict, throttling, server
 * errors, overload) are not kept: the client's retry must be allowed to try the write again.
 */
export function isFinalAnswer(statusCode: number): boolean {
  if (statusCode >= 500) return false;
  return statusCode !== 408 && statusCode !== 409 && statusCode !== 429;
}

export function requestHash(request: FastifyRequest): string {
  return createHash('sha256').update(`${request.method} ${request.url}\n${JSON.stringify(request.body ?? null)}`).digest('hex');
}

/**
 * `Idempotency-Key` for cookie-authenticated writes: the first final answer is stored per person
 * and key for 24 h and replayed to retries, so a write sent again (the web client's offline
 * outbox, a lost answer on a weak link) is applied once. The key is claimed before the handler
 * runs (the database's primary key arbitrates between nodes), so two concurrent retries cannot
 * both apply the write. Requests without the header are untouched.
 *
 * Fails open on storing the answer: if the database refuses to record a first answer, the answer
 * still goes to the client (the write did happen) and the failure is logged; a retry could then
 * apply it again. Failing closed would turn a done write into an error the user retries anyway.
 */
export function installIdempotency(app: FastifyInstance, deps: { repo: IdempotencyRepository; clock: Clock; logger: Logger; lease: IdempotencyLease }): void {
  const { leaseMs, renewEveryMs } = deps.lease;
  app.decorateRequest('idempotency', null);

  // preHandler: after the route's authentication and the body's validation (invalid bodies are
  // refused before any key is claimed, and change nothing). A callback hook with a synchronous exit:
  // requests without the header (every read of the 8:30 rush) cost no promise here.
  app.addHook('preHandler', (request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => {
    const raw = request.headers[IDEMPOTENCY_HEADER];
    if (raw === undefined || !request.auth || !UNSAFE.has(request.method)) return done();
    if (typeof raw !== 'string' || !KEY_PATTERN.test(raw)) return done(new AppError('idempotency.invalid_key', { params: { max: MAX_IDEMPOTENCY_KEY_LENGTH } }));
    claimOrReplay(request, reply, raw).then(
      (replayed) => {
        if (!replayed) done();
      },
      (err: unknown) => done(err instanceof Error ? err : new Error(String(err))),
    );
  });

  /** Claims the key for this request (false) or sends the stored first answer (true); throws refusals. */
  async function claimOrReplay(request: FastifyRequest, reply: FastifyReply, key: string): Promise<boolean> {
    const personId = request.auth!.person.id;
    const now = deps.clock.nowMs();
    const hash = requestHash(request);
    await deps.repo.deleteIfDead(personId, key, now, now - IN_FLIGHT_STALE_MS);
    const claimed = await deps.repo.claim({
      person_id: personId, key, request_hash: hash, status_code: 0, content_type: null, body: null, created_at: now, expires_at: now + leaseMs,
    });
    if (claimed) {
      request.idempotency = { personId, key, claimedAt: now, renewal: renewWhileRunning(personId, key, now) };
      return false;
    }
    const decision = decideIdempotency(await deps.repo.find(personId, key), hash);
    // The row vanished between claim and read (expired this very instant): the client retries.
    if (decision.action === 'proceed') throw new AppError('idempotency.in_progress', { retryAfterSeconds: IN_FLIGHT_RETRY_AFTER_S });
    if (decision.action === 'refuse') throw decision.error;
    const { row } = decision;
    reply.code(row.status_code).header(IDEMPOTENT_REPLAY_HEADER, 'true').header('cache-control', 'no-store');
    if (row.content_type) reply.header('content-type', row.content_type);
    reply.send(row.body ?? undefined);
    return true;
  }

  /**
   * Renews the claim's lease every renewEveryMs until the answer is recorded (or the request ends
   * without one, or IN_FLIGHT_STALE_MS passed). A failed renewal is tried again at the next tick:
   * the lease outlives two of them. Unref'd: a renewal never keeps a stopping process alive.
   */
  function renewWhileRunning(personId: string, key: string, claimedAt: number): Renewal {
    const renewal: Renewal = {
      stopped: false,
      timer: setInterval(() => {
        const now = deps.clock.nowMs();
        if (now - claimedAt >= IN_FLIGHT_STALE_MS) return stopRenewal(renewal);
        deps.repo.renew(personId, key, claimedAt, now + leaseMs).then(
          (held) => {
            // Not held after the answer was recorded: that is the answer, not a take-over.
            if (held || renewal.stopped) return;
            stopRenewal(renewal);
            deps.logger.warn({ key }, 'clé d’idempotence reprise par une autre requête (bail expiré) pendant que celle-ci tournait encore');
          },
          (err: unknown) => {
            if (!renewal.stopped) deps.logger.warn({ err }, 'bail de clé d’idempotence non renouvelé (base injoignable) : nouvel essai au prochain tour');
          },
        );
      }, renewEveryMs),
    };
    renewal.timer.unref();
    return renewal;
  }

  // A request that ended without its answer going through onSend (a hijacked reply) stops renewing
  // too; its claim then lapses after leaseMs, as a dead node's does. A client that went away does not
  // stop the renewal: its handler may still be writing, and a retry must not run beside it.
  app.addHook('onResponse', (request, _reply, done) => {
    if (request.idempotency) stopRenewal(request.idempotency.renewal);
    done();
  });

  // A callback hook too: only answers to claimed requests do any work (and get a promise).
  app.addHook('onSend', (request, reply, payload, done) => {
    const claim = request.idempotency;
    if (!claim) return done(null, payload);
    request.idempotency = null;
    // The lease still has at least leaseMs − renewEveryMs to run: ample to record the answer.
    stopRenewal(claim.renewal);
    recordAnswer(request, reply, claim, payload).then(
      () => done(null, payload),
      // Fails open (see above): the answer goes out even if it could not be kept.
      (err: unknown) => {
        deps.logger.error({ err, route: request.routeOptions.url }, 'la réponse n’a pas pu être conservée pour sa clé d’idempotence');
        done(null, payload);
      },
    );
  });

  type Claim = { personId: string; key: string; claimedAt: number; renewal: Renewal };

  async function recordAnswer(request: FastifyRequest, reply: FastifyReply, claim: Claim, payload: unknown): Promise<void> {
    const body = typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString('utf8') : payload == null ? null : undefined;
    if (!isFinalAnswer(reply.statusCode)) return release(claim);
    if (body === undefined || (body !== null && Buffer.byteLength(body) > MAX_STORED_BODY_BYTES)) {
      deps.logger.warn({ route: request.routeOptions.url }, 'réponse trop grande ou en flux : clé d’idempotence non conservée');
      return release(claim);
    }
    const contentType = reply.getHeader('content-type');
    const kept = await deps.repo.complete(claim.personId, claim.key, claim.claimedAt, {
      statusCode: reply.statusCode, contentType: typeof contentType === 'string' ? contentType : null, body, expiresAt: deps.clock.nowMs() + IDEMPOTENCY_TTL_MS,
    });
    if (!kept) deps.logger.warn({ route: request.routeOptions.url }, 'réponse non conservée : la clé d’idempotence a été reprise par une autre requête après l’expiration de son bail');
  }

  /** Frees the key for the client's retry; when the database cannot be reached now, again in the background (bounded). */
  async function release(claim: Claim): Promise<void> {
    try {
      await deps.repo.release(claim.personId, claim.key, claim.claimedAt);
    } catch (err) {
      deps.logger.warn({ err }, 'clé d’idempotence non libérée (base injoignable) : nouvel essai en arrière-plan');
      releaseLater(claim, 1);
    }
  }

  function releaseLater(claim: Claim, attempt: number): void {
    setTimeout(() => {
      deps.repo.release(claim.personId, claim.key, claim.claimedAt).catch((err: unknown) => {
        if (attempt < RELEASE_RETRIES) releaseLater(claim, attempt + 1);
        else deps.logger.error({ err }, `clé d’idempotence toujours pas libérée : ses renvois seront refusés jusqu’à la fin de son bail (${leaseMs / 1000} s)`);
      });
    }, RELEASE_RETRY_EVERY_MS).unref();
  }
}
