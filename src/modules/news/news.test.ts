import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activeBackends } from '../../../test/support/backends.js';
import { startTestPreau, type Client, type TestPreau } from '../../../test/support/app.js';
import { FIXTURE_PASSWORD, PEOPLE, type PersonKey } from '../../../test/support/fixtures.js';
import { describeMatrix, type MatrixRow } from '../../../test/support/matrix.js';
import { multipart, PDF_BYTES } from '../../../test/support/multipart.js';
import type { NewNotification, Notifier } from '../../platform/notify.js';
import type { Database } from '../../storage/schema.js';
import { NewsRepository } from './news.repository.js';
import { MAX_ATTACHMENTS_PER_NEWS, MAX_PINNED_PER_AUDIENCE } from './news.schema.js';
import { NewsService } from './news.service.js';

const backends = await activeBackends();

const SIGNED_IN: PersonKey[] = [...PEOPLE].filter((p) => p !== 'departedPupil' && p !== 'pendingPupil');
const STAFF_A: PersonKey[] = ['cpeA', 'directionA', 'adminA'];
const SCHOOL_A: PersonKey[] = ['pupilA1', 'pupilA2', 'pupilB1', 'parentA1', 'parentB1', 'teacherA', 'teacherB', ...STAFF_A];
const CLASS_6A: PersonKey[] = ['pupilA1', 'pupilA2', 'parentA1', 'teacherA', ...STAFF_A];
const LATIN: PersonKey[] = ['pupilA1', 'parentA1', 'teacherA', ...STAFF_A];
const write = (kind: string, id: string) => ({ audience: { kind, id }, headline: 'Portes ouvertes', bodyHtml: '<p>Samedi matin.</p>', publishFrom: 'now' });
const HOUR = 3600_000;

/**
 * The authorisation matrix of the actualités, on news inserted below: a published school news of
 * school A asking for acknowledgement (by the direction), a 6e A news and a Latin-group news by
 * teacher A, a draft and an expired news of 6e A, a school B news. Includes a parent of another
 * pupil (parentB1), a teacher of another class (teacherB) and of another school (teacherOther); the
 * parent of another school's pupil and the departed pupil are tested below.
 */
const MATRIX: MatrixRow[] = [
  { name: 'write a school news (school A)', method: 'POST', url: '/api/v1/news', payload: write('school', 'schoolA'), ok: 201, denied: 403, allowed: STAFF_A },
  { name: 'write a 6e A news', method: 'POST', url: '/api/v1/news', payload: write('class', 'class6A'), ok: 201, denied: 403, allowed: ['teacherA', ...STAFF_A] },
  { name: 'write a 6e B news', method: 'POST', url: '/api/v1/news', payload: write('class', 'class6B'), ok: 201, denied: 403, allowed: ['teacherB', ...STAFF_A] },
  { name: 'write a Latin-group news', method: 'POST', url: '/api/v1/news', payload: write('group', 'groupLatin'), ok: 201, denied: 403, allowed: ['teacherA', ...STAFF_A] },
  { name: 'write a school B news', method: 'POST', url: '/api/v1/news', payload: write('school', 'schoolB'), ok: 201, denied: 403, allowed: [] },
  { name: 'read the school A news', method: 'GET', url: '/api/v1/news/nSchool', allowed: SCHOOL_A },
  { name: 'read the 6e A news', method: 'GET', url: '/api/v1/news/n6A', allowed: CLASS_6A },
  { name: 'read the Latin news', method: 'GET', url: '/api/v1/news/nLatin', allowed: LATIN },
  { name: 'read the school B news', method: 'GET', url: '/api/v1/news/nSchoolB', allowed: ['pupilOther', 'teacherOther'] },
  { name: 'read a draft', method: 'GET', url: '/api/v1/news/nDraft', allowed: ['teacherA', ...STAFF_A] },
  { name: 'read an expired news (archive)', method: 'GET', url: '/api/v1/news/nExpired', allowed: ['teacherA', ...STAFF_A] },
  { name: 'edit a draft', method: 'PATCH', url: '/api/v1/news/nDraft', payload: { headline: 'Sortie au musée' }, allowed: ['teacherA', ...STAFF_A] },
  { name: 'edit a published news', method: 'PATCH', url: '/api/v1/news/n6A', payload: { headline: 'Sortie au musée' }, allowed: ['teacherA', ...STAFF_A], forbidden: ['pupilA1', 'pupilA2', 'parentA1'] },
  { name: 'acknowledge the school news', method: 'POST', url: '/api/v1/news/nSchool/acknowledge', allowed: SCHOOL_A.filter((p) => p !== 'directionA'), forbidden: ['directionA'] },
  { name: 'see who acknowledged', method: 'GET', url: '/api/v1/news/nSchool/acknowledgements', allowed: STAFF_A, forbidden: SCHOOL_A.filter((p) => !STAFF_A.includes(p)) },
  { name: 'one’s current news', method: 'GET', url: '/api/v1/news', allowed: SIGNED_IN },
  { name: 'one’s drafts and scheduled news', method: 'GET', url: '/api/v1/news?view=upcoming', allowed: SIGNED_IN },
];

