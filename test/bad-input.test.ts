import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activeBackends } from './support/backends.js';
import { startTestPreau, type TestPreau } from './support/app.js';
import type { PersonKey } from './support/fixtures.js';

const backends = await activeBackends();

/**
 * Every write route, sent hostile bodies by someone allowed to use it: always a 4xx with an
 * error id and a message, never a 5xx, and the database exactly as before.
 */
const WRITES: { url: string; method: 'POST' | 'PUT' | 'PATCH'; as: PersonKey | null; valid: Record<string, unknown>; multipart?: true; raw?: true }[] = [
  { url: '/api/v1/auth/login', method: 'POST', as: null, valid: { login: 'pupila1', password: 'x' } },
  { url: '/api/v1/auth/activate', method: 'POST', as: null, valid: { login: 'pendingpupil', code: 'AAAA-BBBB', password: 'Nouveau-Mot-2026' } },
  { url: '/api/v1/me/password', method: 'PUT', as: 'teacherA', valid: { currentPassword: 'x', newPassword: 'Nouveau-Mot-2026' } },
  { url: '/api/v1/classes/class6A/activation-codes', method: 'POST', as: 'adminA', valid: { format: 'json' } },
  { url: '/api/v1/homework', method: 'POST', as: 'teacherA', valid: { kind: 'travail', classId: 'class6A', title: 'x', bodyHtml: 'y', date: '2026-09-10' } },
  { url: '/api/v1/homework/hwDraft6A', method: 'PATCH', as: 'teacherA', valid: { title: 'x' } },
  { url: '/api/v1/homework/hwDraft6A/publish', method: 'POST', as: 'teacherA', valid: { at: '2026-09-30T18:00:00Z' } },
  { url: '/api/v1/homework/hwMaths6A/copy', method: 'POST', as: 'teacherA', valid: { groupId: 'groupLatin' } },
  { url: '/api/v1/homework/hwMaths6A/done', method: 'PUT', as: 'pupilA1', valid: { done: true } },
  { url: '/api/v1/teachers/teacherA/cahier/visas', method: 'POST', as: 'directionA', valid: { comment: 'Vu' } },
  { url: '/api/v1/schools/schoolA/calendar', method: 'PUT', as: 'directionA', valid: { yearStart: '2026-09-01', yearEnd: '2027-07-03', weekAMonday: '2026-08-31', holidays: [] } },
  { url: '/api/v1/timetable/slots/slot6A', method: 'PATCH', as: 'directionA', valid: { change: 'annule' } },
  { url: '/api/v1/messages', method: 'POST', as: 'teacherA', valid: { to: [{ kind: 'person', id: 'cpeA' }], subject: 'x', bodyHtml: 'y' } },
  { url: '/api/v1/messages/drafts', method: 'POST', as: 'teacherA', valid: { subject: 'x' } },
  { url: '/api/v1/messages/drafts/msgDraftTeacherA', method: 'PATCH', as: 'teacherA', valid: { subject: 'x' } },
  { url: '/api/v1/messages/msgParents6A/read', method: 'PUT', as: 'parentA1', valid: { read: true } },
  { url: '/api/v1/liaison', method: 'POST', as: 'teacherA', valid: { audience: { kind: 'class', id: 'class6A' }, title: 'x', bodyHtml: 'y' } },
  { url: '/api/v1/documents/folders', method: 'POST', as: 'teacherA', valid: { space: 'class:class6A', name: 'Cours' } },
  { url: '/api/v1/documents/entries/docNone', method: 'PATCH', as: 'teacherA', valid: { name: 'Cours' } },
  { url: '/api/v1/documents/uploads', method: 'POST', as: 'teacherA', valid: { space: 'personal', name: 'film.mp4', sizeBytes: 1000 } },
  { url: '/api/v1/news', method: 'POST', as: 'directionA', valid: { audience: { kind: 'school', id: 'schoolA' }, headline: 'x', bodyHtml: 'y' } },
  { url: '/api/v1/news/newsDraft6A', method: 'PATCH', as: 'teacherA', valid: { headline: 'x', publishFrom: 'now' } },
  { url: '/api/v1/me/notifications/notifPupilA1/read', method: 'POST', as: 'pupilA1', valid: { read: true } },
  { url: '/api/v1/me/notifications/read-all', method: 'POST', as: 'pupilA1', valid: { upTo: '2026-09-07T06:00:00Z' } },
  { url: '/api/v1/engagement/schools/schoolA/settings', method: 'PUT', as: 'directionA', valid: { inactiveSchoolDays: 3, missingWorksPerWeek: 2, missedClasses: 2, digestEnabled: false, digestMinute: 990 } },
  { url: '/api/v1/classrooms', method: 'POST', as: 'teacherA', valid: { audience: { kind: 'class', id: 'class6A' }, title: 'x' } },
  { url: '/api/v1/classrooms/invitations', method: 'POST', as: 'teacherOther', valid: { token: 'abcdefghijklmnopqrstuvwxyz' } },
  // Multipart routes: a JSON body of any shape is refused before anything is stored.
  { url: '/api/v1/homework/hwMaths6A/handins', method: 'POST', as: 'pupilA1', valid: { text: 'x' }, multipart: true },
  { url: '/api/v1/homework/hwMaths6A/attachments', method: 'POST', as: 'teacherA', valid: { file: 'x' }, multipart: true },
  { url: '/api/v1/messages/drafts/msgDraftTeacherA/attachments', method: 'POST', as: 'teacherA', valid: { file: 'x' }, multipart: true },
  { url: '/api/v1/documents/files?space=personal', method: 'POST', as: 'teacherA', valid: { file: 'x' }, multipart: true },
  // Raw chunk route: any JSON is refused for its type before a byte is read.
  { url: '/api/v1/documents/uploads/upNone?offset=0', method: 'PUT', as: 'teacherA', valid: { bytes: 'x' }, raw: true },
  { url: '/api/v1/news/newsDraft6A/attachments', method: 'POST', as: 'teacherA', valid: { file: 'x' }, multipart: true },
];

