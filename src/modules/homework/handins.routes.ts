import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { HttpAuth } from '../../http/auth.js';
import { contentDisposition, sendBlob } from '../../http/downloads.js';
import { noStore } from '../../http/request-context.js';
import { readUpload } from '../../http/uploads.js';
import { storeZip } from '../../platform/zip.js';
import type { BlobStore } from '../../storage/blobs/blob-store.js';
import type { SchoolsService } from '../schools/index.js';
import type { HandinsService } from './handins.service.js';
import { receiptText } from './handins.service.js';
import { presentFeedback, presentPupil, presentReceipt, storedFile } from './homework.presenter.js';
import {
  EntryParams, EntryPupilParams, HandinFileParams, HandinHeaders, HandinParams, MAX_FEEDBACK_COMMENT_BYTES, MAX_FEEDBACK_FILE_BYTES, MAX_HANDIN_FILE_BYTES,
  MAX_HANDIN_FILES, MAX_HANDIN_TEXT_BYTES, MAX_HANDIN_TOTAL_BYTES, PageQuery,
} from './homework.schema.js';

export interface HandinsRouteDeps {
  handins: HandinsService;
  schools: SchoolsService;
  auth: HttpAuth;
  blobs: BlobStore;
  publicUrl: string;
}

/** Hand-ins: handing in is critical (the last thing refused on the crisis morning); the zip is sheddable. */
export function registerHandinsRoutes(app: FastifyInstance, { handins, schools, auth, blobs, publicUrl }: HandinsRouteDeps): void {
  const scope = (personId: string) => schools.scopeOf(personId);

  /**
   * multipart/form-data: `text` (optional) and `files` (0 to MAX_HANDIN_FILES). New hand-in: 201 with
   * its receipt. Retries with the same `Idempotency-Key` are answered by the generic layer
   * (src/http/idempotency.ts: the first answer replayed, `Idempotent-Replayed: true`); the unique
   * (pupil, key) constraint below it is the database's own guarantee that a hand-in is stored once,
   * should a retry ever reach the module (then: 200 with the first receipt).
   */
  app.post<{ Params: EntryParams; Headers: HandinHeaders }>(
    '/api/v1/homework/:entryId/handins',
    { schema: { params: EntryParams, headers: HandinHeaders }, config: { criticality: 'critical' }, onRequest: auth.authenticate },
    async (request, reply) => {
      const actor = await scope(request.auth!.person.id);
      const result = await handins.handIn(actor, request.params.entryId, request.headers['idempotency-key'], () =>
        readUpload(request, blobs, { fields: ['text'], fileField: 'files', maxFiles: MAX_HANDIN_FILES, maxFileBytes: MAX_HANDIN_FILE_BYTES, maxTotalBytes: MAX_HANDIN_TOTAL_BYTES, maxFieldBytes: MAX_HANDIN_TEXT_BYTES, totalTooLarge: 'handin.too_large' }),
      );
      if (result.replayed) reply.header('idempotent-replayed', 'true');
      return noStore(reply).code(result.replayed ? 200 : 201).send({ receipt: presentReceipt(result.receipt) });
    },
  );

  app.get<{ Params: EntryParams; Querystring: PageQuery }>(
    '/api/v1/homework/:entryId/handins',
    { schema: { params: EntryParams, querystring: PageQuery }, config: { criticality: 'normal' }, onRequest: auth.authenticate },
    async (request, reply) => {
      const r = await handins.overview(await scope(request.auth!.person.id), request.params.entryId, Number(request.query.offset ?? 0), Number(request.query.limit ?? 50));
      return noStore(reply).send({
        entry: { id: r.entry.id, title: r.entry.title, dueAt: r.entry.due_at === null ? null : new Date(r.entry.due_at).toISOString(), audience: r.entry.audience_name },
        counts: r.counts,
        pupils: r.rows.map((row) => ({
          pupil: presentPupil(row.pupil),
          status: row.handin ? (row.handin.late ? 'late' : 'handed_in') : 'missing',
          handin: row.handin ? { id: row.handin.id, handedInAt: new Date(row.handin.submitted_at).toISOString(), late: row.handin.late === 1, fileCount: row.fileCount, totalBytes: row.totalBytes, hasText: row.handin.text !== null } : null,
          returned: row.returned,
        })),
        nextOffset: r.nextOffset,
      });
    },
  );

  app.get<{ Params: EntryParams }>(
    '/api/v1/homework/:entryId/handins.zip',
    // A bulk download reads every hand-in of a class from disk: it costs 20 ordinary requests.
    { schema: { params: EntryParams }, config: { criticality: 'sheddable', rateCost: 20 }, onRequest: auth.authenticate },
    async (request, reply) => {
      const z = await handins.zip(await scope(request.auth!.person.id), request.params.entryId);
      const name = `rendus-${z.entry.title.replace(/[^\p{L}\p{N} _-]/gu, '').trim().slice(0, 60) || z.entry.id}.zip`;
      return noStore(reply)
        .type('application/zip')
        .header('content-length', String(z.sizeBytes))
        .header('content-disposition', contentDisposition('attachment', name))
        .send(Readable.from(storeZip(z.entries), { objectMode: false }));
    },
  );

  app.get<{ Params: EntryPupilParams }>(
    '/api/v1/homework/:entryId/handins/:pupilId',
    { schema: { params: EntryPupilParams }, config: { criticality: 'critical' }, onRequest: auth.authenticate },
    async (request, reply) => {
      const r = await handins.ofPupil(await scope(request.auth!.person.id), request.params.entryId, request.params.pupilId);
      return noStore(reply).send({
        pupil: presentPupil(r.pupil),
        current: r.current ? presentReceipt(r.current) : null,
        replaced: r.replaced.map(presentReceipt),
        feedback: r.feedback ? presentFeedback(r.feedback) : null,
      });
    },
  );

  app.put<{ Params: EntryPupilParams }>(
    '/api/v1/homework/:entryId/handins/:pupilId/feedback',
    { schema: { params: EntryPupilParams }, config: { criticality: 'normal' }, onRequest: auth.authenticate },
    async (request, reply) => {
      const f = await handins.giveFeedback(await scope(request.auth!.person.id), request.params.entryId, request.params.pupilId, () =>
        readUpload(request, blobs, { fields: ['comment'], fileField: 'file', maxFiles: 1, maxFileBytes: MAX_FEEDBACK_FILE_BYTES, maxTotalBytes: MAX_FEEDBACK_FILE_BYTES, maxFieldBytes: MAX_FEEDBACK_COMMENT_BYTES }),
      );
      return noStore(reply).send({ feedback: presentFeedback(f) });
    },
  );

  app.get<{ Params: EntryPupilParams }>(
    '/api/v1/homework/:entryId/handins/:pupilId/feedback/file',
    { schema: { params: EntryPupilParams }, config: { criticality: 'normal' }, onRequest: auth.authenticate },
    async (request, reply) => {
      const f = await handins.feedbackFile(await scope(request.auth!.person.id), request.params.entryId, request.params.pupilId);
      return sendBlob(reply, blobs, storedFile(f));
    },
  );

  /** The receipt: JSON for the client, or the text file to keep (`Accept: text/plain`). */
  app.get<{ Params: HandinParams }>(
    '/api/v1/handins/:handinId/receipt',
    { schema: { params: HandinParams }, config: { criticality: 'critical' }, onRequest: auth.authenticate },
    async (request, reply) => {
      const r = await handins.receipt(await scope(request.auth!.person.id), request.params.handinId);
      noStore(reply);
      if ((request.headers.accept ?? '').includes('text/plain')) {
        return reply.type('text/plain; charset=utf-8').header('content-disposition', contentDisposition('attachment', `recu-rendu-${r.handin.id}.txt`)).send(receiptText(r, publicUrl));
      }
      return reply.send({ receipt: presentReceipt(r) });
    },
  );

  app.get<{ Params: HandinFileParams }>(
    '/api/v1/handins/:handinId/files/:fileId',
    { schema: { params: HandinFileParams }, config: { criticality: 'normal' }, onRequest: auth.authenticate },
    async (request, reply) => {
      const f = await handins.file(await scope(request.auth!.person.id), request.params.handinId, request.params.fileId);
      return sendBlob(reply, blobs, storedFile(f));
    },
  );
}
