import { createHash } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPreau, type TestPreau } from '../../../test/support/app.js';
import { addPupils, FIXTURE_PASSWORD } from '../../../test/support/fixtures.js';
import { deriveKey } from '../signed-token.js';
import { issueChallenge, leadingZeroBits, solveChallenge, verifySolution } from './proof-of-work.js';
import { decideStuffing, DEFAULT_STUFFING_SETTINGS, StuffingDetector } from './stuffing.js';

const KEY = deriveKey('a-test-secret-that-is-long-enough-000', 'challenge');
const never = () => false;

describe('proof of work', () => {
  it('counts leading zero bits', () => {
    expect(leadingZeroBits(Buffer.from([0, 0, 0x10]))).toBe(19);
    expect(leadingZeroBits(Buffer.from([0x80]))).toBe(0);
    expect(leadingZeroBits(Buffer.from([0, 1]))).toBe(15);
    expect(leadingZeroBits(Buffer.alloc(4))).toBe(32);
  });

  it('a solved challenge verifies with one hash', () => {
    const { token } = issueChallenge(KEY, 10, 0, 60_000, 'me');
    const nonce = solveChallenge(token, 10);
    expect(verifySolution(KEY, token, nonce, 1_000, 'me', never)).toMatchObject({ ok: true });
  });

  it('refuses replayed, forged, expired, transferred, lazy and malformed solutions', () => {
    const { token, claims } = issueChallenge(KEY, 10, 0, 60_000, 'me');
    const nonce = solveChallenge(token, 10);
    expect(verifySolution(KEY, token, nonce, 1_000, 'me', (id) => id === claims.id)).toMatchObject({ ok: false, reason: 'replayed' });
    const easier = Buffer.from(JSON.stringify({ ...claims, bits: 1 })).toString('base64url');
    expect(verifySolution(KEY, `${easier}.${token.split('.')[1]}`, '0', 1_000, 'me', never)).toMatchObject({ ok: false, reason: 'forged' });
    expect(verifySolution(KEY, token, nonce, 60_000, 'me', never)).toMatchObject({ ok: false, reason: 'expired' });
    expect(verifySolution(KEY, token, nonce, 1_000, 'someone else', never)).toMatchObject({ ok: false, reason: 'transferred' });
    // A nonce that does not reach the difficulty (find one).
    let lazy = 0;
    while (leadingZeroBits(createHash('sha256').update(`${token}:x${lazy}`).digest()) >= 10) lazy++;
    expect(verifySolution(KEY, token, `x${lazy}`, 1_000, 'me', never)).toMatchObject({ ok: false, reason: 'insufficient' });
    expect(verifySolution(KEY, token, '', 1_000, 'me', never)).toMatchObject({ ok: false, reason: 'malformed' });
    expect(verifySolution(KEY, token, 'n'.repeat(100), 1_000, 'me', never)).toMatchObject({ ok: false, reason: 'malformed' });
    expect(verifySolution(KEY, 'x'.repeat(5_000), '1', 1_000, 'me', never)).toMatchObject({ ok: false, reason: 'malformed' });
  });
});

describe('credential-stuffing detector', () => {
  it('sees distributed guessing: many accounts, many addresses, mostly failures', () => {
    const d = new StuffingDetector();
    for (let i = 0; i < 150; i++) d.record(60_000 * 5 + i * 100, { account: `acct${i % 60}`, address: `198.51.${i % 40}.9`, success: i % 10 === 0, knownBadPassword: false });
    expect(d.level(60_000 * 6)).toBe('elevated');
    // Ten minutes later it has passed.
    expect(d.level(60_000 * 20)).toBe('normal');
  });

  it('does not mistake a school morning (some typos) or one clumsy pupil for an attack', () => {
    const d = new StuffingDetector();
    for (let i = 0; i < 600; i++) d.record(i * 500, { account: `pupil${i}`, address: '10.0.0.1', success: i % 5 !== 0, knownBadPassword: false });
    for (let i = 0; i < 200; i++) d.record(i * 500, { account: 'clumsy', address: '10.0.0.2', success: false, knownBadPassword: false });
    expect(d.level(300_000)).toBe('normal');
  });

  it('breach-list passwords alone raise the level', () => {
    expect(decideStuffing(DEFAULT_STUFFING_SETTINGS, { attempts: 40, failures: 30, knownBad: 30, distinctFailedAccounts: 2, distinctFailedAddresses: 1 })).toBe('elevated');
  });

  it('stays bounded however many accounts are tried', () => {
    const d = new StuffingDetector({ ...DEFAULT_STUFFING_SETTINGS, maxDistinctPerMinute: 100 });
    for (let i = 0; i < 10_000; i++) d.record(1_000, { account: `a${i}`, address: `x${i}`, success: false, knownBadPassword: false });
    expect(d.summary(1_000).distinctFailedAccounts).toBe(100);
  });
});

