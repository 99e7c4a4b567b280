import ICAL from 'ical.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activeBackends } from '../../../test/support/backends.js';
import { startTestPreau, type TestPreau } from '../../../test/support/app.js';
import { PEOPLE, type PersonKey } from '../../../test/support/fixtures.js';
import { describeMatrix, type MatrixRow } from '../../../test/support/matrix.js';
import { parisWallTimeToUtcMs } from '../../platform/clock.js';
import { materialise, weekType, type SchoolCalendar } from './timetable.calendar.js';
import { parseTimetableCsv } from './timetable.import.js';

const backends = await activeBackends();

const CALENDAR: SchoolCalendar = {
  yearStart: '2026-09-01',
  yearEnd: '2027-07-03',
  weekAMonday: '2026-08-31',
  holidays: [
    { label: 'Vacances de la Toussaint', firstDay: '2026-10-17', lastDay: '2026-11-01' },
    { label: 'Armistice', firstDay: '2026-11-11', lastDay: '2026-11-11' },
    { label: 'Vacances de Noël', firstDay: '2026-12-19', lastDay: '2027-01-03' },
  ],
};

describe('school calendar (pure)', () => {
  it('alternates A/B over school weeks, holidays not counted', () => {
    expect(weekType(CALENDAR, '2026-09-01')).toBe('A');
    expect(weekType(CALENDAR, '2026-09-07')).toBe('B');
    expect(weekType(CALENDAR, '2026-10-12')).toBe('A');
    expect(weekType(CALENDAR, '2026-10-21')).toBe('vacances');
    expect(weekType(CALENDAR, '2026-10-28')).toBe('vacances');
    expect(weekType(CALENDAR, '2026-11-02')).toBe('B');
    expect(weekType(CALENDAR, '2026-11-09')).toBe('A'); // a week with one holiday still counts
    expect(weekType(CALENDAR, '2027-08-02')).toBe('hors_annee');
  });

  it('materialises weekly patterns on school days of the right week, in Paris time across DST', () => {
    const base = { school_id: 's', class_id: 'c', group_id: null, teacher_id: null, subject_id: null, room: null, created_at: 0 };
    const slots = materialise(CALENDAR, [
      { ...base, id: 'everyWed', weekday: 3, start_minute: 8 * 60 + 30, end_minute: 9 * 60 + 25, week: '*' },
      { ...base, id: 'weekA', weekday: 1, start_minute: 10 * 60, end_minute: 11 * 60, week: 'A' },
    ], '2026-10-01');
    const dates = (id: string) => slots.filter((s) => s.pattern_id === id).map((s) => new Date(s.starts_at).toISOString());
    expect(dates('everyWed')).toContain('2026-10-14T06:30:00.000Z'); // summer time
    expect(dates('everyWed')).toContain('2026-11-04T07:30:00.000Z'); // winter time
    expect(dates('everyWed')).not.toContain('2026-10-21T06:30:00.000Z'); // holidays
    expect(dates('everyWed')).not.toContain('2026-11-11T07:30:00.000Z'); // Armistice
    expect(dates('weekA')).toContain('2026-10-12T08:00:00.000Z');
    expect(dates('weekA')).not.toContain('2026-11-02T09:00:00.000Z'); // week B
    expect(dates('weekA')).toContain('2026-11-09T09:00:00.000Z');
  });

  it('reports every bad CSV line with its number', () => {
    const { rows, errors } = parseTimetableCsv('jour;debut;fin;semaine;classe;groupe;matiere;enseignant;salle\nlundi;08:30;09:25;;6A;;;;\nvendredoi;25:00;09:00;C;6A;LATIN;;;\n');
    expect(rows).toHaveLength(1);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.line).toBe(3);
    expect(errors[0]!.message).toMatch(/jour .*début.*semaine.*classe ou un groupe/);
    expect(parseTimetableCsv('a,b\n').errors[0]!.message).toMatch(/colonnes manquantes/);
  });
});

const CSV = [
  'jour;debut;fin;semaine;classe;groupe;matiere;enseignant;salle',
  'lundi;14:00;14:55;;6A;;061300;teachera;B12',
  'lundi;15:00;15:55;A;6A;;Mathématiques;teachera;B12',
  'lundi;15:00;15:55;B;;LATIN;;teachera;C3',
  'mardi;08:30;09:25;;6B;;061300;teacherb;B14',
].join('\r\n');

