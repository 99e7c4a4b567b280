import type { FastifyInstance } from 'fastify';
import type { HttpAuth } from '../../http/auth.js';
import { noStore } from '../../http/request-context.js';
import { STATUS_CACHE_TTL_MS, type StatusService } from './status.service.js';
import { StatusBody, STATUS_MAX_BODY_BYTES } from './status.schema.js';

/** Browsers and proxies may reuse the public status this long: it bounds the banner's delay. */
const STATUS_MAX_AGE_S = Math.round(STATUS_CACHE_TTL_MS / 1000);

export function registerStatusRoutes(app: FastifyInstance, deps: { status: StatusService; auth: HttpAuth }): void {
  // Critical and public: the banner must still say "incident en cours" when everything else sheds.
  app.get('/api/v1/status', { config: { criticality: 'critical' } }, (_request, reply) => {
    const send = (json: string) => reply.header('cache-control', `public, max-age=${STATUS_MAX_AGE_S}`).type('application/json; charset=utf-8').send(json);
    const json = deps.status.cachedJson();
    if (json) return send(json);
    return deps.status.currentJson().then(send);
  });

  app.put<{ Body: StatusBody }>(
    '/api/v1/admin/status',
    { schema: { body: StatusBody }, bodyLimit: STATUS_MAX_BODY_BYTES, config: { criticality: 'normal', duringReadOnly: true }, onRequest: deps.auth.authenticate },
    async (request, reply) => {
      const { person } = request.auth!;
      const status = await deps.status.update({ id: person.id, profile: person.profile }, request.body);
      return noStore(reply).send(status);
    },
  );
}
