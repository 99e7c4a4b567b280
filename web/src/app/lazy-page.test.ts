import { describe, expect, it } from 'vitest';
import { LAZY_CHUNK_RETRY, LazyLoader, loadWithRetries, type LazyRetryOptions, type LazyState } from './lazy-page.js';

/** A chunk import that fails `failures` times (a 503, a cut), then gives the page. */
function flakyChunk(failures: number) {
  let calls = 0;
  const load = () => {
    calls++;
    return calls <= failures ? Promise.reject(new TypeError(`Failed to fetch dynamically imported module (essai ${calls})`)) : Promise.resolve('Page');
  };
  return { load, calls: () => calls };
}

/** Records the waits instead of waiting them. */
function instant(random = 0.5): LazyRetryOptions & { waits: number[] } {
  const waits: number[] = [];
  return { ...LAZY_CHUNK_RETRY, random: () => random, sleep: (ms) => (waits.push(ms), Promise.resolve()), waits };
}

const settled = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('lazy page chunks: retries, then a failure said', () => {
  it('retries a refused chunk with growing, jittered delays and gets the page', async () => {
    const options = instant(0);
    const chunk = flakyChunk(2);
    await expect(loadWithRetries(chunk.load, options)).resolves.toBe('Page');
    expect(chunk.calls()).toBe(3);
    // Equal jitter with random 0: half of 500 ms, then half of 1 s.
    expect(options.waits).toEqual([250, 500]);
  });

  it('gives up after its attempts, with the last error, having waited at most 3.5 s in all', async () => {
    const options = instant(0.999_999);
    const chunk = flakyChunk(99);
    await expect(loadWithRetries(chunk.load, options)).rejects.toThrow('essai 4');
    expect(chunk.calls()).toBe(LAZY_CHUNK_RETRY.attempts);
    expect(options.waits).toHaveLength(LAZY_CHUNK_RETRY.attempts - 1);
    expect(options.waits.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(3_500);
  });

  it('does not retry a chunk that loads', async () => {
    const options = instant();
    const chunk = flakyChunk(0);
    await expect(loadWithRetries(chunk.load, options)).resolves.toBe('Page');
    expect(chunk.calls()).toBe(1);
    expect(options.waits).toEqual([]);
  });

  it('the loader shows the failure after a cycle, waits for « Réessayer », and a new cycle loads the page', async () => {
    const chunk = flakyChunk(LAZY_CHUNK_RETRY.attempts + 1);
    const loader = new LazyLoader(chunk.load, instant());
    const seen: LazyState<string>['phase'][] = [];
    loader.subscribe((s) => seen.push(s.phase));

    loader.want();
    loader.want(); // wanted again while loading (a re-render): one cycle only
    await settled();
    expect(loader.state.phase).toBe('failed');
    expect(chunk.calls()).toBe(LAZY_CHUNK_RETRY.attempts);
    // Wanted again after the failure (the person navigates back): nothing is fetched until they ask.
    loader.want();
    await settled();
    expect(chunk.calls()).toBe(LAZY_CHUNK_RETRY.attempts);

    loader.retry();
    expect(loader.state.phase).toBe('loading');
    await settled();
    expect(loader.state).toEqual({ phase: 'ready', page: 'Page' });
    // One failed attempt more (the first of the new cycle), then the page.
    expect(chunk.calls()).toBe(LAZY_CHUNK_RETRY.attempts + 2);
    expect(seen).toEqual(['failed', 'loading', 'ready']);
    // Loaded: neither `want` nor `retry` fetches again.
    loader.want();
    loader.retry();
    await settled();
    expect(chunk.calls()).toBe(LAZY_CHUNK_RETRY.attempts + 2);
  });
});
