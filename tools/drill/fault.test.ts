import { describe, expect, it } from 'vitest';
import { faultFigures, failoverRecord, faultVerdict, WRITES_BACK_MS, writeOutcome, type WriteSample } from './fault.js';
import { buildReport, renderHtml, terminalSummary, type FaultRecord } from './report.js';

const T = 1_000_000;
const w = (startedMs: number, endedMs: number, outcome: WriteSample['outcome']): WriteSample => ({ startedMs: T + startedMs, endedMs: T + endedMs, outcome });

describe('the fault overlay: how a write counts', () => {
  it('sorts answers by what they say about the database', () => {
    expect(writeOutcome(201, undefined)).toBe('ok');
    expect(writeOutcome(503, 'platform.read_only')).toBe('read_only');
    expect(writeOutcome(409, 'idempotency.in_progress')).toBe('stuck');
    expect(writeOutcome(0, 'délai')).toBe('network');
    expect(writeOutcome(0, 'réseau')).toBe('network');
    expect(writeOutcome(503, 'platform.database_unavailable')).toBe('refused');
    expect(writeOutcome(502, 'http-502')).toBe('refused');
    // A rate limit or a bad request is not the database's doing.
    expect(writeOutcome(429, 'edge.rate_limited')).toBeUndefined();
    expect(writeOutcome(400, 'validation.invalid')).toBeUndefined();
  });
});

