import { describe, expect, it } from 'vitest';
import { systemClock } from '../../platform/clock.js';
import { AppError } from '../../platform/errors.js';
import { Metrics } from '../../platform/metrics.js';
import { drainRetryAfterS, PasswordHasher } from './password-hasher.js';

describe('PasswordHasher', () => {
  it('hashes with Argon2id at the OWASP setting and verifies', async () => {
    const h = new PasswordHasher({ concurrency: 2, maxQueued: 10, maxWaitMs: 10_000 }, systemClock, new Metrics());
    const stored = await h.hash('Cartable-Bleu');
    expect(stored).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await h.verify(stored, 'Cartable-Bleu')).toBe(true);
    expect(await h.verify(stored, 'cartable-bleu')).toBe(false);
    expect(await h.verify('not a hash', 'x')).toBe(false);
  });

  it('refuses at once with auth.busy and a Retry-After when the queue is full, and measures the queue', async () => {
    const metrics = new Metrics();
    const h = new PasswordHasher({ concurrency: 1, maxQueued: 2, maxWaitMs: 10_000 }, systemClock, metrics);
    const stored = await h.hash('x-password');
    const jobs = Array.from({ length: 6 }, () => h.verify(stored, 'x-password').then(() => 'ok', (e: unknown) => e));
    const results = await Promise.all(jobs);
    const refused = results.filter((r): r is AppError => r instanceof AppError);
    // One runs, two wait, three are refused.
    expect(results.filter((r) => r === 'ok')).toHaveLength(3);
    expect(refused).toHaveLength(3);
    expect(refused[0]!.id).toBe('auth.busy');
    expect(refused[0]!.options.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(metrics.counter('preau_password_refused_total', '').get({ reason: 'full' })).toBe(3);
    expect(metrics.histogram('preau_password_queue_wait_ms', '', []).snapshot().count).toBe(4);
    expect(h.queued()).toBe(0);
  });

  it('drops a check that waited longer than allowed instead of computing it for nobody', async () => {
    let now = 0;
    const clock = { nowMs: () => now };
    const h = new PasswordHasher({ concurrency: 1, maxQueued: 10, maxWaitMs: 100 }, clock, new Metrics());
    const stored = await h.hash('x-password');
    const first = h.verify(stored, 'x-password');
    const second = h.verify(stored, 'x-password').catch((e: unknown) => e);
    now = 1000; // the second has now waited 1 s when a thread frees up
    expect(await first).toBe(true);
    expect(await second).toBeInstanceOf(AppError);
  });
});

describe('Retry-After of a refused password check', () => {
  it('is the measured drain time of the queue (at least 1 s), plus jitter', () => {
    expect(drainRetryAfterS(0, 15, 2, () => 0)).toBe(1);
    // 1,000 checks at 40 ms on 2 threads: 20 s to drain.
    expect(drainRetryAfterS(1_000, 40, 2, () => 0)).toBe(20);
    expect(drainRetryAfterS(1_000, 40, 2, () => 0.999)).toBe(24);
    // Slower hashing (a loaded node) gives a longer wait, not the same guess.
    expect(drainRetryAfterS(1_000, 80, 2, () => 0)).toBe(40);
  });
});
