import { request, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPreau, type TestPreau } from '../../../test/support/app.js';
import { addPupils, FIXTURE_PASSWORD } from '../../../test/support/fixtures.js';
import { SEARCH_RATE_COST } from '../../modules/messaging/index.js';
import { MemoryBucketStore } from './bucket-store.js';
import { DEFAULT_RATE_LIMITS } from './rate-limit.js';
import { takeTokens, type BucketPolicy } from './token-bucket.js';

const P: BucketPolicy = { name: 'test', ratePerS: 10, burst: 20 };

describe('token bucket', () => {
  it('starts full, spends by cost, refills at its rate, never above its burst', () => {
    let o = takeTokens(P, undefined, 0, 5);
    expect(o).toMatchObject({ allowed: true, remaining: 15 });
    o = takeTokens(P, o.state, 0, 15);
    expect(o).toMatchObject({ allowed: true, remaining: 0 });
    o = takeTokens(P, o.state, 0, 1);
    expect(o.allowed).toBe(false);
    expect(o.retryAfterMs).toBe(100);
    o = takeTokens(P, o.state, 500, 1);
    expect(o).toMatchObject({ allowed: true, remaining: 4 });
    o = takeTokens(P, o.state, 1_000_000, 0);
    expect(o.remaining).toBe(20);
  });

  it('caps a cost above the burst (slow, never impossible) and ignores negative costs', () => {
    const o = takeTokens(P, undefined, 0, 1_000);
    expect(o).toMatchObject({ allowed: true, remaining: 0 });
    expect(takeTokens(P, o.state, 0, -50)).toMatchObject({ allowed: true, remaining: 0 });
  });

  it('a clock going backwards refills nothing', () => {
    const spent = takeTokens(P, undefined, 10_000, 20);
    expect(takeTokens(P, spent.state, 0, 1).allowed).toBe(false);
  });

  it('the memory store stays within its bound, forgetting the oldest buckets (fails open for them)', () => {
    const store = new MemoryBucketStore(3);
    store.take('a', P, 20, 0);
    expect(store.take('a', P, 1, 0).allowed).toBe(false);
    for (const k of ['b', 'c', 'd']) store.take(k, P, 1, 0);
    expect(store.size()).toBe(3);
    // 'a' (emptied, oldest) was forgotten: it starts full again.
    expect(store.take('a', P, 20, 0).allowed).toBe(true);
  });
});

