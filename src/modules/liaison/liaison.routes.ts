import type { FastifyInstance } from 'fastify';
import type { HttpAuth } from '../../http/auth.js';
import { noStore } from '../../http/request-context.js';
import type { SchoolsService } from '../schools/index.js';
import { presentNote, presentParentRow, presentSignatures } from './liaison.presenter.js';
import type { LiaisonService } from './liaison.service.js';
import { CreateNoteBody, LIAISON_JSON_MAX_BYTES, ListQuery, NoteParams, PageQuery } from './liaison.schema.js';

/** The carnet de liaison API. Signing is critical (a parent on the crisis morning); the rest is normal. */
export function registerLiaisonRoutes(app: FastifyInstance, { liaison, schools, auth }: { liaison: LiaisonService; schools: SchoolsService; auth: HttpAuth }): void {
  const scope = (personId: string) => schools.scopeOf(personId);
  const json = { bodyLimit: LIAISON_JSON_MAX_BYTES, onRequest: auth.authenticate };
  const normal = { criticality: 'normal' as const };

  app.get<{ Querystring: ListQuery }>('/api/v1/liaison', { schema: { querystring: ListQuery }, config: normal, onRequest: auth.authenticate }, async (request, reply) => {
    const r = await liaison.list(await scope(request.auth!.person.id), request.query);
    const notes = r.kind === 'parent' ? r.rows.map(presentParentRow) : r.rows.map((x) => ({ ...presentNote({ note: x.note, mine: [], counts: x.counts, canWithdraw: x.canWithdraw }), bodyHtml: undefined }));
    return noStore(reply).send({ notes, nextCursor: r.nextCursor });
  });

  app.get('/api/v1/liaison/to-sign', { config: normal, onRequest: auth.authenticate }, async (request, reply) => {
    return noStore(reply).send({ toSign: await liaison.toSignCount(await scope(request.auth!.person.id)) });
  });

  app.post<{ Body: CreateNoteBody }>('/api/v1/liaison', { schema: { body: CreateNoteBody }, config: normal, ...json }, async (request, reply) => {
    return noStore(reply).code(201).send({ note: presentNote(await liaison.create(await scope(request.auth!.person.id), request.body)) });
  });

  app.get<{ Params: NoteParams }>('/api/v1/liaison/:noteId', { schema: { params: NoteParams }, config: normal, onRequest: auth.authenticate }, async (request, reply) => {
    return noStore(reply).send({ note: presentNote(await liaison.detail(await scope(request.auth!.person.id), request.params.noteId)) });
  });

  app.post<{ Params: NoteParams }>('/api/v1/liaison/:noteId/sign', { schema: { params: NoteParams }, config: { criticality: 'critical' }, ...json }, async (request, reply) => {
    return noStore(reply).send({ note: presentNote(await liaison.sign(await scope(request.auth!.person.id), request.params.noteId)) });
  });

  app.get<{ Params: NoteParams; Querystring: PageQuery }>(
    '/api/v1/liaison/:noteId/signatures',
    { schema: { params: NoteParams, querystring: PageQuery }, config: normal, onRequest: auth.authenticate },
    async (request, reply) => noStore(reply).send(presentSignatures(await liaison.signatures(await scope(request.auth!.person.id), request.params.noteId, request.query))),
  );

  app.post<{ Params: NoteParams }>('/api/v1/liaison/:noteId/reminders', { schema: { params: NoteParams }, config: normal, ...json }, async (request, reply) => {
    return noStore(reply).code(201).send(await liaison.remind(await scope(request.auth!.person.id), request.params.noteId));
  });

  app.delete<{ Params: NoteParams }>('/api/v1/liaison/:noteId', { schema: { params: NoteParams }, config: normal, ...json }, async (request, reply) => {
    await liaison.remove(await scope(request.auth!.person.id), request.params.noteId);
    return noStore(reply).code(204).send();
  });
}
