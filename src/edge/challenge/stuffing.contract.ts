import { expect, it } from 'vitest';
import type { StuffingCounters } from './stuffing.js';

/** 2026-09-07 08:00 UTC, a minute boundary. */
const T0 = Date.UTC(2026, 8, 7, 8, 0, 0);

/** The contract every StuffingCounters adapter keeps (memory, Redis); `make` gives fresh counters (window: 10 minutes). */
export function stuffingCountersContract(make: () => Promise<StuffingCounters>): void {
  it('sums the window’s minutes: attempts, failures, known-bad passwords, distinct failed accounts and addresses', async () => {
    const c = await make();
    await c.record(T0, { account: 'a', address: '10.0.0.1', success: false, knownBadPassword: true });
    await c.record(T0 + 1_000, { account: 'b', address: '10.0.0.1', success: false, knownBadPassword: false });
    await c.record(T0 + 61_000, { account: 'a', address: '10.0.0.2', success: false, knownBadPassword: false });
    // A success counts as an attempt, never as a failed account or address.
    await c.record(T0 + 62_000, { account: 'z', address: '10.0.0.9', success: true, knownBadPassword: true });
    expect(await c.summary(T0 + 120_000)).toEqual({ attempts: 4, failures: 3, knownBad: 2, distinctFailedAccounts: 2, distinctFailedAddresses: 2 });
  });

  it('forgets minutes older than the window', async () => {
    const c = await make();
    await c.record(T0, { account: 'old', address: '10.0.0.1', success: false, knownBadPassword: false });
    await c.record(T0 + 10 * 60_000, { account: 'new', address: '10.0.0.2', success: false, knownBadPassword: false });
    expect(await c.summary(T0 + 10 * 60_000)).toEqual({ attempts: 1, failures: 1, knownBad: 0, distinctFailedAccounts: 1, distinctFailedAddresses: 1 });
  });

  it('an empty window sums to zero', async () => {
    const c = await make();
    expect(await c.summary(T0)).toEqual({ attempts: 0, failures: 0, knownBad: 0, distinctFailedAccounts: 0, distinctFailedAddresses: 0 });
  });
}
