import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { HttpAuth } from '../../http/auth.js';
import { sendBlob } from '../../http/downloads.js';
import { noStore } from '../../http/request-context.js';
import { describeBytes, readUpload } from '../../http/uploads.js';
import { AppError } from '../../platform/errors.js';
import type { BlobStore } from '../../storage/blobs/blob-store.js';
import type { SchoolsService } from '../schools/index.js';
import { presentEntry, presentListing, presentSpace, presentTrashed, presentUpload } from './documents.presenter.js';
import type { DocumentsService } from './documents.service.js';
import {
  CHUNK_MAX_BYTES, ChunkQuery, CreateFolderBody, CreateUploadBody, DOCS_JSON_MAX_BYTES, EntryParams, ListQuery, PageQuery, SMALL_FILE_MAX_BYTES, TargetQuery, UpdateEntryBody, UploadParams,
} from './documents.schema.js';

export interface DocumentsRouteDeps {
  documents: DocumentsService;
  schools: SchoolsService;
  auth: HttpAuth;
  blobs: BlobStore;
}

/** Raw chunk bodies of resumable uploads (tus-style `application/offset+octet-stream` accepted too). */
const CHUNK_TYPES = ['application/octet-stream', 'application/offset+octet-stream'];

/**
 * The Documents API. Reading and downloading are normal (a pupil fetching the class's PDF is also
 * what the crisis morning sheds last among non-critical work); uploads are normal too: a large
 * document is never as urgent as a hand-in, which has its own critical route.
 */
