import { describe, expect, it } from 'vitest';
import { abSchedule, judgeAb, type AbMeasure, type AbSide } from '../bench/support/ab-rounds.js';
import { RecordingSwitch, switchedSignals, type WindowClock } from '../bench/support/recording-switch.js';
import type { EngagementSignals } from '../src/platform/engagement-signals.js';

// The suivi bench's figure (recording on ÷ off in the same process, with an A/A control) rests on
// this schedule and these rules: a verdict must only come out of a run whose control agrees.

/** Measures for `processes` × `cycles` with the given rate per side (optionally per process). */
function measures(processes: number, cycles: number, rate: (side: AbSide, process: number, cycle: number) => number): AbMeasure[] {
  return abSchedule(processes, cycles).map((s) => ({ ...s, value: rate(s.side, s.process, s.cycle) }));
}

describe('abSchedule', () => {
  it('measures every side once per cycle, each side in each place equally often over three cycles', () => {
    const slots = abSchedule(1, 3);
    expect(slots).toHaveLength(9);
    for (let c = 0; c < 3; c++) expect(slots.filter((s) => s.cycle === c).map((s) => s.side).sort()).toEqual(['control', 'off', 'on']);
    for (let place = 0; place < 3; place++) {
      const atPlace = [0, 1, 2].map((c) => slots[c * 3 + place]!.side).sort();
      expect(atPlace).toEqual(['control', 'off', 'on']);
    }
  });

  it('starts each process with another side, and keeps processes in turn (all of one before the next)', () => {
    const slots = abSchedule(3, 2);
    expect(slots.map((s) => s.process)).toEqual([0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2]);
    expect(new Set([0, 6, 12].map((i) => slots[i]!.side)).size).toBe(3);
  });

  it('refuses counts that are not whole and positive', () => {
    expect(() => abSchedule(0, 3)).toThrow();
    expect(() => abSchedule(2, 1.5)).toThrow();
  });
});

describe('judgeAb', () => {
  it('judges each process against itself: a fast and a slow process with the same overhead give that overhead', () => {
    // Process 0 serves twice as fast as process 1 (the bimodal children); recording costs 2 % in both.
    const m = measures(2, 3, (side, p) => (p === 0 ? 14_000 : 7_000) * (side === 'off' ? 1 : 0.98));
    const j = judgeAb(m, 0.95, 0.03);
    expect(j.ratio).toBeCloseTo(0.98, 6);
    expect(j.aa).toBeCloseTo(1, 6);
    expect(j.perProcess.map((x) => x.ratio)).toEqual([expect.closeTo(0.98, 6), expect.closeTo(0.98, 6)]);
    expect(j.perCycle).toHaveLength(6);
    expect(j.verdict).toBe('atteint');
  });

  it('refuses a verdict when the A/A control is off by more than the tolerance', () => {
    const m = measures(1, 3, (side) => (side === 'control' ? 9_400 : 10_000));
    const j = judgeAb(m, 0.95, 0.03);
    expect(j.aa).toBeCloseTo(0.94, 6);
    expect(j.verdict).toBe('invalide');
    expect(j.reason).toMatch(/contrôle A\/A 0\.940/);
  });

  it('says the target is missed only beyond the noise the control shows, and undecided within it', () => {
    // Control 2 % off: noise 0.02.
    const at = (ratio: number) => judgeAb(measures(1, 3, (side) => (side === 'off' ? 10_000 : side === 'on' ? 10_000 * ratio : 10_000 * ratio * 0.98)), 0.95, 0.03);
    expect(at(0.92).verdict).toBe('manqué');
    expect(at(0.94).verdict).toBe('indécis');
    expect(at(0.96).verdict).toBe('indécis');
    expect(at(0.975).verdict).toBe('atteint');
  });

  it('keeps a window that served nothing as a measure of 0 (the process had no CPU then)', () => {
    const m = measures(1, 3, (side, _p, cycle) => (side === 'off' && cycle === 1 ? 0 : 1_000));
    const j = judgeAb(m, 0.95, 0.03);
    expect(j.ratio).toBeCloseTo(1.5, 6);
    expect(j.perCycle).toHaveLength(2);
  });

  it('combines processes by the geometric mean of their own ratios', () => {
    const m = measures(2, 1, (side, p) => (side === 'off' ? 1_000 : p === 0 ? 1_000 * 0.9 : 1_000 * 1.0));
    expect(judgeAb(m, 0.95, 0.03).ratio).toBeCloseTo(Math.sqrt(0.9), 6);
  });

  it('refuses broken measures: a missing side, a negative or non-finite rate, a side that served nothing, nothing at all', () => {
    const m = measures(1, 2, () => 1_000);
    expect(() => judgeAb(m.filter((x) => x.side !== 'control'), 0.95, 0.03)).toThrow(/trois côtés/);
    expect(() => judgeAb(m.map((x, i) => (i === 0 ? { ...x, value: -1 } : x)), 0.95, 0.03)).toThrow(/valeur invalide/);
    expect(() => judgeAb(m.map((x) => (x.side === 'off' ? { ...x, value: 0 } : x)), 0.95, 0.03)).toThrow(/rien servi/);
    expect(() => judgeAb(m.map((x, i) => (i === 0 ? { ...x, value: Number.NaN } : x)), 0.95, 0.03)).toThrow(/valeur invalide/);
    expect(() => judgeAb([], 0.95, 0.03)).toThrow(/aucune mesure/);
  });
});

