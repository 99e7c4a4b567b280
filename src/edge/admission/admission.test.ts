import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpApp } from '../../http/app.js';
import type { Criticality } from '../../http/request-context.js';
import { createLogger } from '../../platform/logger.js';
import { Metrics } from '../../platform/metrics.js';
import { installEdge } from '../edge.js';
import { Refusals } from '../refusal.js';
import { Admission, DEFAULT_ADMISSION_SETTINGS, type AdmissionSettings } from './admission.js';
import { allowedWaitMs, CodelQueue, type CodelSettings } from './codel-queue.js';
import { DEFAULT_GRADIENT_SETTINGS, initialGradientState, nextLimit } from './gradient-limit.js';
import { DEFAULT_SHED_SETTINGS, FULL_SHARES, INITIAL_SHED_STATE, nextShedState, type ShedState } from './shedder.js';

describe('gradient concurrency limit', () => {
  const s = { ...DEFAULT_GRADIENT_SETTINGS, initialLimit: 100 };

  it('grows slowly while latency holds and the allowance is used', () => {
    let st = initialGradientState(s);
    for (let i = 0; i < 20; i++) st = nextLimit(s, st, { avgLatencyMs: 5, maxInflight: st.limit });
    expect(st.limit).toBeGreaterThan(100);
    expect(st.limit).toBeLessThan(200);
  });

  it('shrinks when latency rises beyond the tolerance, down to its floor, never below', () => {
    let st = initialGradientState(s);
    for (let i = 0; i < 20; i++) st = nextLimit(s, st, { avgLatencyMs: 5, maxInflight: st.limit });
    const before = st.limit;
    for (let i = 0; i < 10; i++) st = nextLimit(s, st, { avgLatencyMs: 50, maxInflight: st.limit });
    expect(st.limit).toBeLessThan(before);
    for (let i = 0; i < 500; i++) st = nextLimit(s, st, { avgLatencyMs: 5_000, maxInflight: st.limit });
    expect(st.limit).toBeGreaterThanOrEqual(s.minLimit);
  });

  it('does not grow when the node does not use its allowance (application-limited)', () => {
    let st = initialGradientState(s);
    for (let i = 0; i < 50; i++) st = nextLimit(s, st, { avgLatencyMs: 1, maxInflight: 3 });
    expect(st.limit).toBe(100);
  });

  it('stays finite and bounded on absurd samples (zero, huge latency)', () => {
    let st = initialGradientState(s);
    for (const avg of [0, 1e12, 0, 1e-9]) st = nextLimit(s, st, { avgLatencyMs: avg, maxInflight: 1e9 });
    expect(Number.isFinite(st.limit)).toBe(true);
    expect(st.limit).toBeGreaterThanOrEqual(s.minLimit);
    expect(st.limit).toBeLessThanOrEqual(s.maxLimit);
  });
});

describe('CoDel queue', () => {
  const s: CodelSettings = { maxLength: 3, maxWaitMs: 500, overloadWaitMs: 20, intervalMs: 100 };
  const none = () => undefined;

  it('serves first come first served while it drains, and refuses beyond its length', () => {
    const q = new CodelQueue<string>(s, 0);
    expect(q.push('a', 0) && q.push('b', 1) && q.push('c', 2)).toBe(true);
    expect(q.push('d', 3)).toBe(false);
    expect(q.pop(10, none)?.item).toBe('a');
    expect(q.pop(11, none)?.item).toBe('b');
  });

  it('once it has stood for an interval, serves the newest and times the oldest out quickly', () => {
    const q = new CodelQueue<string>(s, 0);
    q.push('old', 0);
    q.push('mid', 100);
    q.push('new', 195);
    expect(allowedWaitMs(s, 0, 150)).toBe(20);
    const expired: string[] = [];
    const next = q.pop(200, (item) => expired.push(item));
    expect(expired).toEqual(['old', 'mid']);
    expect(next?.item).toBe('new');
    // Emptied: the next item gets the normal allowance again.
    q.push('later', 300);
    expect(allowedWaitMs(s, 300, 350)).toBe(500);
    expect(q.pop(350, none)?.item).toBe('later');
  });

  it('expires items by the normal allowance even without a pop', () => {
    const q = new CodelQueue<string>(s, 0);
    q.push('a', 0);
    const expired: string[] = [];
    q.expire(90, (i) => expired.push(i));
    expect(expired).toEqual([]);
    q.expire(1_000, (i) => expired.push(i));
    expect(expired).toEqual(['a']);
    expect(q.length).toBe(0);
  });
});

