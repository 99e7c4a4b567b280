import { IDBFactory } from 'fake-indexeddb';
import 'fake-indexeddb/auto';
import { beforeEach, describe, expect, it } from 'vitest';
import { decideAfterSend, flushOutbox, MAX_ENTRIES_PER_PERSON, Outbox, type OutboxEntry, type SendOutcome } from './outbox.js';

let n = 0;
const entry = (over: Partial<OutboxEntry> = {}): OutboxEntry => ({
  id: `k-${++n}`, personId: 'pupilA1', kind: 'preferences', method: 'PUT', path: '/api/v1/me/preferences', body: { lang: 'en' },
  csrfToken: 'csrf', createdAtMs: 1000 + n, attempts: 0, nextAttemptAtMs: 0, state: 'pending', ...over,
});

describe('outbox decisions', () => {
  it('removes delivered writes, keeps refused ones visible, reschedules transient failures with backoff', () => {
    const e = entry();
    expect(decideAfterSend(e, { type: 'delivered' }, 0, () => 0)).toEqual({ action: 'remove' });
    const failed = decideAfterSend(e, { type: 'refused', error: { id: 'request.invalid', message: 'non' } }, 0, () => 0);
    expect(failed.action === 'fail' && failed.entry.state).toBe('failed');
    const later = decideAfterSend({ ...e, attempts: 3 }, { type: 'transient', retryAfterSeconds: undefined }, 10_000, () => 0);
    expect(later.action === 'reschedule' && later.entry).toMatchObject({ attempts: 4, nextAttemptAtMs: 10_000 + 4_000 });
    const hinted = decideAfterSend(e, { type: 'transient', retryAfterSeconds: 30 }, 0, () => 0);
    expect(hinted.action === 'reschedule' && hinted.entry.nextAttemptAtMs).toBe(30_000);
  });
});

describe('outbox in IndexedDB', () => {
  let outbox: Outbox;
  beforeEach(async () => {
    outbox = await Outbox.open(new IDBFactory());
  });

  it('keeps entries per person, oldest first, and a later write of the same kind supersedes a pending one', async () => {
    await outbox.add(entry({ body: { lang: 'en' } }));
    await outbox.add(entry({ personId: 'parentA1' }));
    const last = entry({ body: { lang: 'fr' } });
    await outbox.add(last);
    expect((await outbox.list('pupilA1')).map((e) => e.body)).toEqual([{ lang: 'fr' }]);
    expect(await outbox.list('parentA1')).toHaveLength(1);
    await outbox.wipePerson('pupilA1');
    expect(await outbox.list('pupilA1')).toEqual([]);
    expect(await outbox.list('parentA1')).toHaveLength(1);
  });

  it('is bounded per person', async () => {
    for (let i = 0; i < MAX_ENTRIES_PER_PERSON + 5; i++) await outbox.add(entry({ path: `/api/v1/x/${i}` }));
    const kept = await outbox.list('pupilA1');
    expect(kept).toHaveLength(MAX_ENTRIES_PER_PERSON);
    expect(kept[0]!.path).toBe('/api/v1/x/5');
  });

  it('flush sends due entries once each, with their own key, and stops at the first transient failure', async () => {
    const a = entry({ path: '/a' });
    const b = entry({ path: '/b' });
    const c = entry({ path: '/c' });
    for (const e of [a, b, c]) await outbox.add(e);
    const sent: string[] = [];
    const outcomes: Record<string, SendOutcome> = { '/a': { type: 'delivered' }, '/b': { type: 'transient', retryAfterSeconds: 5 }, '/c': { type: 'delivered' } };
    const report = await flushOutbox(outbox, 'pupilA1', async (e) => (sent.push(e.id), outcomes[e.path]!), () => 50_000, () => 0);
    expect(sent).toEqual([a.id, b.id]);
    expect(report).toEqual({ delivered: 1, failed: 0, nextAttemptAtMs: 55_000 });
    // Not due yet: nothing is sent.
    expect((await flushOutbox(outbox, 'pupilA1', async () => ({ type: 'delivered' }), () => 54_000, () => 0)).delivered).toBe(0);
    // Due: b then c go, b with the same key as before.
    sent.length = 0;
    const second = await flushOutbox(outbox, 'pupilA1', async (e) => (sent.push(e.id), { type: 'delivered' }), () => 55_000, () => 0);
    expect(sent).toEqual([b.id, c.id]);
    expect(second.delivered).toBe(2);
    expect(await outbox.list('pupilA1')).toEqual([]);
  });

  it('a refused entry stays, marked failed with the reason, and is not sent again', async () => {
    await outbox.add(entry());
    await flushOutbox(outbox, 'pupilA1', async () => ({ type: 'refused', error: { id: 'request.invalid', message: 'La requête est invalide.' } }), () => 0, () => 0);
    const [failed] = await outbox.list('pupilA1');
    expect(failed).toMatchObject({ state: 'failed', error: { id: 'request.invalid' } });
    let calls = 0;
    await flushOutbox(outbox, 'pupilA1', async () => (calls++, { type: 'delivered' }), () => 0, () => 0);
    expect(calls).toBe(0);
  });
});
