import { expect, it } from 'vitest';
import type { SharedBuckets } from './shared-buckets.js';
import type { BucketPolicy } from './token-bucket.js';

/** Slow enough that no token comes back during a test (Redis refills on its own clock). */
const SLOW: BucketPolicy = { name: 'slow', ratePerS: 0.001, burst: 3 };

/**
 * The contract every SharedBuckets adapter keeps (memory, Redis): run inside a `describe` per
 * adapter. `make` returns a store and a key prefix no other test uses.
 */
export function sharedBucketsContract(make: () => Promise<{ buckets: SharedBuckets; key: (k: string) => string }>): void {
  it('pays charges up to the burst, then refuses without spending', async () => {
    const { buckets, key } = await make();
    const k = key('a');
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push((await buckets.take([{ key: k, policy: SLOW, cost: 1 }]))![0]!);
    expect(answers.map((a) => a.allowed)).toEqual([true, true, true, false, false]);
    expect(answers[2]!.tokens).toBeCloseTo(0, 2);
    expect(answers[4]!.tokens).toBeLessThan(1);
  });

  it('keeps keys apart, and answers several charges of one call in order', async () => {
    const { buckets, key } = await make();
    const out = await buckets.take([
      { key: key('x'), policy: SLOW, cost: 3 },
      { key: key('y'), policy: SLOW, cost: 1 },
      { key: key('x'), policy: SLOW, cost: 1 },
    ]);
    expect(out!.map((a) => a.allowed)).toEqual([true, true, false]);
    expect(out![1]!.tokens).toBeCloseTo(2, 2);
  });

  it('caps a cost above the burst (slow, not impossible) and a zero cost spends nothing', async () => {
    const { buckets, key } = await make();
    const [big] = (await buckets.take([{ key: key('big'), policy: SLOW, cost: 50 }]))!;
    expect(big!.allowed).toBe(true);
    const [zero] = (await buckets.take([{ key: key('zero'), policy: SLOW, cost: 0 }]))!;
    expect(zero).toMatchObject({ allowed: true });
    expect(zero!.tokens).toBeCloseTo(3, 2);
  });

  it('refills at the policy’s rate', async () => {
    const { buckets, key } = await make();
    const fast: BucketPolicy = { name: 'fast', ratePerS: 40, burst: 2 };
    const k = key('r');
    await buckets.take([{ key: k, policy: fast, cost: 2 }]);
    expect((await buckets.take([{ key: k, policy: fast, cost: 1 }]))![0]!.allowed).toBe(false);
    await new Promise((r) => setTimeout(r, 120));
    expect((await buckets.take([{ key: k, policy: fast, cost: 1 }]))![0]!.allowed).toBe(true);
  });

  it('is atomic: concurrent charges never pay more than the burst', async () => {
    const { buckets, key } = await make();
    const k = key('race');
    const policy: BucketPolicy = { name: 'race', ratePerS: 0.001, burst: 10 };
    const answers = await Promise.all(Array.from({ length: 25 }, () => buckets.take([{ key: k, policy, cost: 1 }])));
    expect(answers.filter((a) => a![0]!.allowed)).toHaveLength(10);
  });
}