type NewsInsert = Database['news'];

describe.each(backends)('actualités API on %s', (backend) => {
  let t: TestPreau;
  const row = (id: string, o: Partial<NewsInsert>): NewsInsert => {
    const at = t.clock.nowMs() - HOUR;
    return {
      id, school_id: 'schoolA', author_id: 'teacherA', audience_kind: 'class', audience_id: 'class6A', audience_name: '6e A', headline: id, body_html: '<p>Texte</p>',
      publish_from: at, publish_until: null, pinned: 0, requires_ack: 0, created_at: at, updated_at: at, edited_at: null, withdrawn_at: null, ...o,
    };
  };
  beforeAll(async () => {
    t = await startTestPreau(backend);
    await t.preau.storage.db.insertInto('news').values([
      row('nSchool', { author_id: 'directionA', audience_kind: 'school', audience_id: 'schoolA', audience_name: 'Collège Lucie Aubrac', requires_ack: 1 }),
      row('n6A', {}),
      row('nLatin', { audience_kind: 'group', audience_id: 'groupLatin', audience_name: 'Latin' }),
      row('nDraft', { publish_from: null }),
      row('nExpired', { publish_from: t.clock.nowMs() - 48 * HOUR, publish_until: t.clock.nowMs() - HOUR }),
      row('nSchoolB', { school_id: 'schoolB', author_id: null, audience_kind: 'school', audience_id: 'schoolB', audience_name: 'Collège Jean Zay' }),
    ]).execute();
  });
  afterAll(async () => {
    await t?.close();
  });
  const as = (who: PersonKey) => t.as(who);
  const db = () => t.preau.storage.db;
  const ids = (res: { json(): { news: { id: string }[] } }) => res.json().news.map((n) => n.id);

  describeMatrix(MATRIX, SIGNED_IN, () => t);

  /** A person added by a test, signed in with the fixture's password. */
  async function newPerson(id: string, profile: 'parent' | 'eleve', status: 'active' | 'departed'): Promise<Client> {
    const now = t.clock.nowMs();
    const { password_hash } = await db().selectFrom('people').select('password_hash').where('id', '=', 'parentA1').executeTakeFirstOrThrow();
    await db().insertInto('people').values({
      id, aaf_jointure: `J-${id}`, profile, staff_function: null, login: id.toLowerCase(), first_name: id, last_name: 'Ajout', title: null, password_hash,
      status, school_id: null, mef_code: null, departed_at: status === 'departed' ? now : null, created_at: now, updated_at: now,
    }).execute();
    const res = await t.preau.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { login: id.toLowerCase(), password: FIXTURE_PASSWORD } });
    expect(res.statusCode, res.body).toBe(200);
    const cookie = res.cookies.find((c) => c.name.endsWith('preau_session'))!;
    const csrf = res.json<{ csrfToken: string }>().csrfToken;
    return { csrf, request: (o) => t.preau.app.inject({ ...o, headers: { cookie: `${cookie.name}=${cookie.value}`, ...(o.method !== 'GET' ? { 'x-csrf-token': csrf } : {}) } }) };
  }

  it('a parent of another school’s pupil reads that school’s news, not school A’s', async () => {
    const parent = await newPerson('parentOther', 'parent', 'active');
    await db().insertInto('guardianships').values({ parent_id: 'parentOther', child_id: 'pupilOther', legal_guardian: 1, relation: 'MERE' }).execute();
    t.preau.schools.forgetScopes();
    expect((await parent.request({ method: 'GET', url: '/api/v1/news/nSchoolB' })).statusCode).toBe(200);
    expect((await parent.request({ method: 'GET', url: '/api/v1/news/nSchool' })).statusCode).toBe(404);
    expect((await parent.request({ method: 'POST', url: '/api/v1/news/nSchool/acknowledge' })).statusCode).toBe(404);
    expect(ids(await parent.request({ method: 'GET', url: '/api/v1/news' }))).toEqual(['nSchoolB']);
  });

  it('staff publish a school news asking for acknowledgement; readers acknowledge once; staff see who has and who has not', async () => {
    const direction = await as('directionA');
    const created = await direction.request({ method: 'POST', url: '/api/v1/news', payload: { ...write('school', 'schoolA'), headline: '  Fermeture\u0007 jeudi ', bodyHtml: '<p>Grève <script>x</script>des transports.</p>', requiresAck: true, pinned: true } });
    expect(created.statusCode, created.body).toBe(201);
    const news = created.json().news;
    expect(news).toMatchObject({ headline: 'Fermeture  jeudi', bodyHtml: '<p>Grève des transports.</p>', state: 'published', pinned: true, requiresAck: true, acks: { done: 0 } });
    // Everyone of school A but its author, active: the departed and the other school are not counted.
    const total = news.acks.total as number;
    const schoolAActive = await db().selectFrom('people').select('id').where('status', '!=', 'departed').where('profile', '!=', 'admin_plateforme')
      .where((eb) => eb.or([eb('school_id', '=', 'schoolA'), eb('id', 'in', ['parentA1', 'parentB1'])])).execute();
    expect(total).toBe(schoolAActive.length - 1);

    // Pinned first in the readers' lists.
    const parent = await as('parentA1');
    expect(ids(await parent.request({ method: 'GET', url: '/api/v1/news' }))[0]).toBe(news.id);
    const first = await parent.request({ method: 'POST', url: `/api/v1/news/${news.id}/acknowledge` });
    expect(first.statusCode, first.body).toBe(200);
    const at = first.json().news.acknowledgedAt as string;
    expect(at).toEqual(expect.any(String));
    t.clock.advance(60_000);
    expect((await parent.request({ method: 'POST', url: `/api/v1/news/${news.id}/acknowledge` })).json().news.acknowledgedAt).toBe(at);
    expect((await (await as('pupilA1')).request({ method: 'POST', url: `/api/v1/news/${news.id}/acknowledge` })).statusCode).toBe(200);

    const acks = (await (await as('cpeA')).request({ method: 'GET', url: `/api/v1/news/${news.id}/acknowledgements?state=done` })).json();
    expect(acks).toMatchObject({ done: 2, total });
    expect(acks.rows.map((r: { person: { id: string } }) => r.person.id).sort()).toEqual(['parentA1', 'pupilA1']);
    const pending = (await direction.request({ method: 'GET', url: `/api/v1/news/${news.id}/acknowledgements?state=pending&limit=3` })).json();
    expect(pending.rows).toHaveLength(3);
    expect(pending.nextOffset).toBe(3);
    expect(pending.rows.every((r: { acknowledgedAt: string | null }) => r.acknowledgedAt === null)).toBe(true);
    const rest = (await direction.request({ method: 'GET', url: `/api/v1/news/${news.id}/acknowledgements?state=pending&limit=50&offset=3` })).json();
    expect(3 + rest.rows.length).toBe(total - 2);
    expect(rest.rows.map((r: { person: { id: string } }) => r.person.id)).not.toContain('departedPupil');

    // Edited after publication: readers see it was edited.
    t.clock.advance(60_000);
    const edited = await direction.request({ method: 'PATCH', url: `/api/v1/news/${news.id}`, payload: { bodyHtml: '<p>Grève des transports : collège fermé.</p>' } });
    expect(edited.json().news.editedAt).toEqual(expect.any(String));

    // Withdrawn (soft): gone for readers, in the archive of staff, acknowledgements kept.
    expect((await (await as('teacherA')).request({ method: 'DELETE', url: `/api/v1/news/${news.id}` })).statusCode).toBe(403);
    expect((await direction.request({ method: 'DELETE', url: `/api/v1/news/${news.id}` })).statusCode).toBe(204);
    expect((await parent.request({ method: 'GET', url: `/api/v1/news/${news.id}` })).statusCode).toBe(404);
    expect(ids(await parent.request({ method: 'GET', url: '/api/v1/news' }))).not.toContain(news.id);
    expect(ids(await (await as('cpeA')).request({ method: 'GET', url: '/api/v1/news?view=archive' }))).toContain(news.id);
    expect((await direction.request({ method: 'PATCH', url: `/api/v1/news/${news.id}`, payload: { headline: 'x' } })).json().error.id).toBe('news.not_editable');
    expect(await db().selectFrom('news_acks').select('person_id').where('news_id', '=', news.id).execute()).toHaveLength(2);
  });

  it('publication window: a scheduled news appears at its start and goes to the archive at its end', async () => {
    const teacher = await as('teacherA');
    const pupil = await as('pupilA2');
    const start = new Date(t.clock.nowMs() + HOUR).toISOString();
    const end = new Date(t.clock.nowMs() + 3 * HOUR).toISOString();
    const created = await teacher.request({ method: 'POST', url: '/api/v1/news', payload: { ...write('class', 'class6A'), headline: 'Piscine', publishFrom: start, publishUntil: end } });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json().news.id as string;
    expect(created.json().news.state).toBe('scheduled');
    expect(ids(await teacher.request({ method: 'GET', url: '/api/v1/news?view=upcoming' }))).toContain(id);
    expect((await pupil.request({ method: 'GET', url: `/api/v1/news/${id}` })).statusCode).toBe(404);
    expect(ids(await pupil.request({ method: 'GET', url: '/api/v1/news' }))).not.toContain(id);
    const today = async () => ((await pupil.request({ method: 'GET', url: '/api/v1/me/today' })).json().news as { id: string }[]).map((n) => n.id);
    expect(await today()).not.toContain(id);

    t.clock.advance(HOUR);
    expect((await pupil.request({ method: 'GET', url: `/api/v1/news/${id}` })).json().news.state).toBe('published');
    expect(ids(await pupil.request({ method: 'GET', url: '/api/v1/news' }))).toContain(id);
    expect(await today()).toContain(id);

    t.clock.advance(2 * HOUR);
    expect((await pupil.request({ method: 'GET', url: `/api/v1/news/${id}` })).statusCode).toBe(404);
    expect(ids(await pupil.request({ method: 'GET', url: '/api/v1/news' }))).not.toContain(id);
    expect(await today()).not.toContain(id);
    expect(ids(await teacher.request({ method: 'GET', url: '/api/v1/news?view=archive' }))).toContain(id);
    expect((await teacher.request({ method: 'GET', url: `/api/v1/news/${id}` })).json().news.state).toBe('expired');
  });

  it('notifies the audience after a publication, at its start, and withdraws the notification', async () => {
    const sent: NewNotification[] = [];
    const withdrawn: string[] = [];
    const seen: string[] = [];
    const notifier: Notifier = { async notify(n) { sent.push(n); }, async withdraw(_kind, id) { withdrawn.push(id); }, async seen(who, kind, id) { seen.push(`${who}:${kind}:${id}`); } };
    const service = new NewsService(new NewsRepository(db()), t.clock, notifier);
    const teacher = await t.preau.schools.scopeOf('teacherA');
    const draft = await service.create(teacher, { audience: { kind: 'group', id: 'groupLatin' }, headline: 'Version latine', bodyHtml: 'x' });
    expect(sent).toHaveLength(0);
    const at = t.clock.nowMs() + 2 * HOUR;
    await service.update(teacher, draft.news.id, { publishFrom: new Date(at).toISOString() });
    expect(sent).toEqual([expect.objectContaining({ kind: 'news.published', subjectId: draft.news.id, actorId: 'teacherA', visibleAtMs: at, title: 'Version latine', schoolId: 'schoolA' })]);
    // The Latin group: pupil A1, their parent, the staff of school A; not the author, not pupil A2.
    const ids = sent[0]!.recipientIds;
    expect([...(typeof ids === 'function' ? await ids() : ids)].sort()).toEqual(['adminA', 'cpeA', 'directionA', 'parentA1', 'pupilA1']);
    // An acknowledgement reads the reader's notification of it.
    const ack = await service.create(teacher, { audience: { kind: 'group', id: 'groupLatin' }, headline: 'À signer', bodyHtml: 'x', requiresAck: true, publishFrom: 'now' });
    await service.acknowledge(await t.preau.schools.scopeOf('pupilA1'), ack.news.id);
    expect(seen).toEqual([`pupilA1:news.published:${ack.news.id}`]);
    await service.withdraw(teacher, draft.news.id);
    expect(withdrawn).toEqual([draft.news.id]);
  });

  it('the departed pupil reads nothing and is never counted; a departed reader’s acknowledgement leaves the totals', async () => {
    const departed = await newPerson('departedParent', 'parent', 'active');
    await db().insertInto('guardianships').values({ parent_id: 'departedParent', child_id: 'pupilA2', legal_guardian: 1, relation: 'PERE' }).execute();
    t.preau.schools.forgetScopes();
    expect((await departed.request({ method: 'POST', url: '/api/v1/news/nSchool/acknowledge' })).statusCode).toBe(200);
    const before = (await (await as('directionA')).request({ method: 'GET', url: '/api/v1/news/nSchool/acknowledgements?state=done&limit=50' })).json();
    expect(before.rows.map((r: { person: { id: string } }) => r.person.id)).toContain('departedParent');
    await db().updateTable('people').set({ status: 'departed', departed_at: t.clock.nowMs() }).where('id', '=', 'departedParent').execute();
    t.preau.schools.forgetScopes();
    const after = (await (await as('directionA')).request({ method: 'GET', url: '/api/v1/news/nSchool/acknowledgements?state=done&limit=50' })).json();
    expect(after.rows.map((r: { person: { id: string } }) => r.person.id)).not.toContain('departedParent');
    expect(after.total).toBe(before.total - 1);
  });

  it('bad input and limits: 4xx with an id, nothing stored', async () => {
    const direction = await as('directionA');
    const count = async () => Number((await db().selectFrom('news').select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow()).n);
    const before = await count();
    const base = write('school', 'schoolA');
    const now = t.clock.nowMs();
    const cases: [object, number, string][] = [
      [{ ...base, audience: { kind: 'pupil', id: 'pupilA1' } }, 400, 'request.invalid'],
      [{ ...base, headline: '' }, 400, 'request.invalid'],
      [{ ...base, headline: '\u0007 ' }, 400, 'request.invalid'],
      [{ ...base, headline: 'x'.repeat(151) }, 400, 'request.invalid'],
      [{ ...base, bodyHtml: 'x'.repeat(30_001) }, 400, 'request.invalid'],
      [{ ...base, bodyHtml: '<'.repeat(29_000) }, 413, 'news.body_too_long'],
      [{ ...base, publishFrom: 'demain' }, 400, 'request.invalid'],
      [{ ...base, publishFrom: new Date(now - 24 * HOUR).toISOString() }, 400, 'news.invalid_window'],
      [{ ...base, publishFrom: new Date(now + 400 * 24 * HOUR).toISOString() }, 400, 'news.invalid_window'],
      [{ ...base, publishUntil: new Date(now - HOUR).toISOString() }, 400, 'news.invalid_window'],
      [{ ...base, publishFrom: new Date(now + 2 * HOUR).toISOString(), publishUntil: new Date(now + HOUR).toISOString() }, 400, 'news.invalid_window'],
      [{ ...base, publishUntil: new Date(now + 400 * 24 * HOUR).toISOString() }, 400, 'news.invalid_window'],
      [{ ...base, audience: { kind: 'class', id: 'nowhere' } }, 403, 'access.forbidden'],
      [{ ...base, pinned: 'yes' }, 400, 'request.invalid'],
      [{ ...base, extra: 1 }, 400, 'request.unknown_field'],
    ];
    for (const [payload, status, id] of cases) {
      const res = await direction.request({ method: 'POST', url: '/api/v1/news', payload });
      expect({ payload, status: res.statusCode, id: res.json().error.id }).toEqual({ payload, status, id });
    }
    expect(await count()).toBe(before);
    // Acknowledging a news that does not ask for it.
    expect((await (await as('pupilA1')).request({ method: 'POST', url: '/api/v1/news/n6A/acknowledge' })).json().error.id).toBe('news.no_ack_required');
    // Pins are bounded per audience.
    const pinned = async () => direction.request({ method: 'POST', url: '/api/v1/news', payload: { ...write('class', 'class6B'), pinned: true } });
    for (let i = 0; i < MAX_PINNED_PER_AUDIENCE; i++) expect((await pinned()).statusCode).toBe(201);
    const over = await pinned();
    expect({ status: over.statusCode, id: over.json().error.id }).toEqual({ status: 409, id: 'news.too_many_pinned' });
  });

  it('attachments: added by the author while it can change, read by its readers once published, bounded, removable', async () => {
    const teacher = await as('teacherA');
    const draft = (await teacher.request({ method: 'POST', url: '/api/v1/news', payload: { ...write('class', 'class6A'), publishFrom: null } })).json().news.id as string;
    const pdf = () => multipart([{ name: 'file', file: { fileName: 'autorisation.pdf', data: PDF_BYTES } }]);
    const up = await teacher.request({ method: 'POST', url: `/api/v1/news/${draft}/attachments`, ...pdf() });
    expect(up.statusCode, up.body).toBe(201);
    const att = up.json().attachment;
    expect(att).toMatchObject({ fileName: 'autorisation.pdf', contentType: 'application/pdf', sizeBytes: PDF_BYTES.length });
    const pupil = await as('pupilA2');
    expect((await pupil.request({ method: 'GET', url: att.url })).statusCode).toBe(404);
    expect((await teacher.request({ method: 'PATCH', url: `/api/v1/news/${draft}`, payload: { publishFrom: 'now' } })).statusCode).toBe(200);
    const got = await pupil.request({ method: 'GET', url: att.url });
    expect(got.statusCode).toBe(200);
    expect(got.rawPayload.equals(PDF_BYTES)).toBe(true);
    expect((await pupil.request({ method: 'GET', url: `/api/v1/news/${draft}` })).json().news.attachments).toEqual([att]);
    for (const who of ['pupilB1', 'teacherB', 'parentB1', 'teacherOther'] as const) expect({ who, status: (await (await as(who)).request({ method: 'GET', url: att.url })).statusCode }).toEqual({ who, status: 404 });
    expect((await pupil.request({ method: 'POST', url: `/api/v1/news/${draft}/attachments`, ...pdf() })).statusCode).toBe(403);
    for (let i = 1; i < MAX_ATTACHMENTS_PER_NEWS; i++) expect((await teacher.request({ method: 'POST', url: `/api/v1/news/${draft}/attachments`, ...pdf() })).statusCode).toBe(201);
    const over = await teacher.request({ method: 'POST', url: `/api/v1/news/${draft}/attachments`, ...pdf() });
    expect({ status: over.statusCode, id: over.json().error.id }).toEqual({ status: 409, id: 'news.too_many_attachments' });
    expect((await teacher.request({ method: 'DELETE', url: att.url })).statusCode).toBe(204);
    expect((await pupil.request({ method: 'GET', url: att.url })).statusCode).toBe(404);
    expect((await teacher.request({ method: 'DELETE', url: `/api/v1/news/${draft}` })).statusCode).toBe(204);
    expect((await teacher.request({ method: 'POST', url: `/api/v1/news/${draft}/attachments`, ...pdf() })).json().error.id).toBe('news.not_editable');
  });

  it('lists are paginated with a bounded page size', async () => {
    const teacher = await as('teacherB');
    for (let i = 0; i < 5; i++) expect((await teacher.request({ method: 'POST', url: '/api/v1/news', payload: { ...write('class', 'class6B'), headline: `Info ${i}` } })).statusCode).toBe(201);
    const pupil = await as('pupilB1');
    const first = (await pupil.request({ method: 'GET', url: '/api/v1/news?limit=2' })).json();
    expect(first.news).toHaveLength(2);
    const second = (await pupil.request({ method: 'GET', url: `/api/v1/news?limit=2&offset=${first.nextOffset}` })).json();
    expect(second.news.map((n: { id: string }) => n.id)).not.toContain(first.news[0].id);
    expect((await pupil.request({ method: 'GET', url: '/api/v1/news?limit=999' })).json().news.length).toBeLessThanOrEqual(50);
    expect((await pupil.request({ method: 'GET', url: '/api/v1/news?limit=abc' })).json().error.id).toBe('request.invalid');
    expect((await pupil.request({ method: 'GET', url: '/api/v1/news?view=all' })).json().error.id).toBe('request.invalid');
  });
});
