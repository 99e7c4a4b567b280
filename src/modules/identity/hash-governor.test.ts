import { describe, expect, it, vi } from 'vitest';
import { Metrics } from '../../platform/metrics.js';
import { DEFAULT_HASH_GOVERNOR, HashBudget, nextHashShare } from './hash-governor.js';
import { PasswordHasher } from './password-hasher.js';

const S = DEFAULT_HASH_GOVERNOR;

describe('nextHashShare (reads before new password checks on a saturated node)', () => {
  it('yields multiplicatively while the loop is saturated, down to the floor and never below', () => {
    let share = 1;
    const seen: number[] = [];
    for (let i = 0; i < 20; i++) seen.push((share = nextHashShare(S, share, 0.97)));
    expect(seen[0]).toBeCloseTo(0.7);
    expect(seen[1]).toBeCloseTo(0.49);
    expect(Math.min(...seen)).toBe(S.minShare);
    expect(seen.at(-1)).toBe(S.minShare);
  });

  it('gives the share back additively when the loop has room, up to 1 exactly', () => {
    let share = S.minShare;
    for (let i = 0; i < 30; i++) share = nextHashShare(S, share, 0.2);
    expect(share).toBe(1);
    expect(nextHashShare(S, 0.5, 0.2)).toBeCloseTo(0.6);
  });

  it('does not move between the two thresholds (hysteresis), nor on a sample that is not a number', () => {
    expect(nextHashShare(S, 0.49, 0.8)).toBe(0.49);
    expect(nextHashShare(S, 1, 0.8)).toBe(1);
    expect(nextHashShare(S, 0.3, Number.NaN)).toBe(0.3);
  });
});

describe('HashBudget', () => {
  it('never binds at share 1: the thread count does', () => {
    const b = new HashBudget(2, 200, 0);
    b.spend(10_000, 0);
    expect(b.canStart(0)).toBe(true);
    expect(b.threadsAllowed()).toBe(2);
  });

  it('at a share below 1, allows share × threads ms of hashing per ms of wall time after the burst', () => {
    const b = new HashBudget(2, 200, 0);
    b.setShare(0.25, 0); // 0.5 ms of hashing per ms
    expect(b.threadsAllowed()).toBe(1);
    b.spend(200, 0); // the burst is spent
    expect(b.canStart(0)).toBe(true); // balance 0: one more may start
    b.spend(50, 0);
    expect(b.canStart(0)).toBe(false);
    expect(b.waitMs(0)).toBe(100); // 50 ms of debt at 0.5 ms/ms
    expect(b.canStart(99)).toBe(false);
    expect(b.canStart(100)).toBe(true);
  });

  it('caps what an idle spell buys at the burst', () => {
    const b = new HashBudget(1, 200, 0);
    b.setShare(0.5, 0);
    b.spend(200, 0);
    // An hour idle refills 200 ms, not 1,800,000.
    b.spend(201, 3_600_000);
    expect(b.canStart(3_600_000)).toBe(false);
  });

  it('keeps one thread even at the smallest share, and scales the threads with the share', () => {
    const b = new HashBudget(8, 200, 0);
    b.setShare(0.01, 0);
    expect(b.threadsAllowed()).toBe(1);
    b.setShare(0.5, 0);
    expect(b.threadsAllowed()).toBe(4);
  });
});

describe('PasswordHasher under the governor', () => {
  it('holds checks while its budget is spent, completes every one once time has refilled it, and says so in concurrency()', async () => {
    let monotonic = 0;
    const h = new PasswordHasher({ concurrency: 2, maxQueued: 100, maxWaitMs: 60_000 }, { nowMs: () => 0 }, new Metrics(), undefined, () => monotonic);
    const stored = await h.hash('Cartable-Bleu');
    h.setShare(0.1);
    expect(h.concurrency()).toBe(1);
    expect(h.share()).toBe(0.1);
    const checks = Array.from({ length: 40 }, () => h.verify(stored, 'Cartable-Bleu'));
    // Time stands still: once the 200 ms burst is spent, the rest waits for the budget.
    await vi.waitFor(() => expect(h.waitingForBudget()).toBe(true), { timeout: 20_000 });
    const doneWhileFrozen = h.completed();
    // …and stays waiting: its retry timer fires (at most every second) but finds the budget still spent.
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    expect(h.completed()).toBe(doneWhileFrozen);
    expect(h.queued()).toBe(40 - (doneWhileFrozen - 1));
    // Time passes (an hour of monotonic time refills the burst at each step) and everything completes.
    const ticking = setInterval(() => (monotonic += 3_600_000), 5);
    try {
      expect(await Promise.all(checks)).toEqual(Array(40).fill(true));
    } finally {
      clearInterval(ticking);
    }
    expect(h.queued()).toBe(0);
    h.setShare(1);
    expect(h.concurrency()).toBe(2);
  });

  it('starts no sampler without a governor, and stops cleanly with one', () => {
    const off = new PasswordHasher({ concurrency: 1, maxQueued: 1, maxWaitMs: 1000 }, { nowMs: () => 0 }, new Metrics());
    off.start();
    expect(off.share()).toBe(1);
    off.stop();
    const on = new PasswordHasher({ concurrency: 1, maxQueued: 1, maxWaitMs: 1000 }, { nowMs: () => 0 }, new Metrics(), S);
    on.start();
    on.stop();
    expect(on.share()).toBe(1);
  });
});
