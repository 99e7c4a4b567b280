import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activeBackends } from '../../test/support/backends.js';
import { startTestPreau, type TestPreau } from '../../test/support/app.js';
import { FIXTURE_PASSWORD } from '../../test/support/fixtures.js';
import { multipart } from '../../test/support/multipart.js';
import { AppError } from '../platform/errors.js';
import { decideIdempotency, IDEMPOTENCY_TTL_MS, IN_FLIGHT_STALE_MS, isFinalAnswer, MAX_IDEMPOTENCY_KEY_LENGTH, RELEASE_RETRY_EVERY_MS } from './idempotency.js';

const backends = await activeBackends();

describe('idempotency decisions', () => {
  const row = { person_id: 'p', key: 'k', request_hash: 'h', status_code: 200, content_type: null, body: '{}', created_at: 0, expires_at: 1 };
  it('proceeds on a new key, replays a finished one, refuses another body or a key in flight', () => {
    expect(decideIdempotency(undefined, 'h').action).toBe('proceed');
    expect(decideIdempotency(row, 'h').action).toBe('replay');
    const other = decideIdempotency(row, 'other');
    expect(other.action === 'refuse' && other.error.id).toBe('idempotency.key_reused');
    const inFlight = decideIdempotency({ ...row, status_code: 0 }, 'h');
    expect(inFlight.action === 'refuse' && inFlight.error.id).toBe('idempotency.in_progress');
  });
  it('keeps final answers only: transient refusals must let the retry apply the write', () => {
    expect([200, 204, 400, 403, 404, 422].every(isFinalAnswer)).toBe(true);
    expect([408, 409, 429, 500, 503].some(isFinalAnswer)).toBe(false);
  });
});

