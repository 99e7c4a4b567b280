import type { FastifyInstance } from 'fastify';
import type { HttpAuth } from '../http/auth.js';
import { AppError } from '../platform/errors.js';
import type { RealtimeGateway } from './gateway.js';
import { takeUpgrade } from './upgrade.js';

/**
 * `GET /api/v1/realtime`, upgraded to a WebSocket. The pipeline is the API's (installUpgrades routes
 * upgrades through Fastify): edge admission and rate limits, the session cookie, then the Origin —
 * a browser always sends it on a WebSocket, and a page of another site must not open one with the
 * pupil's cookie (cross-site WebSocket hijacking). Normal criticality: under pressure a new socket is
 * refused before a page read, and the client falls back to polling the unread count with backoff.
 * Once upgraded, the socket leaves the admission's concurrency count (see takeUpgrade).
 */
export function registerRealtimeRoutes(app: FastifyInstance, { gateway, auth }: { gateway: RealtimeGateway; auth: HttpAuth }): void {
  app.get('/api/v1/realtime', { config: { criticality: 'normal' }, onRequest: [auth.authenticate, auth.sameOrigin] }, (request, reply) => {
    const personId = request.auth!.person.id;
    if (request.headers.upgrade?.toLowerCase() !== 'websocket') throw new AppError('realtime.upgrade_required');
    gateway.admit(personId);
    const upgrade = takeUpgrade(request, reply);
    if (!upgrade) throw new AppError('realtime.upgrade_required');
    gateway.upgrade(upgrade.raw, upgrade.socket, upgrade.head, personId, auth.sessionCheck(request));
  });
}
