import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activeBackends } from '../../../test/support/backends.js';
import { startTestPreau, type TestPreau } from '../../../test/support/app.js';
import { PEOPLE, type PersonKey } from '../../../test/support/fixtures.js';
import { describeMatrix, type MatrixRow } from '../../../test/support/matrix.js';
import { multipart } from '../../../test/support/multipart.js';
import { createLogger } from '../../platform/logger.js';
import { MemoryPubSub, personChannel, type PubSub } from '../../realtime/index.js';
import { NotificationsRepository } from './notifications.repository.js';
import { NotificationsService, purgeNotifications } from './notifications.service.js';

const backends = await activeBackends();
const SIGNED_IN: PersonKey[] = [...PEOPLE].filter((p) => p !== 'departedPupil' && p !== 'pendingPupil');
const upTo = () => new Date(Date.UTC(2030, 0, 1)).toISOString();

/**
 * The feed's authorisation matrix: everyone has their own feed; `notifParentA1` is parent A1's,
 * and nobody else — not pupil A1 (the child), not teacher A (who caused it), not the school's
 * staff or administrator, not a parent of another pupil — may mark it (404: not theirs to know).
 */
const MATRIX: MatrixRow[] = [
  { name: 'one’s feed', method: 'GET', url: '/api/v1/me/notifications', allowed: SIGNED_IN },
  { name: 'one’s unread count', method: 'GET', url: '/api/v1/me/notifications/unread-count', allowed: SIGNED_IN },
  { name: 'mark parent A1’s notification read', method: 'POST', url: '/api/v1/me/notifications/notifParentA1/read', payload: { read: true }, allowed: ['parentA1'] },
  { name: 'mark all of one’s own read', method: 'POST', url: '/api/v1/me/notifications/read-all', payload: { upTo: upTo() }, allowed: SIGNED_IN },
];

