import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activeBackends } from '../../../test/support/backends.js';
import { startTestPreau, type TestPreau } from '../../../test/support/app.js';
import { FIXTURE_PASSWORD, PEOPLE, type PersonKey } from '../../../test/support/fixtures.js';
import { canOnStatus } from './status.policy.js';
import { STATUS_CACHE_TTL_MS } from './status.service.js';

const backends = await activeBackends();

describe('status policy', () => {
  it('everyone reads; only the platform administrator updates', () => {
    expect(canOnStatus(null, 'read')).toBe(true);
    expect(canOnStatus('admin_plateforme', 'update')).toBe(true);
    for (const p of ['eleve', 'parent', 'enseignant', 'personnel', 'admin_etablissement'] as const) expect(canOnStatus(p, 'update')).toBe(false);
  });
});

describe.each(backends)('platform status on %s', (backend) => {
  let t: TestPreau;
  beforeAll(async () => {
    t = await startTestPreau(backend);
  });
  afterAll(async () => {
    await t?.close();
  });

  const read = () => t.anonymous.request({ method: 'GET', url: '/api/v1/status' });
  const update = async (who: PersonKey, payload: unknown) => (await t.as(who)).request({ method: 'PUT', url: '/api/v1/admin/status', payload: payload as object });

  it('is public, short-lived in caches, and calm by default', async () => {
    const res = await read();
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ incident: null, readOnly: false });
    expect(res.headers['cache-control']).toBe('public, max-age=5');
  });

  // The authorisation matrix: every active fixture person, and anonymous.
  const active = PEOPLE.filter((p) => p !== 'departedPupil' && p !== 'pendingPupil');
  it.each(active.filter((p) => p !== 'platformAdmin'))('%s may not change it (403 access.forbidden), nothing changes', async (who) => {
    const res = await update(who, { incident: 'Piratage', readOnly: true });
    expect(res.statusCode).toBe(403);
    expect(res.json().error).toMatchObject({ id: 'access.forbidden', message: 'Vous n’avez pas accès à cette ressource.' });
    expect((await read()).json()).toEqual({ incident: null, readOnly: false });
  });

  it('anonymous may not change it (401 auth.required)', async () => {
    const res = await t.anonymous.request({ method: 'PUT', url: '/api/v1/admin/status', payload: { incident: null, readOnly: true } });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.id).toBe('auth.required');
  });

  it('the platform administrator sets an incident and read-only mode; everyone sees it at once; it is audited', async () => {
    const res = await update('platformAdmin', { incident: '  Lenteurs ce matin : nous y travaillons.  ', readOnly: true });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ incident: 'Lenteurs ce matin : nous y travaillons.', readOnly: true });
    expect((await read()).json()).toEqual({ incident: 'Lenteurs ce matin : nous y travaillons.', readOnly: true });
    const audit = await t.preau.storage.db.selectFrom('audit_events').selectAll().where('action', '=', 'status.update').execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]!.actor_id).toBe('platformAdmin');
    await update('platformAdmin', { incident: null, readOnly: false });
    expect((await read()).json()).toEqual({ incident: null, readOnly: false });
  });

  it('another node sees a change within the cache lifetime', async () => {
    await read();
    await t.preau.storage.db.updateTable('settings').set({ value: 'Maintenance à 18 h' }).where('key', '=', 'status.incident').execute();
    expect((await read()).json().incident).toBeNull();
    t.clock.advance(STATUS_CACHE_TTL_MS);
    expect((await read()).json().incident).toBe('Maintenance à 18 h');
  });

  it('bad input is a 4xx with an error id and changes nothing', async () => {
    const before = (await read()).json();
    for (const payload of [{}, { incident: null }, { incident: '', readOnly: false }, { incident: 'x'.repeat(501), readOnly: false }, { incident: null, readOnly: 'oui' }, { incident: null, readOnly: false, extra: 1 }]) {
      const res = await update('platformAdmin', payload);
      expect(res.statusCode, JSON.stringify(payload).slice(0, 60)).toBe(400);
      expect(['request.invalid', 'request.unknown_field']).toContain(res.json().error.id);
    }
    expect((await read()).json()).toEqual(before);
  });

  it('read-only mode refuses every write (503 platform.read_only, Retry-After) and changes nothing; reads, signing in and out, and lifting it still work', async () => {
    const pupil = await t.as('pupilA1');
    await update('platformAdmin', { incident: 'Bascule de la base de données', readOnly: true });
    try {
      const done = await pupil.request({ method: 'PUT', url: '/api/v1/homework/hwMaths6A/done', payload: { done: true } });
      expect(done.statusCode).toBe(503);
      expect(done.json().error).toMatchObject({ id: 'platform.read_only', message: expect.stringMatching(/^Préau est en lecture seule/) });
      expect(Number(done.headers['retry-after'])).toBeGreaterThanOrEqual(60);
      expect(await t.preau.storage.db.selectFrom('homework_done').selectAll().where('pupil_id', '=', 'pupilA1').execute()).toEqual([]);
      const password = await pupil.request({ method: 'PUT', url: '/api/v1/me/password', payload: { currentPassword: 'x'.repeat(12), newPassword: 'y'.repeat(12) } });
      expect(password.json().error.id).toBe('platform.read_only');
      // Reading goes on.
      expect((await pupil.request({ method: 'GET', url: '/api/v1/homework' })).statusCode).toBe(200);
      // Signing in and out still works (people must be able to read).
      const login = await t.anonymous.request({ method: 'POST', url: '/api/v1/auth/login', payload: { login: t.fx.people.pupilA2.login, password: FIXTURE_PASSWORD } });
      expect(login.statusCode).toBe(200);
      const c = login.cookies.find((x) => x.name === 'preau_session')!;
      const out = await t.preau.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: { cookie: `${c.name}=${c.value}`, 'x-csrf-token': login.json().csrfToken } });
      expect(out.statusCode).toBe(204);
    } finally {
      // The operator can always lift it.
      expect((await update('platformAdmin', { incident: null, readOnly: false })).statusCode).toBe(200);
    }
    expect((await pupil.request({ method: 'PUT', url: '/api/v1/homework/hwMaths6A/done', payload: { done: true } })).statusCode).toBe(200);
  });
});
