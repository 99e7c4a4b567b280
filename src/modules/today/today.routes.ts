import type { FastifyInstance } from 'fastify';
import type { HttpAuth } from '../../http/auth.js';
import { noStore } from '../../http/request-context.js';
import type { SchoolsService } from '../schools/index.js';
import type { TodayService } from './today.service.js';

export function registerTodayRoutes(app: FastifyInstance, deps: { today: TodayService; schools: SchoolsService; auth: HttpAuth }): void {
  // Critical: an existing session reading today's work is the last thing to be refused.
  app.get('/api/v1/me/today', { config: { criticality: 'critical' }, onRequest: deps.auth.authenticate }, async (request, reply) => {
    const scope = await deps.schools.scopeOf(request.auth!.person.id);
    return noStore(reply).send(await deps.today.today(scope));
  });
}