describe.each(backends)('notifications API on %s', (backend) => {
  let t: TestPreau;
  beforeAll(async () => {
    t = await startTestPreau(backend);
    const now = t.clock.nowMs() - 60_000;
    await t.preau.storage.db.insertInto('notifications').values({
      id: 'notifParentA1', recipient_id: 'parentA1', school_id: 'schoolA', kind: 'liaison.to_sign', title: 'Réunion', link: '/carnet-de-liaison?note=x', subject_id: 'x',
      actor_id: 'teacherA', created_at: now, visible_at: now, read_at: null,
    }).execute();
  });
  afterAll(async () => {
    await t?.close();
  });
  const as = (who: PersonKey) => t.as(who);
  const feed = async (who: PersonKey, query = '') => (await (await as(who)).request({ method: 'GET', url: `/api/v1/me/notifications${query}` })).json();
  const unread = async (who: PersonKey) => (await (await as(who)).request({ method: 'GET', url: '/api/v1/me/notifications/unread-count' })).json().unread as number;
  const kindsOf = async (who: PersonKey) => ((await feed(who)).notifications as { kind: string; subjectId: string }[]).map((n) => `${n.kind}:${n.subjectId}`);

  describeMatrix(MATRIX, SIGNED_IN, () => t);

  it('posting work notifies the class’s pupils and their parents — not the author, not another class, not a departed pupil', async () => {
    const teacher = await as('teacherA');
    const res = await teacher.request({ method: 'POST', url: '/api/v1/homework', payload: { kind: 'travail', classId: 'class6A', title: 'Exposé sur les volcans', bodyHtml: '<p>x</p>', date: '2026-09-10', publishAt: 'now' } });
    expect(res.statusCode, res.body).toBe(201);
    const id = res.json().entry.id as string;
    for (const who of ['pupilA1', 'pupilA2', 'parentA1'] as const) {
      const mine = (await feed(who)).notifications as { kind: string; title: string; link: string; read: boolean }[];
      expect(mine.find((n) => n.link === `/cahier-de-textes?travail=${id}`), who).toMatchObject({ kind: 'work.posted', title: 'Exposé sur les volcans', read: false });
    }
    for (const who of ['teacherA', 'pupilB1', 'parentB1', 'pupilOther', 'teacherB', 'cpeA'] as const) expect(await kindsOf(who), who).not.toContain(`work.posted:${id}`);
    const stored = await t.preau.storage.db.selectFrom('notifications').select('recipient_id').where('subject_id', '=', id).execute();
    expect(stored.map((r) => r.recipient_id)).not.toContain('departedPupil');

    // Withdrawn with the entry.
    expect((await teacher.request({ method: 'DELETE', url: `/api/v1/homework/${id}` })).statusCode).toBe(204);
    expect(await kindsOf('pupilA1')).not.toContain(`work.posted:${id}`);
  });

  it('a scheduled publication appears in the feed (and the count) only when due; unpublishing withdraws it', async () => {
    const teacher = await as('teacherA');
    const at = new Date(t.clock.nowMs() + 3 * 3600_000).toISOString();
    const res = await teacher.request({ method: 'POST', url: '/api/v1/homework', payload: { kind: 'travail', classId: 'class6A', title: 'Pour jeudi', bodyHtml: '<p>x</p>', date: '2026-09-10', publishAt: at } });
    expect(res.statusCode, res.body).toBe(201);
    const id = res.json().entry.id as string;
    const before = await unread('pupilA2');
    expect(await kindsOf('pupilA2')).not.toContain(`work.posted:${id}`);
    t.clock.advance(3 * 3600_000 + 1000);
    expect(await kindsOf('pupilA2')).toContain(`work.posted:${id}`);
    expect(await unread('pupilA2')).toBe(before + 1);
    expect((await teacher.request({ method: 'PATCH', url: `/api/v1/homework/${id}`, payload: { publishAt: null } })).statusCode).toBe(200);
    expect(await kindsOf('pupilA2')).not.toContain(`work.posted:${id}`);
    expect(await unread('pupilA2')).toBe(before);
  });

  it('a message notifies its recipients; a liaison note notifies the parents; a returned hand-in notifies the pupil and their parents', async () => {
    const parent = await as('parentA1');
    const sent = await parent.request({ method: 'POST', url: '/api/v1/messages', payload: { to: [{ kind: 'person', id: 'teacherA' }], subject: 'Absence de mardi', bodyHtml: '<p>Bonjour</p>' } });
    expect(sent.statusCode, sent.body).toBe(201);
    const message = sent.json().message;
    const teacherFeed = (await feed('teacherA')).notifications as { kind: string; title: string; link: string }[];
    expect(teacherFeed.find((n) => n.kind === 'message.received')).toMatchObject({ kind: 'message.received', title: 'Absence de mardi', link: `/messagerie?conversation=${message.threadId ?? message.thread?.id ?? ''}` });
    expect(await kindsOf('parentA1')).not.toContain(`message.received:${message.id}`);

    const teacher = await as('teacherA');
    const note = await teacher.request({ method: 'POST', url: '/api/v1/liaison', payload: { audience: { kind: 'class', id: 'class6A' }, title: 'Photo de classe', bodyHtml: '<p>Mardi</p>' } });
    expect(note.statusCode, note.body).toBe(201);
    const noteId = note.json().note.id as string;
    expect(await kindsOf('parentA1')).toContain(`liaison.to_sign:${noteId}`);
    expect(await kindsOf('pupilA1')).not.toContain(`liaison.to_sign:${noteId}`);
    expect(await kindsOf('parentB1')).not.toContain(`liaison.to_sign:${noteId}`);

    const pupil = await as('pupilA1');
    const handin = multipart([{ name: 'text', value: 'Ma réponse' }]);
    const handed = await pupil.request({ method: 'POST', url: '/api/v1/homework/hwMaths6A/handins', payload: handin.payload, headers: { ...handin.headers, 'idempotency-key': 'notif-test-1' } });
    expect(handed.statusCode, handed.body).toBeLessThan(300);
    const fb = multipart([{ name: 'comment', value: 'Bien' }]);
    const returned = await teacher.request({ method: 'PUT', url: '/api/v1/homework/hwMaths6A/handins/pupilA1/feedback', payload: fb.payload, headers: fb.headers });
    expect(returned.statusCode, returned.body).toBeLessThan(300);
    for (const who of ['pupilA1', 'parentA1'] as const) {
      const returns = ((await feed(who)).notifications as { kind: string; link: string }[]).filter((n) => n.kind === 'handin.returned');
      expect(returns, who).toEqual([expect.objectContaining({ link: '/cahier-de-textes?travail=hwMaths6A' })]);
    }
    for (const who of ['pupilA2', 'parentB1'] as const) expect((await kindsOf(who)).some((k) => k.startsWith('handin.returned')), who).toBe(false);
  });

  it('dealing with the thing reads its notification: the message read, the note signed', async () => {
    const isRead = async (who: PersonKey, kind: string, subjectId: string) =>
      ((await feed(who)).notifications as { kind: string; subjectId: string; read: boolean }[]).find((n) => n.kind === kind && n.subjectId === subjectId)?.read;
    const parent = await as('parentA1');
    const sent = await parent.request({ method: 'POST', url: '/api/v1/messages', payload: { to: [{ kind: 'person', id: 'teacherA' }], subject: 'Cantine', bodyHtml: '<p>Bonjour</p>' } });
    expect(sent.statusCode, sent.body).toBe(201);
    const messageId = sent.json().message.id as string;
    expect(await isRead('teacherA', 'message.received', messageId)).toBe(false);
    const before = await unread('teacherA');
    const teacher = await as('teacherA');
    expect((await teacher.request({ method: 'PUT', url: `/api/v1/messages/${messageId}/read`, payload: { read: true } })).statusCode).toBeLessThan(300);
    expect(await isRead('teacherA', 'message.received', messageId)).toBe(true);
    expect(await unread('teacherA')).toBe(before - 1);

    const note = await teacher.request({ method: 'POST', url: '/api/v1/liaison', payload: { audience: { kind: 'class', id: 'class6A' }, title: 'Sortie', bodyHtml: '<p>Jeudi</p>' } });
    const noteId = note.json().note.id as string;
    expect(await isRead('parentA1', 'liaison.to_sign', noteId)).toBe(false);
    expect((await parent.request({ method: 'POST', url: `/api/v1/liaison/${noteId}/sign` })).statusCode).toBeLessThan(300);
    expect(await isRead('parentA1', 'liaison.to_sign', noteId)).toBe(true);
    // Someone else's notification of the same note is untouched.
    expect(await isRead('parentB1', 'liaison.to_sign', noteId)).toBeUndefined();
  });

  it('feed pages (newest first, no repeats, bounded page size), unread count, read, unread again, read-all up to what was seen; on Aujourd’hui', async () => {
    const now = t.clock.nowMs();
    await t.preau.storage.db.insertInto('notifications').values(
      Array.from({ length: 25 }, (_, i) => ({
        id: `page${String(i).padStart(2, '0')}`, recipient_id: 'pupilOther', school_id: 'schoolB', kind: 'news.published', title: `Actualité ${i}`, link: `/actualites?id=n${i}`,
        subject_id: `n${i}`, actor_id: null, created_at: now - i * 1000, visible_at: now - i * 1000, read_at: null,
      })),
    ).execute();
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await feed('pupilOther', `?limit=10${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(page.notifications.length).toBeLessThanOrEqual(10);
      seen.push(...page.notifications.map((n: { id: string }) => n.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => `page${String(i).padStart(2, '0')}`));
    expect((await feed('pupilOther', '?limit=999')).notifications.length).toBeLessThanOrEqual(50);

    const pupil = await as('pupilOther');
    expect(await unread('pupilOther')).toBe(25);
    expect((await pupil.request({ method: 'GET', url: '/api/v1/me/today/mine' })).json()).toMatchObject({ unreadNotifications: 25 });
    expect((await pupil.request({ method: 'POST', url: '/api/v1/me/notifications/page03/read', payload: { read: true } })).json()).toEqual({ unread: 24 });
    expect((await pupil.request({ method: 'POST', url: '/api/v1/me/notifications/page03/read', payload: { read: false } })).json()).toEqual({ unread: 25 });
    // "Tout marquer comme lu" up to what was on screen: the ten newest stay unread.
    const upToSeen = new Date(now - 10 * 1000).toISOString();
    expect((await pupil.request({ method: 'POST', url: '/api/v1/me/notifications/read-all', payload: { upTo: upToSeen } })).json()).toEqual({ unread: 10 });
    expect((await pupil.request({ method: 'POST', url: '/api/v1/me/notifications/read-all', payload: { upTo: upTo() } })).json()).toEqual({ unread: 0 });
    expect((await feed('pupilOther', '?limit=1')).notifications[0]).toMatchObject({ read: true });
  });

  it('bad input: 4xx with an error id, nothing changed; another person’s notification is not found', async () => {
    const pupil = await as('pupilA1');
    const snapshot = async () => JSON.stringify(await t.preau.storage.db.selectFrom('notifications').selectAll().orderBy('id').execute());
    const before = await snapshot();
    const cases: [string, string, object | undefined, number, string][] = [
      ['GET', '/api/v1/me/notifications?cursor=nope', undefined, 400, 'request.invalid'],
      ['GET', '/api/v1/me/notifications?limit=-1', undefined, 400, 'request.invalid'],
      ['GET', '/api/v1/me/notifications?other=1', undefined, 400, 'request.unknown_field'],
      ['POST', '/api/v1/me/notifications/notifParentA1/read', { read: true }, 404, 'notification.not_found'],
      ['POST', '/api/v1/me/notifications/unknown/read', { read: true }, 404, 'notification.not_found'],
      ['POST', '/api/v1/me/notifications/bad%20id/read', { read: true }, 400, 'request.invalid'],
      ['POST', '/api/v1/me/notifications/read-all', { upTo: 'hier' }, 400, 'request.invalid'],
      ['POST', '/api/v1/me/notifications/read-all', {}, 400, 'request.invalid'],
    ];
    for (const [method, url, payload, status, id] of cases) {
      const res = await pupil.request({ method: method as 'GET' | 'POST', url, ...(payload ? { payload } : {}) });
      expect({ url, status: res.statusCode, id: res.json().error?.id }).toEqual({ url, status, id });
    }
    expect(await snapshot()).toBe(before);
  });

  it('fails open: a broken push or a failing recipient query never fails the caller; the feed keeps the row', async () => {
    const broken: PubSub = { publish: async () => Promise.reject(new Error('redis away')), subscribe: async () => async () => {}, close: async () => {} };
    const repo = new NotificationsRepository(t.preau.storage.db, t.preau.storage.capabilities);
    const service = new NotificationsService(repo, broken, t.clock, createLogger('silent'));
    await expect(service.notify({ kind: 'news.published', schoolId: 'schoolA', recipientIds: ['cpeA', 'cpeA', 'directionA'], actorId: 'directionA', title: 'Fête\u0000 de l’école', link: 'https://ailleurs.example/x', subjectId: 'newsFailOpen' })).resolves.toBeUndefined();
    const rows = await t.preau.storage.db.selectFrom('notifications').selectAll().where('subject_id', '=', 'newsFailOpen').execute();
    // Deduplicated, the actor dropped, the title flattened, a foreign link replaced by the home page.
    expect(rows.map((r) => [r.recipient_id, r.title, r.link])).toEqual([['cpeA', 'Fête  de l’école', '/']]);
    await expect(service.notify({ kind: 'news.published', schoolId: null, recipientIds: async () => Promise.reject(new Error('db away')), actorId: 'directionA', title: 'x', link: '/', subjectId: 'y' })).resolves.toBeUndefined();
  });

  it('pushes the notification and the new unread count on the recipient’s channel only', async () => {
    const pubsub = new MemoryPubSub();
    const service = new NotificationsService(new NotificationsRepository(t.preau.storage.db, t.preau.storage.capabilities), pubsub, t.clock, createLogger('silent'));
    const got: Record<string, unknown[]> = { teacherB: [], teacherA: [] };
    for (const who of ['teacherB', 'teacherA']) await pubsub.subscribe(personChannel(who), (m) => got[who]!.push(JSON.parse(m)));
    await service.notify({ kind: 'message.received', schoolId: null, recipientIds: ['teacherB'], actorId: 'teacherA', title: 'Conseil de classe', link: '/messagerie?conversation=c1', subjectId: 'pushTest' });
    await new Promise((r) => setTimeout(r, 20));
    expect(got.teacherB).toEqual([
      { type: 'notification', notification: expect.objectContaining({ kind: 'message.received', title: 'Conseil de classe', read: false }) },
      { type: 'unread', count: expect.any(Number) },
    ]);
    expect(got.teacherA).toEqual([]);
    // Scheduled for later: stored, not pushed.
    await service.notify({ kind: 'work.posted', schoolId: null, recipientIds: ['teacherA'], actorId: 'teacherB', title: 'Plus tard', link: '/', subjectId: 'later', visibleAtMs: t.clock.nowMs() + 60_000 });
    await new Promise((r) => setTimeout(r, 20));
    expect(got.teacherA).toEqual([]);
  });

  it('retention: `preau purge` removes notifications older than the retention period', async () => {
    const repo = new NotificationsRepository(t.preau.storage.db, t.preau.storage.capabilities);
    const old = t.clock.nowMs() - 91 * 24 * 3600_000;
    await t.preau.storage.db.insertInto('notifications').values({
      id: 'oldOne', recipient_id: 'teacherB', school_id: null, kind: 'news.published', title: 'Ancienne', link: '/', subject_id: 'old', actor_id: null, created_at: old, visible_at: old, read_at: null,
    }).execute();
    const count = async () => (await t.preau.storage.db.selectFrom('notifications').select('id').execute()).length;
    const before = await count();
    expect(await purgeNotifications(repo, t.clock, 90)).toBe(1);
    expect(await count()).toBe(before - 1);
  });
});