describe('rate limits on the composed app (sqlite)', () => {
  let t: TestPreau;
  const NAT = '10.20.30.40';
  const pupils: string[] = [];

  beforeAll(async () => {
    // Room for 300 logins at once: the waiting room is not what this suite tests.
    t = await startTestPreau('sqlite', {}, { waitingRoom: { maxLoginsInFlight: 1_000 } });
    pupils.push(...(await addPupils(t.preau.storage.db, t.clock, 300, 'nat.pupil')));
  });
  afterAll(async () => {
    await t?.close();
  });

  it('300 pupils behind one school address sign in and read their day without being throttled as one', async () => {
    const cookies: string[] = [];
    for (let i = 0; i < pupils.length; i += 50) {
      cookies.push(...(await Promise.all(pupils.slice(i, i + 50).map(async (login) => {
        const res = await t.preau.app.inject({ method: 'POST', url: '/api/v1/auth/login', remoteAddress: NAT, payload: { login, password: FIXTURE_PASSWORD } });
        expect(res.statusCode, res.body).toBe(200);
        const c = res.cookies.find((x) => x.name === 'preau_session')!;
        return `${c.name}=${c.value}`;
      }))));
    }
    // 900 reads from one address: beyond any per-address budget, but each pupil reads three times.
    // (50 at a time: this is about rate limits, not about admission's handling of a burst.)
    const statuses: number[] = [];
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < cookies.length; i += 50) {
        const answers = await Promise.all(cookies.slice(i, i + 50).map((cookie) => t.preau.app.inject({ method: 'GET', url: '/api/v1/me/today', remoteAddress: NAT, headers: { cookie } })));
        statuses.push(...answers.map((r) => r.statusCode));
      }
    }
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
  });

  it('a flood from one address is limited (429, French, Retry-After, RateLimit headers) while another address is served', async () => {
    const flood = '198.51.100.7';
    let first429;
    for (let i = 0; i < 2_000 && !first429; i++) {
      const res = await t.preau.app.inject({ method: 'GET', url: '/api/v1/me', remoteAddress: flood });
      if (res.statusCode === 429) first429 = res;
      else expect(res.statusCode).toBe(401);
    }
    expect(first429).toBeDefined();
    expect(first429!.json().error).toMatchObject({ id: 'edge.rate_limited', message: expect.stringMatching(/^Trop de demandes/) });
    expect(Number(first429!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(first429!.headers['ratelimit-policy']).toMatch(/^"address";q=\d+;w=\d+$/);
    expect(first429!.headers['ratelimit']).toMatch(/^"address";r=0;t=\d+$/);
    // Another address (not in the same /24) is untouched.
    expect((await t.preau.app.inject({ method: 'GET', url: '/api/v1/me', remoteAddress: '203.0.113.9' })).statusCode).toBe(401);
    // A signed-in pupil at the flooding address is counted as an account, not as the address.
    const res = await t.preau.app.inject({ method: 'POST', url: '/api/v1/auth/login', remoteAddress: '203.0.113.10', payload: { login: 'pupila2', password: FIXTURE_PASSWORD } });
    const c = res.cookies.find((x) => x.name === 'preau_session')!;
    expect((await t.preau.app.inject({ method: 'GET', url: '/api/v1/me/today', remoteAddress: flood, headers: { cookie: `${c.name}=${c.value}` } })).statusCode).toBe(200);
  });

  it('one account flooding is limited as an account; another account at the same address is not', async () => {
    const pupil = await t.as('pupilA1');
    let refused;
    for (let i = 0; i < 1_000 && !refused; i++) {
      const r = await pupil.request({ method: 'GET', url: '/api/v1/me', remoteAddress: NAT });
      if (r.statusCode === 429) refused = r;
    }
    expect(refused?.headers['ratelimit-policy']).toMatch(/^"account"/);
    expect((await (await t.as('pupilB1')).request({ method: 'GET', url: '/api/v1/me', remoteAddress: NAT })).statusCode).toBe(200);
  });

  it('a costly route spends the account’s budget faster: a mail search costs 5, so 40 fit in a burst, the 41st is refused', async () => {
    const parent = await t.as('parentB1');
    const statuses: number[] = [];
    for (let i = 0; i < 41; i++) statuses.push((await parent.request({ method: 'GET', url: '/api/v1/messages/search?q=sortie', remoteAddress: NAT })).statusCode);
    expect(DEFAULT_RATE_LIMITS.account.burst / SEARCH_RATE_COST).toBe(40);
    expect(statuses.slice(0, 40).every((s) => s === 200)).toBe(true);
    expect(statuses[40]).toBe(429);
  });

  it('invented session cookies are counted per address; once over budget only known sessions pass from there', async () => {
    const bad = '192.0.2.50';
    let refused;
    for (let i = 0; i < 1_000 && !refused; i++) {
      const r = await t.preau.app.inject({ method: 'GET', url: '/api/v1/me', remoteAddress: bad, headers: { cookie: `preau_session=invented${i}` } });
      if (r.statusCode === 429) refused = r;
      else expect(r.statusCode).toBe(401);
    }
    expect(refused?.json().error.id).toBe('edge.rate_limited');
    const teacher = await t.as('teacherA');
    expect((await teacher.request({ method: 'GET', url: '/api/v1/me', remoteAddress: bad })).statusCode).toBe(200);
  });

  it('once an address has spent its budget, its anonymous requests are refused before routing until a token is back; sessions and other addresses are not', async () => {
    await t.preau.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = t.preau.app.server.address() as AddressInfo;
    const get = (from: string, headers: Record<string, string> = {}) =>
      new Promise<{ status: number; headers: IncomingHttpHeaders; body: string }>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: '/api/v1/me', localAddress: from, agent: false, headers }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
        });
        req.on('error', reject);
        req.end();
      });
    const before = () => Number(/^preau_edge_refused_before_routing_total (\d+)$/m.exec(t.preau.metrics.render())?.[1] ?? 'NaN');
    const flood = '127.77.0.1';
    let status = 0;
    for (let i = 0; i < 2_000 && status !== 429; i++) status = (await get(flood)).status;
    expect(status).toBe(429);
    const counted = before();
    // The clock does not move: the address stays boxed, and the next refusals never reach the router.
    for (let i = 0; i < 5; i++) {
      const r = await get(flood, { 'accept-language': 'en-GB' });
      expect(r.status).toBe(429);
      expect(JSON.parse(r.body).error).toMatchObject({ id: 'edge.rate_limited', message: expect.stringMatching(/^Too many/) });
      expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(r.headers['ratelimit-policy']).toMatch(/^"address";q=\d+;w=\d+$/);
      expect(r.headers['ratelimit']).toMatch(/^"address";r=0;t=\d+$/);
      expect(r.headers['content-security-policy']).toBeDefined();
    }
    expect(before()).toBe(counted + 5);
    // A signed-in pupil behind the same address is an account: never boxed.
    const res = await t.preau.app.inject({ method: 'POST', url: '/api/v1/auth/login', remoteAddress: '203.0.113.11', payload: { login: t.fx.people.pupilOther.login, password: FIXTURE_PASSWORD } });
    expect(res.statusCode, res.body).toBe(200);
    const c = res.cookies.find((x) => x.name === 'preau_session')!;
    expect((await get(flood, { cookie: `${c.name}=${c.value}` })).status).toBe(200);
    // Another network is untouched.
    expect((await get('127.78.0.1')).status).toBe(401);
    // Once a token is back, the address goes through the router again (and is judged by its bucket there).
    t.clock.advance(60_000);
    expect((await get(flood)).status).toBe(401);
    expect(before()).toBe(counted + 5);
  });
});
