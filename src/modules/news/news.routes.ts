import type { FastifyInstance } from 'fastify';
import type { HttpAuth } from '../../http/auth.js';
import { sendBlob } from '../../http/downloads.js';
import { noStore } from '../../http/request-context.js';
import { readUpload } from '../../http/uploads.js';
import type { BlobStore } from '../../storage/blobs/blob-store.js';
import type { SchoolsService } from '../schools/index.js';
import { presentAcks, presentAttachment, presentNews, presentNewsItem } from './news.presenter.js';
import type { NewsService } from './news.service.js';
import { AcksQuery, AttachmentParams, CreateNewsBody, ListQuery, MAX_ATTACHMENT_BYTES, NEWS_JSON_MAX_BYTES, NewsParams, UpdateNewsBody } from './news.schema.js';

/** The actualités API. Acknowledging is critical (a parent on the crisis morning); the rest is normal. */
export function registerNewsRoutes(app: FastifyInstance, { news, schools, auth, blobs }: { news: NewsService; schools: SchoolsService; auth: HttpAuth; blobs: BlobStore }): void {
  const scope = (personId: string) => schools.scopeOf(personId);
  const json = { bodyLimit: NEWS_JSON_MAX_BYTES, onRequest: auth.authenticate };
  const normal = { criticality: 'normal' as const };

  app.get<{ Querystring: ListQuery }>('/api/v1/news', { schema: { querystring: ListQuery }, config: normal, onRequest: auth.authenticate }, async (request, reply) => {
    const r = await news.list(await scope(request.auth!.person.id), request.query);
    return noStore(reply).send({ news: r.rows.map((n) => presentNewsItem(n, r.nowMs)), nextOffset: r.nextOffset });
  });

  app.post<{ Body: CreateNewsBody }>('/api/v1/news', { schema: { body: CreateNewsBody }, config: normal, ...json }, async (request, reply) => {
    return noStore(reply).code(201).send({ news: presentNews(await news.create(await scope(request.auth!.person.id), request.body)) });
  });

  app.get<{ Params: NewsParams }>('/api/v1/news/:newsId', { schema: { params: NewsParams }, config: normal, onRequest: auth.authenticate }, async (request, reply) => {
    return noStore(reply).send({ news: presentNews(await news.detail(await scope(request.auth!.person.id), request.params.newsId)) });
  });

  app.patch<{ Params: NewsParams; Body: UpdateNewsBody }>('/api/v1/news/:newsId', { schema: { params: NewsParams, body: UpdateNewsBody }, config: normal, ...json }, async (request, reply) => {
    return noStore(reply).send({ news: presentNews(await news.update(await scope(request.auth!.person.id), request.params.newsId, request.body)) });
  });

  app.post<{ Params: NewsParams }>('/api/v1/news/:newsId/acknowledge', { schema: { params: NewsParams }, config: { criticality: 'critical' }, ...json }, async (request, reply) => {
    return noStore(reply).send({ news: presentNews(await news.acknowledge(await scope(request.auth!.person.id), request.params.newsId)) });
  });

  app.get<{ Params: NewsParams; Querystring: AcksQuery }>(
    '/api/v1/news/:newsId/acknowledgements',
    { schema: { params: NewsParams, querystring: AcksQuery }, config: normal, onRequest: auth.authenticate },
    async (request, reply) => noStore(reply).send(presentAcks(await news.acknowledgements(await scope(request.auth!.person.id), request.params.newsId, request.query))),
  );

  app.delete<{ Params: NewsParams }>('/api/v1/news/:newsId', { schema: { params: NewsParams }, config: normal, ...json }, async (request, reply) => {
    await news.withdraw(await scope(request.auth!.person.id), request.params.newsId);
    return noStore(reply).code(204).send();
  });

  app.post<{ Params: NewsParams }>('/api/v1/news/:newsId/attachments', { schema: { params: NewsParams }, config: normal, onRequest: auth.authenticate }, async (request, reply) => {
    const a = await news.addAttachment(await scope(request.auth!.person.id), request.params.newsId, () =>
      readUpload(request, blobs, { fields: [], fileField: 'file', maxFiles: 1, maxFileBytes: MAX_ATTACHMENT_BYTES, maxTotalBytes: MAX_ATTACHMENT_BYTES, maxFieldBytes: 0 }),
    );
    return noStore(reply).code(201).send({ attachment: presentAttachment(a) });
  });

  app.get<{ Params: AttachmentParams }>('/api/v1/news/:newsId/attachments/:attachmentId', { schema: { params: AttachmentParams }, config: normal, onRequest: auth.authenticate }, async (request, reply) => {
    const a = await news.attachment(await scope(request.auth!.person.id), request.params.newsId, request.params.attachmentId);
    return sendBlob(reply, blobs, { sha256: a.blob_sha256, fileName: a.file_name, sizeBytes: a.size_bytes, contentType: a.content_type });
  });

  app.delete<{ Params: AttachmentParams }>('/api/v1/news/:newsId/attachments/:attachmentId', { schema: { params: AttachmentParams }, config: normal, ...json }, async (request, reply) => {
    await news.deleteAttachment(await scope(request.auth!.person.id), request.params.newsId, request.params.attachmentId);
    return noStore(reply).code(204).send();
  });
}
