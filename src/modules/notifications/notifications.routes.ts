import type { FastifyInstance } from 'fastify';
import type { HttpAuth } from '../../http/auth.js';
import { noStore } from '../../http/request-context.js';
import type { SchoolsService } from '../schools/index.js';
import { presentNotification } from './notifications.presenter.js';
import type { NotificationsService } from './notifications.service.js';
import { FeedQuery, NotificationParams, NOTIFICATIONS_JSON_MAX_BYTES, ReadAllBody, ReadBody } from './notifications.schema.js';

/**
 * The notifications API: one's own feed only (the person comes from the session, never from the
 * request). Normal criticality: the feed is a pointer; under pressure the day itself comes first.
 */
export function registerNotificationsRoutes(app: FastifyInstance, { notifications, schools, auth }: { notifications: NotificationsService; schools: SchoolsService; auth: HttpAuth }): void {
  const scope = (personId: string) => schools.scopeOf(personId);
  const normal = { criticality: 'normal' as const };
  const write = { bodyLimit: NOTIFICATIONS_JSON_MAX_BYTES, onRequest: auth.authenticate, config: normal };

  app.get<{ Querystring: FeedQuery }>('/api/v1/me/notifications', { schema: { querystring: FeedQuery }, config: normal, onRequest: auth.authenticate }, async (request, reply) => {
    const page = await notifications.feed(await scope(request.auth!.person.id), request.query);
    return noStore(reply).send({ notifications: page.rows.map(presentNotification), nextCursor: page.nextCursor });
  });

  app.get('/api/v1/me/notifications/unread-count', { config: normal, onRequest: auth.authenticate }, async (request, reply) => {
    return noStore(reply).send({ unread: await notifications.unreadCount(await scope(request.auth!.person.id)) });
  });

  app.post<{ Params: NotificationParams; Body: ReadBody }>('/api/v1/me/notifications/:notificationId/read', { schema: { params: NotificationParams, body: ReadBody }, ...write }, async (request, reply) => {
    return noStore(reply).send({ unread: await notifications.markRead(await scope(request.auth!.person.id), request.params.notificationId, request.body.read) });
  });

  app.post<{ Body: ReadAllBody }>('/api/v1/me/notifications/read-all', { schema: { body: ReadAllBody }, ...write }, async (request, reply) => {
    return noStore(reply).send({ unread: await notifications.markAllRead(await scope(request.auth!.person.id), request.body.upTo) });
  });
}
