import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activeBackends } from '../../../test/support/backends.js';
import { startTestPreau, type TestPreau } from '../../../test/support/app.js';
import { PEOPLE, type PersonKey } from '../../../test/support/fixtures.js';
import { describeMatrix, type MatrixRow } from '../../../test/support/matrix.js';
import { multipart, PDF_BYTES } from '../../../test/support/multipart.js';
import { parisWallTimeToUtcMs } from '../../platform/clock.js';

const backends = await activeBackends();

const READERS_6A: PersonKey[] = ['pupilA1', 'pupilA2', 'parentA1', 'teacherA', 'cpeA', 'directionA', 'adminA', 'platformAdmin'];
const but = (list: PersonKey[], ...out: PersonKey[]) => list.filter((p) => !out.includes(p));

/**
 * The authorisation matrix of the cahier de textes: every route × every profile of the fixture,
 * including a parent of another pupil (parentB1), a teacher of another class (teacherB) and of
 * another school (teacherOther), and staff. A departed pupil is tested below (they cannot sign in).
 */
const MATRIX: MatrixRow[] = [
  { name: 'read published work of 6A', method: 'GET', url: '/api/v1/homework/hwMaths6A', allowed: READERS_6A },
  { name: 'read a draft', method: 'GET', url: '/api/v1/homework/hwDraft6A', allowed: ['teacherA'] },
  { name: 'read a Latin-group séance', method: 'GET', url: '/api/v1/homework/hwLatin', allowed: ['pupilA1', 'parentA1', 'teacherA', 'cpeA', 'directionA', 'adminA', 'platformAdmin'] },
  { name: 'tick "fait"', method: 'PUT', url: '/api/v1/homework/hwMaths6A/done', payload: { done: true }, allowed: ['pupilA1', 'pupilA2'], forbidden: but(READERS_6A, 'pupilA1', 'pupilA2') },
  { name: 'edit', method: 'PATCH', url: '/api/v1/homework/hwMaths6A', payload: { estimatedMinutes: 35 }, allowed: ['teacherA'], forbidden: but(READERS_6A, 'teacherA') },
  { name: 'publish a draft (author only; others do not know it)', method: 'POST', url: '/api/v1/homework/hwDraft6A/publish', payload: { at: '2026-09-30T18:00:00.000Z' }, allowed: ['teacherA'] },
  { name: 'copy to the Latin group', method: 'POST', url: '/api/v1/homework/hwMaths6A/copy', payload: { groupId: 'groupLatin' }, allowed: ['teacherA'], ok: 201, forbidden: but(READERS_6A, 'teacherA') },
  {
    name: 'post work to 6A', method: 'POST', url: '/api/v1/homework', payload: { kind: 'travail', classId: 'class6A', title: 'Nouveau', bodyHtml: '<p>x</p>', date: '2026-09-10' },
    allowed: ['teacherA'], ok: 201, denied: 400,
  },
  { name: 'who handed in', method: 'GET', url: '/api/v1/homework/hwMaths6A/handins', allowed: ['teacherA'], forbidden: but(READERS_6A, 'teacherA') },
  { name: 'all hand-ins as a zip', method: 'GET', url: '/api/v1/homework/hwMaths6A/handins.zip', allowed: ['teacherA'], forbidden: but(READERS_6A, 'teacherA') },
  { name: 'pupil A1’s hand-in', method: 'GET', url: '/api/v1/homework/hwMaths6A/handins/pupilA1', allowed: ['pupilA1', 'parentA1', 'teacherA'], forbidden: but(READERS_6A, 'pupilA1', 'parentA1', 'teacherA') },
  { name: 'pupil A1’s cahier', method: 'GET', url: '/api/v1/homework?pupilId=pupilA1', allowed: ['pupilA1', 'parentA1'] },
  { name: 'the cahier of 6A', method: 'GET', url: '/api/v1/homework?classId=class6A', allowed: READERS_6A },
  { name: 'teacher A’s whole cahier', method: 'GET', url: '/api/v1/teachers/teacherA/cahier', allowed: ['teacherA', 'directionA', 'adminA', 'platformAdmin'] },
  { name: 'visa teacher A’s cahier', method: 'POST', url: '/api/v1/teachers/teacherA/cahier/visas', payload: { comment: 'Vu.' }, allowed: ['directionA', 'adminA', 'platformAdmin'], ok: 201, forbidden: ['teacherA'] },
];

