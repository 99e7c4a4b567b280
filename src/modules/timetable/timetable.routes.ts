import type { FastifyInstance } from 'fastify';
import type { HttpAuth } from '../../http/auth.js';
import { noStore } from '../../http/request-context.js';
import { AppError } from '../../platform/errors.js';
import type { SchoolsService } from '../schools/index.js';
import type { TimetableService } from './timetable.service.js';
import { CalendarBody, ChangeBody, FeedParams, ImportQuery, MAX_IMPORT_BYTES, MyWeekQuery, SchoolParams, SlotParams, TIMETABLE_JSON_MAX_BYTES, WeekQuery } from './timetable.schema.js';

export interface TimetableRouteDeps {
  timetable: TimetableService;
  schools: SchoolsService;
  auth: HttpAuth;
}

export function registerTimetableRoutes(app: FastifyInstance, { timetable, schools, auth }: TimetableRouteDeps): void {
  const scope = (personId: string) => schools.scopeOf(personId);
  const json = { bodyLimit: TIMETABLE_JSON_MAX_BYTES, onRequest: auth.authenticate };

  app.get<{ Querystring: WeekQuery }>('/api/v1/timetable', { schema: { querystring: WeekQuery }, config: { criticality: 'normal' }, onRequest: auth.authenticate }, async (request, reply) => {
    return noStore(reply).send(await timetable.week(await scope(request.auth!.person.id), request.query));
  });

  app.get<{ Querystring: MyWeekQuery }>('/api/v1/me/timetable', { schema: { querystring: MyWeekQuery }, config: { criticality: 'normal' }, onRequest: auth.authenticate }, async (request, reply) => {
    return noStore(reply).send(await timetable.myWeek(await scope(request.auth!.person.id), request.query.week));
  });

  app.get<{ Params: SchoolParams }>('/api/v1/schools/:schoolId/calendar', { schema: { params: SchoolParams }, config: { criticality: 'normal' }, onRequest: auth.authenticate }, async (request, reply) => {
    return noStore(reply).send({ calendar: await timetable.calendar(await scope(request.auth!.person.id), request.params.schoolId) });
  });

  app.put<{ Params: SchoolParams; Body: CalendarBody }>(
    '/api/v1/schools/:schoolId/calendar',
    { schema: { params: SchoolParams, body: CalendarBody }, config: { criticality: 'normal' }, ...json },
    async (request, reply) => noStore(reply).send(await timetable.setCalendar(await scope(request.auth!.person.id), request.params.schoolId, request.body)),
  );

  app.patch<{ Params: SlotParams; Body: ChangeBody }>(
    '/api/v1/timetable/slots/:slotId',
    { schema: { params: SlotParams, body: ChangeBody }, config: { criticality: 'normal' }, ...json },
    async (request, reply) => noStore(reply).send({ slot: await timetable.change(await scope(request.auth!.person.id), request.params.slotId, request.body) }),
  );

  // Imports take a file as the body (text/csv or text/calendar), in a scope of their own so that no
  // other route accepts those types.
  app.register(async (files) => {
    files.addContentTypeParser(['text/csv', 'text/calendar'], { parseAs: 'string', bodyLimit: MAX_IMPORT_BYTES }, (_request, body, done) => done(null, body));
    files.post<{ Params: SchoolParams; Querystring: ImportQuery; Body: string }>(
      '/api/v1/schools/:schoolId/timetable/import',
      { schema: { params: SchoolParams, querystring: ImportQuery }, bodyLimit: MAX_IMPORT_BYTES, config: { criticality: 'sheddable', rateCost: 20 }, onRequest: auth.authenticate },
      async (request, reply) => {
        const actor = await scope(request.auth!.person.id);
        const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
        if (typeof request.body !== 'string') throw new AppError('request.unsupported_media_type');
        const result = type === 'text/calendar'
          ? await timetable.importIcs(actor, request.params.schoolId, request.body, request.query)
          : await timetable.importCsv(actor, request.params.schoolId, request.body);
        return noStore(reply).send(result);
      },
    );
  });

  app.get('/api/v1/me/calendar-feed', { config: { criticality: 'normal' }, onRequest: auth.authenticate }, async (request, reply) => {
    return noStore(reply).send(await timetable.feedStatus(await scope(request.auth!.person.id)));
  });

  /** Creates (or replaces) the secret subscription URL; it is shown once. */
  app.post('/api/v1/me/calendar-feed', { config: { criticality: 'normal' }, bodyLimit: 1024, onRequest: auth.authenticate }, async (request, reply) => {
    return noStore(reply).code(201).send(await timetable.createFeed(await scope(request.auth!.person.id)));
  });

  app.delete('/api/v1/me/calendar-feed', { config: { criticality: 'normal' }, bodyLimit: 1024, onRequest: auth.authenticate }, async (request, reply) => {
    await timetable.revokeFeed(await scope(request.auth!.person.id));
    return noStore(reply).code(204).send();
  });

  /** The subscription itself: anonymous (phones' calendars carry no cookie), the token is the secret. Sheddable. */
  // Charged to the address (anonymous): 5 requests' worth, so a school's NAT of phones polling hourly fits, a scraper does not.
  app.get<{ Params: FeedParams }>('/ical/:token', { schema: { params: FeedParams }, config: { criticality: 'sheddable', rateCost: 5 } }, async (request, reply) => {
    const ics = await timetable.ics(request.params.token);
    return reply.type('text/calendar; charset=utf-8').header('cache-control', 'private, max-age=300').header('content-disposition', 'inline; filename="preau.ics"').send(ics);
  });
}
