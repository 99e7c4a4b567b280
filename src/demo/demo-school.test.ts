import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compose, type Preau } from '../compose.js';
import { defaultConfig } from '../config/config.js';
import { ManualClock, parisWallTimeToUtcMs } from '../platform/clock.js';
import { createLogger } from '../platform/logger.js';
import { freshStorage } from '../../test/support/backends.js';
import { DEMO_PASSWORD, ensureDemoSchool } from './demo-school.js';

describe('demo school', () => {
  let preau: Preau;
  let drop: () => Promise<void>;
  const clock = new ManualClock(parisWallTimeToUtcMs('2026-09-08', 7, 50)); // a Tuesday
  const dataDir = mkdtempSync(path.join(tmpdir(), 'preau-demo-test-'));

  beforeAll(async () => {
    const s = await freshStorage('sqlite');
    drop = s.drop;
    preau = await compose({ ...defaultConfig(), dataDir, databaseUrl: 'unused', logLevel: 'silent', publicUrl: 'http://preau.test' }, { storage: s.storage, clock, logger: createLogger('silent') });
  });
  afterAll(async () => {
    await preau?.close();
    await drop?.();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('creates a collège with one working login per profile, a timetable for the week, and real subjects', async () => {
    const logins = await ensureDemoSchool(preau);
    expect(logins.map((l) => l.profile)).toEqual([
      'Élève', 'Parent', 'Enseignant', 'Personnel (direction)', 'Personnel (CPE)', 'Administrateur d’établissement', 'Administrateur de la plateforme',
    ]);
    for (const l of logins) {
      const res = await preau.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { login: l.login, password: DEMO_PASSWORD } });
      expect(res.statusCode, l.login).toBe(200);
    }
    const pupil = await preau.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { login: logins[0]!.login, password: DEMO_PASSWORD } });
    const cookie = pupil.cookies.find((c) => c.name === 'preau_session')!;
    const today = (await preau.app.inject({ method: 'GET', url: '/api/v1/me/today', headers: { cookie: `${cookie.name}=${cookie.value}` } })).json();
    expect(today.date).toBe('2026-09-08');
    expect(today.timetable.length).toBeGreaterThanOrEqual(4);
    expect(today.timetable.every((s: { subject: string | null; teacher: string | null }) => s.subject && s.teacher)).toBe(true);
    // The cahier de textes was filled the evening before: work due today and tomorrow, one to hand in with a PDF.
    expect(today.workDue.length).toBeGreaterThanOrEqual(2);
    const online = today.workDue.find((w: { onlineHandin: boolean }) => w.onlineHandin);
    const entry = (await preau.app.inject({ method: 'GET', url: online.url, headers: { cookie: `${cookie.name}=${cookie.value}` } })).json().entry;
    const pdf = await preau.app.inject({ method: 'GET', url: entry.attachments[0].url, headers: { cookie: `${cookie.name}=${cookie.value}` } });
    expect(pdf.headers['content-type']).toBe('application/pdf');
    expect(pdf.body.startsWith('%PDF-1.4')).toBe(true);

    // The direction's welcome news, pinned, asking for acknowledgement.
    expect(today.news).toEqual([expect.objectContaining({ headline: 'Bienvenue sur Préau', pinned: true, requiresAck: true, state: 'published' })]);

    const parent = await preau.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { login: logins[1]!.login, password: DEMO_PASSWORD } });
    const pc = parent.cookies.find((c) => c.name === 'preau_session')!;
    const children = (await preau.app.inject({ method: 'GET', url: '/api/v1/me/children', headers: { cookie: `${pc.name}=${pc.value}` } })).json().children;
    expect(children.length).toBeGreaterThanOrEqual(1);

    // Subjects come from the real académie file (718 of them), not only from the generated feed.
    const subjects = await preau.storage.db.selectFrom('subjects').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(subjects.n)).toBeGreaterThan(700);
    // No teacher is in two places at once.
    const slots = await preau.storage.db.selectFrom('timetable_slots').select(['teacher_id', 'starts_at']).execute();
    const keys = slots.map((s) => `${s.teacher_id}@${s.starts_at}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('starting again keeps the data and prints the same logins', async () => {
    const before = await preau.storage.db.selectFrom('people').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const again = await ensureDemoSchool(preau);
    const after = await preau.storage.db.selectFrom('people').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(before.n));
    expect(again).toHaveLength(7);
  });

  it('a new week gets its timetable on the next start', async () => {
    const count = async () => Number((await preau.storage.db.selectFrom('timetable_slots').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
    const week1 = await count();
    clock.advance(7 * 86_400_000);
    await ensureDemoSchool(preau);
    expect(await count()).toBe(week1 * 2);
  });

  it('never adds invented people to a database that already holds real ones', async () => {
    const s = await freshStorage('sqlite');
    const other = await compose({ ...defaultConfig(), dataDir, databaseUrl: 'unused', logLevel: 'silent' }, { storage: s.storage, clock, logger: createLogger('silent') });
    await s.storage.db.insertInto('people').values({ id: 'x', aaf_jointure: null, profile: 'admin_plateforme', staff_function: null, login: 'real', first_name: 'R', last_name: 'R', title: null, password_hash: null, status: 'active', school_id: null, mef_code: null, departed_at: null, created_at: 0, updated_at: 0 }).execute();
    expect(await ensureDemoSchool(other)).toEqual([]);
    await other.close();
    await s.drop();
  });
});
