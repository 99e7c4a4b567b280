import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activeBackends } from '../../../test/support/backends.js';
import { startTestPreau, type TestPreau } from '../../../test/support/app.js';
import { FIXTURE_PASSWORD } from '../../../test/support/fixtures.js';
import { forgetPendingLinksOf } from '../schools/index.js';

const backends = await activeBackends();

async function tableCounts(t: TestPreau) {
  const db = t.preau.storage.db;
  const count = async (table: 'sessions' | 'people' | 'activation_codes' | 'audit_events') => Number((await db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  return { sessions: await count('sessions'), people: await count('people'), codes: await count('activation_codes'), audit: await count('audit_events') };
}

describe.each(backends)('identity API on %s', (backend) => {
  let t: TestPreau;
  beforeAll(async () => {
    t = await startTestPreau(backend);
  });
  afterAll(async () => {
    await t?.close();
  });

  const login = (body: unknown, headers: Record<string, string> = {}) =>
    t.anonymous.request({ method: 'POST', url: '/api/v1/auth/login', payload: body as object, headers: { 'x-forwarded-for': '1.2.3.4', ...headers } });

  it('logs in with the right password, sets an HttpOnly SameSite cookie and gives a CSRF token', async () => {
    const res = await login({ login: 'pupilA1', password: FIXTURE_PASSWORD, remember: true });
    expect(res.statusCode).toBe(200);
    const cookie = res.cookies.find((c) => c.name === 'preau_session')!;
    expect(cookie.httpOnly).toBe(true);
    expect(cookie.sameSite).toBe('Lax');
    expect(cookie.secure).toBeFalsy(); // http public URL
    expect(cookie.maxAge).toBe(30 * 86_400);
    const body = res.json();
    expect(body.user).toMatchObject({ login: 'pupila1', profile: 'eleve', status: 'active' });
    expect(body.user.password_hash).toBeUndefined();
    expect(JSON.stringify(body)).not.toContain('argon2');
    expect(body.csrfToken).toMatch(/^[0-9a-f]{64}$/);
    // The session token is stored hashed, never as sent.
    const rows = await t.preau.storage.db.selectFrom('sessions').select('token_hash').execute();
    expect(rows.map((r) => r.token_hash)).not.toContain(cookie.value);
  });

  it('a session without "rester connecté" is a browser-session cookie', async () => {
    const res = await login({ login: 'pupilA2', password: FIXTURE_PASSWORD });
    expect(res.statusCode).toBe(200);
    expect(res.cookies.find((c) => c.name === 'preau_session')!.maxAge).toBeUndefined();
  });

  it('refuses a wrong password and an unknown login with the same error', async () => {
    const wrong = await login({ login: 'teacherB', password: 'pas le bon' });
    const unknown = await login({ login: 'personne', password: 'pas le bon' });
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    expect(wrong.json().error.id).toBe('auth.invalid_credentials');
    expect(unknown.json().error).toEqual(wrong.json().error);
    expect(wrong.json().error.message).toBe('Identifiant ou mot de passe incorrect.');
  });

  it('tells a pupil who has not activated their account to use the code', async () => {
    const res = await login({ login: 'pendingPupil', password: 'quelque-chose' });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.id).toBe('auth.account_not_active');
  });

  it('refuses a departed pupil', async () => {
    const res = await login({ login: 'departedPupil', password: FIXTURE_PASSWORD });
    expect(res.statusCode).toBe(401);
  });

  it('throttles the attacker path (account + address), not the account from elsewhere', async () => {
    // inject's peer address is fixed; the throttle keys on it. Five failures are free, the sixth waits.
    for (let i = 0; i < 5; i++) expect((await login({ login: 'cpeA', password: `faux-${i}` })).statusCode).toBe(401);
    const blocked = await login({ login: 'cpeA', password: FIXTURE_PASSWORD });
    expect(blocked.statusCode).toBe(429);
    expect(blocked.json().error.id).toBe('auth.throttled');
    expect(blocked.json().error.message).toMatch(/^Trop d’essais\. Réessayez dans \d+ secondes?\.$/);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    // The same account from another address still gets in.
    const other = await t.preau.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { login: 'cpeA', password: FIXTURE_PASSWORD }, remoteAddress: '10.9.8.7' });
    expect(other.statusCode).toBe(200);
    // After the wait, the right password works from the first address too.
    t.clock.advance(31_000);
    expect((await login({ login: 'cpeA', password: FIXTURE_PASSWORD })).statusCode).toBe(200);
  });

  it('resumes a session with the cookie and slides its expiry', async () => {
    const me = await t.as('pupilA1');
    const res = await me.request({ method: 'GET', url: '/api/v1/me' });
    expect(res.statusCode).toBe(200);
    expect(res.json().user.login).toBe('pupila1');
    const before = await t.preau.storage.db.selectFrom('sessions').select(['expires_at']).where('person_id', '=', 'pupilA1').orderBy('expires_at', 'desc').executeTakeFirstOrThrow();
    t.clock.advance(10 * 60_000);
    expect((await me.request({ method: 'GET', url: '/api/v1/me' })).statusCode).toBe(200);
    const after = await t.preau.storage.db.selectFrom('sessions').select(['expires_at']).where('person_id', '=', 'pupilA1').orderBy('expires_at', 'desc').executeTakeFirstOrThrow();
    expect(after.expires_at).toBeGreaterThan(before.expires_at);
  });

  it('refuses unauthenticated, forged and expired sessions', async () => {
    expect((await t.anonymous.request({ method: 'GET', url: '/api/v1/me' })).json().error.id).toBe('auth.required');
    const forged = await t.anonymous.request({ method: 'GET', url: '/api/v1/me', headers: { cookie: 'preau_session=abc' } });
    expect(forged.statusCode).toBe(401);
    const huge = await t.anonymous.request({ method: 'GET', url: '/api/v1/me', headers: { cookie: `preau_session=${'x'.repeat(4000)}` } });
    expect(huge.statusCode).toBe(401);
  });

  it('requires the CSRF token on cookie-authenticated writes, and a same-origin Origin', async () => {
    const me = await t.as('teacherA');
    const noToken = await me.request({ method: 'PUT', url: '/api/v1/me/password', payload: { currentPassword: 'x', newPassword: 'y' }, headers: { 'x-csrf-token': '' } });
    expect(noToken.statusCode).toBe(403);
    expect(noToken.json().error.id).toBe('auth.csrf');
    const crossSite = await me.request({ method: 'PUT', url: '/api/v1/me/password', payload: { currentPassword: 'x', newPassword: 'y' }, headers: { origin: 'https://evil.example' } });
    expect(crossSite.statusCode).toBe(403);
    expect(crossSite.json().error.id).toBe('request.cross_origin');
    const crossSiteLogin = await login({ login: 'teacherA', password: FIXTURE_PASSWORD }, { origin: 'https://evil.example' });
    expect(crossSiteLogin.json().error.id).toBe('request.cross_origin');
  });

  it('lists and revokes sessions; a revoked session stops working at once', async () => {
    const first = await t.as('teacherB');
    const second = await login({ login: 'teacherB', password: FIXTURE_PASSWORD });
    const secondCookie = second.cookies.find((c) => c.name === 'preau_session')!;
    const list = await first.request({ method: 'GET', url: '/api/v1/me/sessions' });
    const sessions = list.json().sessions as { id: string; current: boolean }[];
    expect(sessions.length).toBeGreaterThanOrEqual(2);
    expect(sessions.filter((s) => s.current)).toHaveLength(1);
    const other = sessions.find((s) => !s.current)!;
    expect((await first.request({ method: 'DELETE', url: `/api/v1/me/sessions/${other.id}` })).statusCode).toBe(204);
    const again = await first.request({ method: 'DELETE', url: `/api/v1/me/sessions/${other.id}` });
    expect(again.statusCode).toBe(404);
    expect(again.json().error.id).toBe('session.not_found');
    const gone = await t.anonymous.request({ method: 'GET', url: '/api/v1/me', headers: { cookie: `preau_session=${secondCookie.value}` } });
    expect(gone.statusCode).toBe(401);
  });

  it("cannot revoke someone else's session", async () => {
    const a = await t.as('directionA');
    const b = await t.as('adminA');
    const bSessions = (await b.request({ method: 'GET', url: '/api/v1/me/sessions' })).json().sessions as { id: string }[];
    const res = await a.request({ method: 'DELETE', url: `/api/v1/me/sessions/${bSessions[0]!.id}` });
    expect(res.statusCode).toBe(404);
    expect((await b.request({ method: 'GET', url: '/api/v1/me' })).statusCode).toBe(200);
  });

  it('changes the password, closes the other sessions, keeps this one', async () => {
    const me = await t.as('parentB1');
    const other = await login({ login: 'parentB1', password: FIXTURE_PASSWORD });
    const otherCookie = other.cookies.find((c) => c.name === 'preau_session')!.value;
    const weak = await me.request({ method: 'PUT', url: '/api/v1/me/password', payload: { currentPassword: FIXTURE_PASSWORD, newPassword: 'court' } });
    expect(weak.statusCode).toBe(400);
    expect(weak.json().error.id).toBe('auth.weak_password');
    const wrong = await me.request({ method: 'PUT', url: '/api/v1/me/password', payload: { currentPassword: 'pas-le-bon', newPassword: 'Nouveau-Mot-2026' } });
    expect(wrong.statusCode).toBe(403);
    expect(wrong.json().error.id).toBe('auth.wrong_current_password');
    const ok = await me.request({ method: 'PUT', url: '/api/v1/me/password', payload: { currentPassword: FIXTURE_PASSWORD, newPassword: 'Nouveau-Mot-2026' } });
    expect(ok.statusCode).toBe(204);
    expect((await me.request({ method: 'GET', url: '/api/v1/me' })).statusCode).toBe(200);
    expect((await t.anonymous.request({ method: 'GET', url: '/api/v1/me', headers: { cookie: `preau_session=${otherCookie}` } })).statusCode).toBe(401);
    expect((await login({ login: 'parentB1', password: FIXTURE_PASSWORD }, {})).statusCode).toBe(401);
    const fresh = await t.preau.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { login: 'parentB1', password: 'Nouveau-Mot-2026' }, remoteAddress: '10.1.1.1' });
    expect(fresh.statusCode).toBe(200);
  });

  it('activates an account with a one-time code from the administrator, once', async () => {
    const admin = await t.as('adminA');
    const issued = await admin.request({ method: 'POST', url: `/api/v1/classes/${t.fx.class6A}/activation-codes`, payload: {} });
    expect(issued.statusCode).toBe(200);
    const codes = issued.json().codes as { personId: string; login: string; code: string }[];
    // Only the account still waiting for activation gets a code by default.
    expect(codes.map((c) => c.personId)).toEqual(['pendingPupil']);
    const { code } = codes[0]!;
    expect(code).toMatch(/^[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}$/);
    const stored = await t.preau.storage.db.selectFrom('activation_codes').select('code_hash').execute();
    expect(stored.map((s) => s.code_hash)).not.toContain(code);

    const bad = await t.preau.app.inject({ method: 'POST', url: '/api/v1/auth/activate', payload: { login: 'pendingpupil', code: 'AAAA-BBBB', password: 'Mon-Premier-Mdp' }, remoteAddress: '10.2.2.2' });
    expect(bad.statusCode).toBe(401);
    expect(bad.json().error.id).toBe('auth.invalid_activation_code');
    const weak = await t.preau.app.inject({ method: 'POST', url: '/api/v1/auth/activate', payload: { login: 'pendingpupil', code, password: 'pendingpupil' }, remoteAddress: '10.2.2.2' });
    expect(weak.json().error.id).toBe('auth.weak_password');
    const ok = await t.preau.app.inject({ method: 'POST', url: '/api/v1/auth/activate', payload: { login: ' PendingPupil ', code: code.toLowerCase().replace('-', ' '), password: 'Mon-Premier-Mdp', remember: true }, remoteAddress: '10.2.2.2' });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().user.status).toBe('active');
    const reuse = await t.preau.app.inject({ method: 'POST', url: '/api/v1/auth/activate', payload: { login: 'pendingpupil', code, password: 'Un-Autre-Mdp-1' }, remoteAddress: '10.2.2.3' });
    expect(reuse.statusCode).toBe(401);
    const signIn = await t.preau.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { login: 'pendingpupil', password: 'Mon-Premier-Mdp' }, remoteAddress: '10.2.2.4' });
    expect(signIn.statusCode).toBe(200);
  });

  it('logs out: the cookie is cleared and the session is gone', async () => {
    const res = await login({ login: 'teacherOther', password: FIXTURE_PASSWORD });
    const cookie = `preau_session=${res.cookies.find((c) => c.name === 'preau_session')!.value}`;
    const csrf = res.json().csrfToken as string;
    const out = await t.anonymous.request({ method: 'POST', url: '/api/v1/auth/logout', headers: { cookie, 'x-csrf-token': csrf } });
    expect(out.statusCode).toBe(204);
    expect(out.cookies.find((c) => c.name === 'preau_session')?.value).toBe('');
    expect((await t.anonymous.request({ method: 'GET', url: '/api/v1/me', headers: { cookie } })).statusCode).toBe(401);
  });

  describe('bad input gets a 4xx with an error id and changes nothing', () => {
    const cases: [string, Record<string, unknown> | string, string, number][] = [
      ['malformed JSON', '{"login": "pupilA1", "password":', 'request.malformed_json', 400],
      ['wrong types', { login: 42, password: true }, 'request.invalid', 400],
      ['missing field', { login: 'pupilA1' }, 'request.invalid', 400],
      ['unknown field', { login: 'pupilA1', password: 'x', admin: true }, 'request.unknown_field', 400],
      ['remember as a string', { login: 'pupilA1', password: 'x', remember: 'yes' }, 'request.invalid', 400],
      ['oversize body', { login: 'pupilA1', password: 'x'.repeat(10_000) }, 'request.too_large', 413],
      ['overlong login', { login: 'a'.repeat(500), password: 'x' }, 'request.invalid', 400],
      ['SQL in the login', { login: "' OR 1=1; DROP TABLE people; --", password: 'x' }, 'auth.invalid_credentials', 401],
      ['HTML in the login', { login: '<script>alert(1)</script>', password: 'x' }, 'auth.invalid_credentials', 401],
    ];
    it.each(cases)('%s', async (_name, body, id, status) => {
      const before = await tableCounts(t);
      const res = await t.preau.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        headers: { 'content-type': 'application/json' },
        payload: typeof body === 'string' ? body : JSON.stringify(body),
        remoteAddress: '10.50.0.1',
      });
      expect(res.statusCode).toBe(status);
      expect(res.json().error.id).toBe(id);
      expect(res.json().error.message).toBeTruthy();
      expect(res.body).not.toMatch(/at .*\.ts:\d+|stack/i);
      expect(await tableCounts(t)).toEqual(before);
    });

    it('a form-encoded body is refused (415), so a cross-site form cannot log someone in', async () => {
      const res = await t.preau.app.inject({ method: 'POST', url: '/api/v1/auth/login', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'login=a&password=b' });
      expect(res.statusCode).toBe(415);
      expect(res.json().error.id).toBe('request.unsupported_media_type');
    });

    it('answers in English when asked', async () => {
      const res = await t.preau.app.inject({ method: 'POST', url: '/api/v1/auth/login', headers: { 'accept-language': 'en-GB,en;q=0.8' }, payload: { login: 'x' } });
      expect(res.json().error.message).toBe('The request is invalid.');
    });
  });
});

