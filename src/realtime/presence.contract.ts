import { expect, it } from 'vitest';
import type { PresenceStore } from './presence.js';

/** The contract every PresenceStore adapter keeps (memory, Redis); `make` gives an empty store and a prefix for person ids. */
export function presenceContract(make: () => Promise<PresenceStore>): void {
  it('a person announced by a node is online until that node leaves them', async () => {
    const p = await make();
    await p.announce('node-a', ['alice', 'bob'], 60_000);
    expect(await p.online(['alice', 'bob', 'carol'])).toEqual(new Set(['alice', 'bob']));
    await p.leave('node-a', 'alice');
    expect(await p.online(['alice', 'bob'])).toEqual(new Set(['bob']));
  });

  it('a person connected on two nodes stays online when one of them leaves them', async () => {
    const p = await make();
    await p.announce('node-a', ['alice'], 60_000);
    await p.announce('node-b', ['alice'], 60_000);
    await p.leave('node-a', 'alice');
    expect(await p.online(['alice'])).toEqual(new Set(['alice']));
  });

  it('a node that stops renewing (it died) drops its people after the ttl; a live node’s renewal keeps them', async () => {
    const p = await make();
    await p.announce('dead', ['alice'], 150);
    await p.announce('alive', ['bob'], 150);
    await new Promise((r) => setTimeout(r, 100));
    await p.announce('alive', ['bob'], 150);
    await new Promise((r) => setTimeout(r, 100));
    expect(await p.online(['alice', 'bob'])).toEqual(new Set(['bob']));
  });

  it('nobody asked, nobody answered', async () => {
    const p = await make();
    expect(await p.online([])).toEqual(new Set());
  });
}
