import { expect, it } from 'vitest';
import type { Lane } from './fair-queue.js';
import type { RoomLine, RoomLineSettings } from './room-line.js';

export const CONTRACT_LINE_SETTINGS: RoomLineSettings = { maxWaiting: 8, abandonAfterMs: 60_000, admittedTtlMs: 120_000 };

/** The contract every RoomLine adapter keeps (memory, Redis); `make` gives an empty line with CONTRACT_LINE_SETTINGS. */
export function roomLineContract(make: () => Promise<RoomLine>): void {
  const now = Date.now();
  const exp = now + 45 * 60_000;
  const push = (line: RoomLine, id: string, lane: Lane = 'other', school = 's1', at = now) => line.push({ id, lane, school, nowMs: at, expiresAtMs: exp });

  it('first come, first served within a school; positions say so; a higher lane goes first', async () => {
    const line = await make();
    for (const id of ['a', 'b', 'c']) expect(await push(line, id)).toBe(true);
    expect(await line.look('c', now)).toEqual({ state: 'waiting', position: 3 });
    expect(await push(line, 'teacher', 'staff_soon')).toBe(true);
    expect(await line.look('teacher', now)).toEqual({ state: 'waiting', position: 1 });
    expect(await line.look('a', now)).toEqual({ state: 'waiting', position: 2 });
    expect(await line.size()).toBe(4);
    expect((await line.admit(2, now)).admitted).toEqual(['teacher', 'a']);
    expect((await line.admit(5, now)).admitted).toEqual(['b', 'c']);
    expect(await line.size()).toBe(0);
  });

  it('a small school is not put behind a large one: their tickets interleave, each in its own order', async () => {
    const line = await make();
    for (const id of ['big1', 'big2', 'big3', 'big4', 'big5']) await push(line, id, 'other', 'lycee');
    for (const id of ['small1', 'small2']) await push(line, id, 'other', 'ecole');
    const order = (await line.admit(7, now)).admitted;
    expect(order.slice(0, 4).sort()).toEqual(['big1', 'big2', 'small1', 'small2']);
    expect(order.filter((id) => id.startsWith('big'))).toEqual(['big1', 'big2', 'big3', 'big4', 'big5']);
    expect(order.indexOf('small1')).toBeLessThan(order.indexOf('small2'));
  });

  it('an admitted ticket is spent once: the second claim finds it used', async () => {
    const line = await make();
    await push(line, 'a');
    expect(await line.claim('a', now, exp)).toEqual({ state: 'waiting', position: 1 });
    await line.admit(1, now);
    expect(await line.look('a', now)).toEqual({ state: 'admitted' });
    expect(await line.claim('a', now, exp)).toEqual({ state: 'admitted' });
    expect(await line.claim('a', now, exp)).toEqual({ state: 'used' });
    expect(await line.look('nobody', now)).toEqual({ state: 'unknown' });
    // Spent by this same line's owner: nothing to learn from elsewhere (the Redis line reports it once).
    const elsewhere = await line.spentElsewhere();
    expect(elsewhere.length <= 1 && elsewhere.every((id) => id === 'a')).toBe(true);
    expect(await line.spentElsewhere()).toEqual([]);
  });

  it('concurrent claims of one admitted ticket: exactly one spends it', async () => {
    const line = await make();
    await push(line, 'a');
    await line.admit(1, now);
    const claims = await Promise.all(Array.from({ length: 6 }, () => line.claim('a', now, exp)));
    expect(claims.filter((c) => c.state === 'admitted')).toHaveLength(1);
    expect(claims.filter((c) => c.state === 'used')).toHaveLength(5);
  });

  it('is bounded: beyond maxWaiting, full', async () => {
    const line = await make();
    for (let i = 0; i < CONTRACT_LINE_SETTINGS.maxWaiting; i++) expect(await push(line, `t${i}`)).toBe(true);
    expect(await push(line, 'one-more')).toBe(false);
  });

  it('a ticket not looked at for longer than abandonAfterMs is dropped at its turn', async () => {
    const line = await make();
    await push(line, 'left', 'other', 's1', now - 2 * CONTRACT_LINE_SETTINGS.abandonAfterMs);
    await push(line, 'stayed');
    expect(await line.admit(1, now)).toEqual({ admitted: ['stayed'], abandoned: 1 });
  });
}
