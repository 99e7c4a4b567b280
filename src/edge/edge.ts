import type { FastifyInstance, onRequestHookHandler, preHandlerHookHandler } from 'fastify';
import type { Admission } from './admission/admission.js';
import type { RateLimiter } from './rate-limit/rate-limit.js';
import type { WaitingRoom } from './waiting-room/waiting-room.js';
import type { ChallengeGate } from './challenge/challenge-gate.js';

export interface EdgeParts {
  admission?: Admission | undefined;
  rateLimiter?: RateLimiter | undefined;
  waitingRoom?: WaitingRoom | undefined;
  challenge?: ChallengeGate | undefined;
}

/**
 * Puts the edge on every route registered after this call (so: call it before any route). A
 * route's onRequest chain becomes
 *   admission(criticality) → rate limit (anonymous) → the route's own hooks (authentication) → rate limit (account, school)
 * — a refused request costs no authentication, and signed-in requests are counted as accounts.
 * Routes that check a password get, as their first preHandlers (they need the validated body),
 * the proof-of-work gate (unknown devices, when the login path is under pressure or under
 * attack) then the waiting room (the login says which lane and school the visitor queues in).
 */
export function installEdge(app: FastifyInstance, parts: EdgeParts): void {
  const { admission, rateLimiter, waitingRoom, challenge } = parts;
  app.addHook('onRoute', (route) => {
    const criticality = route.config?.criticality;
    if (!criticality) return; // createHttpApp refuses such routes anyway.
    const own: onRequestHookHandler[] = route.onRequest === undefined ? [] : Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest];
    const limits = rateLimiter?.hooksFor(route.config?.rateCost ?? 1);
    // A password route shed under pressure hands its visitor a ticket rather than a refusal (when there is a room).
    const admit = admission && (route.config?.passwordCheck && waitingRoom ? admission.passwordHook(waitingRoom.ticketInstead) : admission.hook(criticality));
    route.onRequest = [...(admit ? [admit] : []), ...(limits ? [limits.before] : []), ...own, ...(limits ? [limits.after] : [])];
    if (route.config?.passwordCheck) {
      const ownPre: preHandlerHookHandler[] = route.preHandler === undefined ? [] : Array.isArray(route.preHandler) ? route.preHandler : [route.preHandler];
      route.preHandler = [...(challenge ? [challenge.preHandler] : []), ...(waitingRoom ? [waitingRoom.hook()] : []), ...ownPre];
      if (challenge) {
        route.onResponse = [...asArray(route.onResponse), challenge.onResponse];
        route.onSend = [...asArray(route.onSend), challenge.onSend];
      }
    }
  });
  if (rateLimiter) {
    app.addHook('onError', (request, _reply, error, done) => {
      rateLimiter.recordError(request, error);
      done();
    });
  }
  app.addHook('onReady', (done) => {
    admission?.start();
    waitingRoom?.start();
    done();
  });
  app.addHook('onClose', (_app, done) => {
    admission?.stop();
    waitingRoom?.stop();
    done();
  });
}

function asArray<T>(hooks: T | T[] | undefined): T[] {
  return hooks === undefined ? [] : Array.isArray(hooks) ? hooks : [hooks];
}