describe('the fault overlay: a faulted morning’s figures', () => {
  it('counts a failure when it was sent and a success when acknowledged; writes sent before the fault are left out', () => {
    const writes = [
      w(-500, -400, 'ok'),
      // Sent before the fault, timed out long after: not a failure of the failover.
      w(-100, 15_000, 'network'),
      w(1_000, 1_100, 'read_only'),
      // Sent to the lost site just after the fault, failed at the client's time-out: it counts at 1.5 s.
      w(1_500, 16_500, 'network'),
      w(4_000, 4_050, 'read_only'),
      // An answer squeezed between refusals is not the recovery.
      w(5_000, 5_200, 'ok'),
      w(9_000, 9_100, 'read_only'),
      w(11_000, 11_300, 'ok'),
      w(12_000, 12_100, 'stuck'),
      w(13_000, 13_200, 'ok'),
    ];
    const f = faultFigures(writes, T);
    expect(f).toMatchObject({ rtoMs: 11_300, readOnlyWindowMs: 10_300, readOnlyAnswers: 3, otherFailures: 1, outageSeen: true, stuck: 1 });
  });

  it('says never when writes did not come back, and 0 when nothing failed', () => {
    expect(faultFigures([w(1_000, 1_100, 'read_only'), w(2_000, 2_100, 'read_only')], T)).toMatchObject({ rtoMs: undefined, readOnlyWindowMs: undefined, outageSeen: true });
    expect(faultFigures([w(1_000, 1_100, 'ok')], T)).toMatchObject({ rtoMs: 1_100, readOnlyWindowMs: 0, outageSeen: false });
  });

  it('holds when writes came back within the bar on site B, not otherwise', () => {
    const record = (back: number | null, primary: string | null) =>
      failoverRecord({ rtoMs: back ?? undefined, readOnlyWindowMs: back === null ? undefined : back - 500, readOnlyAnswers: 4, otherFailures: 1, outageSeen: true, stuck: 0 }, 'pm* 10.78.0.0/16', 12, 9_000, primary);
    expect(faultVerdict({ kind: 'site', failover: record(12_400, 'pg-b') })).toMatchObject({ ok: true, measured: expect.stringContaining('après 12,4 s (objectif de 15 s tenu)') });
    expect(faultVerdict({ kind: 'site', failover: record(20_000, 'pg-b') })).toMatchObject({ ok: true, measured: expect.stringContaining('(objectif de 15 s NON tenu)') });
    expect(faultVerdict({ kind: 'primary', failover: record(WRITES_BACK_MS + 1, 'pg-b') }).ok).toBe(false);
    expect(faultVerdict({ kind: 'primary', failover: record(null, 'pg-b') })).toMatchObject({ ok: false, measured: expect.stringContaining('acquittées après jamais') });
    // Writes came back, but site A leads again (or nobody): not the failover asked for.
    expect(faultVerdict({ kind: 'site', failover: record(8_000, 'pg-a') }).ok).toBe(false);
    expect(faultVerdict({ kind: 'site', failover: record(8_000, null) }).ok).toBe(false);
  });

  it('puts the verdict, the figures and a marker at the fault on every chart of the report', () => {
    const fault: FaultRecord = {
      kind: 'site', at: '08:30', atSec: 3,
      failover: failoverRecord({ rtoMs: 40_000, readOnlyWindowMs: 39_000, readOnlyAnswers: 2, otherFailures: 3, outageSeen: true, stuck: 1 }, 'pm* 10.78.0.0/16', 28, 11_100, 'pg-b'),
    };
    const phase = { visits: 1, actionsOk: 1, actionsFailed: 0, actionsNotStarted: 0, signInsFailed: 0 };
    const second = (sec: number) => ({ sec, phase: 'ramp' as const, offered: 2, served: 2, refusals: (sec === 4 ? { 'platform.read_only': 2 } : {}) as Record<string, number>, latency: { eleve: { n: 1, p50: 5, p95: 5, p99: 5 } }, waitingClients: 0, activeVisits: 1 });
    const report = (f: FaultRecord | null) =>
      buildReport({
        startedAt: new Date(0), options: { schools: 1, classes: 1, pupils: 1, durationS: 8, warmupS: 3, seed: 1, rememberedPercent: 80, database: 'postgres' }, edge: { on: true, crisis: false }, target: null,
        population: { pupils: 1, parents: 0, teachers: 0, visits: 1, firstTime: 0 },
        load: {
          t0Ms: 0, seconds: [0, 1, 2, 3, 4, 5, 6].map(second), actionsByKind: {}, cut: 0, acknowledged: { handins: [], posts: [], messages: [] },
          phases: { warmup: phase, ramp: phase, peak: phase },
          signIns: { remembered: 0, password: 0, activation: 0, queued: 0, challenged: 0, failed: 0, eveningBefore: 0, eveningBeforeFailed: 0, solveMs: 0 },
          queueWaits: { n: 0, p50: 0, p95: 0, p99: 0 }, pupilReads: { n: 1, p50: 1, p95: 1, p99: 1 }, at830: { pupils: 1, pupilReads: { n: 1, p50: 1, p95: 1, p99: 1 } },
        },
        server: [], fault: f, check: { handins: { acknowledged: 1, found: 1 }, posts: { acknowledged: 0, found: 0 }, messages: { acknowledged: 0, found: 0 }, method: 'api', missing: [], duplicated: [] }, attack: null,
      });
    const r = report(fault);
    // Writes back after 40 s: over the 30 s bar, so the faulted morning is not held.
    expect(r.verdicts.find((v) => v.id === 'writes_back')).toMatchObject({ ok: false, goal: 'Les écritures reprennent après la perte du site A' });
    expect(r.ok).toBe(false);
    const html = renderHtml(r);
    const charts = html.match(/<svg class="chart"/g)!.length;
    expect(html.match(/<line class="fault"/g)).toHaveLength(charts - 1); // every line chart (the refusals' bar chart has no time axis)
    expect(html).toContain('panne 08:30');
    expect(html).toContain('site A coupé à 08:30');
    expect(html).toContain('Fenêtre de lecture seule vue par les clients');
    expect(terminalSummary(r)).toContain('écritures de nouveau acquittées après 40 s ; fenêtre de lecture seule 39 s');
    // Without a fault: no marker, no such verdict.
    const plain = report(null);
    expect(plain.verdicts.some((v) => v.id === 'writes_back')).toBe(false);
    expect(renderHtml(plain)).not.toContain('class="fault"');
  });
});