describe('challenge gate on the composed app (sqlite)', () => {
  let t: TestPreau;
  let crowd: string[];
  const UA = 'Mozilla/5.0 (test)';

  beforeAll(async () => {
    t = await startTestPreau('sqlite', {}, { challenge: { bits: 8 } });
    crowd = await addPupils(t.preau.storage.db, t.clock, 40, 'cible');
  });
  afterAll(async () => {
    await t?.close();
  });

  const gate = () => t.preau.edge!.challenge;
  const login = (name: string, address: string, extra: Record<string, string> = {}, password = FIXTURE_PASSWORD) =>
    t.preau.app.inject({ method: 'POST', url: '/api/v1/auth/login', remoteAddress: address, headers: { 'user-agent': UA, ...extra }, payload: { login: name, password } });
  const deviceCookie = (res: LightMyRequestResponse) => {
    const c = res.cookies.find((x) => x.name === 'preau_device');
    return c ? `preau_device=${c.value}` : undefined;
  };

  it('without pressure nor attack, nobody is challenged', async () => {
    expect((await login(crowd[0]!, '10.1.0.1')).statusCode).toBe(200);
  });

  it('an unknown device is asked a proof of work; solved, it signs in and is known from then on; a solution serves once', async () => {
    gate().setMode('always');
    try {
      const asked = await login(crowd[1]!, '10.1.1.1');
      expect(asked.statusCode).toBe(403);
      const e = asked.json().error;
      expect(e).toMatchObject({ id: 'challenge.required', message: expect.stringMatching(/vérification automatique/), details: { bits: 8, algorithm: 'sha256-leading-zero-bits' } });
      const nonce = solveChallenge(e.details.challenge, e.details.bits);
      const solved = await login(crowd[1]!, '10.1.1.1', { 'x-preau-challenge': e.details.challenge, 'x-preau-nonce': nonce });
      expect(solved.statusCode, solved.body).toBe(200);
      const device = deviceCookie(solved);
      expect(device).toBeDefined();
      // The same solution again: refused (a new challenge comes with the refusal).
      const replay = await login(crowd[1]!, '10.1.1.1', { 'x-preau-challenge': e.details.challenge, 'x-preau-nonce': nonce });
      expect(replay.statusCode).toBe(409);
      expect(replay.json().error.id).toBe('challenge.used');
      // Taken to another client: refused.
      const other = await login(crowd[1]!, '192.0.2.1', { 'x-preau-challenge': e.details.challenge, 'x-preau-nonce': nonce });
      expect(other.json().error.id).toBe('challenge.invalid');
      // The known device passes without any challenge for this account, not for another one.
      expect((await login(crowd[1]!, '10.1.1.1', { cookie: device! })).statusCode).toBe(200);
      expect((await login(crowd[2]!, '10.1.1.1', { cookie: device! })).statusCode).toBe(403);
      // A forged device mark is just no mark.
      expect((await login(crowd[1]!, '10.1.1.1', { cookie: `${device!.slice(0, -3)}abc` })).statusCode).toBe(403);
    } finally {
      gate().setMode('auto');
    }
  });

  it('credential stuffing raises the challenge for unknown devices; known devices and the accounts themselves are never locked out', async () => {
    // A pupil signs in normally from her phone before the attack.
    const phone = deviceCookie(await login(crowd[3]!, '10.2.0.1'));
    expect(phone).toBeDefined();
    // Distributed guessing: 40 accounts, 20 addresses, wrong passwords.
    for (let i = 0; i < 120; i++) {
      const r = await login(crowd[i % 40]!, `198.51.${i % 20}.7`, {}, `Devine-${i}-xyz`);
      expect([401, 403]).toContain(r.statusCode);
      if (r.statusCode === 403) break;
    }
    expect(gate().detector.level(t.clock.nowMs())).toBe('elevated');
    // An unknown device must now solve a challenge …
    expect((await login(crowd[4]!, '10.2.0.2')).json().error.id).toBe('challenge.required');
    // … the pupil's known phone is not asked anything, and her account is not locked.
    expect((await login(crowd[3]!, '10.2.0.1', { cookie: phone! })).statusCode).toBe(200);
    // A targeted account still opens from a new device once the challenge is solved.
    const asked = (await login(crowd[5]!, '10.2.0.3')).json().error;
    const ok = await login(crowd[5]!, '10.2.0.3', { 'x-preau-challenge': asked.details.challenge, 'x-preau-nonce': solveChallenge(asked.details.challenge, asked.details.bits) });
    expect(ok.statusCode).toBe(200);
  });
});
