import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPreau, type TestPreau } from '../../test/support/app.js';
import { FIXTURE_PASSWORD } from '../../test/support/fixtures.js';
import { leadingZeroBits } from '../../src/edge/challenge/proof-of-work.js';
import { createHash } from 'node:crypto';
import http from 'node:http';
import { call, isOk, MAX_RETRIES, MAX_WRITE_RETRIES, jsonOf, newClient, reasonOf, signIn, solveInSlices, type Answer, type Client, type ClientContext } from './client.js';

/** The drill's client against a real, listening Préau whose edge is under pressure. */
describe('the drill client signs in as the web client does', () => {
  let t: TestPreau;
  let port: number;
  const seen: { kind: string; address: string; reason: string }[] = [];
  let waiting = 0;
  let maxWaiting = 0;
  const ctx = (): ClientContext => ({
    origin: new URL(`http://127.0.0.1:${port}`),
    bindLocal: true,
    random: () => 0.5,
    record: (c: Client, kind: string, _startedMs: number, a: Answer) => seen.push({ kind, address: c.person.address, reason: isOk(a) ? 'ok' : reasonOf(a) }),
    stopping: () => false,
    waiting: (d) => {
      waiting += d;
      maxWaiting = Math.max(maxWaiting, waiting);
    },
  });

  beforeAll(async () => {
    t = await startTestPreau('sqlite', {}, { waitingRoom: { pollBaseMs: 1_000, pollSpreadMs: 100 } });
    await t.preau.app.listen({ host: '127.0.0.1', port: 0 });
    port = (t.preau.app.server.address() as { port: number }).port;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('solves the challenge, waits its turn in the waiting room, then signs in and uses its session', async () => {
    const edge = t.preau.edge!;
    edge.challenge.setMode('always');
    edge.challenge.setBits(8);
    const room = edge.waitingRoom;
    const capacity = room.settings.maxLoginsInFlight;
    room.settings.maxLoginsInFlight = 0;
    // Capacity comes back while the client waits.
    const reopen = setTimeout(() => (room.settings.maxLoginsInFlight = capacity), 1_500);
    try {
      const client = newClient({ login: 'pupila1', address: '127.66.3.7', activationCode: null });
      const outcome = await signIn(ctx(), client, 'password', FIXTURE_PASSWORD);
      expect(outcome).toMatchObject({ ok: true, queued: true, challenged: true });
      expect(outcome.waitedMs).toBeGreaterThan(900);
      expect(outcome.solveMs).toBeGreaterThan(0);
      expect(waiting).toBe(0);
      expect(maxWaiting).toBe(1);
      const reasons = seen.map((s) => `${s.kind}:${s.reason}`);
      expect(reasons[0]).toBe('login:challenge.required');
      expect(reasons).toContain('login:waiting.queued');
      expect(reasons).toContain('attente:ok');
      expect(reasons.at(-1)).toBe('login:ok');
      // Every request left from the client's own loopback address.
      expect(new Set(seen.map((s) => s.address))).toEqual(new Set(['127.66.3.7']));

      const me = await call(ctx(), client, 'me', 'GET', '/api/v1/me');
      expect(me.status).toBe(200);
      expect((jsonOf(me).user as { login: string }).login).toBe('pupila1');
      client.agent.destroy();
    } finally {
      clearTimeout(reopen);
      room.settings.maxLoginsInFlight = capacity;
      edge.challenge.setMode('auto');
    }
  });

  it('gives up on a wrong password at once (no retry loop), and activates a first-time account with its code', async () => {
    const wrong = newClient({ login: 'pupila2', address: '127.66.3.8', activationCode: null });
    seen.length = 0;
    expect(await signIn(ctx(), wrong, 'password', 'pas-le-bon-mot-de-passe')).toEqual({ ok: false, queued: false, challenged: false, waitedMs: 0, solveMs: 0 });
    expect(seen.map((s) => s.reason)).toEqual(['auth.invalid_credentials']);
    wrong.agent.destroy();

    const person = await t.preau.storage.db.selectFrom('people').selectAll().where('id', '=', 'pupilB1').executeTakeFirstOrThrow();
    const [issued] = await t.preau.identity.issueActivationCodes('teacherA', [person], { reset: true });
    const first = newClient({ login: person.login, address: '127.66.3.9', activationCode: issued!.code });
    expect(await signIn(ctx(), first, 'activation', 'Nouveau-Cartable-2026')).toEqual({ ok: true, queued: false, challenged: false, waitedMs: 0, solveMs: 0 });
    expect((await call(ctx(), first, 'me', 'GET', '/api/v1/me')).status).toBe(200);
    first.agent.destroy();
  });

  it('solves challenges in slices, so one solve never blocks the other clients', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const nonce = await solveInSlices('jeton-de-test', 16);
    clearInterval(timer);
    expect(leadingZeroBits(createHash('sha256').update(`jeton-de-test:${nonce}`).digest())).toBeGreaterThanOrEqual(16);
    // ~65,000 hashes: the event loop ran timers in between.
    expect(ticks).toBeGreaterThan(2);
    // Solves queue in arrival order: the first asked is the first done.
    const done: string[] = [];
    await Promise.all(['a', 'b', 'c'].map((t) => solveInSlices(`jeton-${t}`, 12).then(() => done.push(t))));
    expect(done).toEqual(['a', 'b', 'c']);
  });
});

describe('the drill client retries a write as the outbox does, a read as a person does', () => {
  it('keeps a hand-in through a restart longer than a reader’s patience, and gives a read up after MAX_RETRIES', async () => {
    // A server that is "restarting": it fails the first N requests of each path, then answers.
    const failuresBefore = MAX_RETRIES + 2;
    const seenBy = new Map<string, number>();
    const server = http.createServer((req, res) => {
      const n = (seenBy.get(req.url!) ?? 0) + 1;
      seenBy.set(req.url!, n);
      req.resume();
      if (n <= failuresBefore) return void res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":{"id":"server.unavailable"}}');
      res.writeHead(req.method === 'POST' ? 201 : 200, { 'content-type': 'application/json' }).end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const ctx: ClientContext = {
        origin: new URL(`http://127.0.0.1:${(server.address() as { port: number }).port}`), bindLocal: false, random: () => 0,
        record: () => undefined, stopping: () => false, waiting: () => undefined, backoff: { baseMs: 1, maxMs: 5, maxRetryAfterMs: 5, retryAfterSpread: 0 },
      };
      const client = newClient({ login: 'x', address: '127.0.0.1', activationCode: null });
      const read = await call(ctx, client, 'lecture', 'GET', '/read');
      expect(read.status).toBe(503);
      expect(seenBy.get('/read')).toBe(MAX_RETRIES + 1);
      const write = await call(ctx, client, 'rendu', 'POST', '/write', {}, Buffer.from('copie'));
      expect(write.status).toBe(201);
      expect(seenBy.get('/write')).toBe(failuresBefore + 1);
      expect(MAX_WRITE_RETRIES).toBeGreaterThan(failuresBefore);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
