import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activeBackends } from '../../../test/support/backends.js';
import { startTestPreau, type TestPreau } from '../../../test/support/app.js';
import { PEOPLE, type PersonKey } from '../../../test/support/fixtures.js';

const backends = await activeBackends();

/**
 * The authorisation matrix: every route × every profile of the fixture → the expected status.
 * A profile not listed under "allowed" must get the listed denial (404 where even the existence
 * of the resource is not theirs to know, 403 where it is).
 */
interface Row {
  name: string;
  method: 'GET' | 'POST';
  url: string;
  payload?: object;
  allowed: PersonKey[];
  /** Denial status per person; default 404. */
  forbidden?: PersonKey[];
}

const MATRIX: Row[] = [
  { name: 'list schools', method: 'GET', url: '/api/v1/schools', allowed: [...PEOPLE].filter((p) => p !== 'departedPupil' && p !== 'pendingPupil') },
  {
    name: 'see school A', method: 'GET', url: '/api/v1/schools/schoolA',
    allowed: ['pupilA1', 'pupilA2', 'pupilB1', 'parentA1', 'parentB1', 'teacherA', 'teacherB', 'cpeA', 'directionA', 'adminA', 'platformAdmin'],
  },
  {
    name: 'school A overview', method: 'GET', url: '/api/v1/schools/schoolA/overview',
    allowed: ['teacherA', 'teacherB', 'cpeA', 'directionA', 'adminA', 'platformAdmin'],
    forbidden: ['pupilA1', 'pupilA2', 'pupilB1', 'parentA1', 'parentB1'],
  },
  {
    name: 'classes of school A', method: 'GET', url: '/api/v1/schools/schoolA/classes',
    allowed: ['pupilA1', 'pupilA2', 'pupilB1', 'parentA1', 'parentB1', 'teacherA', 'teacherB', 'cpeA', 'directionA', 'adminA', 'platformAdmin'],
  },
  { name: 'see class 6A', method: 'GET', url: '/api/v1/classes/class6A', allowed: ['pupilA1', 'pupilA2', 'parentA1', 'teacherA', 'cpeA', 'directionA', 'adminA', 'platformAdmin'] },
  {
    name: 'pupils of 6A', method: 'GET', url: '/api/v1/classes/class6A/pupils',
    allowed: ['pupilA1', 'pupilA2', 'teacherA', 'cpeA', 'directionA', 'adminA', 'platformAdmin'], forbidden: ['parentA1'],
  },
  { name: 'profile of pupil A1', method: 'GET', url: '/api/v1/people/pupilA1', allowed: ['pupilA1', 'pupilA2', 'parentA1', 'teacherA', 'cpeA', 'directionA', 'adminA', 'platformAdmin'] },
  // Staff of a school are visible to its pupils and their parents (a school directory), not to other schools.
  { name: 'profile of teacher A', method: 'GET', url: '/api/v1/people/teacherA', allowed: ['pupilA1', 'pupilA2', 'pupilB1', 'parentA1', 'parentB1', 'teacherA', 'teacherB', 'cpeA', 'directionA', 'adminA', 'platformAdmin'] },
  { name: 'my children', method: 'GET', url: '/api/v1/me/children', allowed: [...PEOPLE].filter((p) => p !== 'departedPupil' && p !== 'pendingPupil') },
  { name: 'today', method: 'GET', url: '/api/v1/me/today', allowed: [...PEOPLE].filter((p) => p !== 'departedPupil' && p !== 'pendingPupil') },
  {
    name: 'activation codes for 6A', method: 'POST', url: '/api/v1/classes/class6A/activation-codes', payload: { include: 'both', format: 'json' },
    allowed: ['directionA', 'adminA', 'platformAdmin'],
    forbidden: ['pupilA1', 'pupilA2', 'pupilB1', 'pupilOther', 'parentA1', 'parentB1', 'teacherA', 'teacherB', 'teacherOther', 'cpeA'],
  },
  {
    name: 'reset the password of pupil B1 (last: it closes their sessions)', method: 'POST', url: '/api/v1/people/pupilB1/password-reset',
    allowed: ['directionA', 'adminA', 'platformAdmin'],
    forbidden: ['parentB1', 'teacherB', 'cpeA', 'pupilB1'],
  },
];

