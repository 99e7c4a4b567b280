import { beforeAll, describe, expect, it } from 'vitest';
import type { Preau } from '../src/compose.js';
import { startTestPreau, twoNodesSharingRedis, uniqueRedisPrefix } from './support/app.js';
import { addPupils, FIXTURE_PASSWORD } from './support/fixtures.js';
import { parseSwitches, solveChallenge } from '../src/edge/index.js';
import { eventually } from '../src/realtime/pubsub.contract.js';
import { REDIS_URL, redisAvailable, startOwnRedis } from './support/redis.js';

/** Slow refill: nothing comes back during a test. */
const TIGHT = { address: { name: 'address', ratePerS: 0.01, burst: 5 } };
const fromAddress = (remoteAddress: string) => ({ method: 'GET' as const, url: '/api/v1/status', remoteAddress });

/**
 * Scaled mode: two Préau nodes over one database and one Redis (a key prefix of this suite's own).
 * The edge's state is shared; each node falls back to its own when Redis is away.
 */
describe.runIf(await redisAvailable())('two nodes sharing the edge’s state through Redis', () => {
  const nodes = twoNodesSharingRedis(REDIS_URL, { rateLimits: TIGHT });

  it('a rate limit spent on node 1 is refused on node 2 (after at most one request there)', async () => {
    const { a, b } = nodes;
    for (let i = 0; i < 5; i++) expect((await a.preau.app.inject(fromAddress('127.20.0.1'))).statusCode).toBe(200);
    // Node 1's charges reach Redis within a few ms (they are gathered every 5 ms, then sent).
    await new Promise((r) => setTimeout(r, 100));
    // Node 2 has never seen this address: its first request may pass (charged to Redis, which says empty)…
    const first = await b.app.inject(fromAddress('127.20.0.1'));
    expect([200, 429]).toContain(first.statusCode);
    await new Promise((r) => setTimeout(r, 100));
    // …and then it is refused there, with the shared bucket's wait.
    const res = await b.app.inject(fromAddress('127.20.0.1'));
    expect(res.statusCode).toBe(429);
    expect(res.json()).toMatchObject({ error: { id: 'edge.rate_limited' } });
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(60);
    // Another address is served on both nodes.
    expect((await b.app.inject(fromAddress('127.21.0.1'))).statusCode).toBe(200);
  });

  it('/readyz says Redis is fine as a detail', async () => {
    const { b } = nodes;
    const res = await b.app.inject({ method: 'GET', url: '/readyz' });
    expect(res.json()).toEqual({ status: 'ready', redis: 'ok' });
  });
});

