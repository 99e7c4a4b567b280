import { describe, expect, it } from 'vitest';
import { countryTable } from '../../bench/support/abroad.js';
import type { FloodResultMessage } from '../../bench/support/protocol.js';
import { FRANCE } from '../../src/edge/geo/geo.js';
import { COUNTRY_TABLE, DEFAULT_ATTACK, outcomeOf, outcomes, planAttack, summariseAttack } from './attack.js';
import type { Roster, RosterPerson } from './roster.js';
import { buildReport } from './report.js';
import { clientAddress } from './scenario.js';

const person = (login: string, profile: RosterPerson['profile']): RosterPerson => ({ id: `id-${login}`, login, profile, schoolId: 's1', classIds: ['c1'], childIds: [], subjectId: null, activationCode: null });
const roster: Roster = {
  password: 'Exercice-Matin-0830',
  clockOffsetMs: 0,
  classes: [{ id: 'c1', schoolId: 's1', code: '6A', handinEntryId: null, attachmentPath: null }],
  people: [...Array.from({ length: 30 }, (_, i) => person(`eleve.${i}`, 'eleve')), person('parent.1', 'parent'), person('prof.1', 'enseignant')],
};

describe('the attack overlay: the plan', () => {
  it('comes from the networks the test country table places: pupils and half the stuffing in France, the rest abroad', async () => {
    const lookup = await countryTable(COUNTRY_TABLE)();
    const inFrance = (a: string) => FRANCE.has(lookup.countryOf(a) ?? '');
    const spec = planAttack(roster, DEFAULT_ATTACK, 'http://127.0.0.1:9', 60);
    // The drill's own people are in France (the first and the 20,000th client).
    expect(inFrance(clientAddress(0))).toBe(true);
    expect(inFrance(clientAddress(19_999))).toBe(true);
    expect(spec.flood.addresses.every((a) => lookup.countryOf(a) === 'US')).toBe(true);
    expect(spec.slowHeaders.addresses.every((a) => lookup.countryOf(a) === 'CN')).toBe(true);
    expect(spec.slowReads.addresses.every((a) => lookup.countryOf(a) === 'CN')).toBe(true);
    const stuffingFrance = spec.stuffing!.addresses.filter(inFrance);
    expect(stuffingFrance.length).toBe(DEFAULT_ATTACK.stuffingAddresses / 2);
    expect(new Set(spec.stuffing!.addresses).size).toBe(DEFAULT_ATTACK.stuffingAddresses);
    // No attacker shares an address with anyone else.
    const all = [...spec.flood.addresses, ...spec.stuffing!.addresses, ...spec.slowHeaders.addresses, ...spec.slowReads.addresses];
    expect(new Set(all).size).toBe(1_000 + DEFAULT_ATTACK.stuffingAddresses + DEFAULT_ATTACK.slowHeaders + DEFAULT_ATTACK.slowReads);
    expect(spec.flood.addresses[251]).toBe('127.200.1.2');
  });

  it('aims at real pupil identifiers, never with their password, bounded in rate, count and time', () => {
    const spec = planAttack(roster, DEFAULT_ATTACK, 'http://127.0.0.1:9', 60);
    const pupils = new Set(roster.people.filter((p) => p.profile === 'eleve').map((p) => p.login));
    for (const stream of [spec.flood, spec.stuffing!]) {
      expect(stream.path).toBe('/api/v1/auth/login');
      expect(stream.bodies.length).toBeGreaterThan(0);
      expect(stream.bodies.length).toBeLessThanOrEqual(2_000);
      for (const raw of stream.bodies) {
        const b = JSON.parse(raw) as { login: string; password: string };
        expect(pupils.has(b.login)).toBe(true);
        expect(b.password).not.toBe(roster.password);
      }
    }
    expect(spec.flood.ratePerS).toBe(300);
    expect(spec.stuffing!.ratePerS).toBe(30);
    expect(spec.durationS).toBe(60);
    expect(spec.slowWatchS).toBe(45);
    expect(planAttack(roster, DEFAULT_ATTACK, 'http://127.0.0.1:9', 8).slowWatchS).toBe(8);
    expect(spec.pupils.ratePerS).toBe(0);
    expect(() => planAttack({ ...roster, people: [person('prof.1', 'enseignant')] }, DEFAULT_ATTACK, 'http://x', 10)).toThrow(/aucun élève/);
  });
});

