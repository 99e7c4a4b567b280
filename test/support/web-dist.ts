import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

/** The built web client, as the test budgets and the web bench read it. */
export const WEB_DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'web', 'dist');

interface ManifestChunk {
  file: string;
  isEntry?: boolean;
  imports?: string[];
  css?: string[];
}

export interface FirstPageSizes {
  /** Files the first page loads: the entry chunk and what it imports statically (not lazy pages). */
  js: string[];
  css: string[];
  jsGzipBytes: number;
  /** Every stylesheet of the build (they are all small; none is lazy today). */
  cssGzipBytes: number;
}

export function gzippedBytes(file: string, dist = WEB_DIST): number {
  return gzipSync(readFileSync(path.join(dist, file)), { level: 9 }).length;
}

export function firstPageSizes(dist = WEB_DIST): FirstPageSizes {
  const manifest = JSON.parse(readFileSync(path.join(dist, '.vite', 'manifest.json'), 'utf8')) as Record<string, ManifestChunk>;
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
  const allCss = new Set([...css, ...Object.values(manifest).flatMap((c) => c.css ?? [])]);
  return {
    js: [...js],
    css: [...css],
    jsGzipBytes: [...js].reduce((sum, f) => sum + gzippedBytes(f, dist), 0),
    cssGzipBytes: [...allCss].reduce((sum, f) => sum + gzippedBytes(f, dist), 0),
  };
}