const SCHOOL_A: PersonKey[] = ['pupilA1', 'pupilA2', 'pupilB1', 'parentA1', 'parentB1', 'teacherA', 'teacherB', 'cpeA', 'directionA', 'adminA'];
const MANAGERS: PersonKey[] = ['directionA', 'adminA', 'platformAdmin'];
const MATRIX: MatrixRow[] = [
  { name: 'week of 6A', method: 'GET', url: '/api/v1/timetable?classId=class6A', allowed: ['pupilA1', 'pupilA2', 'parentA1', 'teacherA', 'cpeA', 'directionA', 'adminA', 'platformAdmin'] },
  { name: 'week of the Latin group', method: 'GET', url: '/api/v1/timetable?groupId=groupLatin', allowed: ['pupilA1', 'parentA1', 'teacherA', 'cpeA', 'directionA', 'adminA', 'platformAdmin'] },
  { name: 'week of teacher A', method: 'GET', url: '/api/v1/timetable?teacherId=teacherA', allowed: ['teacherA', 'teacherB', 'cpeA', 'directionA', 'adminA', 'platformAdmin'] },
  { name: 'week of pupil A1', method: 'GET', url: '/api/v1/timetable?pupilId=pupilA1', allowed: ['pupilA1', 'parentA1', 'teacherA', 'cpeA', 'directionA', 'adminA', 'platformAdmin'] },
  { name: 'week of room B12', method: 'GET', url: '/api/v1/timetable?schoolId=schoolA&room=B12', allowed: ['teacherA', 'teacherB', 'cpeA', 'directionA', 'adminA', 'platformAdmin'] },
  { name: 'calendar of school A', method: 'GET', url: '/api/v1/schools/schoolA/calendar', allowed: [...SCHOOL_A, 'platformAdmin'] },
  {
    name: 'set the calendar of school A', method: 'PUT', url: '/api/v1/schools/schoolA/calendar',
    payload: { yearStart: CALENDAR.yearStart, yearEnd: CALENDAR.yearEnd, weekAMonday: CALENDAR.weekAMonday, holidays: CALENDAR.holidays }, allowed: MANAGERS, forbidden: SCHOOL_A.filter((p) => !MANAGERS.includes(p)),
  },
  { name: 'change a 6B lesson', method: 'PATCH', url: '/api/v1/timetable/slots/slot6B', payload: { change: 'modifie', room: 'B15' }, allowed: MANAGERS, forbidden: SCHOOL_A.filter((p) => !MANAGERS.includes(p)) },
];

