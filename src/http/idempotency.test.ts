import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../config/config.js';
import { activeBackends } from '../../test/support/backends.js';
import { startPeerNode, startTestPreau, type TestPreau } from '../../test/support/app.js';
import { FIXTURE_PASSWORD } from '../../test/support/fixtures.js';
import { multipart } from '../../test/support/multipart.js';
import { AppError } from '../platform/errors.js';
import { decideIdempotency, IDEMPOTENCY_TTL_MS, isFinalAnswer, MAX_IDEMPOTENCY_KEY_LENGTH, RELEASE_RETRY_EVERY_MS } from './idempotency.js';

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

  it('a key in flight is refused with 409 and Retry-After; an abandoned one is taken over after its lease', async () => {
    const now = t.clock.nowMs();
    const { idempotencyLeaseMs } = defaultConfig();
    // What a node writes when it claims a key, before it died without renewing the lease.
    await t.preau.storage.db.insertInto('idempotency_keys').values({
      person_id: 'pupilA1', key: 'in-flight', request_hash: 'whatever', status_code: 0, content_type: null, body: null, created_at: now, expires_at: now + idempotencyLeaseMs,
    }).execute();
    const res = await put('pupilA1', 'en', 'in-flight');
    // Another body hash: it is a reuse; the same hash would be "in progress". Both are refusals that apply nothing.
    expect([409, 422]).toContain(res.statusCode);
    await t.preau.storage.db.updateTable('idempotency_keys').set({ request_hash: (await keyRows()).find((r) => r.key === 'outbox-1')!.request_hash }).where('key', '=', 'in-flight').execute();
    const inFlight = await put('pupilA1', 'en', 'in-flight');
    expect(inFlight.statusCode).toBe(409);
    expect(inFlight.headers['retry-after']).toBe('2');
    expect(inFlight.json().error.id).toBe('idempotency.in_progress');
    t.clock.advance(idempotencyLeaseMs - 1);
    expect((await put('pupilA1', 'en', 'in-flight')).statusCode).toBe(409);
    t.clock.advance(1);
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

/**
 * Claims are leases (issue 7: a write in flight on a burnt site kept its key "in progress" 11 min).
 * Leases are judged on the test's manual clock; renewals run on real time (every 50 ms here).
 */
describe.each(backends)('Idempotency-Key claims are leases renewed while the request runs (%s)', (backend) => {
  const LEASE_MS = 2_000;
  const lease = { idempotencyLeaseMs: LEASE_MS, idempotencyRenewMs: 50 };
  let t: TestPreau;
  beforeAll(async () => {
    t = await startTestPreau(backend, lease);
  });
  afterAll(async () => {
    await t?.close();
  });

  const handInOn = (inject: (o: object) => Promise<{ statusCode: number; json(): { receipt?: { id: string }; error?: { id: string } }; headers: Record<string, unknown> }>, session: { cookie: string; csrf: string }, key: string) => {
    const { payload, headers } = multipart([{ name: 'text', value: `Rendu ${key}` }]);
    return inject({ method: 'POST', url: '/api/v1/homework/hwMaths6A/handins', payload, headers: { ...headers, cookie: session.cookie, 'x-csrf-token': session.csrf, 'idempotency-key': key } });
  };
  const claimOf = (key: string) => t.preau.storage.db.selectFrom('idempotency_keys').selectAll().where('person_id', '=', 'pupilA2').where('key', '=', key).executeTakeFirst();
  const handinsWith = async (key: string) => (await t.preau.storage.db.selectFrom('handins').select('id').where('pupil_id', '=', 'pupilA2').where('idempotency_key', '=', key).execute()).length;
  const deferred = () => {
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    return { gate, open };
  };
  async function signIn(app: { inject: (o: object) => Promise<{ statusCode: number; cookies: { name: string; value: string }[]; json(): unknown }> }) {
    const res = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { login: t.fx.people.pupilA2.login, password: FIXTURE_PASSWORD, remember: true } });
    expect(res.statusCode).toBe(200);
    const c = res.cookies.find((x) => x.name.endsWith('preau_session'))!;
    return { cookie: `${c.name}=${c.value}`, csrf: (res.json() as { csrfToken: string }).csrfToken };
  }

  it('a live request longer than the lease keeps its key: the retry is refused 409 until it answers, then replayed; one hand-in', async () => {
    const session = await signIn(t.preau.app);
    const inject = (o: object) => t.preau.app.inject(o);
    const gate = deferred();
    const handIn = t.preau.handins.handIn.bind(t.preau.handins);
    t.preau.handins.handIn = async (...args) => {
      await gate.gate;
      return handIn(...args);
    };
    try {
      const first = handInOn(inject, session, 'long-request-key-1');
      await expect.poll(async () => (await claimOf('long-request-key-1'))?.status_code, { timeout: 5_000, interval: 20 }).toBe(0);
      // Three leases pass on the clock; the node renews meanwhile (every 50 ms of real time).
      t.clock.advance(3 * LEASE_MS);
      await expect.poll(async () => Number((await claimOf('long-request-key-1'))?.expires_at) > t.clock.nowMs(), { timeout: 5_000, interval: 20 }).toBe(true);
      const retry = await handInOn(inject, session, 'long-request-key-1');
      expect(retry.statusCode).toBe(409);
      expect(retry.json().error?.id).toBe('idempotency.in_progress');
      expect(retry.headers['retry-after']).toBe('2');
      gate.open();
      const answered = await first;
      expect(answered.statusCode).toBe(201);
      const replay = await handInOn(inject, session, 'long-request-key-1');
      expect(replay.statusCode).toBe(201);
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect(replay.json().receipt?.id).toBe(answered.json().receipt?.id);
      expect(await handinsWith('long-request-key-1')).toBe(1);
      // Answered: the kept answer lives 24 h, not a lease.
      expect(Number((await claimOf('long-request-key-1'))?.expires_at)).toBeGreaterThan(t.clock.nowMs() + IDEMPOTENCY_TTL_MS - 60_000);
    } finally {
      gate.open();
      t.preau.handins.handIn = handIn;
    }
  });

  it('a claim whose node died (no more renewals) is taken over on another node after the lease, and the write is applied once', async () => {
    const dead = await startPeerNode(t, lease);
    const gate = deferred();
    const handIn = dead.handins.handIn.bind(dead.handins);
    try {
      const deadSession = await signIn(dead.app);
      // The dead node's request got its claim, then the node stopped: its handler never ends, and
      // nothing it sends reaches the database any more (its renewals fail).
      dead.handins.handIn = async () => {
        await gate.gate;
        throw new Error('nœud mort');
      };
      dead.idempotency.renew = () => Promise.reject(new Error('Connection terminated unexpectedly'));
      void handInOn((o) => dead.app.inject(o), deadSession, 'dead-node-key-1').catch(() => undefined);
      await expect.poll(async () => (await claimOf('dead-node-key-1'))?.status_code, { timeout: 5_000, interval: 20 }).toBe(0);

      const session = await signIn(t.preau.app);
      const inject = (o: object) => t.preau.app.inject(o);
      const during = await handInOn(inject, session, 'dead-node-key-1');
      expect(during.statusCode).toBe(409);
      expect(during.json().error?.id).toBe('idempotency.in_progress');
      expect(during.headers['retry-after']).toBe('2');
      t.clock.advance(LEASE_MS - 1);
      expect((await handInOn(inject, session, 'dead-node-key-1')).statusCode).toBe(409);
      t.clock.advance(1);
      const taken = await handInOn(inject, session, 'dead-node-key-1');
      expect(taken.statusCode).toBe(201);
      expect(taken.headers['idempotent-replayed']).toBeUndefined();
      const again = await handInOn(inject, session, 'dead-node-key-1');
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.json().receipt?.id).toBe(taken.json().receipt?.id);
      expect(await handinsWith('dead-node-key-1')).toBe(1);
    } finally {
      gate.open();
      dead.handins.handIn = handIn;
      await dead.close();
    }
  });
});
