import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activeBackends } from '../../../test/support/backends.js';
import { startTestPreau, type TestPreau } from '../../../test/support/app.js';
import { PEOPLE, type PersonKey } from '../../../test/support/fixtures.js';
import { describeMatrix, type MatrixRow } from '../../../test/support/matrix.js';
import { FakeMediaEngine } from '../../media/testing/fake-media-engine.js';

const backends = await activeBackends();

const SIGNED_IN: PersonKey[] = [...PEOPLE].filter((p) => p !== 'departedPupil' && p !== 'pendingPupil');
const STAFF_A: PersonKey[] = ['cpeA', 'directionA', 'adminA'];
const PARTICIPANTS: PersonKey[] = ['teacherA', 'pupilA1', 'pupilA2', ...STAFF_A];
const NOT_MODERATORS: PersonKey[] = ['pupilA1', 'pupilA2', ...STAFF_A];
const ROOM = '/api/v1/classrooms/room6A';

/**
 * The authorisation matrix of the classe virtuelle. `room6A` is teacher A's room for 6e A (pupils
 * A1 and A2). Pupil B1 (6e B), teacher B (6e B), the other school's people, the parents and the
 * platform administrator have no role in it: 404.
 */
const MATRIX: MatrixRow[] = [
  { name: 'my virtual classes today', method: 'GET', url: '/api/v1/classrooms', allowed: SIGNED_IN },
  { name: 'create one for 6e A', method: 'POST', url: '/api/v1/classrooms', payload: { audience: { kind: 'class', id: 'class6A' } }, ok: 201, denied: 400, allowed: ['teacherA'] },
  { name: 'create one for 6e B', method: 'POST', url: '/api/v1/classrooms', payload: { audience: { kind: 'class', id: 'class6B' } }, ok: 201, denied: 400, allowed: ['teacherB'] },
  { name: 'see the room', method: 'GET', url: ROOM, allowed: PARTICIPANTS },
  { name: 'its attendance', method: 'GET', url: `${ROOM}/attendance`, allowed: ['teacherA', ...STAFF_A], forbidden: ['pupilA1', 'pupilA2'] },
  { name: 'open it', method: 'POST', url: `${ROOM}/open`, allowed: ['teacherA'], forbidden: NOT_MODERATORS },
  { name: 'lock it', method: 'PUT', url: `${ROOM}/lock`, payload: { locked: false }, allowed: ['teacherA'], forbidden: NOT_MODERATORS },
  { name: 'allow guests', method: 'PUT', url: `${ROOM}/guests`, payload: { allowed: true }, allowed: ['teacherA'], forbidden: NOT_MODERATORS },
  { name: 'make a guest link', method: 'POST', url: `${ROOM}/guest-link`, payload: {}, ok: 201, allowed: ['teacherA'], forbidden: NOT_MODERATORS },
  { name: 'revoke the guest link', method: 'DELETE', url: `${ROOM}/guest-link`, ok: 204, allowed: ['teacherA'], forbidden: NOT_MODERATORS },
];

async function seedRoom(t: TestPreau, id: string, o: { classId?: string; teacher?: string } = {}): Promise<void> {
  const now = t.clock.nowMs();
  await t.preau.storage.db.insertInto('classroom_rooms').values({
    id, school_id: 'schoolA', class_id: o.classId ?? 'class6A', group_id: null, lesson_id: null, title: 'Maths en ligne', created_by: o.teacher ?? 'teacherA',
    starts_at: now + 3600_000, ends_at: now + 7200_000, status: 'scheduled', opened_at: null, closed_at: null, host_node: null, guests_allowed: 0,
    guest_token_hash: null, guest_token_expires_at: null, created_at: now,
  }).execute();
  await t.preau.storage.db.insertInto('classroom_teachers').values({ room_id: id, person_id: o.teacher ?? 'teacherA', role: 'teacher' }).execute();
}

