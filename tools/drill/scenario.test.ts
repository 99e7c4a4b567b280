import { describe, expect, it } from 'vitest';
import { parisWallTimeToUtcMs } from '../../src/platform/clock.js';
import { schoolMorningOffsetMs, type Roster, type RosterPerson } from './roster.js';
import { clientAddress, drillMsAt, MAX_ACTIONS, phaseAt, planScenario, simulatedClock, window830 } from './scenario.js';

/** Two classes with work to hand in; pupils (two first-timers), parents, teachers. */
function roster(pupils = 40): Roster {
  const person = (login: string, profile: RosterPerson['profile'], classIds: string[], extra: Partial<RosterPerson> = {}): RosterPerson => ({ id: `id-${login}`, login, profile, schoolId: 's1', classIds, childIds: [], subjectId: null, activationCode: null, ...extra });
  const people: RosterPerson[] = [];
  for (let i = 0; i < pupils; i++) people.push(person(`eleve${i}`, 'eleve', [i % 2 ? 'c2' : 'c1'], i < 2 ? { activationCode: `CODE${i}` } : {}));
  for (let i = 0; i < pupils; i++) people.push(person(`parent${i}`, 'parent', [i % 2 ? 'c2' : 'c1'], { childIds: [`id-eleve${i}`] }));
  people.push(person('prof1', 'enseignant', ['c1', 'c2'], { subjectId: 'maths' }), person('prof2', 'enseignant', ['c2'], { subjectId: null }));
  return {
    password: 'x',
    clockOffsetMs: 0,
    classes: [
      { id: 'c1', schoolId: 's1', code: '6A', handinEntryId: 'e1', attachmentPath: '/api/v1/homework/e1/attachments/a1' },
      { id: 'c2', schoolId: 's1', code: '6B', handinEntryId: 'e2', attachmentPath: null },
    ],
    people,
  };
}

const timing = { warmupS: 10, peakS: 60 };

