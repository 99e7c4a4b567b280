import type { FastifyInstance } from 'fastify';
import { sendError } from '../../http/error-handler.js';
import { noStore } from '../../http/request-context.js';
import { AppError } from '../../platform/errors.js';
import { SOLVER_JS } from '../challenge/solver-script.js';
import { WAITING_PAGE_CSS, WAITING_PAGE_HTML, WAITING_PAGE_JS } from './waiting-page.js';
import type { WaitingRoom } from './waiting-room.js';

/** Static for everyone: browsers and proxies keep it; a new version changes nothing of its address on purpose (it is tiny). */
const STATIC_CACHE = 'public, max-age=300';

export function registerWaitingRoomRoutes(app: FastifyInstance, room: WaitingRoom): void {
  // The poll of the waiting page. Class `login`: it is part of getting a new session.
  app.get('/api/v1/waiting-room', { config: { criticality: 'login' } }, async (request, reply) => {
    const s = await room.status(request);
    if ('state' in s) return void noStore(reply).send(s);
    sendError(request, reply, new AppError(s.id, { ...(s.params ? { params: s.params } : {}), ...(s.retryAfterSeconds !== undefined ? { retryAfterSeconds: s.retryAfterSeconds } : {}) }));
  });

  app.get('/attente', { config: { criticality: 'login' } }, (_request, reply) => {
    void reply.header('cache-control', STATIC_CACHE).type('text/html; charset=utf-8').send(WAITING_PAGE_HTML);
  });
  app.get('/attente.js', { config: { criticality: 'login' } }, (_request, reply) => {
    void reply.header('cache-control', STATIC_CACHE).type('text/javascript; charset=utf-8').send(WAITING_PAGE_JS);
  });
  // The proof-of-work solver the login page loads (see challenge-gate.ts).
  app.get('/preau-pow.js', { config: { criticality: 'login' } }, (_request, reply) => {
    void reply.header('cache-control', STATIC_CACHE).type('text/javascript; charset=utf-8').send(SOLVER_JS);
  });
  app.get('/attente.css', { config: { criticality: 'login' } }, (_request, reply) => {
    void reply.header('cache-control', STATIC_CACHE).type('text/css; charset=utf-8').send(WAITING_PAGE_CSS);
  });
}
