import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPreau, type TestPreau } from '../../../test/support/app.js';
import { parisWallTimeToUtcMs } from '../../platform/clock.js';
import { TODAY_CACHE_TTL_MS } from './today.service.js';

describe('Aujourd’hui cache', () => {
  let t: TestPreau;
  beforeAll(async () => {
    t = await startTestPreau('sqlite');
  });
  afterAll(async () => {
    await t?.close();
  });

  const ids = async (who: 'pupilA1' | 'pupilA2') =>
    ((await (await t.as(who)).request({ method: 'GET', url: '/api/v1/me/today' })).json().timetable as { id: string }[]).map((s) => s.id);
  const slot = (id: string, hour: number) => ({
    id, school_id: 'schoolA', class_id: 'class6A', group_id: null, teacher_id: 'teacherA', subject_id: 'subjectMaths',
    starts_at: parisWallTimeToUtcMs('2026-09-07', hour), ends_at: parisWallTimeToUtcMs('2026-09-07', hour, 55), room: null, status: 'normal', note: null,
  });

  it('a timetable change made through the repository shows at once', async () => {
    expect(await ids('pupilA1')).toEqual(['slot6A', 'slotLatin']);
    await t.preau.timetable.insertSlots([slot('slotNew', 14)]);
    expect(await ids('pupilA1')).toEqual(['slot6A', 'slotLatin', 'slotNew']);
    // Pupils of other classes/groups never get someone else's page.
    expect(await ids('pupilA2')).toEqual(['slot6A', 'slotNew']);
  });

  it('a change made elsewhere (another node) shows within the cache lifetime', async () => {
    await ids('pupilA1');
    await t.preau.storage.db.insertInto('timetable_slots').values(slot('slotOther', 15)).execute();
    expect(await ids('pupilA1')).not.toContain('slotOther');
    t.clock.advance(TODAY_CACHE_TTL_MS);
    expect(await ids('pupilA1')).toContain('slotOther');
  });

  it('lessons of earlier days are not today’s, and a lesson spanning midnight is', async () => {
    await t.preau.timetable.insertSlots([
      { ...slot('yesterday', 10), starts_at: parisWallTimeToUtcMs('2026-09-04', 10), ends_at: parisWallTimeToUtcMs('2026-09-04', 11) },
      { ...slot('overnight', 0), starts_at: parisWallTimeToUtcMs('2026-09-06', 22), ends_at: parisWallTimeToUtcMs('2026-09-07', 1) },
    ]);
    const today = await ids('pupilA1');
    expect(today).not.toContain('yesterday');
    expect(today[0]).toBe('overnight');
  });
});

describe('Aujourd’hui: the per-person part', () => {
  let t: TestPreau;
  beforeAll(async () => {
    t = await startTestPreau('sqlite');
  });
  afterAll(async () => {
    await t?.close();
  });

  it('unread messages, liaisons to sign and notifications are per person, never in the shared class page', async () => {
    const mine = async (who: 'parentA1' | 'parentB1' | 'pupilA1' | 'pupilA2') => (await (await t.as(who)).request({ method: 'GET', url: '/api/v1/me/today/mine' })).json();
    expect(await mine('parentA1')).toEqual({ unreadMessages: 1, liaisonsToSign: 0, newsAcknowledged: [], unreadNotifications: 0 });
    expect(await mine('parentB1')).toEqual({ unreadMessages: 0, liaisonsToSign: 0, newsAcknowledged: [], unreadNotifications: 0 });
    const teacher = await t.as('teacherA');
    expect((await teacher.request({ method: 'POST', url: '/api/v1/messages', payload: { to: [{ kind: 'person', id: 'pupilA1' }], subject: 'Pour toi', bodyHtml: 'x' } })).statusCode).toBe(201);
    expect((await teacher.request({ method: 'POST', url: '/api/v1/liaison', payload: { audience: { kind: 'pupil', id: 'pupilA1' }, title: 'Mot', bodyHtml: 'x' } })).statusCode).toBe(201);
    expect(await mine('pupilA1')).toEqual({ unreadMessages: 1, liaisonsToSign: 0, newsAcknowledged: [], unreadNotifications: 1 });
    expect(await mine('pupilA2')).toEqual({ unreadMessages: 0, liaisonsToSign: 0, newsAcknowledged: [], unreadNotifications: 0 });
    expect(await mine('parentA1')).toEqual({ unreadMessages: 1, liaisonsToSign: 1, newsAcknowledged: [], unreadNotifications: 1 });
    // The shared class page carries no per-person count.
    const page = (await (await t.as('pupilA2')).request({ method: 'GET', url: '/api/v1/me/today' })).body;
    expect(page).not.toContain('unread');
  });
});