describe.each(backends)('classe virtuelle API on %s', (backend) => {
  let t: TestPreau;
  const engine = new FakeMediaEngine();
  beforeAll(async () => {
    t = await startTestPreau(backend, { classroomMaxRoomsPerSchool: 2 }, { mediaEngine: engine });
    await seedRoom(t, 'room6A');
  });
  afterAll(async () => {
    await t?.close();
  });
  const as = (who: PersonKey) => t.as(who);

  describeMatrix(MATRIX, SIGNED_IN, () => t);

  it('lists "my virtual classes today" for the class’s pupils, its teacher and the school’s staff only', async () => {
    const ids = async (who: PersonKey) => ((await (await as(who)).request({ method: 'GET', url: '/api/v1/classrooms' })).json().classrooms as { id: string }[]).map((c) => c.id);
    expect(await ids('pupilA1')).toContain('room6A');
    expect(await ids('cpeA')).toContain('room6A');
    expect(await ids('teacherA')).toContain('room6A');
    expect(await ids('pupilB1')).not.toContain('room6A');
    expect(await ids('parentA1')).toEqual([]);
    expect(await ids('teacherOther')).toEqual([]);
    const seen = (await (await as('pupilA1')).request({ method: 'GET', url: ROOM })).json().classroom;
    expect(seen).toMatchObject({ id: 'room6A', yourRole: 'pupil', audience: { kind: 'class', id: 'class6A' } });
    // The guest link's state is the teachers' business.
    expect(seen.guestsAllowed).toBeUndefined();
    // Another day lists that day's rooms, and those open now (room6A was opened by the matrix).
    await seedRoom(t, 'roomScheduled');
    expect(await ids('pupilA2')).toContain('roomScheduled');
    const tomorrow = (await (await as('pupilA1')).request({ method: 'GET', url: '/api/v1/classrooms?day=2026-09-08' })).json().classrooms.map((c: { id: string }) => c.id);
    expect(tomorrow).toContain('room6A');
    expect(tomorrow).not.toContain('roomScheduled');
  });

  it('creates from a lesson of the teacher’s own timetable, with its class, times and title; never from someone else’s', async () => {
    const teacher = await as('teacherA');
    const r = await teacher.request({ method: 'POST', url: '/api/v1/classrooms', payload: { lessonId: 'slot6A' } });
    expect(r.statusCode, r.body).toBe(201);
    expect(r.json().classroom).toMatchObject({ lessonId: 'slot6A', audience: { kind: 'class', id: 'class6A' }, status: 'scheduled', yourRole: 'teacher', guestsAllowed: false });
    expect(r.json().classroom.title).toContain('6e A');
    const other = await teacher.request({ method: 'POST', url: '/api/v1/classrooms', payload: { lessonId: 'slot6B' } });
    expect([other.statusCode, other.json().error.id]).toEqual([400, 'classroom.invalid_lesson']);
  });

  it('a co-teacher named at creation (of the same school) sees the room in their day and runs it', async () => {
    const r = await (await as('teacherA')).request({ method: 'POST', url: '/api/v1/classrooms', payload: { audience: { kind: 'group', id: 'groupLatin' }, coTeacherIds: ['teacherB'] } });
    expect(r.statusCode, r.body).toBe(201);
    const id = r.json().classroom.id as string;
    const co = await as('teacherB');
    const mine = (await co.request({ method: 'GET', url: '/api/v1/classrooms' })).json().classrooms as { id: string; yourRole: string }[];
    expect(mine.find((c) => c.id === id)).toMatchObject({ yourRole: 'co_teacher' });
    expect((await co.request({ method: 'PUT', url: `/api/v1/classrooms/${id}/guests`, payload: { allowed: true } })).statusCode).toBe(200);
    // The group's pupil sees it; a pupil of 6e A outside the Latin group does not.
    expect((await (await as('pupilA1')).request({ method: 'GET', url: `/api/v1/classrooms/${id}` })).statusCode).toBe(200);
    expect((await (await as('pupilA2')).request({ method: 'GET', url: `/api/v1/classrooms/${id}` })).statusCode).toBe(404);
  });

  it('refuses bad input with a stable id and creates nothing', async () => {
    const teacher = await as('teacherA');
    const count = async () => Number((await t.preau.storage.db.selectFrom('classroom_rooms').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
    const before = await count();
    const bad: [object, string][] = [
      [{ audience: { kind: 'class', id: 'class6A' }, extra: 1 }, 'request.unknown_field'],
      [{}, 'classroom.invalid_audience'],
      [{ audience: { kind: 'school', id: 'schoolA' } }, 'request.invalid'],
      [{ audience: { kind: 'class', id: 'no such/class' } }, 'request.invalid'],
      [{ audience: { kind: 'class', id: 'class6A' }, title: '' }, 'request.invalid'],
      [{ audience: { kind: 'class', id: 'class6A' }, durationMinutes: 100_000 }, 'request.invalid'],
      [{ audience: { kind: 'class', id: 'class6A' }, coTeacherIds: ['teacherOther'] }, 'classroom.invalid_audience'],
      [{ audience: { kind: 'class', id: 'class6A' }, coTeacherIds: ['pupilA1'] }, 'classroom.invalid_audience'],
      [{ audience: { kind: 'class', id: 'class6A' }, startsAt: 1 }, 'request.invalid'],
    ];
    for (const [payload, id] of bad) {
      const r = await teacher.request({ method: 'POST', url: '/api/v1/classrooms', payload });
      expect({ payload, status: r.statusCode, id: r.json().error?.id }).toEqual({ payload, status: 400, id: expect.stringMatching(id === 'request.invalid' ? /^request\./ : new RegExp(`^${id}$`)) });
    }
    expect(await count()).toBe(before);
    expect((await teacher.request({ method: 'GET', url: '/api/v1/classrooms?day=demain' })).statusCode).toBe(400);
    expect((await teacher.request({ method: 'GET', url: '/api/v1/classrooms?day=2026-13-45' })).statusCode).toBe(400);
    expect((await teacher.request({ method: 'POST', url: `${ROOM}/guest-link`, payload: { hours: 0 } })).statusCode).toBe(400);
    expect((await teacher.request({ method: 'PUT', url: `${ROOM}/lock`, payload: { locked: 'oui' } })).statusCode).toBe(400);
  });

  it('guest links: only when allowed, hashed, revocable and expiring; never a parent', async () => {
    const teacher = await as('teacherA');
    await seedRoom(t, 'roomGuests');
    const url = '/api/v1/classrooms/roomGuests';
    const refused = await teacher.request({ method: 'POST', url: `${url}/guest-link`, payload: {} });
    expect([refused.statusCode, refused.json().error.id]).toEqual([403, 'classroom.guests_not_allowed']);
    expect((await teacher.request({ method: 'PUT', url: `${url}/guests`, payload: { allowed: true } })).json().classroom.guestsAllowed).toBe(true);
    const link = await teacher.request({ method: 'POST', url: `${url}/guest-link`, payload: { hours: 2 } });
    expect(link.statusCode, link.body).toBe(201);
    const token = link.json().token as string;
    expect(link.json().link).toBe(`/classe-virtuelle/invitation#${token}`);
    const stored = await t.preau.storage.db.selectFrom('classroom_rooms').select('guest_token_hash').where('id', '=', 'roomGuests').executeTakeFirstOrThrow();
    expect(stored.guest_token_hash).not.toContain(token);
    const guest = await as('teacherOther');
    // Without the link, the room does not exist for them.
    expect((await guest.request({ method: 'GET', url })).statusCode).toBe(404);
    const invited = await guest.request({ method: 'POST', url: '/api/v1/classrooms/invitations', payload: { token } });
    expect(invited.statusCode, invited.body).toBe(200);
    expect(invited.json().classroom).toMatchObject({ id: 'roomGuests', yourRole: 'guest' });
    const parent = await (await as('parentA1')).request({ method: 'POST', url: '/api/v1/classrooms/invitations', payload: { token } });
    expect([parent.statusCode, parent.json().error.id]).toEqual([404, 'classroom.guest_link_invalid']);
    const wrong = await guest.request({ method: 'POST', url: '/api/v1/classrooms/invitations', payload: { token: `${token.slice(0, -2)}xx` } });
    expect(wrong.statusCode).toBe(404);
    t.clock.advance(2 * 3600_000 + 1);
    expect((await guest.request({ method: 'POST', url: '/api/v1/classrooms/invitations', payload: { token } })).statusCode).toBe(404);
    t.clock.advance(-(2 * 3600_000 + 1));
    const again = (await teacher.request({ method: 'POST', url: `${url}/guest-link`, payload: {} })).json().token as string;
    expect((await guest.request({ method: 'POST', url: '/api/v1/classrooms/invitations', payload: { token } })).statusCode).toBe(404);
    expect((await guest.request({ method: 'POST', url: '/api/v1/classrooms/invitations', payload: { token: again } })).statusCode).toBe(200);
    expect((await teacher.request({ method: 'DELETE', url: `${url}/guest-link` })).statusCode).toBe(204);
    expect((await guest.request({ method: 'POST', url: '/api/v1/classrooms/invitations', payload: { token: again } })).statusCode).toBe(404);
  });

  it('opens (media room opened, session sent to the suivi), caps the school’s open rooms, closes for good', async () => {
    const teacher = await as('teacherA');
    await seedRoom(t, 'roomCap');
    await seedRoom(t, 'roomCap2');
    // room6A is open from the matrix: one more fits under the cap of 2, the third is refused with the catalogue's French message.
    const opened = await teacher.request({ method: 'POST', url: '/api/v1/classrooms/roomCap/open' });
    expect(opened.statusCode, opened.body).toBe(200);
    expect(opened.json().classroom).toMatchObject({ status: 'open', live: true });
    // lowBandwidth depends on this machine's event-loop lag at that moment (a loaded node opens rooms low): not asserted here (room.runtime.test.ts does).
    expect(engine.calls).toContainEqual({ op: 'openRoom', spec: { roomId: 'roomCap', maxParticipants: expect.any(Number), lowBandwidth: expect.any(Boolean) } });
    const full = await teacher.request({ method: 'POST', url: '/api/v1/classrooms/roomCap2/open' });
    expect([full.statusCode, full.json().error.id]).toEqual([503, 'classroom.school_full']);
    expect(full.json().error.message).toMatch(/^Votre établissement a atteint/);
    await t.preau.classroom.flush();
    const session = await t.preau.storage.db.selectFrom('engagement_class_sessions').selectAll().where('id', '=', 'roomCap').executeTakeFirst();
    expect(session).toMatchObject({ school_id: 'schoolA', class_id: 'class6A' });
    const closed = await teacher.request({ method: 'POST', url: '/api/v1/classrooms/roomCap/close' });
    expect(closed.json().classroom).toMatchObject({ status: 'closed', live: false });
    expect(engine.calls).toContainEqual({ op: 'closeRoom', roomId: 'roomCap' });
    const reopen = await teacher.request({ method: 'POST', url: '/api/v1/classrooms/roomCap/open' });
    expect([reopen.statusCode, reopen.json().error.id]).toEqual([409, 'classroom.closed']);
    // The closed room freed its place under the school's cap.
    expect((await teacher.request({ method: 'POST', url: '/api/v1/classrooms/roomCap2/open' })).statusCode).toBe(200);
    expect((await teacher.request({ method: 'PUT', url: '/api/v1/classrooms/roomCap/lock', payload: { locked: true } })).statusCode).toBe(409);
  });
});

describe('classe virtuelle without a media engine', () => {
  let t: TestPreau;
  beforeAll(async () => {
    t = await startTestPreau('sqlite');
    await seedRoom(t, 'room6A');
  });
  afterAll(async () => {
    await t?.close();
  });

  it('refuses to open with a clear catalogue error and changes nothing', async () => {
    const r = await (await t.as('teacherA')).request({ method: 'POST', url: `${ROOM}/open` });
    expect([r.statusCode, r.json().error.id]).toEqual([503, 'classroom.media_unavailable']);
    expect(r.headers['retry-after']).toBeDefined();
    const row = await t.preau.storage.db.selectFrom('classroom_rooms').selectAll().where('id', '=', 'room6A').executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'scheduled', host_node: null });
  });
});
