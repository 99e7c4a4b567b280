import { expect, it } from 'vitest';
import type { SpentIds } from './spent-ids.js';

/** The contract every SpentIds adapter keeps (memory, Redis); `make` gives an empty store. */
export function spentIdsContract(make: () => Promise<SpentIds>): void {
  const now = Date.now();
  it('the first spend wins, every later one is a replay; other ids are untouched', async () => {
    const s = await make();
    expect(await s.spend('a', now + 60_000, now)).toBe(true);
    expect(await s.spend('a', now + 60_000, now)).toBe(false);
    expect(await s.spend('b', now + 60_000, now)).toBe(true);
  });

  it('concurrent spends of one id: exactly one wins', async () => {
    const s = await make();
    const wins = await Promise.all(Array.from({ length: 8 }, () => s.spend('race', now + 60_000, now)));
    expect(wins.filter(Boolean)).toHaveLength(1);
  });

  it('an id is forgotten once its token has expired', async () => {
    const s = await make();
    expect(await s.spend('short', Date.now() + 50, Date.now())).toBe(true);
    await new Promise((r) => setTimeout(r, 120));
    expect(await s.spend('short', Date.now() + 50, Date.now())).toBe(true);
  });
}
