import type { FastifyInstance } from 'fastify';
import type { HttpAuth } from '../../http/auth.js';
import { langOf, noStore } from '../../http/request-context.js';
import type { SchoolsService } from '../schools/index.js';
import { presentAccess, presentConcern, presentLine, presentRecorded, presentRules, weekSentence } from './engagement.presenter.js';
import { AccessLogQuery, ClassParams, ClassQuery, ENGAGEMENT_JSON_MAX_BYTES, PupilParams, SchoolParams, SettingsBody } from './engagement.schema.js';
import type { EngagementService } from './engagement.service.js';

/**
 * The suivi's API. Sheddable under pressure: on a crisis morning the day itself (reading work,
 * handing it in) comes before watching who did. Every answer is `no-store` (personal data).
 */
export function registerEngagementRoutes(app: FastifyInstance, { engagement, schools, auth }: { engagement: EngagementService; schools: SchoolsService; auth: HttpAuth }): void {
  const scope = (personId: string) => schools.scopeOf(personId);
  const read = { config: { criticality: 'sheddable' as const }, onRequest: auth.authenticate };

  app.get('/api/v1/engagement', read, async (request, reply) => {
    return noStore(reply).send(await engagement.home(await scope(request.auth!.person.id)));
  });

  app.get<{ Params: ClassParams; Querystring: ClassQuery }>('/api/v1/engagement/classes/:classId', { schema: { params: ClassParams, querystring: ClassQuery }, ...read }, async (request, reply) => {
    const v = await engagement.classView(await scope(request.auth!.person.id), request.params.classId, request.query.period ?? 'today');
    return noStore(reply).send({ ...v, rules: presentRules(v.thresholds), lines: v.lines.map(presentLine) });
  });

  app.get<{ Params: SchoolParams }>('/api/v1/engagement/schools/:schoolId', { schema: { params: SchoolParams }, ...read }, async (request, reply) => {
    const v = await engagement.schoolView(await scope(request.auth!.person.id), request.params.schoolId);
    return noStore(reply).send({ ...v, rules: presentRules(v.thresholds), ofConcern: v.ofConcern.map((p) => ({ ...p, concerns: p.concerns.map(presentConcern) })) });
  });

  app.get<{ Params: PupilParams }>('/api/v1/engagement/pupils/:pupilId', { schema: { params: PupilParams }, ...read }, async (request, reply) => {
    const v = await engagement.pupilView(await scope(request.auth!.person.id), request.params.pupilId);
    return noStore(reply).send({ today: v.today, weekStart: v.weekStart, rules: presentRules(v.thresholds), week: presentLine(v.line), summary: weekSentence(v.line, langOf(request)) });
  });

  app.get('/api/v1/me/engagement', read, async (request, reply) => {
    const v = await engagement.myData(await scope(request.auth!.person.id));
    return noStore(reply).send({
      today: v.week.today, weekStart: v.week.weekStart, rules: presentRules(v.week.thresholds), week: presentLine(v.week.line), summary: weekSentence(v.week.line, langOf(request)),
      recorded: presentRecorded(v.recorded), views: v.views.map(presentAccess),
    });
  });

  app.get<{ Params: SchoolParams; Querystring: AccessLogQuery }>('/api/v1/engagement/schools/:schoolId/access-log', { schema: { params: SchoolParams, querystring: AccessLogQuery }, ...read }, async (request, reply) => {
    const rows = await engagement.accessLog(await scope(request.auth!.person.id), request.params.schoolId, request.query.before ? Number(request.query.before) : undefined, request.query.limit ? Math.max(1, Number(request.query.limit)) : 50);
    const last = rows.at(-1);
    return noStore(reply).send({ entries: rows.map(presentAccess), nextBefore: last ? String(last.at) : null });
  });

  app.get<{ Params: SchoolParams }>('/api/v1/engagement/schools/:schoolId/settings', { schema: { params: SchoolParams }, ...read }, async (request, reply) => {
    const s = await engagement.readSettings(await scope(request.auth!.person.id), request.params.schoolId);
    return noStore(reply).send({ settings: s, rules: presentRules(s) });
  });

  app.put<{ Params: SchoolParams; Body: SettingsBody }>(
    '/api/v1/engagement/schools/:schoolId/settings',
    { schema: { params: SchoolParams, body: SettingsBody }, bodyLimit: ENGAGEMENT_JSON_MAX_BYTES, config: { criticality: 'normal' }, onRequest: auth.authenticate },
    async (request, reply) => {
      const s = await engagement.saveSettings(await scope(request.auth!.person.id), request.params.schoolId, request.body);
      return noStore(reply).send({ settings: s, rules: presentRules(s) });
    },
  );
}
