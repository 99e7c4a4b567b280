import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../platform/metrics.js';
import { clientAddress } from './request-context.js';

export interface HealthDeps {
  ping: () => Promise<void>;
  isDraining: () => boolean;
  metrics: Metrics;
  /** Said in /readyz's answer, never a reason to be unready (e.g. `{ redis: 'degraded' }`: the node serves on its own state). */
  details?: () => Record<string, string>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1']);

export function registerHealthRoutes(app: FastifyInstance, deps: HealthDeps): void {
  // Liveness: the process answers. Never touches the database (a slow database must not get the node killed).
  app.get('/healthz', { config: { criticality: 'critical' } }, async (_request, reply) => reply.header('cache-control', 'no-store').send({ status: 'ok' }));

  // Readiness: the node should get traffic (database answers, not draining). Load balancers poll it.
  // Redis is not part of it: a node whose Redis is away serves on per-node state (see docs/OPERATIONS.md).
  app.get('/readyz', { config: { criticality: 'critical' } }, async (_request, reply) => {
    reply.header('cache-control', 'no-store');
    if (deps.isDraining()) return reply.code(503).send({ status: 'draining' });
    try {
      await deps.ping();
      return reply.send({ status: 'ready', ...deps.details?.() });
    } catch {
      return reply.code(503).send({ status: 'database_unavailable' });
    }
  });

  // Metrics are for the operator's scraper on the machine itself, not for the Internet. Critical:
  // the morning the node is shedding is the morning the operator must see why.
  app.get('/metrics', { config: { criticality: 'critical' } }, async (request, reply) => {
    if (!LOOPBACK.has(clientAddress(request.raw))) return reply.callNotFound();
    return reply.type('text/plain; version=0.0.4').header('cache-control', 'no-store').send(deps.metrics.render());
  });
}