const TABLES = [
  'people', 'sessions', 'activation_codes', 'audit_events', 'classes', 'class_enrolments', 'guardianships', 'settings',
  'timetable_slots', 'timetable_patterns', 'school_calendars', 'school_holidays', 'calendar_feeds',
  'homework_entries', 'homework_attachments', 'homework_done', 'cahier_visas', 'handins', 'handin_files', 'handin_feedback', 'blobs',
  'messages', 'message_recipients', 'message_attachments', 'liaison_notes', 'liaison_targets',
  'news', 'news_acks', 'news_attachments', 'doc_entries', 'doc_uploads', 'notifications', 'engagement_settings',
  'classroom_rooms', 'classroom_teachers', 'classroom_attendance',
] as const;

describe.each(backends)('hostile bodies on every write route (%s)', (backend) => {
  let t: TestPreau;
  beforeAll(async () => {
    t = await startTestPreau(backend);
    // An unread notification of pupil A1's, so that a body wrongly accepted would show as a change.
    const at = t.clock.nowMs() - 60_000;
    await t.preau.storage.db.insertInto('notifications').values({
      id: 'notifPupilA1', recipient_id: 'pupilA1', school_id: 'schoolA', kind: 'work.posted', title: 'x', link: '/', subject_id: 'hwMaths6A', actor_id: 'teacherA', created_at: at, visible_at: at, read_at: null,
    }).execute();
  });
  afterAll(async () => {
    await t?.close();
  });

  async function snapshot() {
    const out: Record<string, unknown[]> = {};
    for (const table of TABLES) out[table] = await t.preau.storage.db.selectFrom(table).selectAll().execute();
    return JSON.stringify(out);
  }

  const bodies: [string, (valid: Record<string, unknown>) => string, string?][] = [
    ['malformed JSON', () => '{"a": ', 'request.malformed_json'],
    ['a JSON array', () => '[1,2,3]', 'request.invalid'],
    ['a JSON string', () => '"bonjour"', 'request.invalid'],
    ['null', () => 'null', undefined],
    ['wrong types', (v) => JSON.stringify(Object.fromEntries(Object.keys(v).map((k) => [k, { $gt: '' }]))), 'request.invalid'],
    ['an unknown field', (v) => JSON.stringify({ ...v, isAdmin: true }), 'request.unknown_field'],
    ['a prototype-pollution key', (v) => `{"__proto__": {"admin": true}, ${JSON.stringify(v).slice(1)}`, undefined],
    ['an oversize body', (v) => JSON.stringify({ ...v, padding: 'x'.repeat(200_000) }), 'request.too_large'],
    ['deep nesting', () => '['.repeat(5000) + ']'.repeat(5000), undefined],
  ];

  for (const route of WRITES) {
    describe(`${route.method} ${route.url}`, () => {
      it.each(bodies)('%s → 4xx with an error id, nothing changed', async (_name, make, expectedId) => {
        const client = route.as ? await t.as(route.as) : t.anonymous;
        const before = await snapshot();
        const res = await client.request({ method: route.method, url: route.url, headers: { 'content-type': 'application/json' }, payload: make(route.valid), remoteAddress: '10.77.0.1' });
        expect(res.statusCode, res.body).toBeGreaterThanOrEqual(400);
        expect(res.statusCode, res.body).toBeLessThan(500);
        const body = res.json();
        expect(body.error.id).toMatch(/^[a-z]+\.[a-z_]+$/);
        expect(body.error.message.length).toBeGreaterThan(0);
        // A multipart route refuses any well-formed JSON for what it is: not a form.
        const wrongType = route.multipart && (expectedId === 'request.invalid' || expectedId === 'request.unknown_field');
        if (expectedId) expect(body.error.id).toBe(wrongType || route.raw ? 'request.unsupported_media_type' : expectedId);
        expect(await snapshot()).toBe(before);
      });
    });
  }
});
