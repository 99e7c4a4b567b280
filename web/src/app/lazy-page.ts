import { nextDelayMs, type BackoffPolicy } from '../api/backoff.js';

/**
 * A page's lazy chunk, loaded with retries. A chunk refused once (a 503 from a busy node, a cut
 * on a weak link) used to leave the page on « Chargement… » for good: the loader now tries again
 * with jittered, growing delays (the same backoff policy as the API's reads), and after its last
 * attempt says so and waits for the person (« Réessayer »), rather than hammering a server that is
 * refusing, or spinning forever. A new attempt imports the chunk again: Chromium does not keep a
 * failed dynamic import (checked in test/web/web-client.test.ts).
 */
export type LazyState<P> = { phase: 'loading' } | { phase: 'ready'; page: P } | { phase: 'failed'; error: unknown };

export interface LazyRetryOptions {
  /** Attempts per cycle (the first one included) before the failure is shown. */
  attempts: number;
  /** Delays between attempts (Retry-After is not visible to a dynamic import: jittered exponential only). */
  backoff: BackoffPolicy;
  random: () => number;
  sleep: (ms: number) => Promise<void>;
}

/** Four attempts about 0.5, 1 and 2 s apart (at most 0.5 + 1 + 2 = 3.5 s before the message): a hiccup is absorbed, an outage is said. */
export const LAZY_CHUNK_RETRY: LazyRetryOptions = {
  attempts: 4,
  backoff: { baseMs: 500, maxMs: 4_000, maxRetryAfterMs: 4_000, retryAfterSpread: 0 },
  random: Math.random,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** Runs `load` until it resolves or `attempts` have failed (then rejects with the last error). */
export async function loadWithRetries<T>(load: () => Promise<T>, options: LazyRetryOptions): Promise<T> {
  const attempts = Math.max(1, Math.floor(options.attempts));
  for (let attempt = 0; ; attempt++) {
    try {
      return await load();
    } catch (err) {
      if (attempt + 1 >= attempts) throw err;
      await options.sleep(nextDelayMs(attempt, undefined, options.random, options.backoff));
    }
  }
}

/**
 * One lazy page's loading cycle, outside any framework (the hook in App.tsx follows it): `want()`
 * starts a cycle unless one is running or the page is there; `retry()` starts a new cycle after a
 * failure. Listeners hear every state change.
 */
export class LazyLoader<P> {
  private current: LazyState<P> = { phase: 'loading' };
  private running = false;
  private readonly listeners = new Set<(state: LazyState<P>) => void>();

  constructor(
    private readonly load: () => Promise<P>,
    private readonly options: LazyRetryOptions = LAZY_CHUNK_RETRY,
  ) {}

  get state(): LazyState<P> {
    return this.current;
  }

  subscribe(listener: (state: LazyState<P>) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The page is wanted: loads it if it is neither loaded, nor loading, nor failed (a failure waits for `retry`). */
  want(): void {
    if (this.current.phase === 'loading') this.start();
  }

  /** After a failure: a new cycle of attempts. */
  retry(): void {
    if (this.current.phase !== 'failed') return;
    this.set({ phase: 'loading' });
    this.start();
  }

  private start(): void {
    if (this.running) return;
    this.running = true;
    loadWithRetries(this.load, this.options).then(
      (page) => {
        this.running = false;
        this.set({ phase: 'ready', page });
      },
      (error: unknown) => {
        this.running = false;
        this.set({ phase: 'failed', error });
      },
    );
  }

  private set(state: LazyState<P>): void {
    this.current = state;
    for (const listener of this.listeners) listener(state);
  }
}
