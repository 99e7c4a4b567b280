import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { firstPageSizes, WEB_DIST } from '../support/web-dist.js';

/**
 * The weak-link budget (issue 3): the JavaScript a pupil downloads for the login page and
 * Aujourd'hui ≤ 60 KB gzipped in total, CSS ≤ 20 KB gzipped. Read from the build made by the
 * suite's globalSetup: the entry chunk and everything it imports statically (what the first page
 * loads), not lazily loaded pages such as Mon compte.
 */
export const JS_BUDGET_GZIP_BYTES = 60 * 1024;
export const CSS_BUDGET_GZIP_BYTES = 20 * 1024;

describe('web client budgets', () => {
  const sizes = firstPageSizes();

  it('login + Aujourd’hui JavaScript ≤ 60 KB gzipped', () => {
    expect(sizes.js.length).toBeGreaterThan(0);
    console.log(`JS du premier écran : ${(sizes.jsGzipBytes / 1024).toFixed(1)} Ko gzip (${sizes.js.join(', ')}) ; budget ${JS_BUDGET_GZIP_BYTES / 1024} Ko`);
    expect(sizes.jsGzipBytes).toBeLessThanOrEqual(JS_BUDGET_GZIP_BYTES);
  });

  it('the English catalogue is not in the first page (a lazy chunk, loaded when someone chooses English)', () => {
    const firstPage = sizes.js.map((f) => readFileSync(path.join(WEB_DIST, f), 'utf8')).join('\n');
    expect(firstPage).toContain('Identifiant ou mot de passe incorrect.');
    expect(firstPage).not.toContain('Wrong identifier or password.');
  });

  it('CSS ≤ 20 KB gzipped', () => {
    console.log(`CSS : ${(sizes.cssGzipBytes / 1024).toFixed(1)} Ko gzip ; budget ${CSS_BUDGET_GZIP_BYTES / 1024} Ko`);
    expect(sizes.cssGzipBytes).toBeGreaterThan(0);
    expect(sizes.cssGzipBytes).toBeLessThanOrEqual(CSS_BUDGET_GZIP_BYTES);
  });

  it('the document has no inline script or style, and names no other host (CSP, no third party)', () => {
    const html = readFileSync(path.join(WEB_DIST, 'index.html'), 'utf8');
    for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)) {
      expect(m[1], 'script without src').toMatch(/\ssrc="\/assets\//);
      expect(m[2]!.trim()).toBe('');
    }
    expect(html).not.toMatch(/<style\b|\sstyle=/);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    for (const f of [...sizes.js, ...sizes.css, 'sw.js']) expect(readFileSync(path.join(WEB_DIST, f), 'utf8'), f).not.toMatch(/https?:\/\/(?!www\.w3\.org)[a-z0-9.-]+\.[a-z]{2,}/i);
  });
});