describe('the scenario generator', () => {
  it('gives the same morning for the same seed, another for another seed', () => {
    const a = planScenario(roster(), { ...timing, seed: 7 });
    expect(planScenario(roster(), { ...timing, seed: 7 })).toEqual(a);
    expect(planScenario(roster(), { ...timing, seed: 8 }).visits.map((v) => v.atMs)).not.toEqual(a.visits.map((v) => v.atMs));
  });

  it('is bounded: one visit per pupil and parent, two per teacher, every arrival inside the drill, few actions each', () => {
    const s = planScenario(roster(), { ...timing, seed: 1 });
    expect(s.visits).toHaveLength(40 + 40 + 2 * 2);
    for (const v of s.visits) {
      expect(v.atMs).toBeGreaterThanOrEqual(0);
      expect(v.atMs).toBeLessThan((timing.warmupS + timing.peakS) * 1000);
      expect(v.actions.length).toBeGreaterThan(0);
      expect(v.actions.length).toBeLessThanOrEqual(MAX_ACTIONS);
      for (const a of v.actions) expect(a.thinkMs).toBeGreaterThan(0);
      expect(v.phase).toBe(phaseAt(v.atMs, timing));
    }
    expect(planScenario(roster(), { ...timing, seed: 1, maxVisits: 10 }).visits).toHaveLength(10);
    // Arrivals are sorted (the load generator schedules them in order).
    expect(s.visits.map((v) => v.atMs)).toEqual([...s.visits.map((v) => v.atMs)].sort((x, y) => x - y));
  });

  it('plays the morning: teachers post and edit in the warm-up, pupils and parents arrive in the ramp and the peak, most around 8:30', () => {
    const s = planScenario(roster(400), { ...timing, seed: 3 });
    const warm = s.visits.filter((v) => v.phase === 'warmup');
    expect(warm.map((v) => v.profile)).toEqual(['enseignant', 'enseignant']);
    for (const v of warm) expect(v.actions.map((a) => a.action.kind)).toEqual(['today', 'post', 'edit']);
    const families = s.visits.filter((v) => v.profile !== 'enseignant');
    expect(families.every((v) => v.phase !== 'warmup')).toBe(true);
    expect(families.some((v) => v.phase === 'ramp') && families.some((v) => v.phase === 'peak')).toBe(true);
    // Density rises towards 8:30: more arrivals in 08:20–08:30 than in 08:00–08:10.
    const at = (fromMin: number, toMin: number) => families.filter((v) => v.atMs >= (timing.warmupS + (timing.peakS * fromMin) / 45) * 1000 && v.atMs < (timing.warmupS + (timing.peakS * toMin) / 45) * 1000).length;
    expect(at(20, 30)).toBeGreaterThan(2 * at(0, 10));
    // Pupils hand in work with an entry of their class; some download the attachment.
    const kinds = families.flatMap((v) => v.actions.map((a) => a.action.kind));
    expect(kinds).toContain('handin');
    expect(kinds).toContain('attachment');
    const handins = families.flatMap((v) => v.actions.map((a) => a.action)).filter((a) => a.kind === 'handin');
    for (const h of handins) if (h.kind === 'handin') expect(h.bytes).toBeGreaterThan(4);
  });

  it('signs people in as on a real morning: remembered sessions mostly, passwords, activation for first-timers only', () => {
    const s = planScenario(roster(200), { ...timing, seed: 5 });
    const families = s.visits.filter((v) => v.profile !== 'enseignant');
    const activation = families.filter((v) => v.signIn === 'activation');
    expect(activation.map((v) => [v.login, v.activationCode]).sort()).toEqual([['eleve0', 'CODE0'], ['eleve1', 'CODE1']]);
    const remembered = families.filter((v) => v.signIn === 'remembered').length / families.length;
    expect(remembered).toBeGreaterThan(0.7);
    expect(remembered).toBeLessThan(0.9);
    expect(families.some((v) => v.signIn === 'password')).toBe(true);
  });

  it('has some parents write to a teacher of their child’s class, and nobody else write messages', () => {
    const r = roster(200);
    const s = planScenario(r, { ...timing, seed: 3 });
    const byLogin = new Map(r.people.map((p) => [p.login, p]));
    const writes = s.visits.flatMap((v) => v.actions.filter((a) => a.action.kind === 'message').map((a) => ({ v, to: (a.action as { toId: string }).toId })));
    const parents = s.visits.filter((v) => v.profile === 'parent').length;
    expect(writes.length).toBeGreaterThan(parents * 0.1);
    expect(writes.length).toBeLessThan(parents * 0.3);
    for (const { v, to } of writes) {
      expect(v.profile).toBe('parent');
      const teacher = r.people.find((p) => p.id === to)!;
      expect(teacher.profile).toBe('enseignant');
      expect(teacher.classIds).toContain(byLogin.get(v.login)!.classIds[0]);
    }
  });

  it('gives every client its own loopback address, never .0 nor .255', () => {
    const s = planScenario(roster(200), { ...timing, seed: 1 });
    const addresses = s.visits.map((v) => v.address);
    expect(new Set(addresses).size).toBe(addresses.length);
    for (const i of [0, 249, 250, 62_499, 62_500, 19_999]) {
      const parts = clientAddress(i).split('.').map(Number);
      expect(parts[0]).toBe(127);
      expect(parts[3]).toBeGreaterThan(0);
      expect(parts[3]).toBeLessThan(255);
      for (const p of parts) expect(p).toBeLessThan(256);
    }
  });

  it('finds the moment of the drill for a simulated time, and nothing outside 07:30–08:45', () => {
    expect(drillMsAt('07:30', timing)).toBe(0);
    expect(drillMsAt('08:00', timing)).toBe(10_000);
    expect(drillMsAt('08:30', timing)).toBe(10_000 + 40_000);
    expect(drillMsAt('08:45', timing)).toBe(70_000);
    expect(simulatedClock(drillMsAt('08:12', timing)!, timing)).toBe('08:12');
    for (const bad of ['07:29', '08:46', '8:30', '08:60', 'midi']) expect(drillMsAt(bad, timing)).toBeUndefined();
  });

  it('maps the drill onto the simulated morning', () => {
    expect(simulatedClock(0, timing)).toBe('07:30');
    expect(simulatedClock(timing.warmupS * 1000, timing)).toBe('08:00');
    expect(simulatedClock((timing.warmupS + (timing.peakS * 2) / 3) * 1000, timing)).toBe('08:30');
    expect(phaseAt((timing.warmupS + (timing.peakS * 2) / 3) * 1000, timing)).toBe('peak');
    const w = window830(timing);
    expect(simulatedClock(w.fromMs, timing)).toBe('08:25');
    expect(simulatedClock(w.toMs, timing)).toBe('08:35');
  });

  it('plays on a school day at 07:25 in Paris, whatever the day it runs', () => {
    const at = (date: string, h: number) => parisWallTimeToUtcMs(date, h);
    const morning = (now: number) => now + schoolMorningOffsetMs(now);
    // Sunday and Saturday: the next Monday. A weekday: that day (back to 07:25 if later).
    expect(morning(at('2026-11-29', 10))).toBe(parisWallTimeToUtcMs('2026-11-30', 7, 25));
    expect(morning(at('2026-11-28', 23))).toBe(parisWallTimeToUtcMs('2026-11-30', 7, 25));
    expect(morning(at('2026-12-01', 15))).toBe(parisWallTimeToUtcMs('2026-12-01', 7, 25));
    expect(morning(at('2026-12-04', 6))).toBe(parisWallTimeToUtcMs('2026-12-04', 7, 25));
  });
});
