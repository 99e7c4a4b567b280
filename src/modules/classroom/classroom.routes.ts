import type { FastifyInstance } from 'fastify';
import type { HttpAuth } from '../../http/auth.js';
import { noStore } from '../../http/request-context.js';
import type { SchoolsService } from '../schools/index.js';
import { presentAttendance, presentRoom } from './classroom.presenter.js';
import { CLASSROOM_JSON_MAX_BYTES, CreateBody, GuestLinkBody, GuestsBody, InvitationBody, ListQuery, LockBody, RoomParams } from './classroom.schema.js';
import type { ClassroomService, RoomAccess } from './classroom.service.js';
import type { ClassroomRuntime } from './room.runtime.js';

/**
 * The classe virtuelle's HTTP API (what happens inside a room goes over the realtime gateway, see
 * classroom.signalling.ts). Listing today's classes and opening one are critical (the crisis
 * morning: a class that is starting); the rest is normal.
 */
export function registerClassroomRoutes(app: FastifyInstance, { classroom, runtime, schools, auth }: { classroom: ClassroomService; runtime: ClassroomRuntime; schools: SchoolsService; auth: HttpAuth }): void {
  const scope = (personId: string) => schools.scopeOf(personId);
  const json = { bodyLimit: CLASSROOM_JSON_MAX_BYTES, onRequest: auth.authenticate };
  const normal = { criticality: 'normal' as const };
  const critical = { criticality: 'critical' as const };
  const present = (a: RoomAccess) => ({ classroom: presentRoom(a, runtime.isLive(a.room.id)) });

  app.get<{ Querystring: ListQuery }>('/api/v1/classrooms', { schema: { querystring: ListQuery }, config: critical, onRequest: auth.authenticate }, async (request, reply) => {
    const rows = await classroom.list(await scope(request.auth!.person.id), request.query.day);
    return noStore(reply).send({ classrooms: rows.map((a) => presentRoom(a, runtime.isLive(a.room.id))) });
  });

  app.post<{ Body: CreateBody }>('/api/v1/classrooms', { schema: { body: CreateBody }, config: normal, ...json }, async (request, reply) => {
    return noStore(reply).code(201).send(present(await classroom.create(await scope(request.auth!.person.id), request.body)));
  });

  app.post<{ Body: InvitationBody }>('/api/v1/classrooms/invitations', { schema: { body: InvitationBody }, config: normal, ...json }, async (request, reply) => {
    return noStore(reply).send(present(await classroom.invitation(await scope(request.auth!.person.id), request.body.token)));
  });

  app.get<{ Params: RoomParams }>('/api/v1/classrooms/:roomId', { schema: { params: RoomParams }, config: critical, onRequest: auth.authenticate }, async (request, reply) => {
    return noStore(reply).send(present(await classroom.access(await scope(request.auth!.person.id), request.params.roomId)));
  });

  app.post<{ Params: RoomParams }>('/api/v1/classrooms/:roomId/open', { schema: { params: RoomParams }, config: critical, ...json }, async (request, reply) => {
    return noStore(reply).send(present(await classroom.open(await scope(request.auth!.person.id), request.params.roomId)));
  });

  app.post<{ Params: RoomParams }>('/api/v1/classrooms/:roomId/close', { schema: { params: RoomParams }, config: normal, ...json }, async (request, reply) => {
    return noStore(reply).send(present(await classroom.close(await scope(request.auth!.person.id), request.params.roomId)));
  });

  app.put<{ Params: RoomParams; Body: { locked: boolean } }>('/api/v1/classrooms/:roomId/lock', { schema: { params: RoomParams, body: LockBody }, config: normal, ...json }, async (request, reply) => {
    await classroom.lock(await scope(request.auth!.person.id), request.params.roomId, request.body.locked);
    return noStore(reply).send({ locked: request.body.locked });
  });

  app.put<{ Params: RoomParams; Body: { allowed: boolean } }>('/api/v1/classrooms/:roomId/guests', { schema: { params: RoomParams, body: GuestsBody }, config: normal, ...json }, async (request, reply) => {
    return noStore(reply).send(present(await classroom.setGuests(await scope(request.auth!.person.id), request.params.roomId, request.body.allowed)));
  });

  app.post<{ Params: RoomParams; Body: { hours?: number } }>('/api/v1/classrooms/:roomId/guest-link', { schema: { params: RoomParams, body: GuestLinkBody }, config: normal, ...json }, async (request, reply) => {
    const { token, expiresAt } = await classroom.guestLink(await scope(request.auth!.person.id), request.params.roomId, request.body?.hours);
    return noStore(reply).code(201).send({ token, link: `/classe-virtuelle/invitation#${token}`, expiresAt: new Date(expiresAt).toISOString() });
  });

  app.delete<{ Params: RoomParams }>('/api/v1/classrooms/:roomId/guest-link', { schema: { params: RoomParams }, config: normal, ...json }, async (request, reply) => {
    await classroom.revokeGuestLink(await scope(request.auth!.person.id), request.params.roomId);
    return noStore(reply).code(204).send();
  });

  app.get<{ Params: RoomParams }>('/api/v1/classrooms/:roomId/attendance', { schema: { params: RoomParams }, config: normal, onRequest: auth.authenticate }, async (request, reply) => {
    const { rows } = await classroom.attendance(await scope(request.auth!.person.id), request.params.roomId);
    return noStore(reply).send({ attendance: presentAttendance(rows) });
  });
}
