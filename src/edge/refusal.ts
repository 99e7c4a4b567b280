import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { AppError, errorBody, type ErrorId, type Lang } from '../platform/errors.js';
import { apiSecurityHeaders } from '../http/security-headers.js';

/**
 * Pre-built refusals. Under a flood, a refusal must cost a small fraction of a served request:
 * its status line, headers and JSON body are built once per (error id, language, Retry-After)
 * and then only written. The set is bounded: ids come from the catalogue and Retry-After values
 * are whole seconds clamped to `MAX_RETRY_AFTER_S`.
 */
export const MAX_RETRY_AFTER_S = 600;

interface Prebuilt {
  status: number;
  headers: OutgoingHttpHeaders;
  body: Buffer;
  /** The whole HTTP/1.1 response, for refusals written on a bare socket (connection guard). */
  raw: Buffer;
}

const REASONS: Record<number, string> = { 403: 'Forbidden', 408: 'Request Timeout', 429: 'Too Many Requests', 503: 'Service Unavailable' };

/**
 * A Retry-After drawn uniformly in [baseS, baseS + spreadS]: refused clients that all come back
 * after the same delay would hit again in lock-step, which is how 2021's retry storms were made.
 */
export function jitteredRetryAfterS(baseS: number, spreadS: number, random: () => number = Math.random): number {
  return Math.min(MAX_RETRY_AFTER_S, Math.max(1, Math.round(baseS + random() * spreadS)));
}

export class Refusals {
  private readonly cache = new Map<string, Prebuilt>();

  constructor(private readonly https: boolean) {}

  get(id: ErrorId, lang: Lang, retryAfterS: number): Prebuilt {
    const seconds = Math.min(MAX_RETRY_AFTER_S, Math.max(1, Math.ceil(retryAfterS)));
    const key = `${id}|${lang}|${seconds}`;
    let p = this.cache.get(key);
    if (!p) {
      p = this.build(id, lang, seconds);
      this.cache.set(key, p);
    }
    return p;
  }

  /** Writes a pre-built refusal on a Node response (Fastify's reply is bypassed: nothing to serialise). */
  send(res: ServerResponse, id: ErrorId, lang: Lang, retryAfterS: number, extraHeaders?: OutgoingHttpHeaders): void {
    const p = this.get(id, lang, retryAfterS);
    res.writeHead(p.status, extraHeaders ? { ...p.headers, ...extraHeaders } : p.headers);
    res.end(p.body);
  }

  private build(id: ErrorId, lang: Lang, seconds: number): Prebuilt {
    const err = new AppError(id, { retryAfterSeconds: seconds });
    const body = Buffer.from(JSON.stringify(errorBody(err, lang)));
    const headers: OutgoingHttpHeaders = {
      ...apiSecurityHeaders(this.https),
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(body.length),
      'cache-control': 'no-store',
      'retry-after': String(seconds),
    };
    const head = [`HTTP/1.1 ${err.status} ${REASONS[err.status] ?? 'Refused'}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${String(v)}`), 'connection: close', '', ''].join('\r\n');
    return { status: err.status, headers, body, raw: Buffer.concat([Buffer.from(head, 'latin1'), body]) };
  }
}