export function registerDocumentsRoutes(app: FastifyInstance, { documents, schools, auth, blobs }: DocumentsRouteDeps): void {
  const actor = (request: FastifyRequest) => schools.scopeOf(request.auth!.person.id);
  const normal = { criticality: 'normal' as const };
  const read = { config: normal, onRequest: auth.authenticate };
  const json = { config: normal, bodyLimit: DOCS_JSON_MAX_BYTES, onRequest: auth.authenticate };

  app.get('/api/v1/documents', read, async (request, reply) => {
    const r = await documents.overview(await actor(request));
    return noStore(reply).send({ spaces: r.spaces.map(presentSpace), quota: r.quota });
  });

  app.get<{ Querystring: ListQuery }>('/api/v1/documents/entries', { schema: { querystring: ListQuery }, ...read }, async (request, reply) => {
    return noStore(reply).send(presentListing(await documents.list(await actor(request), request.query)));
  });

  app.post<{ Body: CreateFolderBody }>('/api/v1/documents/folders', { schema: { body: CreateFolderBody }, ...json }, async (request, reply) => {
    return noStore(reply).code(201).send({ entry: presentEntry(await documents.createFolder(await actor(request), request.body), true) });
  });

  app.patch<{ Params: EntryParams; Body: UpdateEntryBody }>('/api/v1/documents/entries/:entryId', { schema: { params: EntryParams, body: UpdateEntryBody }, ...json }, async (request, reply) => {
    return noStore(reply).send({ entry: presentEntry(await documents.update(await actor(request), request.params.entryId, request.body), true) });
  });

  app.delete<{ Params: EntryParams }>('/api/v1/documents/entries/:entryId', { schema: { params: EntryParams }, ...json }, async (request, reply) => {
    await documents.remove(await actor(request), request.params.entryId);
    return noStore(reply).code(204).send();
  });

  app.get<{ Querystring: PageQuery }>('/api/v1/documents/trash', { schema: { querystring: PageQuery }, ...read }, async (request, reply) => {
    const r = await documents.trash(await actor(request), request.query);
    return noStore(reply).send({ entries: r.rows.map((e) => presentTrashed(e, r.purgeAfterMs)), nextOffset: r.nextOffset });
  });

  app.post<{ Params: EntryParams }>('/api/v1/documents/trash/:entryId/restore', { schema: { params: EntryParams }, ...json }, async (request, reply) => {
    return noStore(reply).send({ entry: presentEntry(await documents.restore(await actor(request), request.params.entryId), true) });
  });

  app.delete('/api/v1/documents/trash', json, async (request, reply) => {
    return noStore(reply).send({ purged: await documents.emptyTrash(await actor(request)) });
  });

  // Small files: one multipart request, streamed into the blob store.
  app.post<{ Querystring: TargetQuery }>('/api/v1/documents/files', { schema: { querystring: TargetQuery }, config: normal, onRequest: auth.authenticate }, async (request, reply) => {
    const a = await actor(request);
    const target = await documents.target(a, request.query.space, request.query.folder);
    await documents.requireRoom(a);
    const upload = await readUpload(request, blobs, { fields: [], fileField: 'file', maxFiles: 1, maxFileBytes: SMALL_FILE_MAX_BYTES, maxTotalBytes: SMALL_FILE_MAX_BYTES, maxFieldBytes: 0 });
    const file = upload.files[0];
    if (!file) throw new AppError('request.invalid', { details: { field: 'file' } });
    return noStore(reply).code(201).send({ entry: presentEntry(await documents.addFile(a, target, file), true) });
  });

  app.get<{ Params: EntryParams }>('/api/v1/documents/files/:entryId/content', { schema: { params: EntryParams }, ...read }, async (request, reply) => {
    const f = await documents.file(await actor(request), request.params.entryId);
    return sendBlob(reply, blobs, { sha256: f.blob_sha256!, fileName: f.name, sizeBytes: f.size_bytes, contentType: f.content_type ?? 'application/octet-stream' }, { header: request.headers.range });
  });

  // Resumable uploads: open a session, send chunks at the offset the server has, complete.
  app.post<{ Body: CreateUploadBody }>('/api/v1/documents/uploads', { schema: { body: CreateUploadBody }, ...json }, async (request, reply) => {
    const up = await documents.openUpload(await actor(request), request.body);
    return noStore(reply).code(201).header('upload-offset', '0').header('location', `/api/v1/documents/uploads/${up.id}`).send({ upload: presentUpload(up) });
  });

  // GET (and HEAD, which Fastify derives from it): where to resume.
  app.get<{ Params: UploadParams }>('/api/v1/documents/uploads/:uploadId', { schema: { params: UploadParams }, ...read }, async (request, reply) => {
    const up = await documents.upload(await actor(request), request.params.uploadId);
    return noStore(reply).header('upload-offset', String(up.received_bytes)).header('upload-length', String(up.size_bytes)).send({ upload: presentUpload(up) });
  });

  app.register(async (chunks) => {
    // The body stays a stream: the service writes it to disk as it arrives, bounded by CHUNK_MAX_BYTES.
    chunks.addContentTypeParser(CHUNK_TYPES, (_request, payload, done) => done(null, payload));
    chunks.put<{ Params: UploadParams; Querystring: ChunkQuery }>(
      '/api/v1/documents/uploads/:uploadId',
      {
        schema: { params: UploadParams, querystring: ChunkQuery },
        config: normal,
        bodyLimit: CHUNK_MAX_BYTES,
        onRequest: [
          auth.authenticate,
          async (request) => {
            // Refused before any byte is read: only raw chunks, and never more than a chunk.
            const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
            if (!CHUNK_TYPES.includes(type)) throw new AppError('request.unsupported_media_type');
            if (Number(request.headers['content-length'] ?? 0) > CHUNK_MAX_BYTES) throw new AppError('upload.chunk_too_large', { params: { max: describeBytes(CHUNK_MAX_BYTES) } });
          },
        ],
      },
      async (request, reply) => {
        const a = await actor(request);
        try {
          const length = request.headers['content-length'];
          const up = await documents.appendChunk(a, request.params.uploadId, Number(request.query.offset), request.body as AsyncIterable<Uint8Array>, {
            ...(length !== undefined ? { declaredBytes: Number(length) } : {}),
            // A newer chunk for this upload ends this (stalled) request: its connection is dropped.
            abort: () => request.raw.destroy(),
          });
          return noStore(reply).header('upload-offset', String(up.received_bytes)).send({ upload: presentUpload(up) });
        } catch (err) {
          if (err instanceof AppError && err.id === 'upload.wrong_offset') reply.header('upload-offset', String(err.options.details?.offset));
          throw err;
        }
      },
    );
  });

  app.post<{ Params: UploadParams }>('/api/v1/documents/uploads/:uploadId/complete', { schema: { params: UploadParams }, ...json }, async (request, reply) => {
    return noStore(reply).code(201).send({ entry: presentEntry(await documents.completeUpload(await actor(request), request.params.uploadId), true) });
  });

  app.delete<{ Params: UploadParams }>('/api/v1/documents/uploads/:uploadId', { schema: { params: UploadParams }, ...json }, async (request, reply) => {
    await documents.cancelUpload(await actor(request), request.params.uploadId);
    return noStore(reply).code(204).send();
  });
}