describe.each(backends)('schools API on %s', (backend) => {
  let t: TestPreau;
  beforeAll(async () => {
    t = await startTestPreau(backend);
  });
  afterAll(async () => {
    await t?.close();
  });

  const signedIn = [...PEOPLE].filter((p) => p !== 'departedPupil' && p !== 'pendingPupil');

  describe.each(MATRIX)('$name', (row) => {
    it('anonymous → 401 auth.required', async () => {
      const res = await t.anonymous.request({ method: row.method, url: row.url, ...(row.payload ? { payload: row.payload } : {}) });
      expect(res.statusCode).toBe(401);
      expect(res.json().error.id).toBe('auth.required');
    });
    it.each(signedIn)('%s', async (who) => {
      // The reset closes pupilB1's sessions: sign them in afresh each time.
      const client = await t.as(who);
      const res = await client.request({ method: row.method, url: row.url, ...(row.payload ? { payload: row.payload } : {}) });
      const expected = row.allowed.includes(who) ? 200 : row.forbidden?.includes(who) ? 403 : 404;
      expect({ who, status: res.statusCode, body: res.statusCode === expected ? '' : res.body }).toEqual({ who, status: expected, body: '' });
      if (expected !== 200) expect(res.json().error.id).toMatch(/^(access\.forbidden|[a-z]+\.not_found)$/);
    });
  });

  it('lists only the schools in scope', async () => {
    const ids = async (who: PersonKey) => ((await (await t.as(who)).request({ method: 'GET', url: '/api/v1/schools' })).json().schools as { id: string }[]).map((s) => s.id).sort();
    expect(await ids('pupilA1')).toEqual(['schoolA']);
    expect(await ids('parentA1')).toEqual(['schoolA']);
    expect(await ids('teacherOther')).toEqual(['schoolB']);
    expect(await ids('platformAdmin')).toEqual(['schoolA', 'schoolB']);
  });

  it('a teacher sees only the classes and groups they teach', async () => {
    const body = (await (await t.as('teacherA')).request({ method: 'GET', url: '/api/v1/schools/schoolA/classes' })).json();
    expect(body.classes.map((c: { id: string }) => c.id)).toEqual(['class6A']);
    expect(body.groups.map((g: { id: string }) => g.id)).toEqual(['groupLatin']);
    const cpe = (await (await t.as('cpeA')).request({ method: 'GET', url: '/api/v1/schools/schoolA/classes' })).json();
    expect(cpe.classes.map((c: { id: string }) => c.id).sort()).toEqual(['class6A', 'class6B']);
  });

  it('class lists hide departed pupils and never expose credentials', async () => {
    const res = await (await t.as('teacherA')).request({ method: 'GET', url: '/api/v1/classes/class6A/pupils' });
    const ids = (res.json().pupils as { id: string }[]).map((p) => p.id);
    expect(ids).toContain('pupilA1');
    expect(ids).not.toContain('departedPupil');
    expect(res.body).not.toMatch(/password|argon2|login/);
  });

  it('a parent sees their children', async () => {
    const res = await (await t.as('parentA1')).request({ method: 'GET', url: '/api/v1/me/children' });
    expect(res.json().children).toEqual([{ id: 'pupilA1', firstName: 'pupilA1', lastName: 'Fixture', legalGuardian: true }]);
  });

  it("today: a pupil's timetable includes their group's lessons and shows cancellations", async () => {
    const body = (await (await t.as('pupilA1')).request({ method: 'GET', url: '/api/v1/me/today' })).json();
    expect(body.date).toBe('2026-09-07');
    expect(body.timetable.map((s: { id: string }) => s.id)).toEqual(['slot6A', 'slotLatin']);
    expect(body.timetable[0]).toMatchObject({ subject: 'MATHEMATIQUES', room: 'B12', status: 'normal', startsAt: '2026-09-07T06:30:00.000Z', audience: '6e A' });
    expect(body.timetable[1]).toMatchObject({ status: 'annule', note: 'Professeur absent' });
    const other = (await (await t.as('pupilA2')).request({ method: 'GET', url: '/api/v1/me/today' })).json();
    expect(other.timetable.map((s: { id: string }) => s.id)).toEqual(['slot6A']);
  });

  it("today: a parent gets one card per child; a teacher their lessons; staff their school's figures", async () => {
    const parent = (await (await t.as('parentA1')).request({ method: 'GET', url: '/api/v1/me/today' })).json();
    expect(parent.children).toHaveLength(1);
    expect(parent.children[0].timetable.map((s: { id: string }) => s.id)).toEqual(['slot6A', 'slotLatin']);
    const teacher = (await (await t.as('teacherB')).request({ method: 'GET', url: '/api/v1/me/today' })).json();
    expect(teacher.timetable.map((s: { id: string }) => s.id)).toEqual(['slot6B']);
    const cpe = (await (await t.as('cpeA')).request({ method: 'GET', url: '/api/v1/me/today' })).json();
    expect(cpe.schools[0]).toMatchObject({ id: 'schoolA', classCount: 2 });
  });

  it('activation codes come as CSV (no formula injection) and as a printable sheet (escaped)', async () => {
    await t.preau.storage.db.updateTable('people').set({ last_name: '=HYPERLINK("http://x")', first_name: '<img src=x onerror=alert(1)>', status: 'pending_activation' }).where('id', '=', 'pupilA2').execute();
    const admin = await t.as('adminA');
    const csv = await admin.request({ method: 'POST', url: '/api/v1/classes/class6A/activation-codes', payload: { format: 'csv' } });
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.headers['content-disposition']).toContain('codes-6A.csv');
    expect(csv.body).toContain("'=HYPERLINK");
    expect(csv.body.split('\r\n')[0]).toContain('Code d’activation');
    const html = await admin.request({ method: 'POST', url: '/api/v1/classes/class6A/activation-codes', payload: { format: 'html' } });
    expect(html.headers['content-type']).toMatch(/^text\/html/);
    expect(html.body).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html.body).not.toContain('<img');
    expect(html.body).toContain('/assets/activation-sheet.css');
    expect(html.headers['content-security-policy']).not.toContain('unsafe-inline');
    expect(html.headers['content-security-policy']).toContain("style-src 'self'");
    // The second batch replaced the first: one live code per person.
    const live = await t.preau.storage.db.selectFrom('activation_codes').select('person_id').where('person_id', '=', 'pupilA2').where('used_at', 'is', null).execute();
    expect(live).toHaveLength(1);
  });

  it('a password reset clears the password, closes sessions and gives a code', async () => {
    const pupil = await t.as('pupilOther');
    expect((await pupil.request({ method: 'GET', url: '/api/v1/me' })).statusCode).toBe(200);
    const res = await (await t.as('platformAdmin')).request({ method: 'POST', url: '/api/v1/people/pupilOther/password-reset' });
    expect(res.statusCode).toBe(200);
    expect(res.json().code).toMatch(/^[A-Z2-9]{4}-[A-Z2-9]{4}$/);
    expect((await pupil.request({ method: 'GET', url: '/api/v1/me' })).statusCode).toBe(401);
    const audit = await t.preau.storage.db.selectFrom('audit_events').select(['action', 'actor_id']).where('target_id', '=', 'pupilOther').execute();
    expect(audit).toContainEqual({ action: 'identity.password_reset', actor_id: 'platformAdmin' });
  });

  it('a school administrator cannot reset another administrator', async () => {
    const res = await (await t.as('adminA')).request({ method: 'POST', url: '/api/v1/people/platformAdmin/password-reset' });
    expect([403, 404]).toContain(res.statusCode);
  });

  it('bad ids and unknown fields are 4xx with an error id', async () => {
    const admin = await t.as('adminA');
    const badId = await admin.request({ method: 'GET', url: "/api/v1/classes/1'%20OR%20'1'='1" });
    expect(badId.statusCode).toBe(400);
    expect(badId.json().error.id).toBe('request.invalid');
    const unknown = await admin.request({ method: 'POST', url: '/api/v1/classes/class6A/activation-codes', payload: { format: 'pdf' } });
    expect(unknown.statusCode).toBe(400);
    const extra = await admin.request({ method: 'POST', url: '/api/v1/classes/class6A/activation-codes', payload: { everyone: true } });
    expect(extra.json().error.id).toBe('request.unknown_field');
    const missing = await admin.request({ method: 'GET', url: '/api/v1/classes/nope' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.id).toBe('class.not_found');
  });
});