describe.each(backends)('emploi du temps API on %s', (backend) => {
  let t: TestPreau;
  beforeAll(async () => {
    t = await startTestPreau(backend);
    const res = await (await t.as('directionA')).request({ method: 'PUT', url: '/api/v1/schools/schoolA/calendar', payload: CALENDAR });
    expect(res.statusCode, res.body).toBe(200);
  });
  afterAll(async () => {
    await t?.close();
  });
  const signedIn = [...PEOPLE].filter((p) => p !== 'departedPupil' && p !== 'pendingPupil');

  describeMatrix(MATRIX, signedIn, () => t);

  it('imports a weekly timetable from CSV (all or nothing) and shows week A/B', async () => {
    const direction = await t.as('directionA');
    const bad = await direction.request({ method: 'POST', url: '/api/v1/schools/schoolA/timetable/import', payload: `${CSV}\nlundi;16:00;16:55;;6Z;;;inconnu;`, headers: { 'content-type': 'text/csv' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.id).toBe('timetable.import_invalid');
    expect(bad.json().error.details.errors[0]).toMatchObject({ line: 6 });
    expect(bad.json().error.details.errors[0].message).toMatch(/classe « 6Z » inconnue.*enseignant « inconnu » inconnu/);
    expect(await t.preau.storage.db.selectFrom('timetable_patterns').select('id').execute()).toHaveLength(0);

    const ok = await direction.request({ method: 'POST', url: '/api/v1/schools/schoolA/timetable/import', payload: CSV, headers: { 'content-type': 'text/csv; charset=utf-8' } });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json().patterns).toBe(4);

    const week = async (day: string) => (await (await t.as('pupilA1')).request({ method: 'GET', url: `/api/v1/me/timetable?week=${day}` })).json();
    const b = await week('2026-09-07');
    expect(b.week).toEqual({ monday: '2026-09-07', type: 'B', holidays: [] });
    const mondayB = b.slots.filter((s: { startsAt: string }) => s.startsAt.startsWith('2026-09-07')).map((s: { startsAt: string; audience: string }) => `${s.startsAt.slice(11, 16)} ${s.audience}`);
    expect(mondayB).toEqual(['06:30 6e A', '08:30 Latin', '12:00 6e A', '13:00 Latin']);
    const a = await week('2026-09-14');
    expect(a.week.type).toBe('A');
    expect(a.slots.map((s: { startsAt: string; audience: string }) => `${s.startsAt.slice(11, 16)} ${s.audience}`)).toEqual(['12:00 6e A', '13:00 6e A']);
    const holidays = await week('2026-10-19');
    expect(holidays.week).toMatchObject({ type: 'vacances', holidays: ['Vacances de la Toussaint'] });
    expect(holidays.slots).toEqual([]);
    // Today's page (cached) shows the imported lessons at once.
    const today = (await (await t.as('pupilA1')).request({ method: 'GET', url: '/api/v1/me/today' })).json();
    expect(today.timetable).toHaveLength(4);
  });

  it('one-off changes are shown clearly, with what the lesson was, to pupils and both teachers', async () => {
    const direction = await t.as('directionA');
    const slot = (await (await t.as('pupilA1')).request({ method: 'GET', url: '/api/v1/me/timetable?week=2026-09-14' })).json().slots[0];
    const moved = await direction.request({ method: 'PATCH', url: `/api/v1/timetable/slots/${slot.id}`, payload: { change: 'deplace', startsAt: '2026-09-15T12:00:00Z', endsAt: '2026-09-15T12:55:00Z', room: 'CDI' } });
    expect(moved.statusCode, moved.body).toBe(200);
    expect(moved.json().slot).toMatchObject({ status: 'deplace', room: 'CDI', change: { label: 'Cours déplacé', before: { startsAt: slot.startsAt, room: 'B12' } } });
    const replaced = await direction.request({ method: 'PATCH', url: '/api/v1/timetable/slots/slot6A', payload: { change: 'remplace', teacherId: 'teacherB', note: 'M. B remplace' } });
    expect(replaced.json().slot).toMatchObject({ status: 'remplace', change: { label: 'Remplacement', before: { teacher: 'Fixture' } } });
    const teacherA = (await (await t.as('teacherA')).request({ method: 'GET', url: '/api/v1/me/timetable?week=2026-09-07' })).json();
    expect(teacherA.slots.map((s: { id: string }) => s.id)).toContain('slot6A');
    const teacherB = (await (await t.as('teacherB')).request({ method: 'GET', url: '/api/v1/me/today' })).json();
    expect(teacherB.timetable.map((s: { id: string }) => s.id)).toContain('slot6A');
    const undone = await direction.request({ method: 'PATCH', url: '/api/v1/timetable/slots/slot6A', payload: { change: 'retabli' } });
    expect(undone.json().slot).toMatchObject({ status: 'normal', teacher: 'Fixture' });
    expect(undone.json().slot.change).toBeUndefined();
    const bad = await direction.request({ method: 'PATCH', url: '/api/v1/timetable/slots/slot6A', payload: { change: 'deplace', startsAt: '2026-09-15T12:00:00Z', endsAt: '2026-09-15T11:00:00Z' } });
    expect(bad.json().error).toMatchObject({ id: 'timetable.invalid_change' });
    expect(bad.json().error.message).toMatch(/la fin doit suivre le début/);
  });

  it('imports lessons from iCalendar, recurrences expanded, re-import updates rather than duplicates', async () => {
    const ics = [
      'BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//Test//FR',
      'BEGIN:VEVENT', 'UID:club-sciences', 'DTSTART;TZID=Europe/Paris:20260909T133000', 'DTEND;TZID=Europe/Paris:20260909T150000', 'RRULE:FREQ=WEEKLY;COUNT=3',
      'SUMMARY:MATHEMATIQUES', 'LOCATION:Labo 2', 'END:VEVENT',
      'BEGIN:VEVENT', 'UID:sortie', 'DTSTART:20260910T070000Z', 'DTEND:20260910T150000Z', 'SUMMARY:Sortie au musée', 'STATUS:CANCELLED', 'END:VEVENT',
      'END:VCALENDAR',
    ].join('\r\n');
    const direction = await t.as('directionA');
    const send = () => direction.request({ method: 'POST', url: '/api/v1/schools/schoolA/timetable/import?classId=class6B', payload: ics, headers: { 'content-type': 'text/calendar' } });
    expect((await send()).json()).toEqual({ lessons: 4 });
    expect((await send()).json()).toEqual({ lessons: 4 });
    const week = (await (await t.as('pupilB1')).request({ method: 'GET', url: '/api/v1/me/timetable?week=2026-09-07' })).json();
    const imported = week.slots.filter((s: { room: string | null; note: string | null }) => s.room === 'Labo 2' || s.note === 'Sortie au musée');
    expect(imported.map((s: { startsAt: string; status: string }) => `${s.startsAt} ${s.status}`)).toEqual(['2026-09-09T11:30:00.000Z normal', '2026-09-10T07:00:00.000Z annule']);
    const junk = await direction.request({ method: 'POST', url: '/api/v1/schools/schoolA/timetable/import?classId=class6B', payload: 'BEGIN:VCALENDAR\r\nnot ical', headers: { 'content-type': 'text/calendar' } });
    expect(junk.statusCode).toBe(400);
    const otherSchool = await direction.request({ method: 'POST', url: '/api/v1/schools/schoolA/timetable/import?classId=class5C', payload: ics, headers: { 'content-type': 'text/calendar' } });
    expect(otherSchool.statusCode).toBe(404);
  });

  it('a secret, revocable iCalendar subscription with lessons and work due, read by a real parser', async () => {
    const pupil = await t.as('pupilA1');
    const created = await pupil.request({ method: 'POST', url: '/api/v1/me/calendar-feed' });
    expect(created.statusCode).toBe(201);
    const url = new URL(created.json().url);
    const token = url.pathname.split('/').pop()!.replace(/\.ics$/, '');
    // Only the hash is stored.
    const stored = await t.preau.storage.db.selectFrom('calendar_feeds').selectAll().where('person_id', '=', 'pupilA1').executeTakeFirstOrThrow();
    expect(stored.token_hash).not.toContain(token);
    expect(JSON.stringify(stored)).not.toContain(token);

    const res = await t.anonymous.request({ method: 'GET', url: url.pathname });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/calendar/);
    const cal = new ICAL.Component(ICAL.parse(res.body) as unknown[]);
    const events = cal.getAllSubcomponents('vevent').map((v) => new ICAL.Event(v));
    const work = events.find((e) => e.summary.startsWith('À faire : Fractions'));
    expect(work?.startDate.isDate).toBe(true);
    expect(work?.startDate.toString()).toBe('2026-09-08');
    const maths = events.find((e) => e.uid === 'slot6A@preau');
    expect(maths?.startDate.toJSDate().getTime()).toBe(parisWallTimeToUtcMs('2026-09-07', 8, 30));
    expect(maths?.location).toBe('B12');
    const latin = events.find((e) => e.uid === 'slotLatin@preau')!;
    expect(latin.summary).toMatch(/^Annulé : /);
    expect(latin.component.getFirstPropertyValue('status')).toBe('CANCELLED');
    expect(events.length).toBeGreaterThan(10);

    // A parent's subscription covers their children; a new URL replaces the old one; revoking ends it.
    const parent = (await (await t.as('parentA1')).request({ method: 'POST', url: '/api/v1/me/calendar-feed' })).json();
    const parentIcs = (await t.anonymous.request({ method: 'GET', url: new URL(parent.url).pathname })).body;
    expect(parentIcs).toContain('SUMMARY:pupilA1 · À faire : Fractions');
    const again = (await pupil.request({ method: 'POST', url: '/api/v1/me/calendar-feed' })).json();
    expect((await t.anonymous.request({ method: 'GET', url: url.pathname })).statusCode).toBe(404);
    expect((await t.anonymous.request({ method: 'GET', url: new URL(again.url).pathname })).statusCode).toBe(200);
    expect((await pupil.request({ method: 'DELETE', url: '/api/v1/me/calendar-feed' })).statusCode).toBe(204);
    const gone = await t.anonymous.request({ method: 'GET', url: new URL(again.url).pathname });
    expect(gone.statusCode).toBe(404);
    expect(gone.json().error.id).toBe('calendar.feed_not_found');
    expect((await pupil.request({ method: 'GET', url: '/api/v1/me/calendar-feed' })).json()).toMatchObject({ active: false });
    expect((await t.anonymous.request({ method: 'GET', url: '/ical/short' })).statusCode).toBe(400);
  });

  it('bad calendars and bad queries are 4xx with a stable id', async () => {
    const direction = await t.as('directionA');
    const put = (o: object) => direction.request({ method: 'PUT', url: '/api/v1/schools/schoolA/calendar', payload: { ...CALENDAR, ...o } });
    expect((await put({ weekAMonday: '2026-09-01' })).json().error.message).toMatch(/lundi/);
    expect((await put({ yearEnd: '2026-08-01' })).json().error.id).toBe('timetable.invalid_calendar');
    expect((await put({ yearStart: '2026-02-30' })).json().error.id).toBe('timetable.invalid_calendar');
    expect((await put({ holidays: [{ label: 'x', firstDay: '2026-10-20', lastDay: '2026-10-10' }] })).json().error.id).toBe('timetable.invalid_calendar');
    const q = (s: string) => direction.request({ method: 'GET', url: `/api/v1/timetable?${s}` });
    expect((await q('classId=class6A&teacherId=teacherA')).statusCode).toBe(400);
    expect((await q('room=B12')).statusCode).toBe(400);
    expect((await q('classId=class6A&week=2026-13-01')).statusCode).toBe(400);
    expect((await q('')).statusCode).toBe(400);
    const csvAsJson = await direction.request({ method: 'POST', url: '/api/v1/schools/schoolA/timetable/import', payload: { csv: 'x' } });
    expect(csvAsJson.statusCode).toBe(415);
  });
});