describe('Aujourd’hui: the news', () => {
  let t: TestPreau;
  beforeAll(async () => {
    t = await startTestPreau('sqlite');
  });
  afterAll(async () => {
    await t?.close();
  });
  type Who = 'pupilA1' | 'pupilB1' | 'parentA1' | 'teacherA' | 'teacherOther' | 'cpeA' | 'pupilOther';
  const page = async (who: Who) => (await (await t.as(who)).request({ method: 'GET', url: '/api/v1/me/today' })).json();
  const newsIds = async (who: Who) => ((await page(who)).news as { id: string }[]).map((n) => n.id);
  const post = async (payload: object) => {
    const res = await (await t.as('teacherA')).request({ method: 'POST', url: '/api/v1/news', payload: { audience: { kind: 'class', id: 'class6A' }, bodyHtml: 'x', publishFrom: 'now', ...payload } });
    expect(res.statusCode, res.body).toBe(201);
    return res.json().news.id as string;
  };

  it('every profile of the school sees its current news; another school does not', async () => {
    for (const who of ['pupilA1', 'parentA1', 'teacherA', 'cpeA'] as const) {
      expect({ who, news: (await page(who)).news }).toEqual({ who, news: [expect.objectContaining({ id: 'newsSchoolA', headline: 'Rentrée : horaires', requiresAck: true, state: 'published' })] });
    }
    expect(await newsIds('pupilOther')).toEqual([]);
    expect(await newsIds('teacherOther')).toEqual([]);
  });

  it('a publication shows at once on the cached page (version counter), for its audience only; pinned first, at most five', async () => {
    expect(await newsIds('pupilA1')).toEqual(['newsSchoolA']);
    const pinned = await post({ headline: 'Important', pinned: true });
    t.clock.advance(1000);
    const later: string[] = [];
    for (let i = 0; i < 5; i++) {
      later.unshift(await post({ headline: `Info ${i}` }));
      t.clock.advance(1000);
    }
    expect(await newsIds('pupilA1')).toEqual([pinned, ...later.slice(0, 4)]);
    expect(await newsIds('pupilB1')).toEqual(['newsSchoolA']);
    // A withdrawal too.
    expect((await (await t.as('teacherA')).request({ method: 'DELETE', url: `/api/v1/news/${pinned}` })).statusCode).toBe(204);
    expect(await newsIds('pupilA1')).not.toContain(pinned);
  });

  it('whether a news is acknowledged is personal: in /me/today/mine, never in the shared page', async () => {
    const mine = async (who: 'parentA1' | 'pupilA1') => (await (await t.as(who)).request({ method: 'GET', url: '/api/v1/me/today/mine' })).json().newsAcknowledged;
    expect(await mine('parentA1')).toEqual([]);
    expect((await (await t.as('parentA1')).request({ method: 'POST', url: '/api/v1/news/newsSchoolA/acknowledge' })).statusCode).toBe(200);
    expect(await mine('parentA1')).toEqual(['newsSchoolA']);
    expect(await mine('pupilA1')).toEqual([]);
    expect(JSON.stringify(await page('pupilA1'))).not.toMatch(/acknowledged/i);
  });
});
