/**
 * Build of the web client (`npm run build:web`): hashed, immutable assets in web/dist/assets, the
 * service worker at the root (sw.js: its scope must be the whole site, and its URL is its
 * identity), and `.br`/`.gz` siblings of every text file so that Préau serves them without
 * compressing per request.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants as zlib, gzipSync } from 'node:zlib';
import { build, defineConfig, type Plugin } from 'vite';

const WEB_ROOT = path.dirname(fileURLToPath(import.meta.url));
const OUT_DIR = path.join(WEB_ROOT, 'dist');
/** Files of public/ the service worker keeps for offline use too. */
const PUBLIC_PRECACHE = ['/manifest.webmanifest', '/icon.svg'];
const COMPRESSIBLE = /\.(js|css|html|svg|webmanifest|json|txt)$/;
/** Compressing a tiny file gains nothing and costs a lookup. */
const MIN_COMPRESS_BYTES = 256;

/**
 * The service worker is built apart, as one classic script (no imports: not every browser runs
 * module workers), once the app is written: it receives the shell's file list and a build id
 * through `define` (a new build changes sw.js, which is how browsers notice a new version). Then
 * every text file gets its brotli (max quality) and gzip (level 9) siblings.
 */
function serviceWorkerAndCompression(): Plugin {
  let shell: string[] = [];
  return {
    name: 'preau-service-worker-and-compression',
    apply: 'build',
    writeBundle(_options, bundle) {
      shell = Object.keys(bundle)
        .filter((f) => !f.startsWith('.vite/') && !f.endsWith('.map'))
        .map((f) => `/${f}`);
    },
    async closeBundle() {
      const urls = [...new Set([...shell, '/index.html', ...PUBLIC_PRECACHE])].sort();
      const buildId = createHash('sha256').update(urls.join('\n')).digest('hex').slice(0, 12);
      await build({
        configFile: false,
        root: WEB_ROOT,
        publicDir: false,
        logLevel: 'warn',
        define: { __PREAU_PRECACHE__: JSON.stringify(urls), __PREAU_BUILD__: JSON.stringify(buildId) },
        build: {
          outDir: OUT_DIR,
          emptyOutDir: false,
          copyPublicDir: false,
          sourcemap: false,
          reportCompressedSize: false,
          rollupOptions: { input: path.join(WEB_ROOT, 'src', 'sw.ts'), output: { format: 'iife', entryFileNames: 'sw.js' } },
        },
      });
      precompress(OUT_DIR);
    },
  };
}

function precompress(root: string): void {
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((e) => {
      const full = path.join(dir, e);
      return statSync(full).isDirectory() ? (e.startsWith('.') ? [] : walk(full)) : [full];
    });
  for (const file of walk(root)) {
    if (!COMPRESSIBLE.test(file)) continue;
    const raw = readFileSync(file);
    if (raw.length < MIN_COMPRESS_BYTES) continue;
    writeFileSync(`${file}.gz`, gzipSync(raw, { level: 9 }));
    writeFileSync(`${file}.br`, brotliCompressSync(raw, { params: { [zlib.BROTLI_PARAM_QUALITY]: 11, [zlib.BROTLI_PARAM_SIZE_HINT]: raw.length } }));
  }
}

export default defineConfig({
  root: WEB_ROOT,
  publicDir: path.join(WEB_ROOT, 'public'),
  // No JSX plugin (and no Babel): Vite's own transformer compiles JSX for Preact.
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: OUT_DIR,
    emptyOutDir: true,
    assetsDir: 'assets',
    manifest: true,
    // Never inline assets as data: URIs in CSS or JS (the CSP allows them for images only, and a
    // separate immutable file caches better).
    assetsInlineLimit: 0,
    // The polyfill is for browsers without modulepreload; ours is injected as a file, never inline.
    modulePreload: { polyfill: false },
    cssCodeSplit: true,
    sourcemap: false,
    reportCompressedSize: false,
    rollupOptions: {
      input: path.join(WEB_ROOT, 'index.html'),
      output: {
        entryFileNames: 'assets/[name]-[hash].js',
        chunkFileNames: 'assets/[name]-[hash].js',
        assetFileNames: 'assets/[name]-[hash][extname]',
      },
    },
  },
  // `npm run dev:web`: the API is the Préau started by `npm run dev` (port 3000).
  server: { proxy: { '/api': 'http://127.0.0.1:3000' } },
  plugins: [serviceWorkerAndCompression()],
});