describe.each(backends)('GDPR purge of departed people on %s', (backend) => {
  let t: TestPreau;
  beforeAll(async () => {
    t = await startTestPreau(backend);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('keeps a departed pupil for the retention window, then deletes them and every link', async () => {
    const db = t.preau.storage.db;
    const present = async () => (await db.selectFrom('people').select('id').where('id', '=', 'departedPupil').executeTakeFirst()) !== undefined;
    const pending = { id: 'pl1', kind: 'guardian', person_jointure: 'J-departedPupil', target_jointure: 'J-unknown-parent', code: null, subject_code: null, legal_guardian: 1, relation: null, principal: null, created_at: 0 };
    await db.insertInto('aaf_pending_links').values([pending, { ...pending, id: 'pl2', person_jointure: 'J-pupilA1' }]).execute();
    const onPurged = (j: string[]) => forgetPendingLinksOf(db, j);
    t.clock.advance(91 * 86_400_000);
    expect((await t.preau.identity.purgeDeparted(92, onPurged)).purged).toBe(0);
    expect(await present()).toBe(true);
    t.clock.advance(2 * 86_400_000);
    expect((await t.preau.identity.purgeDeparted(92, onPurged)).purged).toBe(1);
    expect(await present()).toBe(false);
    // What the AAF import kept waiting about them goes too; others' pending links stay.
    expect((await db.selectFrom('aaf_pending_links').select('id').execute()).map((r) => r.id)).toEqual(['pl2']);
    expect(await db.selectFrom('class_enrolments').select('class_id').where('person_id', '=', 'departedPupil').execute()).toEqual([]);
    // Everyone else is still there.
    expect(await db.selectFrom('people').select('id').where('id', '=', 'pupilA1').executeTakeFirst()).toBeDefined();
    const audit = await db.selectFrom('audit_events').select(['action', 'details']).where('action', '=', 'identity.purge_departed').execute();
    expect(audit).toEqual([{ action: 'identity.purge_departed', details: '{"purged":1}' }]);
  });
});
