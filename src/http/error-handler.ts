import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, errorBody, type ErrorId } from '../platform/errors.js';
import { classifyDatabaseError } from '../storage/health.js';
import { AUTOMATIC_READ_ONLY_RETRY_AFTER_S } from './read-only.js';
import { langOf } from './request-context.js';

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The one translator from errors to responses. Known errors become their catalogue entry;
 * anything else is logged with its stack and answered with a generic `server.internal`,
 * never a stack trace nor an internal message.
 */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | AppError | Error, request, reply) => {
    const appError = databaseUnavailable(err, request.method) ?? toAppError(err);
    if (appError.id === 'server.internal') request.log.error({ err, reqId: request.id, route: request.routeOptions.url }, 'erreur inattendue');
    else if (appError.status >= 500) request.log.warn({ errorId: appError.id, reqId: request.id }, 'refus');
    return sendError(request, reply, appError);
  });
  app.setNotFoundHandler((request, reply) => sendError(request, reply, new AppError('request.not_found')));
}

export function sendError(request: FastifyRequest, reply: FastifyReply, err: AppError): FastifyReply {
  if (err.options.retryAfterSeconds !== undefined) reply.header('retry-after', String(Math.ceil(err.options.retryAfterSeconds)));
  return reply.code(err.status).header('cache-control', 'no-store').send(errorBody(err, langOf(request)));
}

const FASTIFY_CODES: Record<string, ErrorId> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'request.malformed_json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'request.malformed_json',
  FST_ERR_CTP_BODY_TOO_LARGE: 'request.too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'request.unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'request.invalid',
  FST_ERR_CTP_INVALID_TYPE: 'request.invalid',
  FST_ERR_CTP_EMPTY_TYPE: 'request.unsupported_media_type',
  FST_ERR_BAD_URL: 'request.invalid',
  FST_ERR_ASYNC_CONSTRAINT: 'request.invalid',
  FST_ERR_NOT_FOUND: 'request.not_found',
  FST_REQ_FILE_TOO_LARGE: 'file.too_large',
  FST_FILES_LIMIT: 'file.too_many',
  FST_PARTS_LIMIT: 'request.too_large',
  FST_FIELDS_LIMIT: 'request.too_large',
  FST_INVALID_MULTIPART_CONTENT_TYPE: 'request.unsupported_media_type',
};

/**
 * A database that takes no writes or cannot be reached (a failover under way): a write is answered
 * as in read-only mode (the client's outbox keeps it and retries), a read with a retry hint; never
 * a generic 500. The watcher (storage/health.ts) hears of it through an onError hook and probes.
 */
function databaseUnavailable(err: unknown, method: string): AppError | undefined {
  if (!classifyDatabaseError(err)) return undefined;
  return new AppError(READ_METHODS.has(method) ? 'platform.database_unavailable' : 'platform.read_only', { retryAfterSeconds: AUTOMATIC_READ_ONLY_RETRY_AFTER_S });
}

interface ValidationIssue {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
}

function toAppError(err: FastifyError | AppError | Error): AppError {
  if (err instanceof AppError) return err;
  const fe = err as FastifyError & { validation?: ValidationIssue[]; validationContext?: string };
  if (fe.validation) {
    const issue = fe.validation[0];
    const field = issue ? fieldOf(issue) : undefined;
    const details = { in: fe.validationContext ?? 'body', ...(field ? { field } : {}), ...(issue ? { rule: issue.keyword } : {}) };
    return new AppError(issue?.keyword === 'additionalProperties' ? 'request.unknown_field' : 'request.invalid', { details });
  }
  if (fe.code && FASTIFY_CODES[fe.code]) return new AppError(FASTIFY_CODES[fe.code]!);
  if (err instanceof SyntaxError && fe.statusCode === 400) return new AppError('request.malformed_json');
  // Client errors raised by Fastify itself that we did not map still stay client errors.
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    if (fe.statusCode === 413) return new AppError('request.too_large');
    if (fe.statusCode === 415) return new AppError('request.unsupported_media_type');
    if (fe.statusCode === 404) return new AppError('request.not_found');
    if (fe.statusCode === 408) return new AppError('request.timeout');
    return new AppError('request.invalid');
  }
  return new AppError('server.internal');
}

function fieldOf(issue: ValidationIssue): string | undefined {
  const base = issue.instancePath.replace(/^\//, '').replace(/\//g, '.');
  const extra = (issue.params.additionalProperty ?? issue.params.missingProperty) as string | undefined;
  const name = [base, extra].filter(Boolean).join('.');
  return name ? name.slice(0, 100) : undefined;
}
