import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activeBackends, freshStorage, type TestStorage } from '../../../test/support/backends.js';
import { seedFixture } from '../../../test/support/fixtures.js';
import { ManualClock, parisWallTimeToUtcMs } from '../../platform/clock.js';
import { createLogger } from '../../platform/logger.js';
import { EngagementRecorder } from './engagement.recorder.js';
import { EngagementRepository } from './engagement.repository.js';

const backends = await activeBackends();
const PEOPLE = ['pupilA1', 'pupilA2', 'pupilB1', 'parentA1', 'teacherA'];
const logger = createLogger('silent');
const settings = { flushIntervalMs: 60_000, maxBufferedDays: 10_000, maxBufferedOpens: 10_000 };

describe.each(backends)('engagement recorder on %s', (backend) => {
  let ts: TestStorage;
  let repo: EngagementRepository;
  const clock = new ManualClock(parisWallTimeToUtcMs('2026-09-07', 8));
  beforeAll(async () => {
    ts = await freshStorage(backend);
    await seedFixture(ts.storage.db, clock);
    repo = new EngagementRepository(ts.storage.db, ts.storage.capabilities);
  });
  afterAll(async () => {
    await ts?.drop();
  });
  const rows = () => ts.storage.db.selectFrom('engagement_days').selectAll().orderBy('person_id').orderBy('day').execute();
  const clear = () => ts.storage.db.deleteFrom('engagement_days').execute();

  it('many parallel signals with flushes racing them: every count exactly once', async () => {
    await clear();
    const rec = new EngagementRecorder(repo, settings, logger);
    const day1 = parisWallTimeToUtcMs('2026-09-07', 9);
    const day2 = parisWallTimeToUtcMs('2026-09-08', 9);
    const PER_PERSON = 400;
    const tasks: Promise<void>[] = [];
    for (let i = 0; i < PER_PERSON; i++) {
      for (const [n, p] of PEOPLE.entries()) {
        tasks.push(
          (async () => {
            // Each "request" yields to the loop first, so records interleave with the flushes below.
            await new Promise((r) => setImmediate(r));
            const at = (i % 2 === 0 ? day1 : day2) + n * 1000 + i;
            rec.seen(p, at);
            rec.messageRead(p, at);
            if (i % 4 === 0) rec.handedIn(p, i % 8 === 0, at);
            rec.workDone(p, at);
          })(),
        );
      }
      if (i % 50 === 0) tasks.push(rec.flush());
    }
    await Promise.all(tasks);
    await rec.stop();
    const got = await rows();
    expect(got).toHaveLength(PEOPLE.length * 2);
    for (const r of got) {
      expect(r.messages_read).toBe(PER_PERSON / 2);
      expect(r.works_done).toBe(PER_PERSON / 2);
    }
    // Hand-ins every 4th request (all on day 1), one in two of them late.
    for (const p of PEOPLE) {
      const mine = got.filter((r) => r.person_id === p);
      expect(mine.reduce((s, r) => s + r.handins_on_time, 0)).toBe(PER_PERSON / 8);
      expect(mine.reduce((s, r) => s + r.handins_late, 0)).toBe(PER_PERSON / 8);
    }
    const a1 = got.find((r) => r.person_id === 'pupilA1' && r.day === '2026-09-07')!;
    expect(a1.first_seen_at).toBe(day1); // i = 0, n = 0
    expect(a1.last_seen_at).toBe(day1 + PER_PERSON - 2);
    expect(rec.droppedCount()).toBe(0);
  });

  it('two nodes writing the same person-day add up in the database', async () => {
    await clear();
    const a = new EngagementRecorder(repo, settings, logger);
    const b = new EngagementRecorder(repo, settings, logger);
    const at = parisWallTimeToUtcMs('2026-09-07', 10);
    for (let i = 0; i < 30; i++) a.messageRead('pupilA1', at + i);
    for (let i = 0; i < 12; i++) b.messageRead('pupilA1', at - 100 + i);
    await Promise.all([a.flush(), b.flush()]);
    a.messageRead('pupilA1', at + 500);
    await a.stop();
    await b.stop();
    const [r] = await rows();
    expect(r).toMatchObject({ person_id: 'pupilA1', day: '2026-09-07', messages_read: 43, first_seen_at: at - 100, last_seen_at: at + 500 });
  });

  it('shutdown writes what is buffered; nothing is written before', async () => {
    await clear();
    const rec = new EngagementRecorder(repo, { ...settings, flushIntervalMs: 3_600_000 }, logger);
    rec.start();
    rec.seen('parentA1', clock.nowMs());
    rec.liaisonSigned('parentA1', clock.nowMs());
    rec.workOpened('pupilA2', 'hwMaths6A', clock.nowMs());
    rec.workOpened('pupilA2', 'hwMaths6A', clock.nowMs() + 5);
    expect(await rows()).toHaveLength(0);
    expect(rec.buffered()).toBe(2);
    await rec.stop();
    expect((await rows()).map((r) => [r.person_id, r.liaisons_signed])).toEqual([['parentA1', 1], ['pupilA2', 0]]);
    const opens = await ts.storage.db.selectFrom('engagement_opens').selectAll().execute();
    expect(opens.map((o) => [o.pupil_id, o.entry_id, o.opened_at])).toEqual([['pupilA2', 'hwMaths6A', clock.nowMs()]]);
  });

  it('a failed flush keeps its counts for the next one (the transaction wrote nothing)', async () => {
    await clear();
    let failures = 1;
    const flaky = Object.create(repo) as EngagementRepository;
    flaky.writeSignals = async (days, opens) => {
      if (failures-- > 0) throw new Error('base indisponible');
      return repo.writeSignals(days, opens);
    };
    const rec = new EngagementRecorder(flaky, settings, logger);
    for (let i = 0; i < 7; i++) rec.workDone('pupilB1', clock.nowMs());
    await rec.flush();
    expect(await rows()).toHaveLength(0);
    rec.workDone('pupilB1', clock.nowMs());
    await rec.stop();
    expect((await rows())[0]).toMatchObject({ person_id: 'pupilB1', works_done: 8 });
  });

  it('memory is bounded: past the bound a flush starts, and what does not fit is dropped and counted', async () => {
    await clear();
    const rec = new EngagementRecorder(repo, { ...settings, maxBufferedDays: 2 }, logger);
    const day = (d: number) => parisWallTimeToUtcMs(`2026-09-0${d}`, 9);
    rec.seen('pupilA1', day(7));
    rec.seen('pupilA1', day(8));
    expect(rec.buffered()).toBe(2);
    // A third person-day: the full buffer is swapped out to a flush at once; the new one fits.
    rec.seen('pupilA1', day(9));
    expect(rec.buffered()).toBe(1);
    rec.seen('pupilA2', day(9));
    // The flush is still running and the buffer is full again: dropped, counted.
    rec.seen('pupilB1', day(9));
    expect(rec.droppedCount()).toBe(1);
    await rec.stop();
    expect((await rows()).map((r) => `${r.person_id} ${r.day}`)).toEqual(['pupilA1 2026-09-07', 'pupilA1 2026-09-08', 'pupilA1 2026-09-09', 'pupilA2 2026-09-09']);
  });
});
