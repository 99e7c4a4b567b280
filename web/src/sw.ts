/// <reference lib="webworker" />
/**
 * Préau's service worker, hand-written (no Workbox: a few dozen lines do what we need, and nothing
 * comes from a CDN).
 * - App shell (index.html, hashed assets, manifest, icon): precached at install, served from the
 *   cache first: a repeat visit on a weak link loads no byte of code from the network.
 * - The signed-in person's reads of CACHED_READS (who am I, Aujourd'hui): network first; a good
 *   answer is kept; when the network fails or the server is overloaded, the kept answer is served,
 *   marked with the time it was stored, so the page says "hors ligne — données de 7 h 42" instead of
 *   an error. A 401 deletes them (the session ended: its data must not be shown).
 * - Everything else (writes, other reads) goes to the network untouched.
 */
import {
  CACHED_READS, DATA_CACHE, FALLBACK_HEADER, FALLBACK_RETRY_AFTER_HEADER, SHELL_CACHE_PREFIX, STORED_AT_HEADER, type FallbackReason,
} from './offline/cache-names.js';

declare const self: ServiceWorkerGlobalScope;

/** Defined at build time (web/vite.config.ts): the shell's file list and a build id. */
declare const __PREAU_PRECACHE__: string[];
declare const __PREAU_BUILD__: string;
const PRECACHE = __PREAU_PRECACHE__;
const BUILD_ID = __PREAU_BUILD__;
const SHELL_CACHE = `${SHELL_CACHE_PREFIX}${BUILD_ID}`;
/** Past this, a read on a struggling link is answered from the cache (and the page retries later). */
const DATA_TIMEOUT_MS = 10_000;

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(SHELL_CACHE);
      await cache.addAll(PRECACHE);
      // A new build takes over at once: its shell is complete and consistent (hashed names).
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) if (name.startsWith(SHELL_CACHE_PREFIX) && name !== SHELL_CACHE) await caches.delete(name);
      await self.clients.claim();
    })(),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (CACHED_READS.includes(url.pathname)) {
    event.respondWith(networkFirst(request));
  } else if (request.mode === 'navigate' && !url.pathname.startsWith('/api/')) {
    event.respondWith(shellFirst(request, '/index.html'));
  } else if (url.pathname.startsWith('/assets/') || PRECACHE.includes(url.pathname)) {
    event.respondWith(shellFirst(request, url.pathname));
  }
});

async function shellFirst(request: Request, key: string): Promise<Response> {
  const cached = await caches.match(key, { cacheName: SHELL_CACHE });
  return cached ?? fetch(request);
}

async function networkFirst(request: Request): Promise<Response> {
  const cache = await caches.open(DATA_CACHE);
  const key = new URL(request.url).pathname;
  let response: Response;
  try {
    response = await fetch(request, { signal: AbortSignal.timeout(DATA_TIMEOUT_MS) });
  } catch (err) {
    const timedOut = err instanceof DOMException && err.name === 'TimeoutError';
    return (await fallback(cache, key, timedOut ? 'busy' : 'offline', null)) ?? Response.error();
  }
  if (response.status === 200) {
    const headers = new Headers(response.headers);
    headers.set(STORED_AT_HEADER, String(Date.now()));
    await cache.put(key, new Response(await response.clone().arrayBuffer(), { status: 200, headers }));
    return response;
  }
  if (response.status === 401) {
    await caches.delete(DATA_CACHE);
    return response;
  }
  if (response.status === 429 || response.status >= 500) {
    return (await fallback(cache, key, 'busy', response.headers.get('retry-after'))) ?? response;
  }
  return response;
}

async function fallback(cache: Cache, key: string, reason: FallbackReason, retryAfter: string | null): Promise<Response | undefined> {
  const cached = await cache.match(key);
  if (!cached) return undefined;
  const headers = new Headers(cached.headers);
  headers.set(FALLBACK_HEADER, reason);
  if (retryAfter) headers.set(FALLBACK_RETRY_AFTER_HEADER, retryAfter);
  return new Response(cached.body, { status: 200, headers });
}
