import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activeBackends } from '../../../test/support/backends.js';
import { startTestPreau, type TestPreau } from '../../../test/support/app.js';
import { PEOPLE, type PersonKey } from '../../../test/support/fixtures.js';
import { describeMatrix, type MatrixRow } from '../../../test/support/matrix.js';

const backends = await activeBackends();

const SIGNED_IN: PersonKey[] = [...PEOPLE].filter((p) => p !== 'departedPupil' && p !== 'pendingPupil');
const STAFF_A: PersonKey[] = ['cpeA', 'directionA', 'adminA'];
const note = (kind: string, id: string) => ({ audience: { kind, id }, title: 'Sortie au musée', bodyHtml: '<p>Merci de signer.</p>' });
const FOLLOWERS: PersonKey[] = ['teacherA', ...STAFF_A];

/**
 * The authorisation matrix of the carnet de liaison. `liaisonFixture` is teacher A's note to the
 * parents of 6e A (parent A1, for pupil A1). Includes a parent of another pupil (parentB1), a
 * teacher of another class (teacherB) and of another school (teacherOther); the departed pupil's
 * family is tested below.
 */
const MATRIX: MatrixRow[] = [
  { name: 'write to the parents of 6e A', method: 'POST', url: '/api/v1/liaison', payload: note('class', 'class6A'), ok: 201, denied: 403, allowed: FOLLOWERS },
  { name: 'write to the parents of pupil A1', method: 'POST', url: '/api/v1/liaison', payload: note('pupil', 'pupilA1'), ok: 201, denied: 403, allowed: FOLLOWERS },
  { name: 'write to the parents of pupil B1 (6e B)', method: 'POST', url: '/api/v1/liaison', payload: note('pupil', 'pupilB1'), ok: 201, denied: 403, allowed: ['teacherB', ...STAFF_A] },
  { name: 'write to the Latin group’s parents', method: 'POST', url: '/api/v1/liaison', payload: note('group', 'groupLatin'), ok: 201, denied: 403, allowed: FOLLOWERS },
  { name: 'read the note', method: 'GET', url: '/api/v1/liaison/liaisonFixture', allowed: [...FOLLOWERS, 'parentA1'] },
  { name: 'see who signed', method: 'GET', url: '/api/v1/liaison/liaisonFixture/signatures', allowed: FOLLOWERS, forbidden: ['parentA1'] },
  { name: 'sign it', method: 'POST', url: '/api/v1/liaison/liaisonFixture/sign', allowed: ['parentA1'], forbidden: FOLLOWERS },
  { name: 'one’s list', method: 'GET', url: '/api/v1/liaison', allowed: SIGNED_IN },
  { name: 'notes to sign (count)', method: 'GET', url: '/api/v1/liaison/to-sign', allowed: SIGNED_IN },
];

