import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';

/**
 * The weak-link budget (issue 3): the JavaScript a pupil downloads for the login page and
 * Aujourd'hui ≤ 60 KB gzipped in total, CSS ≤ 20 KB gzipped. Read from the build made by the
 * suite's globalSetup: the entry chunk and everything it imports statically (what the first page
 * loads), not lazily loaded pages such as Mon compte.
 */
export const JS_BUDGET_GZIP_BYTES = 60 * 1024;
export const CSS_BUDGET_GZIP_BYTES = 20 * 1024;

const DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'web', 'dist');

interface ManifestChunk {
  file: string;
  isEntry?: boolean;
  imports?: string[];
  css?: string[];
}

export function firstPageFiles(manifest: Record<string, ManifestChunk>): { js: string[]; css: string[] } {
  const js = new Set<string>();
  const css = new Set<string>();
  const visit = (key: string) => {
    const chunk = manifest[key];
    if (!chunk || js.has(chunk.file)) return;
    js.add(chunk.file);
    for (const c of chunk.css ?? []) css.add(c);
    for (const i of chunk.imports ?? []) visit(i);
  };
  for (const [key, chunk] of Object.entries(manifest)) if (chunk.isEntry) visit(key);
  return { js: [...js], css: [...css] };
}

const gzipped = (file: string) => gzipSync(readFileSync(path.join(DIST, file)), { level: 9 }).length;

describe('web client budgets', () => {
  const manifest = JSON.parse(readFileSync(path.join(DIST, '.vite', 'manifest.json'), 'utf8')) as Record<string, ManifestChunk>;
  const { js, css } = firstPageFiles(manifest);

  it('login + Aujourd’hui JavaScript ≤ 60 KB gzipped', () => {
    expect(js.length).toBeGreaterThan(0);
    const total = js.reduce((sum, f) => sum + gzipped(f), 0);
    console.log(`JS du premier écran : ${(total / 1024).toFixed(1)} Ko gzip (${js.join(', ')}) ; budget ${JS_BUDGET_GZIP_BYTES / 1024} Ko`);
    expect(total).toBeLessThanOrEqual(JS_BUDGET_GZIP_BYTES);
  });

  it('CSS ≤ 20 KB gzipped', () => {
    const all = Object.values(manifest).flatMap((c) => c.css ?? []);
    const total = [...new Set([...css, ...all])].reduce((sum, f) => sum + gzipped(f), 0);
    console.log(`CSS : ${(total / 1024).toFixed(1)} Ko gzip ; budget ${CSS_BUDGET_GZIP_BYTES / 1024} Ko`);
    expect(total).toBeGreaterThan(0);
    expect(total).toBeLessThanOrEqual(CSS_BUDGET_GZIP_BYTES);
  });

  it('the document has no inline script or style, and names no other host (CSP, no third party)', () => {
    const html = readFileSync(path.join(DIST, 'index.html'), 'utf8');
    for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)) {
      expect(m[1], 'script without src').toMatch(/\ssrc="\/assets\//);
      expect(m[2]!.trim()).toBe('');
    }
    expect(html).not.toMatch(/<style\b|\sstyle=/);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    for (const f of [...js, ...css]) expect(readFileSync(path.join(DIST, f), 'utf8'), f).not.toMatch(/https?:\/\/(?!www\.w3\.org)[a-z0-9.-]+\.[a-z]{2,}/i);
  });
});