describe('lag-driven shedder', () => {
  const lagged = (state: ShedState, lagMs: number, samples: number) => {
    let st = state;
    for (let i = 0; i < samples; i++) st = nextShedState(DEFAULT_SHED_SETTINGS, st, lagMs);
    return st;
  };

  it('sheds from the bottom: sheddable to nothing before login, login before normal, critical last and never to zero', () => {
    let st = INITIAL_SHED_STATE;
    const firstBelow: string[] = [];
    for (let i = 0; i < 200; i++) {
      st = nextShedState(DEFAULT_SHED_SETTINGS, st, 500);
      for (const c of ['sheddable', 'login', 'normal', 'critical'] as const) if (st.shares[c] < 1 && !firstBelow.includes(c)) firstBelow.push(c);
    }
    expect(firstBelow).toEqual(['sheddable', 'login', 'normal', 'critical']);
    expect(st.shares.sheddable).toBe(0);
    expect(st.shares.critical).toBe(DEFAULT_SHED_SETTINGS.minShare.critical);
  });

  it('recovers from the top: critical is fully admitted again before the others', () => {
    const st = lagged({ shares: { sheddable: 0, login: 0.05, normal: 0.05, critical: 0.2 }, overSamples: 9 }, 1, 8);
    expect(st.shares.critical).toBe(1);
    expect(st.shares.normal).toBeLessThan(1);
    expect(st.shares.sheddable).toBe(0);
  });

  it('ignores a lag that does not last (a GC pause, a moment without the CPU)', () => {
    let st = INITIAL_SHED_STATE;
    for (let i = 0; i < 50; i++) st = lagged(lagged(st, 2_000, DEFAULT_SHED_SETTINGS.sustainSamples - 1), 0, 1);
    expect(st.shares).toEqual(FULL_SHARES);
  });

  it('classes without traffic go straight to their floor: the first class with traffic is shed at once', () => {
    const quiet = { sheddable: false, login: false, normal: true, critical: true };
    let st = INITIAL_SHED_STATE;
    for (let i = 0; i < DEFAULT_SHED_SETTINGS.sustainSamples; i++) st = nextShedState(DEFAULT_SHED_SETTINGS, st, 500, quiet);
    expect(st.shares.sheddable).toBe(0);
    expect(st.shares.normal).toBeLessThan(1);
    expect(st.shares.critical).toBe(1);
  });

  it('a healthy node admits everything (fails open without pressure, or on a nonsense sample)', () => {
    expect(lagged(INITIAL_SHED_STATE, 0, 10).shares).toEqual(FULL_SHARES);
    expect(lagged(INITIAL_SHED_STATE, Number.NaN, 10).shares).toEqual(FULL_SHARES);
  });
});

describe('admission on a Fastify app', () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  /** Sheddable traffic goes on while the loop lags: it is what gets shed, down to nothing. */
  async function lagUntilSheddableIsShed(a: FastifyInstance, admission: Admission): Promise<void> {
    for (let i = 0; i < 100 && admission.currentShares().sheddable > 0; i++) {
      await a.inject({ url: '/sheddable' });
      admission.observeLag(400);
    }
  }

  /** An app whose routes wait until the test releases them: slots stay held as long as the test wants. */
  async function setup(overrides: Partial<AdmissionSettings>) {
    const settings: AdmissionSettings = { ...DEFAULT_ADMISSION_SETTINGS, gradient: { ...DEFAULT_GRADIENT_SETTINGS, initialLimit: 2, minLimit: 1 }, lagSampleMs: 60_000, ...overrides };
    const admission = new Admission(settings, new Refusals(false), new Metrics());
    app = createHttpApp(createLogger('silent'), false);
    installEdge(app, { admission });
    const gates: (() => void)[] = [];
    const served: string[] = [];
    for (const c of ['critical', 'normal', 'sheddable', 'login'] as Criticality[]) {
      app.get(`/${c}`, { config: { criticality: c } }, async (request) => {
        const tag = (request.query as { tag?: string }).tag ?? c;
        served.push(tag);
        if ((request.query as { hold?: string }).hold) await new Promise<void>((r) => gates.push(r));
        return { tag };
      });
    }
    await app.ready();
    return { admission, a: app, gates, served };
  }

  it('when the slots are taken, queued requests are served critical first, and a sheddable one times out with a pre-built 503', async () => {
    const { a, gates, served, admission } = await setup({});
    const held = [a.inject({ url: '/normal?hold=1&tag=n1' }), a.inject({ url: '/normal?hold=1&tag=n2' })];
    while (gates.length < 2) await new Promise((r) => setTimeout(r, 5));
    expect(admission.inFlight()).toBe(2);
    const shed = a.inject({ url: '/sheddable?tag=s' });
    const crit = a.inject({ url: '/critical?tag=c' });
    await new Promise((r) => setTimeout(r, 20));
    gates.shift()!();
    const c = await crit;
    expect(c.statusCode).toBe(200);
    const s: LightMyRequestResponse = await shed;
    expect(s.statusCode).toBe(503);
    expect(s.json().error.id).toBe('edge.overloaded');
    expect(s.json().error.message).toMatch(/Préau est très sollicité/);
    expect(Number(s.headers['retry-after'])).toBeGreaterThanOrEqual(2);
    expect(served).not.toContain('s');
    gates.shift()!();
    await Promise.all(held);
    expect(admission.inFlight()).toBe(0);
  });

  it('under event-loop lag, sheddable is refused while critical is still served; login takes no slot', async () => {
    const { a, admission } = await setup({});
    await lagUntilSheddableIsShed(a, admission);
    expect(admission.currentShares().critical).toBe(1);
    const [s, c] = await Promise.all([a.inject({ url: '/sheddable' }), a.inject({ url: '/critical' })]);
    expect(s.statusCode).toBe(503);
    expect(s.headers['retry-after']).toBeDefined();
    expect(c.statusCode).toBe(200);
    expect(admission.inFlight()).toBe(0);
  });

  it('answers in English when asked, with the same id', async () => {
    const { a, admission } = await setup({});
    await lagUntilSheddableIsShed(a, admission);
    const s = await a.inject({ url: '/sheddable', headers: { 'accept-language': 'en' } });
    expect(s.json().error).toMatchObject({ id: 'edge.overloaded', message: expect.stringMatching(/very busy/) });
  });
});
