import { randomUUID } from 'node:crypto';
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import type { Logger } from '../platform/logger.js';
import { installErrorHandling } from './error-handler.js';
import { installSecurityHeaders } from './security-headers.js';

export interface HttpLimits {
  /** Default body limit; routes that accept more say so themselves. */
  defaultMaxBodyBytes: number;
  requestTimeoutMs: number;
  /** Headers must arrive within this (slow-header clients are cut). */
  headersTimeoutMs: number;
  /** Idle keep-alive connections are closed after this. */
  keepAliveTimeoutMs: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  defaultMaxBodyBytes: 16 * 1024,
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
};

/**
 * The Fastify instance with what every route gets: strict validation (unknown fields and wrong
 * types are errors, nothing is coerced or silently dropped), the error catalogue, security
 * headers, cookies, and the rule that every route declares its criticality.
 */
export type ServerFactory = (handler: RequestListener<typeof IncomingMessage, typeof ServerResponse>) => Server;

/**
 * `serverFactory`, when given, creates the Node server (the edge's socket guards do: they set
 * every socket limit themselves, and Fastify's timeout options are then not used).
 */
export function createHttpApp(logger: Logger, https: boolean, limits: HttpLimits = DEFAULT_HTTP_LIMITS, serverFactory?: ServerFactory): FastifyInstance {
  const app = Fastify({
    ...(serverFactory ? { serverFactory } : {}),
    loggerInstance: logger,
    // One line per request would cost more than the request itself on the crisis morning; metrics count them.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: limits.defaultMaxBodyBytes,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionTimeout: limits.requestTimeoutMs,
    return503OnClosing: true,
    trustProxy: false,
    // Request ids are ours: a client-chosen id would let it forge log lines.
    requestIdHeader: false,
    genReqId: () => randomUUID(),
    // No per-request child logger (a pino child per request costs more than a cached page): request
    // logs carry the request id explicitly where it matters (the error translator).
    childLoggerFactory: (logger) => logger,
    routerOptions: { maxParamLength: 200, ignoreTrailingSlash: true },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: false } },
  }) as unknown as FastifyInstance;
  if (!serverFactory) app.server.headersTimeout = limits.headersTimeoutMs;

  app.addHook('onRoute', (route) => {
    if (!route.config?.criticality) throw new Error(`La route ${route.method} ${route.url} ne déclare pas sa criticité (config.criticality).`);
  });
  app.register(fastifyCookie);
  installSecurityHeaders(app, https);
  installErrorHandling(app);
  return app;
}
