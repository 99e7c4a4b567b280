import { afterEach, expect, it } from 'vitest';
import type { PubSub } from './pubsub.js';

/** Waits until `check` passes (delivery is asynchronous on every adapter), bounded. */
export async function eventually(check: () => void, timeoutMs = 2_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      check();
      return;
    } catch (err) {
      if (Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

/** Lets in-flight deliveries land before asserting that something did NOT arrive. */
const settle = () => new Promise((r) => setTimeout(r, 100));

/**
 * The contract every PubSub adapter keeps (memory, Redis): run inside a `describe` per adapter.
 * `make` returns a fresh pub/sub whose channels no other test uses (a prefix per call).
 */
export function pubSubContract(make: () => Promise<{ pubsub: PubSub; prefix: string }>): void {
  const open: PubSub[] = [];
  const fresh = async () => {
    const made = await make();
    open.push(made.pubsub);
    return made;
  };
  afterEach(async () => {
    await Promise.all(open.splice(0).map((p) => p.close()));
  });

  it('delivers a message to every subscriber of its channel, and only of its channel', async () => {
    const { pubsub, prefix } = await fresh();
    const a: string[] = [];
    const a2: string[] = [];
    const b: string[] = [];
    await pubsub.subscribe(`${prefix}a`, (m) => a.push(m));
    await pubsub.subscribe(`${prefix}a`, (m) => a2.push(m));
    await pubsub.subscribe(`${prefix}b`, (m) => b.push(m));
    await pubsub.publish(`${prefix}a`, 'pour a');
    await pubsub.publish(`${prefix}a`, 'encore a');
    await eventually(() => expect([a, a2]).toEqual([['pour a', 'encore a'], ['pour a', 'encore a']]));
    await settle();
    expect(b).toEqual([]);
  });

  it('stops delivering to an unsubscribed handler, and keeps the channel’s other handlers', async () => {
    const { pubsub, prefix } = await fresh();
    const kept: string[] = [];
    const dropped: string[] = [];
    await pubsub.subscribe(`${prefix}c`, (m) => kept.push(m));
    const off = await pubsub.subscribe(`${prefix}c`, (m) => dropped.push(m));
    await off();
    await pubsub.publish(`${prefix}c`, 'après');
    await eventually(() => expect(kept).toEqual(['après']));
    expect(dropped).toEqual([]);
    // The last handler gone, the channel is silent (and can be subscribed again).
    const again: string[] = [];
    await pubsub.subscribe(`${prefix}d`, (m) => again.push(m));
    await pubsub.publish(`${prefix}d`, 'x');
    await eventually(() => expect(again).toEqual(['x']));
  });

  it('a handler that throws does not stop the others', async () => {
    const { pubsub, prefix } = await fresh();
    const got: string[] = [];
    await pubsub.subscribe(`${prefix}e`, () => {
      throw new Error('boom');
    });
    await pubsub.subscribe(`${prefix}e`, (m) => got.push(m));
    await pubsub.publish(`${prefix}e`, 'ok');
    await eventually(() => expect(got).toEqual(['ok']));
  });

  it('says how many nodes listen: one with subscribers (however many handlers), none without', async () => {
    const { pubsub, prefix } = await fresh();
    await pubsub.subscribe(`${prefix}h`, () => {});
    await pubsub.subscribe(`${prefix}h`, () => {});
    expect(await pubsub.publish(`${prefix}h`, 'x')).toBe(1);
    expect(await pubsub.publish(`${prefix}nobody`, 'x')).toBe(0);
  });

  it('keeps message text intact (unicode, JSON)', async () => {
    const { pubsub, prefix } = await fresh();
    const got: string[] = [];
    await pubsub.subscribe(`${prefix}f`, (m) => got.push(m));
    const text = JSON.stringify({ type: 'notification', title: 'Élève : « rédaction » ✓' });
    await pubsub.publish(`${prefix}f`, text);
    await eventually(() => expect(got).toEqual([text]));
  });

  it('after close, nothing is delivered', async () => {
    const { pubsub, prefix } = await fresh();
    const got: string[] = [];
    await pubsub.subscribe(`${prefix}g`, (m) => got.push(m));
    await pubsub.close();
    await pubsub.publish(`${prefix}g`, 'trop tard').catch(() => undefined);
    await settle();
    expect(got).toEqual([]);
  });
}
