import { expect, it } from 'vitest';
import type { FailureStore } from './login-throttle.js';

/** The contract every FailureStore adapter keeps (memory, Redis); `make` gives an empty store. */
export function failureStoreContract(make: () => Promise<FailureStore>): void {
  const now = Date.now();

  it('counts failures within the window, keeping the first and last instants; keys apart', async () => {
    const s = await make();
    expect(await s.get('k')).toBeUndefined();
    expect(await s.add('k', now, 60_000)).toEqual({ count: 1, firstMs: now, lastMs: now });
    expect(await s.add('k', now + 10, 60_000)).toEqual({ count: 2, firstMs: now, lastMs: now + 10 });
    expect(await s.get('k')).toEqual({ count: 2, firstMs: now, lastMs: now + 10 });
    expect(await s.get('other')).toBeUndefined();
  });

  it('a failure after a quiet window starts again from one', async () => {
    const s = await make();
    await s.add('k', now, 60_000);
    expect(await s.add('k', now + 60_000, 60_000)).toEqual({ count: 1, firstMs: now + 60_000, lastMs: now + 60_000 });
  });

  it('reset forgets a key', async () => {
    const s = await make();
    await s.add('k', now, 60_000);
    await s.reset('k');
    expect(await s.get('k')).toBeUndefined();
  });
}