describe('the attack overlay: what became of each attempt', () => {
  it('classifies answers by their error id', () => {
    expect(outcomeOf('challenge.required')).toBe('défié');
    expect(outcomeOf('edge.rate_limited')).toBe('refusé');
    expect(outcomeOf('auth.throttled')).toBe('refusé');
    expect(outcomeOf('edge.overloaded')).toBe('refusé');
    expect(outcomeOf('waiting.full')).toBe('refusé');
    expect(outcomeOf('http-503')).toBe('refusé');
    expect(outcomeOf('waiting.queued')).toBe('mis en file');
    expect(outcomeOf('auth.invalid_credentials')).toBe('mot de passe vérifié');
    expect(outcomeOf('http-200')).toBe('session ouverte');
    expect(outcomeOf('délai')).toBe('sans réponse');
    expect(outcomeOf('validation.failed')).toBe('autre');
    expect(outcomes({ 'challenge.required': 3, 'challenge.invalid': 2, 'http-200': 1 })).toMatchObject({ défié: 5, 'session ouverte': 1, refusé: 0 });
  });

  const message = (floodReasons: Record<string, number>): FloodResultMessage => {
    const stream = (byReason: Record<string, number>) => ({ sent: Object.values(byReason).reduce((a, b) => a + b, 0), notSent: 0, byStatus: {}, byReason, errors: 0, timeouts: 1, pending: 0 });
    const slow = { opened: 5, failedToOpen: 0, cutByServer: 5, stillOpen: 0, answered: {}, cutP50S: 10, cutMinS: 10, cutMaxS: 11 };
    return {
      type: 'flood-result', durationS: 40, flood: stream(floodReasons), stuffing: stream({ 'auth.invalid_credentials': 4 }),
      series: [{ sec: 0, flood: floodReasons, stuffing: {} }, { sec: 1, flood: {}, stuffing: { 'auth.invalid_credentials': 4 } }],
      pupils: { sent: 0, ok: 0, late: 0, byStatus: {}, errors: 0, byError: {}, p50Ms: 0, p95Ms: 0, p99Ms: 0 },
      slowHeaders: slow, slowReads: { ...slow, stillOpen: 2, cutByServer: 3 }, slowReadsSkipped: undefined, fdLimit: 1_000, generatorLagP99Ms: 3,
    };
  };

  it('puts the attack on the drill’s seconds, and judges it: no session opened, slow connections cut', () => {
    const spec = planAttack(roster, DEFAULT_ATTACK, 'http://127.0.0.1:9', 40);
    const a = summariseAttack(DEFAULT_ATTACK, 15, spec, message({ 'challenge.required': 10 }));
    expect(a.seconds).toEqual([expect.objectContaining({ sec: 15 }), expect.objectContaining({ sec: 16 })]);
    expect(a.seconds[0]!.outcomes.défié).toBe(10);
    expect(a.seconds[1]!.outcomes['mot de passe vérifié']).toBe(4);
    expect(a.flood.outcomes['sans réponse']).toBe(1);

    const report = (attack: typeof a) =>
      buildReport({
        startedAt: new Date(0), options: { schools: 1, classes: 1, pupils: 1, durationS: 40, warmupS: 15, seed: 1, rememberedPercent: 80 }, edge: { on: true, crisis: true }, target: null,
        population: { pupils: 1, parents: 0, teachers: 0, visits: 1, firstTime: 0 },
        load: {
          t0Ms: 0, seconds: [], actionsByKind: {}, cut: 0, acknowledged: { handins: [], posts: [], messages: [] },
          phases: { warmup: { visits: 1, actionsOk: 1, actionsFailed: 0, actionsNotStarted: 0, signInsFailed: 0 }, ramp: { visits: 1, actionsOk: 1, actionsFailed: 0, actionsNotStarted: 0, signInsFailed: 0 }, peak: { visits: 1, actionsOk: 1, actionsFailed: 0, actionsNotStarted: 0, signInsFailed: 0 } },
          signIns: { remembered: 0, password: 0, activation: 0, queued: 0, challenged: 0, failed: 0, eveningBefore: 0, eveningBeforeFailed: 0, solveMs: 0 },
          queueWaits: { n: 0, p50: 0, p95: 0, p99: 0 }, pupilReads: { n: 1, p50: 1, p95: 1, p99: 1 }, at830: { pupils: 1, pupilReads: { n: 1, p50: 1, p95: 1, p99: 1 } },
        },
        server: [], fault: null, check: { handins: { acknowledged: 0, found: 0 }, posts: { acknowledged: 0, found: 0 }, messages: { acknowledged: 0, found: 0 }, method: 'store', missing: [], duplicated: [] }, attack,
      }).verdicts;
    const v = report(a);
    expect(v.find((x) => x.id === 'attack_no_session')!.ok).toBe(true);
    // Two slow readers were still open at the end: not held.
    expect(v.find((x) => x.id === 'slow_cut')).toMatchObject({ ok: false, measured: expect.stringContaining('8 coupées sur 10') });
    // One guess that opened a session is a failure of the goal.
    const breached = summariseAttack(DEFAULT_ATTACK, 15, spec, message({ 'http-200': 1, 'challenge.required': 3 }));
    expect(report(breached).find((x) => x.id === 'attack_no_session')!.ok).toBe(false);
    // Watched for less than the edge's 30 s cut: slow connections are not judged.
    const short = summariseAttack(DEFAULT_ATTACK, 15, planAttack(roster, DEFAULT_ATTACK, 'http://x', 8), message({ 'challenge.required': 3 }));
    expect(report(short).some((x) => x.id === 'slow_cut')).toBe(false);
  });
});
