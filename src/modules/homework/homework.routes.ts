import type { FastifyInstance } from 'fastify';
import type { HttpAuth } from '../../http/auth.js';
import { sendBlob } from '../../http/downloads.js';
import { noStore } from '../../http/request-context.js';
import { readUpload } from '../../http/uploads.js';
import type { BlobStore } from '../../storage/blobs/blob-store.js';
import type { Clock } from '../../platform/clock.js';
import type { SchoolsService } from '../schools/index.js';
import type { HomeworkService } from './homework.service.js';
import { presentAttachment, presentEntry, storedFile } from './homework.presenter.js';
import {
  AttachmentParams, CahierQuery, CopyBody, CreateEntryBody, DoneBody, EntryParams, HOMEWORK_JSON_MAX_BYTES, ListQuery, MAX_ATTACHMENT_BYTES,
  PublishBody, TeacherParams, UpdateEntryBody, VisaBody,
} from './homework.schema.js';

export interface HomeworkRouteDeps {
  homework: HomeworkService;
  schools: SchoolsService;
  auth: HttpAuth;
  blobs: BlobStore;
  clock: Clock;
}

/** The cahier de textes API. Reading it is critical on the crisis morning; writing it is normal. */
export function registerHomeworkRoutes(app: FastifyInstance, { homework, schools, auth, blobs, clock }: HomeworkRouteDeps): void {
  const scope = (personId: string) => schools.scopeOf(personId);
  const now = () => clock.nowMs();
  const json = { bodyLimit: HOMEWORK_JSON_MAX_BYTES, onRequest: auth.authenticate };

  app.get<{ Querystring: ListQuery }>('/api/v1/homework', { schema: { querystring: ListQuery }, config: { criticality: 'critical' }, onRequest: auth.authenticate }, async (request, reply) => {
    const page = await homework.list(await scope(request.auth!.person.id), request.query);
    return noStore(reply).send({ entries: page.entries.map((d) => presentEntry(d, now())), nextCursor: page.nextCursor, from: page.fromDate, to: page.toDate });
  });

  app.get<{ Params: EntryParams }>('/api/v1/homework/:entryId', { schema: { params: EntryParams }, config: { criticality: 'critical' }, onRequest: auth.authenticate }, async (request, reply) => {
    const d = await homework.get(await scope(request.auth!.person.id), request.params.entryId);
    return noStore(reply).send({ entry: presentEntry(d, now()) });
  });

  app.post<{ Body: CreateEntryBody }>('/api/v1/homework', { schema: { body: CreateEntryBody }, config: { criticality: 'normal' }, ...json }, async (request, reply) => {
    const d = await homework.create(await scope(request.auth!.person.id), request.body);
    return noStore(reply).code(201).send({ entry: presentEntry(d, now()) });
  });

  app.patch<{ Params: EntryParams; Body: UpdateEntryBody }>(
    '/api/v1/homework/:entryId',
    { schema: { params: EntryParams, body: UpdateEntryBody }, config: { criticality: 'normal' }, ...json },
    async (request, reply) => {
      const d = await homework.update(await scope(request.auth!.person.id), request.params.entryId, request.body);
      return noStore(reply).send({ entry: presentEntry(d, now()) });
    },
  );

  app.post<{ Params: EntryParams; Body: PublishBody }>(
    '/api/v1/homework/:entryId/publish',
    { schema: { params: EntryParams, body: PublishBody }, config: { criticality: 'normal' }, ...json },
    async (request, reply) => {
      const d = await homework.publish(await scope(request.auth!.person.id), request.params.entryId, request.body.at);
      return noStore(reply).send({ entry: presentEntry(d, now()) });
    },
  );

  app.post<{ Params: EntryParams; Body: CopyBody }>(
    '/api/v1/homework/:entryId/copy',
    { schema: { params: EntryParams, body: CopyBody }, config: { criticality: 'normal' }, ...json },
    async (request, reply) => {
      const d = await homework.copy(await scope(request.auth!.person.id), request.params.entryId, request.body);
      return noStore(reply).code(201).send({ entry: presentEntry(d, now()) });
    },
  );

  app.delete<{ Params: EntryParams }>('/api/v1/homework/:entryId', { schema: { params: EntryParams }, config: { criticality: 'normal' }, ...json }, async (request, reply) => {
    await homework.remove(await scope(request.auth!.person.id), request.params.entryId);
    return noStore(reply).code(204).send();
  });

  app.put<{ Params: EntryParams; Body: DoneBody }>(
    '/api/v1/homework/:entryId/done',
    { schema: { params: EntryParams, body: DoneBody }, config: { criticality: 'critical' }, ...json },
    async (request, reply) => {
      const r = await homework.setDone(await scope(request.auth!.person.id), request.params.entryId, request.body.done);
      return noStore(reply).send({ done: r.done, doneAt: r.doneAtMs === null ? null : new Date(r.doneAtMs).toISOString() });
    },
  );

  app.post<{ Params: EntryParams }>(
    '/api/v1/homework/:entryId/attachments',
    { schema: { params: EntryParams }, config: { criticality: 'normal' }, onRequest: auth.authenticate },
    async (request, reply) => {
      const a = await homework.addAttachment(await scope(request.auth!.person.id), request.params.entryId, () =>
        readUpload(request, blobs, { fields: [], fileField: 'file', maxFiles: 1, maxFileBytes: MAX_ATTACHMENT_BYTES, maxTotalBytes: MAX_ATTACHMENT_BYTES, maxFieldBytes: 0 }),
      );
      return noStore(reply).code(201).send({ attachment: presentAttachment(a) });
    },
  );

  app.get<{ Params: AttachmentParams }>(
    '/api/v1/homework/:entryId/attachments/:attachmentId',
    { schema: { params: AttachmentParams }, config: { criticality: 'normal' }, onRequest: auth.authenticate },
    async (request, reply) => {
      const a = await homework.attachment(await scope(request.auth!.person.id), request.params.entryId, request.params.attachmentId);
      return sendBlob(reply, blobs, storedFile(a));
    },
  );

  app.delete<{ Params: AttachmentParams }>(
    '/api/v1/homework/:entryId/attachments/:attachmentId',
    { schema: { params: AttachmentParams }, config: { criticality: 'normal' }, ...json },
    async (request, reply) => {
      await homework.deleteAttachment(await scope(request.auth!.person.id), request.params.entryId, request.params.attachmentId);
      return noStore(reply).code(204).send();
    },
  );

  app.get<{ Params: TeacherParams; Querystring: CahierQuery }>(
    '/api/v1/teachers/:teacherId/cahier',
    { schema: { params: TeacherParams, querystring: CahierQuery }, config: { criticality: 'normal' }, onRequest: auth.authenticate },
    async (request, reply) => {
      const r = await homework.cahierOf(await scope(request.auth!.person.id), request.params.teacherId, request.query);
      return noStore(reply).send({
        entries: r.entries.map((d) => presentEntry(d, now())),
        nextCursor: r.nextCursor,
        visas: r.visas.map((v) => ({ id: v.id, at: new Date(v.visa_at).toISOString(), comment: v.comment, by: v.last_name ? `${v.first_name ?? ''} ${v.last_name}`.trim() : null })),
      });
    },
  );

  app.post<{ Params: TeacherParams; Body: VisaBody }>(
    '/api/v1/teachers/:teacherId/cahier/visas',
    { schema: { params: TeacherParams, body: VisaBody }, config: { criticality: 'normal' }, ...json },
    async (request, reply) => {
      const v = await homework.visa(await scope(request.auth!.person.id), request.params.teacherId, request.body.comment);
      return noStore(reply).code(201).send({ visa: { id: v.id, at: new Date(v.visa_at).toISOString(), comment: v.comment } });
    },
  );
}