describe.each(backends)('cahier de textes API on %s', (backend) => {
  let t: TestPreau;
  beforeAll(async () => {
    t = await startTestPreau(backend);
  });
  afterAll(async () => {
    await t?.close();
  });
  const signedIn = [...PEOPLE].filter((p) => p !== 'departedPupil' && p !== 'pendingPupil');
  const as = (who: PersonKey) => t.as(who);

  describeMatrix(MATRIX, signedIn, () => t);

  it('hand in: pupils of the class only (a parent, a teacher, another class: refused)', async () => {
    for (const who of signedIn) {
      const body = multipart([{ name: 'text', value: `Réponse de ${who}` }]);
      const res = await (await as(who)).request({ method: 'POST', url: '/api/v1/homework/hwMaths6A/handins', payload: body.payload, headers: { ...body.headers, 'idempotency-key': `matrix-${who}-0001` } });
      const expected = ['pupilA1', 'pupilA2'].includes(who) ? 201 : READERS_6A.includes(who) ? 403 : 404;
      expect({ who, status: res.statusCode }).toEqual({ who, status: expected });
    }
  });

  it('a pupil who has left the school sees nothing any more', async () => {
    const pupil = await as('pupilB1');
    expect((await pupil.request({ method: 'GET', url: '/api/v1/homework/hw6B' })).statusCode).toBe(200);
    await t.preau.storage.db.updateTable('people').set({ status: 'departed', departed_at: t.clock.nowMs() }).where('id', '=', 'pupilB1').execute();
    t.preau.schools.forgetScopes();
    const res = await pupil.request({ method: 'GET', url: '/api/v1/homework/hw6B' });
    expect([401, 404]).toContain(res.statusCode);
    const handin = multipart([{ name: 'text', value: 'encore là ?' }]);
    const h = await pupil.request({ method: 'POST', url: '/api/v1/homework/hw6B/handins', payload: handin.payload, headers: handin.headers });
    expect([401, 404]).toContain(h.statusCode);
    await t.preau.storage.db.updateTable('people').set({ status: 'active', departed_at: null }).where('id', '=', 'pupilB1').execute();
    t.preau.schools.forgetScopes();
  });

  it('a teacher drafts (sanitised), schedules, publishes; pupils see it only once published', async () => {
    const teacher = await as('teacherA');
    const created = await teacher.request({
      method: 'POST', url: '/api/v1/homework',
      payload: { kind: 'travail', classId: 'class6A', title: 'Lecture', bodyHtml: '<p onclick="x()">Lire <b>chapitre 3</b><script>alert(1)</script></p><img src=x onerror=alert(1)>', links: [{ url: 'https://fr.wikipedia.org/wiki/Fraction', label: 'Fractions' }], date: '2026-09-09', dueTime: '10:00', estimatedMinutes: 20 },
    });
    expect(created.statusCode, created.body).toBe(201);
    const entry = created.json().entry;
    expect(entry).toMatchObject({ state: 'draft', bodyHtml: '<p>Lire <b>chapitre 3</b></p>', subject: { id: 'subjectMaths' }, audience: { kind: 'class', id: 'class6A', name: '6e A' }, teacherId: 'teacherA', dueAt: new Date(parisWallTimeToUtcMs('2026-09-09', 10)).toISOString() });
    const pupil = await as('pupilA1');
    const seen = async () => ((await pupil.request({ method: 'GET', url: '/api/v1/homework?from=2026-09-07&to=2026-09-30' })).json().entries as { id: string }[]).map((e) => e.id);
    expect((await pupil.request({ method: 'GET', url: `/api/v1/homework/${entry.id}` })).statusCode).toBe(404);
    expect(await seen()).not.toContain(entry.id);

    const at = new Date(t.clock.nowMs() + 3_600_000).toISOString();
    const scheduled = await teacher.request({ method: 'POST', url: `/api/v1/homework/${entry.id}/publish`, payload: { at } });
    expect(scheduled.json().entry.state).toBe('scheduled');
    expect(await seen()).not.toContain(entry.id);
    t.clock.advance(3_600_000);
    expect(await seen()).toContain(entry.id);
    t.clock.advance(-3_600_000);

    const past = await teacher.request({ method: 'POST', url: `/api/v1/homework/${entry.id}/publish`, payload: { at: '2020-01-01T00:00:00Z' } });
    expect(past.json().error.id).toBe('homework.invalid_publication');
    const now = await teacher.request({ method: 'POST', url: `/api/v1/homework/${entry.id}/publish`, payload: {} });
    expect(now.json().entry.state).toBe('published');
    expect(await seen()).toContain(entry.id);
  });

  it('"Aujourd’hui" lists work due today and tomorrow, and a new post shows at once', async () => {
    const today = async (who: PersonKey) => (await (await as(who)).request({ method: 'GET', url: '/api/v1/me/today' })).json();
    const pupil = await today('pupilA1');
    expect(pupil.workDue.map((w: { id: string }) => w.id)).toContain('hwMaths6A');
    expect(pupil.workDue.map((w: { id: string }) => w.id)).not.toContain('hwDraft6A');
    expect(pupil.workDue[0]).toMatchObject({ subject: 'MATHEMATIQUES', audience: '6e A', onlineHandin: true, date: '2026-09-08' });
    const parent = await today('parentA1');
    expect(parent.children[0].workDue.map((w: { id: string }) => w.id)).toContain('hwMaths6A');
    expect((await today('pupilB1')).workDue.map((w: { id: string }) => w.id)).toEqual(['hw6B']);

    const posted = await (await as('teacherA')).request({ method: 'POST', url: '/api/v1/homework', payload: { kind: 'travail', classId: 'class6A', title: 'Pour ce soir', bodyHtml: 'Relire la leçon', date: '2026-09-07', dueTime: '18:00', publishAt: 'now' } });
    expect(posted.statusCode).toBe(201);
    expect((await today('pupilA2')).workDue.map((w: { id: string }) => w.id)).toContain(posted.json().entry.id);
  });

  it('pupils tick "fait" for themselves only', async () => {
    const a1 = await as('pupilA1');
    expect((await a1.request({ method: 'PUT', url: '/api/v1/homework/hwMaths6A/done', payload: { done: true } })).json()).toMatchObject({ done: true });
    expect((await a1.request({ method: 'GET', url: '/api/v1/homework/hwMaths6A' })).json().entry.done).toBe(true);
    const a2 = await as('pupilA2');
    await a2.request({ method: 'PUT', url: '/api/v1/homework/hwMaths6A/done', payload: { done: false } });
    expect((await a2.request({ method: 'GET', url: '/api/v1/homework/hwMaths6A' })).json().entry.done).toBe(false);
    expect((await a1.request({ method: 'GET', url: '/api/v1/homework/hwMaths6A' })).json().entry.done).toBe(true);
    // A séance is not work to do.
    expect((await a1.request({ method: 'PUT', url: '/api/v1/homework/hwLatin/done', payload: { done: true } })).statusCode).toBe(403);
  });

  it('attachments: content type from the bytes; active content never inline; copies share the blob', async () => {
    const teacher = await as('teacherA');
    const pdf = multipart([{ name: 'file', file: { fileName: 'énoncé.pdf', data: PDF_BYTES, contentType: 'text/html' } }]);
    const up = await teacher.request({ method: 'POST', url: '/api/v1/homework/hwMaths6A/attachments', payload: pdf.payload, headers: pdf.headers });
    expect(up.statusCode, up.body).toBe(201);
    const att = up.json().attachment;
    expect(att).toMatchObject({ fileName: 'énoncé.pdf', contentType: 'application/pdf', sizeBytes: PDF_BYTES.length, sha256: createHash('sha256').update(PDF_BYTES).digest('hex') });
    const got = await (await as('pupilA1')).request({ method: 'GET', url: att.url });
    expect(got.statusCode).toBe(200);
    expect(got.headers['content-type']).toBe('application/pdf');
    expect(got.rawPayload.equals(PDF_BYTES)).toBe(true);
    expect(got.headers['content-disposition']).toContain("filename*=UTF-8''%C3%A9nonc%C3%A9.pdf");
    expect((await (await as('pupilB1')).request({ method: 'GET', url: att.url })).statusCode).toBe(404);

    const html = multipart([{ name: 'file', file: { fileName: 'cours.pdf', data: Buffer.from('<!DOCTYPE html><script>alert(document.cookie)</script>'), contentType: 'application/pdf' } }]);
    const evil = (await teacher.request({ method: 'POST', url: '/api/v1/homework/hwMaths6A/attachments', payload: html.payload, headers: html.headers })).json().attachment;
    expect(evil.contentType).toBe('text/html');
    const served = await (await as('pupilA1')).request({ method: 'GET', url: evil.url });
    expect(served.headers['content-type']).toBe('application/octet-stream');
    expect(served.headers['content-disposition']).toMatch(/^attachment;/);
    expect(served.headers['content-security-policy']).toContain('sandbox');

    const copy = (await teacher.request({ method: 'POST', url: '/api/v1/homework/hwMaths6A/copy', payload: { groupId: 'groupLatin', publishAt: 'now' } })).json().entry;
    expect(copy.attachments.map((a: { sha256: string }) => a.sha256)).toEqual(expect.arrayContaining([att.sha256]));
    expect(copy).toMatchObject({ copiedFrom: 'hwMaths6A', audience: { kind: 'group', id: 'groupLatin' }, state: 'published' });
    const blobs = await t.preau.storage.db.selectFrom('blobs').select('sha256').where('sha256', '=', att.sha256).execute();
    expect(blobs).toHaveLength(1);
    // Not to a class they do not teach.
    const denied = await teacher.request({ method: 'POST', url: '/api/v1/homework/hwMaths6A/copy', payload: { classId: 'class6B' } });
    expect(denied.json().error.id).toBe('homework.invalid_audience');
  });

  it('a deleted entry disappears for readers but is kept (soft delete)', async () => {
    const teacher = await as('teacherA');
    const e = (await teacher.request({ method: 'POST', url: '/api/v1/homework', payload: { kind: 'seance', classId: 'class6A', title: 'Erreur', bodyHtml: 'x', date: '2026-09-07', publishAt: 'now' } })).json().entry;
    expect((await (await as('pupilA1')).request({ method: 'GET', url: `/api/v1/homework/${e.id}` })).statusCode).toBe(200);
    expect((await (await as('pupilA1')).request({ method: 'DELETE', url: `/api/v1/homework/${e.id}` })).statusCode).toBe(403);
    expect((await teacher.request({ method: 'DELETE', url: `/api/v1/homework/${e.id}` })).statusCode).toBe(204);
    expect((await (await as('pupilA1')).request({ method: 'GET', url: `/api/v1/homework/${e.id}` })).statusCode).toBe(404);
    const row = await t.preau.storage.db.selectFrom('homework_entries').select('deleted_at').where('id', '=', e.id).executeTakeFirstOrThrow();
    expect(row.deleted_at).not.toBeNull();
  });

  it('the direction visas a cahier; the teacher sees the visa', async () => {
    await (await as('directionA')).request({ method: 'POST', url: '/api/v1/teachers/teacherA/cahier/visas', payload: { comment: 'Cahier tenu à jour.' } });
    const cahier = (await (await as('teacherA')).request({ method: 'GET', url: '/api/v1/teachers/teacherA/cahier' })).json();
    expect(cahier.visas[0]).toMatchObject({ comment: 'Cahier tenu à jour.' });
    expect(cahier.entries.map((e: { id: string }) => e.id)).toContain('hwMaths6A');
    expect(cahier.entries.map((e: { id: string }) => e.id)).not.toContain('hwDraft6A');
  });

  it('lists are paginated with a bounded page size', async () => {
    const pupil = await as('pupilA1');
    const first = (await pupil.request({ method: 'GET', url: '/api/v1/homework?from=2026-09-01&to=2026-12-31&limit=1' })).json();
    expect(first.entries).toHaveLength(1);
    const second = (await pupil.request({ method: 'GET', url: `/api/v1/homework?from=2026-09-01&to=2026-12-31&limit=1&cursor=${first.nextCursor}` })).json();
    expect(second.entries[0].id).not.toBe(first.entries[0].id);
    const tooBig = await pupil.request({ method: 'GET', url: '/api/v1/homework?limit=5000' });
    expect(tooBig.statusCode).toBe(400);
    const many = (await pupil.request({ method: 'GET', url: '/api/v1/homework?limit=999' })).json();
    expect(many.entries.length).toBeLessThanOrEqual(100);
    // The window is given back: by default the school's today (Paris) and two weeks ahead.
    expect(many).toMatchObject({ from: '2026-09-07', to: '2026-09-21' });
    expect(first).toMatchObject({ from: '2026-09-01', to: '2026-12-31' });
  });

  it('bad input: 4xx with a stable id, nothing changed', async () => {
    const teacher = await as('teacherA');
    const post = (payload: object) => teacher.request({ method: 'POST', url: '/api/v1/homework', payload });
    const base = { kind: 'travail', classId: 'class6A', title: 'x', bodyHtml: 'y', date: '2026-09-10' };
    const before = await t.preau.storage.db.selectFrom('homework_entries').select('id').execute();
    expect((await post({ ...base, date: '2026-02-30' })).json().error.id).toBe('homework.invalid_date');
    expect((await post({ ...base, date: '2031-09-10' })).json().error.id).toBe('homework.invalid_date');
    expect((await post({ ...base, classId: undefined })).json().error.id).toBe('homework.invalid_audience');
    expect((await post({ ...base, groupId: 'groupLatin' })).json().error.id).toBe('homework.invalid_audience');
    expect((await post({ ...base, subjectId: 'nope' })).json().error.id).toBe('homework.invalid_subject');
    expect((await post({ ...base, links: [{ url: 'javascript:alert(1)' }] })).json().error.id).toBe('request.invalid');
    expect((await post({ ...base, title: 'x'.repeat(201) })).statusCode).toBe(400);
    expect((await post({ ...base, bodyHtml: '<b>'.repeat(20_001) })).statusCode).toBe(400);
    expect((await post({ ...base, bodyHtml: '&amp;'.repeat(11_000) })).json().error.id).toBe('homework.body_too_long');
    expect((await post({ ...base, estimatedMinutes: '30' })).statusCode).toBe(400);
    expect((await post({ ...base, publishAt: 'tomorrow' })).statusCode).toBe(400);
    expect((await teacher.request({ method: 'PATCH', url: '/api/v1/homework/hwMaths6A', payload: {} })).statusCode).toBe(400);
    expect((await t.preau.storage.db.selectFrom('homework_entries').select('id').execute()).length).toBe(before.length);
  });
});
