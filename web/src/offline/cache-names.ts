/**
 * Names shared by the page and the service worker. Kept free of imports so that it can be compiled
 * into the worker (a classic script) as well as into the page.
 */

/** The signed-in person's last answers (who am I, Aujourd'hui): wiped on logout. */
export const DATA_CACHE = 'preau-data-v1';
/** Prefix of the app-shell caches; one per build, older ones are deleted when a new worker activates. */
export const SHELL_CACHE_PREFIX = 'preau-shell-';
/** Reads kept for offline use, network first. */
export const CACHED_READS = ['/api/v1/me', '/api/v1/me/today'];

/** Headers the worker adds to an answer it took from the cache instead of the server. */
export const FALLBACK_HEADER = 'x-preau-fallback';
export const STORED_AT_HEADER = 'x-preau-stored-at';
export const FALLBACK_RETRY_AFTER_HEADER = 'x-preau-retry-after';
export type FallbackReason = 'offline' | 'busy';
