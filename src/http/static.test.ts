import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPreau, type TestPreau } from '../../test/support/app.js';
import { chooseEncoding, IMMUTABLE_CACHE } from './static.js';

describe('content negotiation', () => {
  const both = { br: Buffer.from('b'), gzip: Buffer.from('g') };
  it('prefers brotli, then gzip, honours q=0 and wildcards', () => {
    expect(chooseEncoding('gzip, deflate, br, zstd', both)).toBe('br');
    expect(chooseEncoding('gzip', both)).toBe('gzip');
    expect(chooseEncoding('br;q=0, gzip;q=0.5', both)).toBe('gzip');
    expect(chooseEncoding('*', both)).toBe('br');
    expect(chooseEncoding('identity', both)).toBe('identity');
    expect(chooseEncoding(undefined, both)).toBe('identity');
    expect(chooseEncoding('br', { gzip: both.gzip })).toBe('identity');
  });
});

describe('serving the built web client', () => {
  let t: TestPreau;
  let dir: string;
  const js = 'console.log("Préau");'.repeat(50);
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'preau-web-'));
    mkdirSync(path.join(dir, 'assets'));
    mkdirSync(path.join(dir, '.vite'));
    writeFileSync(path.join(dir, 'index.html'), '<!doctype html><html lang="fr"><title>Préau</title><script type="module" src="/assets/app-abc123.js"></script></html>');
    writeFileSync(path.join(dir, 'assets', 'app-abc123.js'), js);
    writeFileSync(path.join(dir, 'assets', 'app-abc123.js.gz'), gzipSync(js));
    writeFileSync(path.join(dir, 'assets', 'app-abc123.js.br'), brotliCompressSync(js));
    writeFileSync(path.join(dir, 'sw.js'), 'self.addEventListener("fetch", () => {});');
    writeFileSync(path.join(dir, 'manifest.webmanifest'), '{"name":"Préau"}');
    writeFileSync(path.join(dir, '.vite', 'manifest.json'), '{}');
    t = await startTestPreau('sqlite', { webDir: dir });
  });
  afterAll(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const get = (url: string, headers: Record<string, string> = {}) => t.anonymous.request({ method: 'GET', url, headers });

  it('hashed assets are immutable for a year, precompressed by Accept-Encoding, with Vary', async () => {
    const br = await get('/assets/app-abc123.js', { 'accept-encoding': 'gzip, br' });
    expect(br.statusCode).toBe(200);
    expect(br.headers['cache-control']).toBe(IMMUTABLE_CACHE);
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers.vary).toBe('Accept-Encoding');
    expect(br.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(brotliDecompressSync(br.rawPayload).toString()).toBe(js);
    const gz = await get('/assets/app-abc123.js', { 'accept-encoding': 'gzip' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.rawPayload).toString()).toBe(js);
    const plain = await get('/assets/app-abc123.js');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body).toBe(js);
  });

  it('the document is revalidated every time (no-cache, ETag → 304) and carries the strict CSP', async () => {
    const res = await get('/');
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    const csp = res.headers['content-security-policy'] as string;
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    const again = await get('/', { 'if-none-match': res.headers.etag as string });
    expect(again.statusCode).toBe(304);
  });

  it('app routes get the document (SPA); the service worker is served at the root, revalidated', async () => {
    for (const route of ['/aujourdhui', '/compte', '/connexion?suite=%2Fcompte']) {
      const res = await get(route);
      expect(res.statusCode, route).toBe(200);
      expect(res.body).toContain('<title>Préau</title>');
    }
    const sw = await get('/sw.js');
    expect(sw.statusCode).toBe(200);
    expect(sw.headers['cache-control']).toBe('no-cache');
    expect(sw.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect((await get('/manifest.webmanifest')).headers['content-type']).toBe('application/manifest+json');
  });

  it('unknown API paths stay JSON 404s; missing files and build bookkeeping are 404s, not pages', async () => {
    for (const url of ['/api/v1/nope', '/api/', '/assets/missing-123.js', '/favicon.ico', '/.vite/manifest.json', '/assets/../index.html.map']) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(404);
      expect(res.json().error.id).toBe('request.not_found');
    }
    const post = await t.anonymous.request({ method: 'POST', url: '/aujourdhui', payload: {} });
    expect(post.statusCode).toBe(404);
  });
});
