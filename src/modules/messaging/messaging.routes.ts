import type { FastifyInstance } from 'fastify';
import type { HttpAuth } from '../../http/auth.js';
import { sendBlob } from '../../http/downloads.js';
import { noStore } from '../../http/request-context.js';
import { readUpload } from '../../http/uploads.js';
import type { BlobStore } from '../../storage/blobs/blob-store.js';
import type { SchoolsService } from '../schools/index.js';
import { presentAttachment, presentMessage, presentSummary } from './messaging.presenter.js';
import type { MessagingService } from './messaging.service.js';
import {
  AttachmentParams, DirectoryQuery, DraftBody, DraftPatch, ListQuery, MAX_ATTACHMENT_BYTES, MESSAGING_JSON_MAX_BYTES, MessageParams, ReadBody, SearchQuery, SendBody,
} from './messaging.schema.js';

/** A search scans one's whole mailbox (LIKE over folded text): it costs 5 ordinary requests in the rate limits. */
export const SEARCH_RATE_COST = 5;

export interface MessagingRouteDeps {
  messaging: MessagingService;
  schools: SchoolsService;
  auth: HttpAuth;
  blobs: BlobStore;
}

/** The messagerie API. Reading and writing are normal; search is sheddable (it scans one's mail). */
export function registerMessagingRoutes(app: FastifyInstance, { messaging, schools, auth, blobs }: MessagingRouteDeps): void {
  const scope = (personId: string) => schools.scopeOf(personId);
  const json = { bodyLimit: MESSAGING_JSON_MAX_BYTES, onRequest: auth.authenticate };
  const normal = { criticality: 'normal' as const };

  app.get<{ Querystring: ListQuery }>('/api/v1/messages', { schema: { querystring: ListQuery }, config: normal, onRequest: auth.authenticate }, async (request, reply) => {
    const page = await messaging.box(await scope(request.auth!.person.id), request.query.box ?? 'inbox', request.query);
    return noStore(reply).send({ messages: page.messages.map(presentSummary), nextCursor: page.nextCursor });
  });

  app.get<{ Querystring: SearchQuery }>('/api/v1/messages/search', { schema: { querystring: SearchQuery }, config: { criticality: 'sheddable', rateCost: SEARCH_RATE_COST }, onRequest: auth.authenticate }, async (request, reply) => {
    const { q, box, ...page } = request.query;
    const r = await messaging.box(await scope(request.auth!.person.id), box ?? 'inbox', { ...page, search: q });
    return noStore(reply).send({ messages: r.messages.map(presentSummary), nextCursor: r.nextCursor });
  });

  app.get('/api/v1/messages/unread', { config: normal, onRequest: auth.authenticate }, async (request, reply) => {
    return noStore(reply).send({ unread: await messaging.unreadCount(await scope(request.auth!.person.id)) });
  });

  app.get<{ Querystring: DirectoryQuery }>('/api/v1/messages/directory', { schema: { querystring: DirectoryQuery }, config: normal, onRequest: auth.authenticate }, async (request, reply) => {
    return noStore(reply).send(await messaging.directory(await scope(request.auth!.person.id), request.query));
  });

  app.get<{ Params: MessageParams }>('/api/v1/messages/:messageId', { schema: { params: MessageParams }, config: normal, onRequest: auth.authenticate }, async (request, reply) => {
    const actor = await scope(request.auth!.person.id);
    return noStore(reply).send({ message: presentMessage(await messaging.detail(actor, request.params.messageId), actor.id) });
  });

  app.post<{ Body: SendBody }>('/api/v1/messages', { schema: { body: SendBody }, config: normal, ...json }, async (request, reply) => {
    const actor = await scope(request.auth!.person.id);
    return noStore(reply).code(201).send({ message: presentMessage(await messaging.send(actor, request.body), actor.id) });
  });

  app.post<{ Body: DraftBody }>('/api/v1/messages/drafts', { schema: { body: DraftBody }, config: normal, ...json }, async (request, reply) => {
    const actor = await scope(request.auth!.person.id);
    return noStore(reply).code(201).send({ message: presentMessage(await messaging.createDraft(actor, request.body), actor.id) });
  });

  app.patch<{ Params: MessageParams; Body: DraftPatch }>('/api/v1/messages/drafts/:messageId', { schema: { params: MessageParams, body: DraftPatch }, config: normal, ...json }, async (request, reply) => {
    const actor = await scope(request.auth!.person.id);
    return noStore(reply).send({ message: presentMessage(await messaging.updateDraft(actor, request.params.messageId, request.body), actor.id) });
  });

  app.post<{ Params: MessageParams }>('/api/v1/messages/drafts/:messageId/send', { schema: { params: MessageParams }, config: normal, ...json }, async (request, reply) => {
    const actor = await scope(request.auth!.person.id);
    return noStore(reply).send({ message: presentMessage(await messaging.sendDraft(actor, request.params.messageId), actor.id) });
  });

  app.put<{ Params: MessageParams; Body: ReadBody }>('/api/v1/messages/:messageId/read', { schema: { params: MessageParams, body: ReadBody }, config: normal, ...json }, async (request, reply) => {
    await messaging.markRead(await scope(request.auth!.person.id), request.params.messageId, request.body.read);
    return noStore(reply).send({ read: request.body.read });
  });

  app.delete<{ Params: MessageParams }>('/api/v1/messages/:messageId', { schema: { params: MessageParams }, config: normal, ...json }, async (request, reply) => {
    await messaging.remove(await scope(request.auth!.person.id), request.params.messageId);
    return noStore(reply).code(204).send();
  });

  app.post<{ Params: MessageParams }>('/api/v1/messages/drafts/:messageId/attachments', { schema: { params: MessageParams }, config: normal, onRequest: auth.authenticate }, async (request, reply) => {
    const a = await messaging.addAttachment(await scope(request.auth!.person.id), request.params.messageId, () =>
      readUpload(request, blobs, { fields: [], fileField: 'file', maxFiles: 1, maxFileBytes: MAX_ATTACHMENT_BYTES, maxTotalBytes: MAX_ATTACHMENT_BYTES, maxFieldBytes: 0 }),
    );
    return noStore(reply).code(201).send({ attachment: presentAttachment(a) });
  });

  app.delete<{ Params: AttachmentParams }>('/api/v1/messages/drafts/:messageId/attachments/:attachmentId', { schema: { params: AttachmentParams }, config: normal, ...json }, async (request, reply) => {
    await messaging.deleteAttachment(await scope(request.auth!.person.id), request.params.messageId, request.params.attachmentId);
    return noStore(reply).code(204).send();
  });

  app.get<{ Params: AttachmentParams }>('/api/v1/messages/:messageId/attachments/:attachmentId', { schema: { params: AttachmentParams }, config: normal, onRequest: auth.authenticate }, async (request, reply) => {
    const a = await messaging.attachment(await scope(request.auth!.person.id), request.params.messageId, request.params.attachmentId);
    return sendBlob(reply, blobs, { sha256: a.blob_sha256, fileName: a.file_name, sizeBytes: a.size_bytes, contentType: a.content_type });
  });
}
