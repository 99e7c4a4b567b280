import { describe, expect, it } from 'vitest';
import { ceilingOf, decideLevel, DEFAULT_DEGRADATION_SETTINGS as S, pressureOf, type NodePressure, type SubscriberDegradation, type SubscriberInputs } from './degradation.policy.js';

const calm: NodePressure = { eventLoopLagP99Ms: 5, engineLagP99Ms: 5, engineCpu: 0.2 };
const link = (downlinkBps: number | undefined, loss = 0, o: Partial<SubscriberInputs> = {}): SubscriberInputs => ({ downlinkBps, loss, audioOnlyChosen: false, participants: 20, ...o });
const at = (level: SubscriberDegradation['level'], changedAtMs = 0): SubscriberDegradation => ({ level, changedAtMs, upSinceMs: null });

describe('degradation policy', () => {
  it('steps down at once, as far as the link needs, in the ladder’s order', () => {
    expect(decideLevel(S, at('full'), link(1_000_000), calm, 1).level).toBe('no-pupil-video');
    expect(decideLevel(S, at('full'), link(300_000), calm, 1).level).toBe('teacher-low');
    expect(decideLevel(S, at('full'), link(150_000), calm, 1).level).toBe('screen-only');
    expect(decideLevel(S, at('full'), link(60_000), calm, 1).level).toBe('audio-only');
    // Loss: one rung more; heavy loss: audio only.
    expect(decideLevel(S, at('full'), link(2_000_000, 0.08), calm, 1).level).toBe('no-pupil-video');
    expect(decideLevel(S, at('full'), link(5_000_000, 0.3), calm, 1).level).toBe('audio-only');
  });

  it('steps up one rung at a time, only after the link carried it with margin for the hold time (no flapping)', () => {
    let d = decideLevel(S, at('full'), link(100_000), calm, 0);
    expect(d.level).toBe('audio-only');
    // Good link again: nothing at once.
    d = decideLevel(S, d, link(5_000_000), calm, 1_000);
    expect(d.level).toBe('audio-only');
    d = decideLevel(S, d, link(5_000_000), calm, 1_000 + S.upHoldMs - 1);
    expect(d.level).toBe('audio-only');
    d = decideLevel(S, d, link(5_000_000), calm, 1_000 + S.upHoldMs);
    expect(d.level).toBe('screen-only');
    // A dip resets the wait; hovering just above a rung's need (without margin) does not step up.
    d = decideLevel(S, d, link(260_000), calm, 20_000);
    expect(d).toMatchObject({ level: 'screen-only', upSinceMs: null });
    for (let t = 20_000; t < 60_000; t += 1_000) d = decideLevel(S, d, link(S.neededBps['teacher-low'] * 1.1), calm, t);
    expect(d.level).toBe('screen-only');
    for (let t = 60_000; t <= 60_000 + S.upHoldMs; t += 1_000) d = decideLevel(S, d, link(5_000_000), calm, t);
    expect(d.level).toBe('teacher-low');
  });

  it('the node’s load takes video away before audio suffers, never audio itself', () => {
    expect(ceilingOf(S, calm)).toBe('full');
    expect(ceilingOf(S, { ...calm, eventLoopLagP99Ms: 80 })).toBe('teacher-low');
    expect(ceilingOf(S, { ...calm, engineCpu: 0.9 })).toBe('teacher-low');
    expect(ceilingOf(S, { ...calm, engineLagP99Ms: 500, engineCpu: 1 })).toBe('screen-only');
    expect(decideLevel(S, at('full'), link(10_000_000), { ...calm, eventLoopLagP99Ms: 1_000 }, 1).level).toBe('screen-only');
    expect(pressureOf({ workers: [{ id: 0, rooms: 1, participants: 3, eventLoopLagP99Ms: 7, cpu: 0.5 }, { id: 1, rooms: 1, participants: 3, eventLoopLagP99Ms: 30, cpu: 0.1 }] }, 4)).toEqual({ eventLoopLagP99Ms: 4, engineLagP99Ms: 30, engineCpu: 0.5 });
    // Once the load is gone, up again slowly.
    let d = decideLevel(S, at('full'), link(10_000_000), { ...calm, eventLoopLagP99Ms: 200 }, 0);
    d = decideLevel(S, d, link(10_000_000), calm, 5_000);
    expect(d.level).toBe('screen-only');
    d = decideLevel(S, d, link(10_000_000), calm, 5_000 + S.upHoldMs);
    expect(d.level).toBe('teacher-low');
  });

  it('large classes never get pupil cameras; "audio seulement" overrides everything; no estimate keeps the rung', () => {
    let d = at('teacher-low');
    for (let t = 0; t <= 100_000; t += 5_000) d = decideLevel(S, d, link(50_000_000, 0, { participants: 31 }), calm, t);
    expect(d.level).toBe('no-pupil-video');
    expect(decideLevel(S, at('full'), link(50_000_000, 0, { audioOnlyChosen: true }), calm, 1).level).toBe('audio-only');
    const kept = at('teacher-low');
    expect(decideLevel(S, kept, link(undefined), calm, 99_999)).toBe(kept);
  });
});
