import type { FastifyInstance, onRequestHookHandler, preHandlerHookHandler } from 'fastify';
import type { Admission } from './admission/admission.js';
import type { RateLimiter } from './rate-limit/rate-limit.js';
import type { WaitingRoom } from './waiting-room/waiting-room.js';

export interface EdgeParts {
  admission?: Admission | undefined;
  rateLimiter?: RateLimiter | undefined;
  waitingRoom?: WaitingRoom | undefined;
}

/**
 * Puts the edge on every route registered after this call (so: call it before any route). A
 * route's onRequest chain becomes
 *   admission(criticality) → rate limit (anonymous) → the route's own hooks (authentication) → rate limit (account, school)
 * — a refused request costs no authentication, and signed-in requests are counted as accounts.
 * Routes that check a password get the waiting room as their first preHandler (it needs the
 * validated body: the login says which lane and school the visitor queues in).
 */
export function installEdge(app: FastifyInstance, parts: EdgeParts): void {
  const { admission, rateLimiter, waitingRoom } = parts;
  app.addHook('onRoute', (route) => {
    const criticality = route.config?.criticality;
    if (!criticality) return; // createHttpApp refuses such routes anyway.
    const own: onRequestHookHandler[] = route.onRequest === undefined ? [] : Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest];
    const limits = rateLimiter?.hooksFor(route.config?.rateCost ?? 1);
    route.onRequest = [...(admission ? [admission.hook(criticality)] : []), ...(limits ? [limits.before] : []), ...own, ...(limits ? [limits.after] : [])];
    if (waitingRoom && route.config?.passwordCheck) {
      const ownPre: preHandlerHookHandler[] = route.preHandler === undefined ? [] : Array.isArray(route.preHandler) ? route.preHandler : [route.preHandler];
      route.preHandler = [waitingRoom.hook(), ...ownPre];
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
