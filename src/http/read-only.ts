import type { FastifyInstance } from 'fastify';
import { AppError } from '../platform/errors.js';

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** Read-only periods last minutes (a failover, a maintenance): clients try again after about this long. */
const READ_ONLY_RETRY_AFTER_S = 60;
/** Automatic read-only mode (no writable primary) lasts a failover: about 15 s (docs/OPERATIONS.md). */
export const AUTOMATIC_READ_ONLY_RETRY_AFTER_S = 5;

/**
 * Read-only mode, set by the platform operator with the status banner: every write is refused with
 * `503 platform.read_only` and a Retry-After (the web client keeps it in its outbox and sends it
 * later), except the routes that declare `config.duringReadOnly` (signing in and out, the
 * operator's own switches — or nobody could lift it). Fails closed for new routes: a write nobody
 * thought about is refused. Costs nothing on reads; on writes, the status is cached (5 s).
 */
/**
 * `automatic`: the node's own judgement that its database takes no writes (storage/health.ts),
 * checked first and synchronously; it does not exempt `duringReadOnly` routes that write (signing
 * in writes a session) — they fail like any write would, and the banner says why.
 */
export function installReadOnly(app: FastifyInstance, isReadOnly: () => Promise<boolean>, automatic: () => boolean = () => false): void {
  // A callback hook: a read (every page of the crisis morning) costs a Set lookup, no promise.
  app.addHook('onRequest', (request, _reply, done) => {
    if (READS.has(request.method)) return done();
    if (automatic()) return done(new AppError('platform.read_only', { retryAfterSeconds: AUTOMATIC_READ_ONLY_RETRY_AFTER_S }));
    if (request.routeOptions.config?.duringReadOnly === true) return done();
    isReadOnly().then(
      (readOnly) => done(readOnly ? new AppError('platform.read_only', { retryAfterSeconds: READ_ONLY_RETRY_AFTER_S }) : undefined),
      (err: unknown) => done(err instanceof Error ? err : new Error(String(err))),
    );
  });
}
