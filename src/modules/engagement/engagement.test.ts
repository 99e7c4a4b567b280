import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activeBackends } from '../../../test/support/backends.js';
import { startTestPreau, type TestPreau } from '../../../test/support/app.js';
import { PEOPLE, type PersonKey } from '../../../test/support/fixtures.js';
import { describeMatrix, type MatrixRow } from '../../../test/support/matrix.js';
import { JPEG_BYTES, multipart } from '../../../test/support/multipart.js';
import { parisWallTimeToUtcMs } from '../../platform/clock.js';

const backends = await activeBackends();

const SIGNED_IN: PersonKey[] = [...PEOPLE].filter((p) => p !== 'departedPupil' && p !== 'pendingPupil');
const OF_SCHOOL_A: PersonKey[] = ['pupilA1', 'pupilA2', 'pupilB1', 'parentA1', 'parentB1', 'teacherA', 'teacherB', 'cpeA', 'directionA', 'adminA'];
const othersOfA = (allowed: PersonKey[]) => OF_SCHOOL_A.filter((p) => !allowed.includes(p));
const PUPILS: PersonKey[] = ['pupilA1', 'pupilA2', 'pupilB1', 'pupilOther'];
const at = (day: string, hour: number, minute = 0) => parisWallTimeToUtcMs(day, hour, minute);

/**
 * The suivi's authorisation matrix: the pupil's own teachers, the school's CPE and direction, the
 * pupil's parents, the pupil themself; nobody else (not the school's technical administrator, not
 * another teacher, not the platform operator). Inside the school (parents belong to their children's)
 * without the right: 403; outside: 404.
 */
const MATRIX: MatrixRow[] = [
  { name: 'what one may follow', method: 'GET', url: '/api/v1/engagement', allowed: SIGNED_IN },
  { name: 'class view of 6e A', method: 'GET', url: '/api/v1/engagement/classes/class6A?period=week', allowed: ['teacherA', 'cpeA', 'directionA'], forbidden: othersOfA(['teacherA', 'cpeA', 'directionA']) },
  { name: 'class view of 6e B', method: 'GET', url: '/api/v1/engagement/classes/class6B', allowed: ['teacherB', 'cpeA', 'directionA'], forbidden: othersOfA(['teacherB', 'cpeA', 'directionA']) },
  { name: 'school view of school A', method: 'GET', url: '/api/v1/engagement/schools/schoolA', allowed: ['cpeA', 'directionA'], forbidden: othersOfA(['cpeA', 'directionA']) },
  { name: 'pupil A1’s week', method: 'GET', url: '/api/v1/engagement/pupils/pupilA1', allowed: ['pupilA1', 'parentA1', 'teacherA', 'cpeA', 'directionA'] },
  { name: 'pupil B1’s week', method: 'GET', url: '/api/v1/engagement/pupils/pupilB1', allowed: ['pupilB1', 'parentB1', 'teacherB', 'cpeA', 'directionA'] },
  { name: 'mes données', method: 'GET', url: '/api/v1/me/engagement', allowed: PUPILS, forbidden: SIGNED_IN.filter((p) => !PUPILS.includes(p)) },
  { name: 'access log of school A', method: 'GET', url: '/api/v1/engagement/schools/schoolA/access-log', allowed: ['directionA'], forbidden: othersOfA(['directionA']) },
  { name: 'thresholds of school A', method: 'GET', url: '/api/v1/engagement/schools/schoolA/settings', allowed: ['cpeA', 'directionA'], forbidden: othersOfA(['cpeA', 'directionA']) },
  {
    name: 'change the thresholds of school A', method: 'PUT', url: '/api/v1/engagement/schools/schoolA/settings',
    payload: { inactiveSchoolDays: 3, missingWorksPerWeek: 2, missedClasses: 2, digestEnabled: true, digestMinute: 990 }, allowed: ['directionA'], forbidden: othersOfA(['directionA']),
  },
];