describe.each(backends)('carnet de liaison API on %s', (backend) => {
  let t: TestPreau;
  beforeAll(async () => {
    t = await startTestPreau(backend);
    const now = t.clock.nowMs() - 3600_000;
    await t.preau.storage.db.insertInto('liaison_notes').values({
      id: 'liaisonFixture', school_id: 'schoolA', author_id: 'teacherA', audience_kind: 'class', audience_id: 'class6A', audience_name: '6e A', title: 'Réunion',
      body_html: '<p>Réunion parents-professeurs jeudi.</p>', created_at: now, reminder_count: 0, last_reminded_at: null, deleted_at: null,
    }).execute();
    await t.preau.storage.db.insertInto('liaison_targets').values({ note_id: 'liaisonFixture', parent_id: 'parentA1', pupil_id: 'pupilA1', created_at: now, signed_at: null, reminded_at: null }).execute();
  });
  afterAll(async () => {
    await t?.close();
  });
  const as = (who: PersonKey) => t.as(who);

  describeMatrix(MATRIX, SIGNED_IN, () => t);

  it('a teacher writes to a class; parents sign; the teacher sees who signed and reminds the others, within bounds', async () => {
    // A second family in 6e A: pupil A2's parent.
    const now = t.clock.nowMs();
    await t.preau.storage.db.insertInto('people').values({
      id: 'parentA2', aaf_jointure: 'J-parentA2', profile: 'parent', staff_function: null, login: 'parenta2', first_name: 'parentA2', last_name: 'Fixture', title: null,
      password_hash: null, status: 'active', school_id: null, mef_code: null, departed_at: null, created_at: now, updated_at: now,
    }).execute();
    await t.preau.storage.db.insertInto('guardianships').values({ parent_id: 'parentA2', child_id: 'pupilA2', legal_guardian: 1, relation: 'PERE' }).execute();
    // The departed pupil of 6e A has a parent too: the note does not reach them.
    await t.preau.storage.db.insertInto('guardianships').values({ parent_id: 'parentB1', child_id: 'departedPupil', legal_guardian: 1, relation: 'PERE' }).execute();

    const teacher = await as('teacherA');
    const created = await teacher.request({ method: 'POST', url: '/api/v1/liaison', payload: { audience: { kind: 'class', id: 'class6A' }, title: 'Photo de classe', bodyHtml: '<p>Mardi <script>x</script>9 h.</p>' } });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json().note.id as string;
    expect(created.json().note).toMatchObject({ signed: 0, total: 2, bodyHtml: '<p>Mardi 9 h.</p>', reminders: 0, lastRemindedAt: null });

    const parent = await as('parentA1');
    const before = (await parent.request({ method: 'GET', url: '/api/v1/liaison/to-sign' })).json().toSign as number;
    const list = (await parent.request({ method: 'GET', url: '/api/v1/liaison?toSign=true' })).json();
    expect(list.notes.map((n: { id: string }) => n.id)).toContain(id);
    const signed = await parent.request({ method: 'POST', url: `/api/v1/liaison/${id}/sign` });
    expect(signed.statusCode, signed.body).toBe(200);
    expect(signed.json().note.mySignatures[0]).toMatchObject({ pupilId: 'pupilA1' });
    const firstSignature = signed.json().note.mySignatures[0].signedAt as string;
    t.clock.advance(60_000);
    // Signing again keeps the first time.
    expect((await parent.request({ method: 'POST', url: `/api/v1/liaison/${id}/sign` })).json().note.mySignatures[0].signedAt).toBe(firstSignature);
    expect((await parent.request({ method: 'GET', url: '/api/v1/liaison/to-sign' })).json().toSign).toBe(before - 1);

    const sigs = (await teacher.request({ method: 'GET', url: `/api/v1/liaison/${id}/signatures?limit=10` })).json();
    expect(sigs).toMatchObject({ signed: 1, total: 2 });
    expect(sigs.rows.map((r: { parent: { id: string }; signedAt: string | null }) => [r.parent.id, r.signedAt !== null])).toEqual([['parentA1', true], ['parentA2', false]]);

    const r1 = await teacher.request({ method: 'POST', url: `/api/v1/liaison/${id}/reminders` });
    expect(r1.statusCode, r1.body).toBe(201);
    expect(r1.json()).toEqual({ reminded: 1, remindersLeft: 2 });
    // The note says when it was last reminded, so the client can tell when the next one is allowed.
    const followed = (await teacher.request({ method: 'GET', url: `/api/v1/liaison/${id}` })).json().note;
    expect(followed).toMatchObject({ reminders: 1, lastRemindedAt: new Date(t.clock.nowMs()).toISOString() });
    const soon = await teacher.request({ method: 'POST', url: `/api/v1/liaison/${id}/reminders` });
    expect(soon.statusCode).toBe(429);
    expect(soon.json().error.id).toBe('liaison.remind_too_soon');
    expect(Number(soon.headers['retry-after'])).toBeGreaterThan(0);
    for (let i = 0; i < 2; i++) {
      t.clock.advance(25 * 3600_000);
      expect((await teacher.request({ method: 'POST', url: `/api/v1/liaison/${id}/reminders` })).statusCode).toBe(201);
    }
    t.clock.advance(25 * 3600_000);
    expect((await teacher.request({ method: 'POST', url: `/api/v1/liaison/${id}/reminders` })).json().error.id).toBe('liaison.reminders_exhausted');
    // Nobody else may remind.
    for (const who of SIGNED_IN.filter((p) => !FOLLOWERS.includes(p))) {
      const res = await (await as(who)).request({ method: 'POST', url: `/api/v1/liaison/${id}/reminders` });
      expect({ who, status: res.statusCode }).toEqual({ who, status: who === 'parentA1' ? 403 : 404 });
    }

    // The API says who may withdraw: the author, not the CPE who follows it, nor a parent.
    expect((await teacher.request({ method: 'GET', url: `/api/v1/liaison/${id}` })).json().note.canWithdraw).toBe(true);
    expect((await (await as('cpeA')).request({ method: 'GET', url: `/api/v1/liaison/${id}` })).json().note.canWithdraw).toBe(false);
    expect((await parent.request({ method: 'GET', url: `/api/v1/liaison/${id}` })).json().note.canWithdraw).toBe(false);
    expect((await teacher.request({ method: 'GET', url: '/api/v1/liaison' })).json().notes.find((n: { id: string }) => n.id === id).canWithdraw).toBe(true);
    // Withdrawn (soft): gone for the parent, kept in the database.
    expect((await (await as('cpeA')).request({ method: 'DELETE', url: `/api/v1/liaison/${id}` })).statusCode).toBe(403);
    expect((await teacher.request({ method: 'DELETE', url: `/api/v1/liaison/${id}` })).statusCode).toBe(204);
    expect((await parent.request({ method: 'GET', url: `/api/v1/liaison/${id}` })).statusCode).toBe(404);
    expect(await t.preau.storage.db.selectFrom('liaison_notes').select('deleted_at').where('id', '=', id).executeTakeFirst()).toMatchObject({ deleted_at: expect.any(Number) });
  });

  it('bad input and limits: 4xx with an id, nothing stored', async () => {
    const teacher = await as('teacherA');
    const count = async () => (await t.preau.storage.db.selectFrom('liaison_notes').select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow()).n;
    const before = await count();
    const cases: [object, number, string][] = [
      [{ audience: { kind: 'school', id: 'schoolA' }, title: 'x', bodyHtml: 'y' }, 400, 'request.invalid'],
      [{ audience: { kind: 'class', id: 'class6A' }, title: '', bodyHtml: 'y' }, 400, 'request.invalid'],
      [{ audience: { kind: 'class', id: 'class6A' }, title: 'x'.repeat(201), bodyHtml: 'y' }, 400, 'request.invalid'],
      [{ audience: { kind: 'class', id: 'class6A' }, title: 'x', bodyHtml: '<'.repeat(29_000) }, 413, 'liaison.body_too_long'],
      [{ audience: { kind: 'pupil', id: 'nobody' }, title: 'x', bodyHtml: 'y' }, 403, 'access.forbidden'],
      [{ audience: { kind: 'pupil', id: 'pupilA2' }, title: 'x', bodyHtml: 'y', extra: 1 }, 400, 'request.unknown_field'],
    ];
    for (const [payload, status, id] of cases) {
      const res = await teacher.request({ method: 'POST', url: '/api/v1/liaison', payload });
      expect({ status: res.statusCode, id: res.json().error.id }).toEqual({ status, id });
    }
    // Pupil A2 has no parent in the fixture (unless the test above added one): nobody to reach.
    await t.preau.storage.db.deleteFrom('guardianships').where('child_id', '=', 'pupilA2').execute();
    expect((await teacher.request({ method: 'POST', url: '/api/v1/liaison', payload: note('pupil', 'pupilA2') })).json().error.id).toBe('liaison.no_parent');
    expect(await count()).toBe(before);
    expect((await teacher.request({ method: 'GET', url: '/api/v1/liaison?limit=999' })).json().notes.length).toBeLessThanOrEqual(100);
  });
});