describe.each(backends)('Idempotency-Key on cookie-authenticated writes (%s)', (backend) => {
  let t: TestPreau;
  beforeAll(async () => {
    t = await startTestPreau(backend);
  });
  afterAll(async () => {
    await t?.close();
  });

  const put = async (who: 'pupilA1' | 'parentA1', lang: unknown, key?: string) =>
    (await t.as(who)).request({ method: 'PUT', url: '/api/v1/me/preferences', payload: { lang } as object, headers: key === undefined ? {} : { 'idempotency-key': key } });
  const keyRows = async () => t.preau.storage.db.selectFrom('idempotency_keys').selectAll().execute();
  const langOf = async (id: string) => (await t.preau.storage.db.selectFrom('people').select('preferred_lang').where('id', '=', id).executeTakeFirstOrThrow()).preferred_lang;

  it('PUT /me/preferences stores the language per person and GET /me shows it', async () => {
    const res = await put('pupilA1', 'en');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ preferences: { lang: 'en' } });
    expect((await (await t.as('pupilA1')).request({ method: 'GET', url: '/api/v1/me' })).json().user.preferences).toEqual({ lang: 'en' });
    expect((await (await t.as('parentA1')).request({ method: 'GET', url: '/api/v1/me' })).json().user.preferences).toEqual({ lang: 'fr' });
    expect((await put('pupilA1', 'fr')).statusCode).toBe(200);
  });

  it('a retried write is answered with the first answer and applied once', async () => {
    const first = await put('pupilA1', 'en', 'outbox-1');
    expect(first.statusCode).toBe(200);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    // Something else changes the preference in between: a replay must not apply the old write again.
    await t.preau.storage.db.updateTable('people').set({ preferred_lang: 'fr' }).where('id', '=', 'pupilA1').execute();
    const retry = await put('pupilA1', 'en', 'outbox-1');
    expect(retry.statusCode).toBe(200);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.json()).toEqual(first.json());
    expect(retry.headers['content-type']).toContain('application/json');
    expect(await langOf('pupilA1')).toBe('fr');
  });

  it('the same key with another body is refused with 422 and changes nothing', async () => {
    await put('pupilA1', 'en', 'outbox-2');
    await t.preau.storage.db.updateTable('people').set({ preferred_lang: 'fr' }).where('id', '=', 'pupilA1').execute();
    const res = await put('pupilA1', 'fr', 'outbox-2');
    expect(res.statusCode).toBe(422);
    expect(res.json().error).toMatchObject({ id: 'idempotency.key_reused', message: 'Cette clé d’idempotence a déjà servi pour une autre modification.' });
    expect(await langOf('pupilA1')).toBe('fr');
  });

  it('keys are per person: another person may use the same key', async () => {
    expect((await put('pupilA1', 'en', 'shared-key')).statusCode).toBe(200);
    const res = await put('parentA1', 'en', 'shared-key');
    expect(res.headers['idempotent-replayed']).toBeUndefined();
    expect(await langOf('parentA1')).toBe('en');
  });

  it('refuses bad keys with 400 before anything is applied', async () => {
    await t.preau.storage.db.updateTable('people').set({ preferred_lang: 'fr' }).where('id', '=', 'pupilA1').execute();
    const before = (await keyRows()).length;
    for (const key of ['', 'x'.repeat(MAX_IDEMPOTENCY_KEY_LENGTH + 1), 'espace interdite', 'clé']) {
      const res = await put('pupilA1', 'en', key);
      expect(res.statusCode, key).toBe(400);
      expect(res.json().error.id).toBe('idempotency.invalid_key');
    }
    expect(await langOf('pupilA1')).toBe('fr');
    expect((await keyRows()).length).toBe(before);
  });

  it('an invalid body is refused before any key is claimed; the key stays free', async () => {
    const res = await put('pupilA1', 'de', 'bad-body');
    expect(res.statusCode).toBe(400);
    expect(res.json().error.id).toBe('request.invalid');
    expect((await keyRows()).some((r) => r.key === 'bad-body')).toBe(false);
    expect((await put('pupilA1', 'en', 'bad-body')).statusCode).toBe(200);
  });

  it('final refusals are replayed too (a wrong current password stays wrong)', async () => {
    const client = await t.as('parentA1');
    const body = { currentPassword: 'pas-le-bon-mot-de-passe', newPassword: 'Nouveau-Cartable-2026' };
    const first = await client.request({ method: 'PUT', url: '/api/v1/me/password', payload: body, headers: { 'idempotency-key': 'pw-1' } });
    expect(first.statusCode).toBe(403);
    const again = await client.request({ method: 'PUT', url: '/api/v1/me/password', payload: body, headers: { 'idempotency-key': 'pw-1' } });
    expect(again.statusCode).toBe(403);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json().error.id).toBe('auth.wrong_current_password');
    // The password did not change.
    const login = await t.anonymous.request({ method: 'POST', url: '/api/v1/auth/login', payload: { login: 'parenta1', password: FIXTURE_PASSWORD } });
    expect(login.statusCode).toBe(200);
  });

  it('a key in flight is refused with 409 and Retry-After; an abandoned one is taken over', async () => {
    const now = t.clock.nowMs();
    await t.preau.storage.db.insertInto('idempotency_keys').values({
      person_id: 'pupilA1', key: 'in-flight', request_hash: 'whatever', status_code: 0, content_type: null, body: null, created_at: now, expires_at: now + IDEMPOTENCY_TTL_MS,
    }).execute();
    const res = await put('pupilA1', 'en', 'in-flight');
    // Another body hash: it is a reuse; the same hash would be "in progress". Both are refusals that apply nothing.
    expect([409, 422]).toContain(res.statusCode);
    await t.preau.storage.db.updateTable('idempotency_keys').set({ request_hash: (await keyRows()).find((r) => r.key === 'outbox-1')!.request_hash }).where('key', '=', 'in-flight').execute();
    const inFlight = await put('pupilA1', 'en', 'in-flight');
    expect(inFlight.statusCode).toBe(409);
    expect(inFlight.headers['retry-after']).toBe('2');
    expect(inFlight.json().error.id).toBe('idempotency.in_progress');
    t.clock.advance(IN_FLIGHT_STALE_MS + 1);
    const taken = await put('pupilA1', 'en', 'in-flight');
    expect(taken.statusCode).toBe(200);
    expect(taken.headers['idempotent-replayed']).toBeUndefined();
  });

  it('keys expire after 24 h: the same key then applies again, and the purge removes old ones', async () => {
    await put('pupilA1', 'en', 'daily');
    t.clock.advance(IDEMPOTENCY_TTL_MS);
    await t.preau.storage.db.updateTable('people').set({ preferred_lang: 'fr' }).where('id', '=', 'pupilA1').execute();
    const res = await put('pupilA1', 'en', 'daily');
    expect(res.headers['idempotent-replayed']).toBeUndefined();
    expect(await langOf('pupilA1')).toBe('en');
    t.clock.advance(IDEMPOTENCY_TTL_MS);
    const removed = await t.preau.idempotency.deleteExpired(t.clock.nowMs());
    expect(removed).toBeGreaterThan(0);
    expect(await keyRows()).toEqual([]);
  });

  it('an anonymous write with a key is refused (401) before any key is claimed', async () => {
    const res = await t.anonymous.request({ method: 'PUT', url: '/api/v1/me/preferences', payload: { lang: 'en' }, headers: { 'idempotency-key': 'anon' } });
    expect(res.statusCode).toBe(401);
    expect((await keyRows()).some((r) => r.key === 'anon')).toBe(false);
  });

  it('a key whose release fails (database lost mid-request) is released in the background, and the retry then goes through', async () => {
    const pupil = await t.as('pupilA1');
    const send = () => {
      const { payload, headers } = multipart([{ name: 'text', value: 'Exercice 2' }]);
      return pupil.request({ method: 'POST', url: '/api/v1/homework/hwMaths6A/handins', payload, headers: { ...headers, 'idempotency-key': 'failover-1' } });
    };
    const handIn = t.preau.handins.handIn.bind(t.preau.handins);
    const release = t.preau.idempotency.release.bind(t.preau.idempotency);
    // The write meets a lost database, and so does the release of its key.
    t.preau.handins.handIn = () => Promise.reject(new AppError('platform.read_only', { retryAfterSeconds: 5 }));
    let failures = 0;
    t.preau.idempotency.release = (...args) => (failures++ === 0 ? Promise.reject(Object.assign(new Error('Connection terminated unexpectedly'), {})) : release(...args));
    try {
      expect((await send()).statusCode).toBe(503);
      t.preau.handins.handIn = handIn;
      await expect.poll(async () => (await keyRows()).some((r) => r.key === 'failover-1'), { timeout: RELEASE_RETRY_EVERY_MS * 10, interval: 100 }).toBe(false);
      expect(failures).toBeGreaterThanOrEqual(2);
      expect((await send()).statusCode).toBe(201);
    } finally {
      t.preau.handins.handIn = handIn;
      t.preau.idempotency.release = release;
    }
  });
});
