import type { FastifyInstance } from 'fastify';
import type { HttpAuth } from '../../http/auth.js';
import { noStore } from '../../http/request-context.js';
import type { SchoolsService } from '../schools/index.js';
import type { TodayService } from './today.service.js';

export function registerTodayRoutes(app: FastifyInstance, deps: { today: TodayService; schools: SchoolsService; auth: HttpAuth }): void {
  // Critical: an existing session reading today's work is the last thing to be refused.
  // Not an async handler: when the page is cached (most of 8:30), it is sent without a promise.
  app.get('/api/v1/me/today', { config: { criticality: 'critical' }, onRequest: deps.auth.authenticate }, (request, reply) => {
    const personId = request.auth!.person.id;
    const scope = deps.schools.cachedScope(personId);
    const json = scope && deps.today.cachedTodayJson(scope);
    if (json) return noStore(reply).type('application/json; charset=utf-8').send(json);
    return deps.schools
      .scopeOf(personId)
      .then((s) => deps.today.todayJson(s))
      .then((page) => noStore(reply).type('application/json; charset=utf-8').send(page));
  });
}
