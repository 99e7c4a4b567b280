import { describe, expect, it } from 'vitest';
import { failoverFigures, medianAndWorst, switchoverFigures, type WriteAttempt } from './measure.js';

const at = (atMs: number, outcome: WriteAttempt['outcome'], site: 'a' | 'b' = 'b'): WriteAttempt => ({ site, atMs, outcome });

describe('failoverFigures', () => {
  it('RTO from the cut to the first write acknowledged after the outage; the window from the first failure to it', () => {
    const f = failoverFigures([at(900, 'ok'), at(1_100, 'ok'), at(3_000, 'network'), at(3_500, 'read_only'), at(9_000, 'read_only'), at(11_000, 'ok'), at(11_100, 'ok')], 1_000);
    expect(f).toEqual({ rtoMs: 10_000, readOnlyWindowMs: 8_000, readOnlyAnswers: 2, otherFailures: 1, outageSeen: true });
  });
  it('ignores site A and what came before the cut', () => {
    const f = failoverFigures([at(500, 'read_only'), at(1_500, 'network', 'a'), at(2_000, 'read_only'), at(4_000, 'ok')], 1_000);
    expect(f).toEqual({ rtoMs: 3_000, readOnlyWindowMs: 2_000, readOnlyAnswers: 1, otherFailures: 0, outageSeen: true });
  });
  it('never recovered: no RTO, no window', () => {
    const f = failoverFigures([at(2_000, 'read_only'), at(3_000, 'read_only')], 1_000);
    expect(f.rtoMs).toBeUndefined();
    expect(f.readOnlyWindowMs).toBeUndefined();
    expect(f.readOnlyAnswers).toBe(2);
  });
  it('no failure seen at all: window 0, RTO is the first write after the cut', () => {
    expect(failoverFigures([at(1_200, 'ok')], 1_000)).toEqual({ rtoMs: 200, readOnlyWindowMs: 0, readOnlyAnswers: 0, otherFailures: 0, outageSeen: false });
  });
  it('an answer squeezed between two refusals (in flight at the cut) is not the recovery', () => {
    const f = failoverFigures([at(3_000, 'read_only'), at(3_010, 'ok'), at(3_200, 'read_only'), at(9_000, 'read_only'), at(10_000, 'ok')], 1_000);
    expect(f.rtoMs).toBe(9_000);
    expect(f.readOnlyWindowMs).toBe(7_000);
  });
  it('keys stuck "in progress" after recovery do not reopen the outage', () => {
    const f = failoverFigures([at(3_000, 'read_only'), at(10_000, 'ok'), at(11_000, 'stuck'), at(12_000, 'stuck')], 1_000);
    expect(f.rtoMs).toBe(9_000);
    expect(f.otherFailures).toBe(0);
  });
  it('rate-limit refusals (429) after recovery do not reopen the outage: the node is up, judging the client’s pace', () => {
    // Seen in a ten-run series: writes back at t+8 s, then a client writing 36 times a second met the
    // hand-in rate limit from t+12 s on, and the RTO read 60 s (the observation's end).
    const f = failoverFigures([at(3_000, 'read_only'), at(9_000, 'ok'), at(13_000, 'limited'), at(14_000, 'ok'), at(60_000, 'limited')], 1_000);
    expect(f.rtoMs).toBe(8_000);
    expect(f.otherFailures).toBe(0);
  });
});

describe('medianAndWorst', () => {
  it('median (lower middle) and worst', () => {
    expect(medianAndWorst([3, 1, 2])).toEqual({ median: 2, worst: 3 });
    expect(medianAndWorst([4, 1, 3, 2])).toEqual({ median: 2, worst: 4 });
    expect(medianAndWorst([])).toEqual({ median: undefined, worst: undefined });
  });
  it('a run that never recovered is the worst', () => {
    expect(medianAndWorst([5, undefined, 7])).toEqual({ median: 7, worst: undefined });
  });
});

describe('switchoverFigures', () => {
  it('counts both sites: from the request to the first write acknowledged after the last failure', () => {
    const f = switchoverFigures([at(500, 'network', 'a'), at(1_000, 'ok', 'a'), at(1_600, 'read_only', 'a'), at(1_700, 'ok', 'b'), at(2_500, 'network', 'b'), at(4_000, 'ok', 'a'), at(4_100, 'ok', 'b')], 1_000);
    expect(f).toEqual({ interruptionMs: 3_000, failedWindowMs: 2_400, readOnlyAnswers: 1, otherFailures: 1 });
  });
  it('no failure: no interruption; keys "in progress" are not failures; never recovered: undefined', () => {
    expect(switchoverFigures([at(2_000, 'ok'), at(2_100, 'stuck', 'a')], 1_000)).toEqual({ interruptionMs: 0, failedWindowMs: 0, readOnlyAnswers: 0, otherFailures: 0 });
    expect(switchoverFigures([at(2_000, 'read_only')], 1_000).interruptionMs).toBeUndefined();
  });
});