describe('the suivi bench’s recording switch', () => {
  it('passes every signal to the recorder while on, none while off, and follows the switch at once', () => {
    const calls: string[] = [];
    const recorder: EngagementSignals = {
      seen: (p) => void calls.push(`seen ${p}`),
      workOpened: (p, e) => void calls.push(`opened ${p} ${e}`),
      workDone: (p) => void calls.push(`done ${p}`),
      handedIn: (p, late) => void calls.push(`handedIn ${p} ${late}`),
      messageRead: (p) => void calls.push(`read ${p}`),
      liaisonSigned: (p) => void calls.push(`signed ${p}`),
    };
    let on = true;
    const signals = switchedSignals(recorder, () => on);
    const all = () => {
      signals.seen('P', 1);
      signals.workOpened('P', 'W', 1);
      signals.workDone('P', 1);
      signals.handedIn('P', true, 1);
      signals.messageRead('P', 1);
      signals.liaisonSigned('R', 1);
    };
    all();
    expect(calls).toEqual(['seen P', 'opened P W', 'done P', 'handedIn P true', 'read P', 'signed R']);
    on = false;
    all();
    expect(calls).toHaveLength(6);
    on = true;
    signals.seen('Q', 2);
    expect(calls.at(-1)).toBe('seen Q');
  });
});

describe('the suivi bench’s windows (RecordingSwitch, inside the measured child)', () => {
  /** A fake clock under which `perMs` requests arrive per millisecond slept, each costing `cpuPerRequestMs`. */
  function fakeLoad(sw: { current?: RecordingSwitch; signals?: EngagementSignals }, perMs: number, cpuPerRequestMs: number, trafficFromMs = 0) {
    let now = 0;
    let cpu = 0;
    const clock: WindowClock = {
      nowMs: () => now,
      cpuMs: () => cpu,
      sleep: async (ms) => {
        for (let t = 0; t < ms; t++) {
          now++;
          if (now < trafficFromMs) continue;
          for (let k = 0; k < perMs; k++) {
            sw.signals!.seen('P', now);
            cpu += cpuPerRequestMs;
          }
        }
      },
    };
    return clock;
  }

  it('plays on / off / on-again windows in the schedule’s order, records only while on, counts every request, and ends on', async () => {
    const recorded: number[] = [];
    const recorder = { ...silent(), seen: (_p: string, at: number) => void recorded.push(at) };
    const holder: { current?: RecordingSwitch; signals?: EngagementSignals } = {};
    const sw = new RecordingSwitch(fakeLoad(holder, 2, 0.03, 5));
    holder.current = sw;
    holder.signals = sw.wrap(recorder);
    const windows = await sw.runWindows(3, 10, 4);
    expect(windows.map((w) => w.side)).toEqual(abSchedule(1, 3).map((x) => x.side));
    for (const w of windows) {
      expect(w.requests).toBe(20);
      expect(w.wallMs).toBe(10);
      expect(w.cpuMs).toBeCloseTo(0.6, 6);
    }
    // Traffic begins at 5 ms and is seen after the first 20 ms poll; 4 ms of warm-up; then 9 windows of 10 ms from 24 ms.
    windows.forEach((w, i) => {
      const inWindow = recorded.filter((t) => t > 24 + 10 * i && t <= 24 + 10 * (i + 1)).length;
      expect(inWindow).toBe(w.side === 'off' ? 0 : 20);
    });
    expect(sw.on).toBe(true);
  });

  it('refuses to play without traffic', async () => {
    const holder: { current?: RecordingSwitch; signals?: EngagementSignals } = {};
    const sw = new RecordingSwitch(fakeLoad(holder, 1, 0.01, 1_000_000));
    holder.signals = sw.wrap(silent());
    await expect(sw.runWindows(1, 10, 0, 200)).rejects.toThrow(/aucune requête/);
  });
});

function silent(): EngagementSignals {
  return { seen() {}, workOpened() {}, workDone() {}, handedIn() {}, messageRead() {}, liaisonSigned() {} };
}
