import { describe, expect, it } from 'vitest';
import { addDays, parisDate, parisDayBounds, parisMonday, parisWallTimeToUtcMs } from './clock.js';
import { AppError, describeWait, ERRORS, errorBody } from './errors.js';
import { newActivationCode, normaliseActivationCode } from './ids.js';
import { Metrics } from './metrics.js';

describe('school time in Paris', () => {
  it('converts wall-clock times across daylight saving', () => {
    expect(new Date(parisWallTimeToUtcMs('2026-01-12', 8, 30)).toISOString()).toBe('2026-01-12T07:30:00.000Z');
    expect(new Date(parisWallTimeToUtcMs('2026-06-15', 8, 30)).toISOString()).toBe('2026-06-15T06:30:00.000Z');
    // The morning after the spring change (29 March 2026).
    expect(new Date(parisWallTimeToUtcMs('2026-03-30', 8, 0)).toISOString()).toBe('2026-03-30T06:00:00.000Z');
  });

  it('knows the Paris day of a UTC instant, its bounds and its Monday', () => {
    expect(parisDate(Date.parse('2026-09-06T22:30:00Z'))).toBe('2026-09-07');
    const b = parisDayBounds(Date.parse('2026-09-07T10:00:00Z'));
    expect(new Date(b.startMs).toISOString()).toBe('2026-09-06T22:00:00.000Z');
    expect(b.endMs - b.startMs).toBe(86_400_000);
    expect(parisDayBounds(Date.parse('2026-10-25T10:00:00Z')).endMs - parisDayBounds(Date.parse('2026-10-25T10:00:00Z')).startMs).toBe(25 * 3_600_000);
    expect(parisMonday(Date.parse('2026-09-10T10:00:00Z'))).toBe('2026-09-07');
    expect(addDays('2026-02-28', 1)).toBe('2026-03-01');
  });
});

describe('errors', () => {
  it('every catalogue entry has a 4xx/5xx status and both languages', () => {
    for (const [id, e] of Object.entries(ERRORS)) {
      expect(e.status, id).toBeGreaterThanOrEqual(400);
      expect(e.fr.length, id).toBeGreaterThan(5);
      expect(e.en.length, id).toBeGreaterThan(5);
      expect(id).toMatch(/^[a-z]+\.[a-z_]+$/);
    }
  });

  it('renders the wait in plain French', () => {
    expect(describeWait(1)).toBe('1 seconde');
    expect(describeWait(45)).toBe('45 secondes');
    expect(describeWait(61)).toBe('2 minutes');
    const body = errorBody(new AppError('auth.throttled', { retryAfterSeconds: 120 }), 'fr');
    expect(body.error).toEqual({ id: 'auth.throttled', message: 'Trop d’essais. Réessayez dans 2 minutes.', retryAfterSeconds: 120 });
  });
});

describe('activation codes', () => {
  it('are readable (no 0/O/1/I/L) and typed loosely', () => {
    for (let i = 0; i < 200; i++) expect(newActivationCode()).toMatch(/^[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}$/);
    expect(normaliseActivationCode(' k7pd 3qxa ')).toBe('K7PD3QXA');
  });
});

describe('metrics', () => {
  it('renders Prometheus text', () => {
    const m = new Metrics();
    m.counter('c_total', 'a counter').inc({ route: 'x' });
    m.gauge('g', 'a gauge').track(() => 7);
    m.histogram('h_ms', 'a histogram', [1, 10]).observe(5);
    const text = m.render();
    expect(text).toContain('c_total{route="x"} 1');
    expect(text).toContain('g 7');
    expect(text).toContain('h_ms_bucket{le="10"} 1');
    expect(text).toContain('h_ms_bucket{le="1"} 0');
  });
});
