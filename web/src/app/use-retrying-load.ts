import { useEffect, useRef, useState } from 'preact/hooks';
import { nextDelayMs } from '../api/backoff.js';
import { ApiError, type ApiOk } from '../api/client.js';
import { freshness, me } from './state.js';

export type LoadState<T> =
  | { phase: 'loading' }
  | { phase: 'ready'; data: T }
  /** No data to show yet; the next attempt is at retryAtMs (offline, or the server refused for now). */
  | { phase: 'waiting'; reason: 'offline' | 'busy'; retryAtMs: number }
  | { phase: 'failed'; error: ApiError };

/**
 * Loads a read and keeps trying, never leaving a blank page: cached data is shown (with the
 * freshness banner) while fresh data is retried; without data, an honest waiting state with the
 * time of the next attempt. Retries follow the backoff policy (jittered, capped, honouring
 * Retry-After), and stop when the component goes away.
 */
export function useRetryingLoad<T>(load: () => Promise<ApiOk<T>>): { state: LoadState<T>; retryNow: () => void } {
  const [state, setState] = useState<LoadState<T>>({ phase: 'loading' });
  const attempt = useRef(0);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const alive = useRef(true);
  const hasData = useRef(false);

  const run = async (): Promise<void> => {
    clearTimeout(timer.current);
    const schedule = (retryAfterSeconds: number | undefined): number => {
      const retryAtMs = Date.now() + nextDelayMs(attempt.current++, retryAfterSeconds, Math.random);
      timer.current = setTimeout(() => void run(), retryAtMs - Date.now());
      return retryAtMs;
    };
    try {
      const { data, stale } = await load();
      if (!alive.current) return;
      hasData.current = true;
      setState({ phase: 'ready', data });
      if (stale) freshness.set({ ...stale, retryAtMs: schedule(stale.retryAfterSeconds) });
      else {
        attempt.current = 0;
        freshness.set(undefined);
      }
    } catch (err) {
      if (!alive.current) return;
      const error = err instanceof ApiError ? err : new ApiError('network', 0, 'network', '', undefined);
      if (error.status === 401) {
        me.set(null);
        return;
      }
      if (!error.transient) {
        setState({ phase: 'failed', error });
        return;
      }
      const retryAtMs = schedule(error.retryAfterSeconds);
      const reason = error.kind === 'network' ? 'offline' : 'busy';
      // Data already on screen stays; the banner says it is not fresh.
      if (hasData.current) freshness.update((f) => (f ? { ...f, retryAtMs } : { atMs: Date.now(), reason, retryAfterSeconds: error.retryAfterSeconds, retryAtMs }));
      else setState({ phase: 'waiting', reason, retryAtMs });
    }
  };

  useEffect(() => {
    alive.current = true;
    void run();
    return () => {
      alive.current = false;
      clearTimeout(timer.current);
    };
    // Loads once per mount: `load` is a stable function of the page.
  }, []);

  return {
    state,
    retryNow: () => {
      setState((s) => (s.phase === 'ready' ? s : { phase: 'loading' }));
      void run();
    },
  };
}

/** Seconds left until `atMs`, re-rendered every second while it counts down. */
export function useSecondsUntil(atMs: number | undefined): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (atMs === undefined) return;
    const id = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(id);
  }, [atMs]);
  return atMs === undefined ? 0 : Math.max(0, Math.ceil((atMs - now) / 1000));
}
