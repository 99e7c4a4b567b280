import type { FastifyInstance } from 'fastify';
import type { HttpAuth } from '../../http/auth.js';
import { noStore } from '../../http/request-context.js';
import type { SchoolsService, Scope } from '../schools/index.js';
import type { TodayService } from './today.service.js';

/**
 * Per-person parts of Aujourd'hui (unread messages, liaisons to sign, news acknowledged), each from
 * its module: a count, or a short list of ids. Kept out of the cached day page on purpose: that page
 * is shared by every pupil of a class, and one pupil's state must never reach another.
 */
export type PersonalCounters = Record<string, (scope: Scope) => Promise<number | readonly string[]>>;

export function registerTodayRoutes(app: FastifyInstance, deps: { today: TodayService; schools: SchoolsService; auth: HttpAuth; personal?: PersonalCounters }): void {
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

  // Normal, not critical: under pressure the counts are shed before the day itself.
  app.get('/api/v1/me/today/mine', { config: { criticality: 'normal' }, onRequest: deps.auth.authenticate }, async (request, reply) => {
    const scope = await deps.schools.scopeOf(request.auth!.person.id);
    const entries = Object.entries(deps.personal ?? {});
    const values = await Promise.all(entries.map(([, count]) => count(scope)));
    return noStore(reply).send(Object.fromEntries(entries.map(([name], i) => [name, values[i]])));
  });
}
