import { describe, expect, it } from 'vitest';
import { ApiError } from '../../api/client.js';
import { MAX_AUTO_RETRIES, MAX_CHALLENGES, MIN_POLL_MS, nextLoginStep, readPoll } from './login-flow.js';

const fresh = { retries: 0, challenges: 0 };
const http = (status: number, id: string, details: Record<string, unknown> = {}, retryAfterSeconds?: number) => new ApiError('http', status, id, '', retryAfterSeconds, details);

describe('what the login page does with a refused sign-in', () => {
  it('a place in the waiting room: wait and poll (never sooner than a second), with the position and estimate', () => {
    expect(nextLoginStep(http(503, 'waiting.queued', { ticket: 't', position: 42, estimatedWaitSeconds: 7.2, pollAfterMs: 2_500 }, 3), fresh)).toEqual({ kind: 'queue', position: 42, estimatedWaitSeconds: 8, pollAfterMs: 2_500 });
    expect(nextLoginStep(http(503, 'waiting.queued', { position: 1, pollAfterMs: 5 }), fresh)).toMatchObject({ kind: 'queue', pollAfterMs: MIN_POLL_MS });
    // Broken details still give a sane wait, from Retry-After.
    expect(nextLoginStep(http(503, 'waiting.queued', { position: 'x' }, 4), fresh)).toEqual({ kind: 'queue', position: 1, estimatedWaitSeconds: 4, pollAfterMs: 4_000 });
  });

  it('a challenge: solve it, a bounded number of times, and only a sane one', () => {
    const c = http(403, 'challenge.required', { challenge: 'abc.def', bits: 16 });
    expect(nextLoginStep(c, fresh)).toEqual({ kind: 'challenge', challenge: 'abc.def', bits: 16 });
    expect(nextLoginStep(http(403, 'challenge.used', { challenge: 'x', bits: 16 }), fresh).kind).toBe('challenge');
    expect(nextLoginStep(c, { retries: 0, challenges: MAX_CHALLENGES }).kind).toBe('fail');
    expect(nextLoginStep(http(403, 'challenge.required', { challenge: 'x', bits: 60 }), fresh).kind).toBe('fail');
    expect(nextLoginStep(http(403, 'challenge.required', { bits: 16 }), fresh).kind).toBe('fail');
  });

  it('an overload: retry later, spread, the server’s Retry-After as a floor, a bounded number of times', () => {
    const busy = http(503, 'auth.busy', {}, 2);
    const step = nextLoginStep(busy, fresh, () => 0.5);
    expect(step.kind).toBe('retry');
    expect(step.kind === 'retry' && step.delayMs).toBeGreaterThanOrEqual(2_000);
    expect(nextLoginStep(busy, { retries: MAX_AUTO_RETRIES, challenges: 0 }).kind).toBe('fail');
  });

  it('anything else is shown to the person: wrong password, throttling, the network', () => {
    expect(nextLoginStep(http(401, 'auth.invalid_credentials'), fresh).kind).toBe('fail');
    expect(nextLoginStep(http(429, 'auth.throttled', {}, 30), fresh).kind).toBe('fail');
    expect(nextLoginStep(new ApiError('network', 0, 'network', '', undefined), fresh).kind).toBe('fail');
    expect(nextLoginStep(new Error('boom'), fresh).kind).toBe('fail');
  });

  it('reads the waiting room’s poll', () => {
    expect(readPoll({ state: 'admitted', position: 0 })).toEqual({ kind: 'admitted' });
    expect(readPoll({ state: 'waiting', position: 3, estimatedWaitSeconds: 2, pollAfterMs: 1_800 })).toEqual({ kind: 'waiting', position: 3, estimatedWaitSeconds: 2, pollAfterMs: 1_800 });
    expect(readPoll(undefined)).toEqual({ kind: 'again' });
    expect(readPoll({ state: 'weird' })).toEqual({ kind: 'again' });
  });
});