describe.runIf(await redisAvailable())('the waiting room across two nodes sharing Redis', () => {
  let crowd: string[];
  const UA = 'Mozilla/5.0 (test)';
  // Two logins at once per node; the rooms' timers never fire by themselves: the test admits with tick().
  const edge = { waitingRoom: { maxLoginsInFlight: 2, tickMs: 1_000_000_000 }, challenge: { mode: 'off' as const } };
  const nodes = twoNodesSharingRedis(REDIS_URL, edge);
  beforeAll(async () => {
    crowd = await addPupils(nodes.a.preau.storage.db, nodes.a.clock, 10, 'foule');
  });

  const login = (node: Preau, name: string, address: string, ticket?: string) =>
    node.app.inject({ method: 'POST', url: '/api/v1/auth/login', remoteAddress: address, headers: { 'user-agent': UA, ...(ticket ? { cookie: `preau_ticket=${ticket}` } : {}) }, payload: { login: name, password: FIXTURE_PASSWORD } });
  const status = (node: Preau, address: string, ticket: string) => node.app.inject({ method: 'GET', url: '/api/v1/waiting-room', remoteAddress: address, headers: { 'user-agent': UA, cookie: `preau_ticket=${ticket}` } });

  it('tickets issued by node 1 are admitted in their order by both nodes, honoured on node 2, and spent once', async () => {
    const { a, b } = nodes;
    const burst = crowd.map((name, i) => ({ name, address: `10.8.${i}.1` }));
    const answers = await Promise.all(burst.map((x) => login(a.preau, x.name, x.address)));
    expect(answers.filter((r) => r.statusCode === 200)).toHaveLength(2);
    const tickets = burst
      .map((x, i) => ({ ...x, r: answers[i]! }))
      .filter(({ r }) => r.statusCode === 503)
      .map(({ name, address, r }) => ({ name, address, ticket: r.json().error.details.ticket as string, position: r.json().error.details.position as number }))
      .sort((x, y) => x.position - y.position);
    expect(tickets.map((x) => x.position)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    // Node 2 sees the same line: the same positions.
    expect((await status(b, tickets[7]!.address, tickets[7]!.ticket)).json()).toMatchObject({ state: 'waiting', position: 8 });

    const admitted: number[] = [];
    let replayed = false;
    for (let round = 0; round < 20 && admitted.length < tickets.length; round++) {
      // The nodes take turns admitting (each by its own capacity); every visitor signs in on the other node.
      const [admitter, other] = round % 2 === 0 ? [a.preau, b] : [b, a.preau];
      await admitter.edge!.waitingRoom.tick();
      for (const x of tickets) {
        if (admitted.includes(x.position)) continue;
        if ((await status(other, x.address, x.ticket)).json().state !== 'admitted') continue;
        const res = await login(other, x.name, x.address, x.ticket);
        expect(res.statusCode, res.body).toBe(200);
        admitted.push(x.position);
        // The same ticket again, on the node that admitted it, while others still wait: spent.
        if (!replayed && admitted.length < tickets.length - 2) {
          const again = await login(admitter, x.name, x.address, x.ticket);
          expect(again.json().error).toMatchObject({ id: 'waiting.ticket_used' });
          replayed = true;
        }
      }
    }
    expect(replayed).toBe(true);
    expect(admitted).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    // Every ticket was spent on the node that did not admit it: at their next tick, the admitting
    // nodes stop reserving capacity for them (the test's clock never moves: no hold expires by time).
    await a.preau.edge!.waitingRoom.tick();
    await b.edge!.waitingRoom.tick();
    expect(a.preau.metrics.render()).toContain('preau_waiting_room_admitted_unclaimed 0');
    expect(b.metrics.render()).toContain('preau_waiting_room_admitted_unclaimed 0');
  });
});

describe.runIf(await redisAvailable())('proof-of-work solutions across two nodes sharing Redis', () => {
  const edge = { challenge: { mode: 'always' as const, bits: 8 } };
  const nodes = twoNodesSharingRedis(REDIS_URL, edge);

  it('a solution spent on node 1 is refused on node 2', async () => {
    const { a, b } = nodes;
    const login = (node: Preau, headers: Record<string, string> = {}) =>
      node.app.inject({ method: 'POST', url: '/api/v1/auth/login', remoteAddress: '10.6.0.1', headers: { 'user-agent': 'Mozilla/5.0 (test)', ...headers }, payload: { login: a.fx.people.pupilA1.login, password: FIXTURE_PASSWORD } });
    const asked = await login(a.preau);
    expect(asked.json().error.id).toBe('challenge.required');
    const { challenge, bits } = asked.json().error.details as { challenge: string; bits: number };
    const proof = { 'x-preau-challenge': challenge, 'x-preau-nonce': solveChallenge(challenge, bits) };
    expect((await login(a.preau, proof)).statusCode).toBe(200);
    const replay = await login(b, proof);
    expect(replay.statusCode).toBe(409);
    expect(replay.json().error.id).toBe('challenge.used');
  });
});

describe.runIf(await redisAvailable())('the operator’s switches across two nodes sharing Redis', () => {
  const nodes = twoNodesSharingRedis(REDIS_URL);

  it('a switch set on node 1 is followed by node 2 at its next read', async () => {
    const { a, b } = nodes;
    const admin = await a.as('platformAdmin');
    const put = await admin.request({ method: 'PUT', url: '/api/v1/admin/edge', payload: { challengeMode: 'always', challengeBits: 12, franceNetworks: ['203.0.113.0/24'] } });
    expect(put.statusCode, put.body).toBe(200);
    expect(b.edge!.challenge.settings).toMatchObject({ mode: 'auto' });
    // The timer reads every 2 s; the test reads at once.
    await b.edge!.switches!.poll();
    expect(b.edge!.challenge.settings).toMatchObject({ mode: 'always', bits: 12 });
    expect([...b.edge!.controls.franceNetworks]).toEqual([...a.preau.edge!.controls.franceNetworks]);
  });
});

describe('parseSwitches (a stored value is taken only if it is exactly the switches)', () => {
  it('refuses what is not', () => {
    const ok = { crisisMode: false, challengeMode: 'auto', challengeBits: 16, franceNetworks: ['203.0.113.0'] };
    expect(parseSwitches(JSON.stringify(ok))).toEqual(ok);
    for (const bad of ['{', 'null', JSON.stringify({ ...ok, challengeMode: 'never' }), JSON.stringify({ ...ok, crisisMode: 'yes' }), JSON.stringify({ ...ok, franceNetworks: [1] }), JSON.stringify({ ...ok, challengeBits: '16' })]) {
      expect(parseSwitches(bad)).toBeUndefined();
    }
  });
});

describe('a node whose Redis goes away keeps serving with per-node state', () => {
  it('Redis unreachable from the start: the node boots, is ready (degraded), and applies local limits', async () => {
    const t = await startTestPreau('sqlite', { redisUrl: 'redis://127.0.0.1:1', redisPrefix: uniqueRedisPrefix() }, { rateLimits: TIGHT });
    try {
      const ready = await t.anonymous.request({ method: 'GET', url: '/readyz' });
      expect([ready.statusCode, ready.json()]).toEqual([200, { status: 'ready', redis: 'degraded' }]);
      const codes = [];
      for (let i = 0; i < 7; i++) codes.push((await t.preau.app.inject(fromAddress('127.22.0.1'))).statusCode);
      expect(codes).toEqual([200, 200, 200, 200, 200, 429, 429]);
      // A write that notifies (through the pub/sub that cannot publish) still succeeds.
      const parent = await t.as('parentA1');
      const sent = await parent.request({ method: 'POST', url: '/api/v1/messages', payload: { to: [{ kind: 'person', id: 'teacherA' }], subject: 'Sans Redis', bodyHtml: '<p>x</p>' } });
      expect(sent.statusCode, sent.body).toBe(201);
    } finally {
      await t.close();
    }
  });

  it('Redis stopped while serving: requests keep being served under local limits, readiness stays 200', async () => {
    const own = await startOwnRedis();
    if (!own) return;
    const t = await startTestPreau('sqlite', { redisUrl: own.url, redisPrefix: uniqueRedisPrefix() }, { rateLimits: TIGHT, edgeRedis: { timeoutMs: 50, breaker: { failuresToOpen: 1, openMs: 60_000 } } });
    try {
      expect((await t.preau.app.inject(fromAddress('127.23.0.1'))).statusCode).toBe(200);
      await own.stop();
      const codes = [];
      for (let i = 0; i < 6; i++) {
        codes.push((await t.preau.app.inject(fromAddress('127.23.0.1'))).statusCode);
        // Lets the background charge find Redis gone.
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(codes).toEqual([200, 200, 200, 200, 429, 429]);
      expect(t.preau.metrics.render()).toContain('preau_redis_degraded 1');
      await eventually(() => expect(t.preau.edgeRedis?.health()).toBe('degraded'));
      const ready = await t.anonymous.request({ method: 'GET', url: '/readyz' });
      expect([ready.statusCode, ready.json()]).toEqual([200, { status: 'ready', redis: 'degraded' }]);
      // Signed-in reads still work.
      const pupil = await t.as('pupilA1');
      expect((await pupil.request({ method: 'GET', url: '/api/v1/me/today' })).statusCode).toBe(200);
    } finally {
      await t.close();
      await own.stop();
    }
  });
  it('Redis stopped: the waiting room falls back to the node’s own line and capacity', async () => {
    const own = await startOwnRedis();
    if (!own) return;
    const t = await startTestPreau('sqlite', { redisUrl: own.url, redisPrefix: uniqueRedisPrefix() }, { waitingRoom: { maxLoginsInFlight: 2, tickMs: 1_000_000_000 }, challenge: { mode: 'off' }, edgeRedis: { timeoutMs: 50, breaker: { failuresToOpen: 1, openMs: 60_000 } } });
    try {
      const crowd = await addPupils(t.preau.storage.db, t.clock, 5, 'repli');
      await own.stop();
      const UA = 'Mozilla/5.0 (test)';
      const login = (name: string, address: string, ticket?: string) =>
        t.preau.app.inject({ method: 'POST', url: '/api/v1/auth/login', remoteAddress: address, headers: { 'user-agent': UA, ...(ticket ? { cookie: `preau_ticket=${ticket}` } : {}) }, payload: { login: name, password: FIXTURE_PASSWORD } });
      const answers = await Promise.all(crowd.map((name, i) => login(name, `10.7.${i}.1`)));
      expect(answers.map((r) => r.statusCode).sort()).toEqual([200, 200, 503, 503, 503]);
      const first = crowd.map((name, i) => ({ name, address: `10.7.${i}.1`, r: answers[i]! })).find((x) => x.r.json().error?.details?.position === 1)!;
      await t.preau.edge!.waitingRoom.tick();
      const res = await login(first.name, first.address, first.r.json().error.details.ticket);
      expect(res.statusCode, res.body).toBe(200);
      expect(t.preau.edgeRedis?.health()).toBe('degraded');
    } finally {
      await t.close();
      await own.stop();
    }
  });
});
