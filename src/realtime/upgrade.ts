import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

const kUpgrade = Symbol('preau.upgrade');

interface PendingUpgrade {
  socket: Duplex;
  head: Buffer;
  response: ServerResponse;
}

type UpgradeRequest = IncomingMessage & { [kUpgrade]?: PendingUpgrade };

/**
 * Routes HTTP upgrade requests through Fastify like any request, so a WebSocket meets the same
 * pipeline as the rest of the API: the edge (admission by criticality, rate limits), the session,
 * the Origin check, then the route's handler, which upgrades (`takeUpgrade`) or refuses with an
 * ordinary HTTP error written on the socket. Without this, Node would destroy upgrade requests, and
 * a hand-written listener would bypass the edge.
 */
export function installUpgrades(app: FastifyInstance): void {
  app.server.on('upgrade', (req: UpgradeRequest, socket: Duplex, head: Buffer) => {
    const onError = () => socket.destroy();
    socket.on('error', onError);
    const response = new ServerResponse(req);
    response.shouldKeepAlive = false;
    response.assignSocket(socket as Socket);
    // A refusal (401, 403, 429, 503…) is written as a plain HTTP response, then the socket ends.
    response.on('finish', () => socket.end());
    req[kUpgrade] = { socket, head, response };
    try {
      app.routing(req, response);
    } catch {
      socket.destroy();
    }
  });
}

/**
 * In a route handler: the pending upgrade of this request (undefined for a plain GET). The reply
 * is hijacked and the HTTP response detached from the socket and closed, so what counted the
 * request as in flight (admission's concurrency slot) lets go of it now: a WebSocket lasts hours,
 * a request slot must not.
 */
export function takeUpgrade(request: FastifyRequest, reply: FastifyReply): { socket: Duplex; head: Buffer; raw: IncomingMessage } | undefined {
  const pending = (request.raw as UpgradeRequest)[kUpgrade];
  if (!pending) return undefined;
  reply.hijack();
  pending.response.detachSocket(pending.socket as Socket);
  pending.response.emit('close');
  return { socket: pending.socket, head: pending.head, raw: request.raw };
}