describe.each(backends)('suivi du décrochage API on %s', (backend) => {
  let t: TestPreau;
  beforeAll(async () => {
    t = await startTestPreau(backend);
    // School A's year starts on Tuesday 1 September.
    await t.preau.storage.db.insertInto('school_calendars').values({ school_id: 'schoolA', year_start: '2026-09-01', year_end: '2027-07-03', week_a_monday: '2026-09-07', updated_at: 0 }).execute();
    // A second work for 6e A, due Wednesday 8:00, to hand in online.
    const monday = at('2026-09-07', 7);
    await t.preau.storage.db.insertInto('homework_entries').values({
      id: 'hwWed6A', school_id: 'schoolA', teacher_id: 'teacherA', class_id: 'class6A', group_id: null, subject_id: 'subjectMaths', kind: 'travail', title: 'Problème 3',
      body_html: '<p>p. 60</p>', links: '[]', on_date: '2026-09-09', due_at: at('2026-09-09', 8), estimated_minutes: 20, online_handin: 1, publish_at: monday, copied_from: null,
      created_at: monday, updated_at: monday, deleted_at: null,
    }).execute();
  });
  afterAll(async () => {
    await t?.close();
  });
  const flush = () => t.preau.engagementRecorder!.flush();
  const get = async (who: PersonKey, url: string) => {
    const res = await (await t.as(who)).request({ method: 'GET', url });
    expect(res.statusCode, res.body).toBe(200);
    return res.json();
  };

  it('after a simulated week, the teacher sees the pupils of concern first, with the rules stated', async () => {
    // Monday: pupil A1 opens the maths work. Pupil A2 never connects.
    t.clock.set(at('2026-09-07', 9));
    await get('pupilA1', '/api/v1/homework/hwMaths6A');
    // Tuesday: A1 hands it in after the 8:00 deadline (late); parent A1 reads a message; a virtual class A1 attends 40 min (audio only).
    t.clock.set(at('2026-09-08', 9));
    const body = multipart([{ name: 'files', file: { fileName: 'photo.jpg', data: JPEG_BYTES } }]);
    const handin = await (await t.as('pupilA1')).request({ method: 'POST', url: '/api/v1/homework/hwMaths6A/handins', payload: body.payload, headers: body.headers });
    expect(handin.statusCode, handin.body).toBe(201);
    const read = await (await t.as('parentA1')).request({ method: 'PUT', url: '/api/v1/messages/msgParents6A/read', payload: { read: true } });
    expect(read.statusCode, read.body).toBe(200);
    const note = await (await t.as('teacherA')).request({ method: 'POST', url: '/api/v1/liaison', payload: { audience: { kind: 'pupil', id: 'pupilA1' }, title: 'Rendez-vous', bodyHtml: '<p>Jeudi 17 h ?</p>' } });
    expect(note.statusCode, note.body).toBe(201);
    const signed = await (await t.as('parentA1')).request({ method: 'POST', url: `/api/v1/liaison/${note.json().note.id}/sign` });
    expect(signed.statusCode, signed.body).toBe(200);
    await t.preau.engagement.recordClassSession({ sessionId: 'vc-tue', schoolId: 'schoolA', classId: 'class6A', groupId: null, startsAt: at('2026-09-08', 10) });
    await t.preau.engagement.recordClassAttendance({ pupilId: 'pupilA1', sessionId: 'vc-tue', joinedAt: at('2026-09-08', 10, 2), minutes: 40, audioOnly: true });
    // Wednesday: a virtual class nobody of 6e A joins; A1 opens the second work.
    t.clock.set(at('2026-09-09', 12));
    await t.preau.engagement.recordClassSession({ sessionId: 'vc-wed', schoolId: 'schoolA', classId: 'class6A', groupId: null, startsAt: at('2026-09-09', 10) });
    await get('pupilA1', '/api/v1/homework/hwWed6A');
    // Thursday after school: the teacher looks.
    t.clock.set(at('2026-09-10', 18));
    await flush();

    const v = await get('teacherA', '/api/v1/engagement/classes/class6A?period=week');
    expect(v.rules.map((r: { text: string }) => r.text)).toEqual(['pas connecté depuis 3 jours d’école', '2 travaux non rendus cette semaine', 'absent des 2 dernières classes virtuelles']);
    expect(v.lines.map((l: { pupil: { id: string } }) => l.pupil.id)).toEqual(['pendingPupil', 'pupilA2', 'pupilA1']);
    const [, a2, a1] = v.lines;
    expect(a2.concerns.map((c: { rule: string; value: number }) => [c.rule, c.value])).toEqual([['inactive', 8], ['missing_works', 2], ['missed_classes', 2]]); // never connected: every school day since the start of the year
    expect(a2).toMatchObject({ lastSeenDay: null, daysSeen: 0, schoolDays: 4, works: { due: 2, onTime: 0, late: 0, missing: 2 }, classes: { held: 2, attended: 0 } });
    expect(a1).toMatchObject({
      lastSeenDay: '2026-09-09', daysSeen: 3, schoolDays: 4, concerns: [],
      works: { due: 2, onTime: 0, late: 1, missing: 1, opened: 2 },
      classes: { held: 2, attended: 1, minutes: 40, audioOnly: 1, missedDays: ['2026-09-09'] },
      parents: { ids: ['parentA1'], count: 1, everConnected: 1, liaisonsSigned: 1, liaisonsTotal: 1 },
    });
    // The parent's own signals of Tuesday: the message read and the note signed.
    expect(await t.preau.storage.db.selectFrom('engagement_days').select(['messages_read', 'liaisons_signed']).where('person_id', '=', 'parentA1').where('day', '=', '2026-09-08').executeTakeFirst()).toEqual({ messages_read: 1, liaisons_signed: 1 });
    // "Aujourd'hui": Thursday, nothing due, nobody connected yet.
    const today = await get('teacherA', '/api/v1/engagement/classes/class6A');
    expect(today.lines.find((l: { pupil: { id: string } }) => l.pupil.id === 'pupilA1')).toMatchObject({ daysSeen: 0, works: { due: 0 } });

    // The parent's week in plain words, no comparison.
    const p = await get('parentA1', '/api/v1/engagement/pupils/pupilA1');
    expect(p.summary).toBe('1 travail rendu sur 2 (dont 1 en retard), 1 non rendu à la date prévue, classe virtuelle de mercredi manquée, 1 classe virtuelle suivie, connecté 3 jours d’école sur 4.');
    const en = await (await t.as('parentA1')).request({ method: 'GET', url: '/api/v1/engagement/pupils/pupilA1', headers: { 'accept-language': 'en' } });
    expect(en.json().summary).toBe('1 of 2 works handed in (1 late), 1 not handed in by the due date, missed Wednesday’s virtual class, 1 virtual class attended, signed in on 3 of 4 school days.');

    // The CPE's school view: counts per class, pupils of concern across classes, trend over 10 school days.
    const s = await get('cpeA', '/api/v1/engagement/schools/schoolA');
    expect(s.classes.find((c: { classId: string }) => c.classId === 'class6A')).toMatchObject({ pupils: 3, ofConcern: 2 });
    expect(s.ofConcern.map((l: { pupil: { id: string } }) => l.pupil.id)).toEqual(['pendingPupil', 'pupilA2', 'pupilB1']);
    expect(s.trend).toHaveLength(8); // 10 school days, but the year began 8 school days ago
    expect(s.trend.slice(-4).map((d: { day: string; seen: number }) => [d.day, d.seen])).toEqual([['2026-09-07', 1], ['2026-09-08', 1], ['2026-09-09', 1], ['2026-09-10', 0]]);

    // Every view was logged: the direction reads who looked at whom; the pupil sees it in "mes données".
    const log = await get('directionA', '/api/v1/engagement/schools/schoolA/access-log?limit=100');
    const views = log.entries.map((e: { actor: { id: string }; pupil: { id: string }; view: string }) => `${e.actor.id} ${e.view} ${e.pupil.id}`);
    expect(views).toContain('teacherA class:week pupilA2');
    expect(views).toContain('parentA1 pupil pupilA1');
    expect(views).toContain('cpeA school pupilA2');
    expect(views).not.toContain('cpeA school pupilA1'); // not of concern: not shown, not logged
    const mine = await get('pupilA1', '/api/v1/me/engagement');
    expect(mine.views.map((e: { actor: { id: string } }) => e.actor.id)).toEqual(expect.arrayContaining(['teacherA', 'parentA1']));
    expect(mine.recorded.days.map((d: { day: string }) => d.day)).toEqual(['2026-09-09', '2026-09-08', '2026-09-07']);
    expect(mine.recorded.virtualClasses).toEqual([{ sessionId: 'vc-tue', day: '2026-09-08', minutes: 40, audioOnly: true }]);
    expect(JSON.stringify(mine.recorded)).not.toMatch(/seen_at|T\d\d:/); // days, never the hour
  });

  it('says what each person may follow', async () => {
    expect(await get('teacherA', '/api/v1/engagement')).toEqual({ self: false, classes: [{ id: 'class6A', name: '6e A' }], children: [], schools: [] });
    expect((await get('cpeA', '/api/v1/engagement')).schools).toEqual([{ id: 'schoolA', classes: [{ id: 'class6A', name: '6e A' }, { id: 'class6B', name: '6e B' }] }]);
    expect((await get('parentA1', '/api/v1/engagement')).children).toEqual([{ id: 'pupilA1', firstName: 'pupilA1', lastName: 'Fixture' }]);
    expect(await get('adminA', '/api/v1/engagement')).toEqual({ self: false, classes: [], children: [], schools: [] });
    expect((await get('pupilA1', '/api/v1/engagement')).self).toBe(true);
  });

  it('the CPE’s digest names the pupils who crossed a threshold today, once a day, when the school asked for it', async () => {
    const direction = await t.as('directionA');
    expect(await t.preau.engagement.sendDueDigests()).toBe(0); // not asked for
    const put = await direction.request({ method: 'PUT', url: '/api/v1/engagement/schools/schoolA/settings', payload: { inactiveSchoolDays: 2, missingWorksPerWeek: 2, missedClasses: 2, digestEnabled: true, digestMinute: 16 * 60 + 30 } });
    expect(put.statusCode, put.body).toBe(200);
    expect(put.json().rules[0].text).toBe('pas connecté depuis 2 jours d’école');
    // Friday 16:00: too early. 16:31: pupil A1 (last seen Wednesday) has missed Thursday and Friday.
    t.clock.set(at('2026-09-11', 16));
    expect(await t.preau.engagement.sendDueDigests()).toBe(0);
    t.clock.set(at('2026-09-11', 18));
    expect(await t.preau.engagement.sendDueDigests()).toBe(1);
    expect(await t.preau.engagement.sendDueDigests()).toBe(0); // once a day
    const feed = await get('cpeA', '/api/v1/me/notifications');
    const digest = feed.notifications.find((n: { kind: string }) => n.kind === 'engagement.digest');
    expect(digest.title).toBe('Suivi : 1 élève a franchi un seuil aujourd’hui — pupilA1 Fixture (6e A)');
    // Monday: nobody newly crosses a threshold (those of concern already were): no notification at all.
    t.clock.set(at('2026-09-14', 18));
    expect(await t.preau.engagement.sendDueDigests()).toBe(0);
    const again = await get('cpeA', '/api/v1/me/notifications');
    expect(again.notifications.filter((n: { kind: string }) => n.kind === 'engagement.digest')).toHaveLength(1);
    await direction.request({ method: 'PUT', url: '/api/v1/engagement/schools/schoolA/settings', payload: { inactiveSchoolDays: 3, missingWorksPerWeek: 2, missedClasses: 2, digestEnabled: false, digestMinute: 990 } });
  });

  it('bad input gets a 4xx with an id and changes nothing', async () => {
    const direction = await t.as('directionA');
    const before = await get('directionA', '/api/v1/engagement/schools/schoolA/settings');
    const bad = [
      { inactiveSchoolDays: 0, missingWorksPerWeek: 2, missedClasses: 2, digestEnabled: false, digestMinute: 990 },
      { inactiveSchoolDays: 3, missingWorksPerWeek: 2, missedClasses: 2, digestEnabled: false, digestMinute: 23 * 60 },
      { inactiveSchoolDays: 3, missingWorksPerWeek: 2, missedClasses: 2, digestEnabled: 'oui', digestMinute: 990 },
      { inactiveSchoolDays: 3, missingWorksPerWeek: 2, missedClasses: 2, digestEnabled: false, digestMinute: 990, score: 1 },
      { inactiveSchoolDays: 3 },
    ];
    for (const payload of bad) {
      const res = await direction.request({ method: 'PUT', url: '/api/v1/engagement/schools/schoolA/settings', payload });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().error.id).toMatch(/^request\./);
    }
    expect(await get('directionA', '/api/v1/engagement/schools/schoolA/settings')).toEqual(before);
    const teacher = await t.as('teacherA');
    for (const url of ['/api/v1/engagement/classes/class6A?period=month', '/api/v1/engagement/classes/class6A?period=week&x=1', '/api/v1/engagement/classes/6A%20B', '/api/v1/engagement/schools/schoolA/access-log?limit=-1']) {
      const res = await (url.includes('access-log') ? direction : teacher).request({ method: 'GET', url });
      expect(res.statusCode, url).toBe(400);
    }
    expect((await teacher.request({ method: 'GET', url: '/api/v1/engagement/classes/nope' })).json().error.id).toBe('class.not_found');
    expect((await teacher.request({ method: 'GET', url: '/api/v1/engagement/pupils/pupilOther' })).json().error.id).toBe('person.not_found');
  });

  it('signals go with the pupil’s data (purge of departed people) and after the school year', async () => {
    const db = t.preau.storage.db;
    t.preau.engagementRecorder!.seen('departedPupil', at('2026-09-01', 9));
    t.preau.engagementRecorder!.seen('pupilB1', at('2025-09-01', 9));
    await flush();
    await db.insertInto('engagement_access_log').values({ id: 'old-view', school_id: 'schoolA', actor_id: 'teacherA', pupil_id: 'pupilB1', view: 'pupil', at: at('2025-09-01', 9) }).execute();
    const count = async (id: string) => (await db.selectFrom('engagement_days').select('day').where('person_id', '=', id).execute()).length;
    expect(await count('departedPupil')).toBe(1);
    await db.updateTable('people').set({ departed_at: at('2026-01-01', 9) }).where('id', '=', 'departedPupil').execute();
    await t.preau.identity.purgeDeparted(92);
    expect(await count('departedPupil')).toBe(0);
    expect(await count('pupilB1')).toBe(1);
    expect(await t.preau.engagement.purge()).toBe(2);
    expect(await count('pupilB1')).toBe(0);
    expect(await db.selectFrom('engagement_access_log').select('id').where('id', '=', 'old-view').executeTakeFirst()).toBeUndefined();
  });

  describeMatrix(MATRIX, SIGNED_IN, () => t);
});
