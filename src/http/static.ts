import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../platform/errors.js';

/** Hashed file names never change content: a year, and the browser never even revalidates. */
export const IMMUTABLE_CACHE = 'public, max-age=31536000, immutable';
/** The document and the service worker must be revalidated on every visit, or a deploy never reaches anyone. */
export const REVALIDATE_CACHE = 'no-cache';
/** Icons and the manifest: stable names, rarely changed. */
const SHORT_CACHE = 'public, max-age=86400';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webmanifest': 'application/manifest+json',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

type Encoding = 'br' | 'gzip' | 'identity';

interface WebFile {
  type: string;
  cacheControl: string;
  etag: string;
  bodies: Partial<Record<Encoding, Buffer>> & { identity: Buffer };
}

/**
 * The built web client (web/dist), held in memory: a few hundred kilobytes, read once at boot, so a
 * page costs no file-system call. Precompressed `.br` and `.gz` siblings made at build time are
 * served to clients that accept them.
 */
export class WebDist {
  private constructor(
    private readonly files: Map<string, WebFile>,
    readonly dir: string,
  ) {}

  /** The built client in `dir`, or undefined when it has not been built (no index.html). */
  static load(dir: string): WebDist | undefined {
    if (!existsSync(path.join(dir, 'index.html'))) return undefined;
    const files = new Map<string, WebFile>();
    const add = (relative: string) => {
      const ext = path.extname(relative);
      const type = TYPES[ext];
      if (!type) return;
      const full = path.join(dir, relative);
      const identity = readFileSync(full);
      const urlPath = `/${relative.split(path.sep).join('/')}`;
      const bodies: WebFile['bodies'] = { identity };
      if (existsSync(`${full}.br`)) bodies.br = readFileSync(`${full}.br`);
      if (existsSync(`${full}.gz`)) bodies.gzip = readFileSync(`${full}.gz`);
      const cacheControl = urlPath.startsWith('/assets/') ? IMMUTABLE_CACHE : ext === '.html' || urlPath === '/sw.js' ? REVALIDATE_CACHE : SHORT_CACHE;
      files.set(urlPath, { type, cacheControl, bodies, etag: `"${createHash('sha256').update(identity).digest('base64url').slice(0, 22)}"` });
    };
    for (const entry of readdirSync(dir)) {
      // Dot-folders (Vite's .vite/manifest.json) are build bookkeeping, not for the Internet.
      if (entry.startsWith('.')) continue;
      if (statSync(path.join(dir, entry)).isFile()) add(entry);
    }
    const assets = path.join(dir, 'assets');
    if (existsSync(assets)) for (const entry of readdirSync(assets)) add(path.join('assets', entry));
    return new WebDist(files, dir);
  }

  get(urlPath: string): WebFile | undefined {
    return this.files.get(urlPath);
  }
}

/** The best encoding this client accepts among those we hold (brotli, then gzip, then none). */
export function chooseEncoding(acceptEncoding: string | undefined, available: Partial<Record<Encoding, Buffer>>): Encoding {
  if (!acceptEncoding) return 'identity';
  const accepted = new Map<string, number>();
  for (const part of acceptEncoding.toLowerCase().split(',')) {
    const [name, ...params] = part.trim().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const weight = q ? Number(q.slice(2)) : 1;
    if (name) accepted.set(name, Number.isFinite(weight) ? weight : 0);
  }
  const ok = (name: string) => (accepted.get(name) ?? accepted.get('*') ?? 0) > 0;
  if (available.br && ok('br')) return 'br';
  if (available.gzip && ok('gzip')) return 'gzip';
  return 'identity';
}

function sendFile(request: FastifyRequest, reply: FastifyReply, file: WebFile): FastifyReply {
  reply.header('cache-control', file.cacheControl).header('etag', file.etag).type(file.type);
  if (file.bodies.br || file.bodies.gzip) reply.header('vary', 'Accept-Encoding');
  if (request.headers['if-none-match'] === file.etag) return reply.code(304).send();
  const encoding = chooseEncoding(request.headers['accept-encoding'], file.bodies);
  if (encoding !== 'identity') reply.header('content-encoding', encoding);
  return reply.send(file.bodies[encoding]);
}

/**
 * Routes of the web client. `/assets/*` are hashed and immutable; other paths are the client's own
 * routes (`/aujourdhui`, `/compte`, …) and get index.html, except `/api/…`, which stays a JSON 404,
 * and names with an extension that we do not hold (a missing file is a 404, not a page).
 */
export function registerWebRoutes(app: FastifyInstance, dist: WebDist): void {
  // Critical: without the shell nobody reads their day; these answers cost a memory lookup.
  app.get('/assets/*', { config: { criticality: 'critical' } }, (request, reply) => {
    const file = dist.get(request.url.split('?')[0]!);
    if (!file) throw new AppError('request.not_found');
    return sendFile(request, reply, file);
  });

  app.get('/*', { config: { criticality: 'critical' } }, (request, reply) => {
    const urlPath = request.url.split('?')[0]!;
    if (urlPath.startsWith('/api/')) throw new AppError('request.not_found');
    const file = dist.get(urlPath);
    if (file) return sendFile(request, reply, file);
    if (path.posix.extname(urlPath) !== '') throw new AppError('request.not_found');
    return sendFile(request, reply, dist.get('/index.html')!);
  });
}
