import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDIS_URL, redisAvailable } from '../../test/support/redis.js';
import { WebSocket } from 'ws';
import { startTestPreau, twoNodesSharingRedis, type TestPreau } from '../../test/support/app.js';
import type { PersonKey } from '../../test/support/fixtures.js';
import { FIXTURE_PASSWORD } from '../../test/support/fixtures.js';
import { eventually } from './pubsub.contract.js';
import { CLOSE, personChannel } from './gateway.js';
import { decideAdmit, canQueue, restartHintMs, RESTART_HINT_MAX_WINDOW_MS, RESTART_HINT_MIN_WINDOW_MS } from './gateway.limits.js';

const ORIGIN = 'http://preau.test';

describe('gateway limits (pure)', () => {
  it('a person at their cap gets in by closing their oldest; the node’s cap refuses the rest', () => {
    const limits = { maxConnections: 10, maxConnectionsPerPerson: 2 };
    expect(decideAdmit(limits, 0, 0)).toEqual({ accept: true, evictOldest: 0 });
    expect(decideAdmit(limits, 5, 2)).toEqual({ accept: true, evictOldest: 1 });
    expect(decideAdmit(limits, 10, 0)).toEqual({ accept: false });
    expect(decideAdmit(limits, 10, 2)).toEqual({ accept: true, evictOldest: 1 });
    expect(canQueue({ maxBufferedBytes: 100 }, 90, 10)).toBe(true);
    expect(canQueue({ maxBufferedBytes: 100 }, 91, 10)).toBe(false);
  });

  it('spreads reconnections after a stop: a jittered hint, over a window that widens with the sockets closing, capped', () => {
    expect(restartHintMs(1, () => 0)).toBe(500);
    expect(restartHintMs(1, () => 1)).toBe(RESTART_HINT_MIN_WINDOW_MS);
    expect(restartHintMs(20_000, () => 1)).toBe(20_000);
    expect(restartHintMs(1_000_000, () => 1)).toBe(RESTART_HINT_MAX_WINDOW_MS);
    expect(restartHintMs(1, () => 7)).toBe(RESTART_HINT_MIN_WINDOW_MS);
    let seed = 7;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const hints = new Set(Array.from({ length: 100 }, () => Math.floor(restartHintMs(10_000, random) / 250)));
    // 100 sockets over a 10 s window: they land in many different quarter-seconds, not in one.
    expect(hints.size).toBeGreaterThan(25);
  });
});

/**
 * The realtime gateway with real sockets: a listening Préau (socket guards and the edge on), `ws`
 * clients, and raw TCP clients for the misbehaving ones (one that never reads, one that never
 * answers pings). Limits are shrunk so each bound is reached quickly.
 */
describe('realtime gateway over real sockets', () => {
  let t: TestPreau;
  let base: string;
  const open: { close(): void }[] = [];
  beforeAll(async () => {
    t = await startTestPreau('sqlite', {}, { realtime: { maxConnectionsPerPerson: 2, maxConnections: 6, maxIncomingBytes: 64, maxBufferedBytes: 16 * 1024, heartbeatMs: 300, revalidateMs: 0 } });
    await t.preau.app.listen({ host: '127.0.0.1', port: 0 });
    const address = t.preau.app.server.address() as net.AddressInfo;
    base = `127.0.0.1:${address.port}`;
  });
  afterAll(async () => {
    for (const s of open) s.close();
    if (t && !closed) await t.close();
  });
  let closed = false;

  const cookies = new Map<PersonKey, string>();
  const csrfOf = new Map<PersonKey, string>();
  async function cookieOf(who: PersonKey): Promise<string> {
    const cached = cookies.get(who);
    if (cached) return cached;
    const res = await t.preau.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { login: t.fx.people[who].login, password: FIXTURE_PASSWORD } });
    const c = res.cookies.find((x) => x.name.endsWith('preau_session'))!;
    cookies.set(who, `${c.name}=${c.value}`);
    csrfOf.set(who, res.json<{ csrfToken: string }>().csrfToken);
    return cookies.get(who)!;
  }

  interface Live {
    ws: WebSocket;
    messages: { type: string; [k: string]: unknown }[];
    closed: Promise<number>;
    reason: Promise<string>;
  }
  async function connect(who: PersonKey | null, origin: string | undefined = ORIGIN): Promise<Live> {
    const headers: Record<string, string> = who ? { cookie: await cookieOf(who) } : {};
    const ws = new WebSocket(`ws://${base}/api/v1/realtime`, { headers, ...(origin ? { origin } : {}) });
    open.push(ws);
    const messages: Live['messages'] = [];
    ws.on('message', (data) => messages.push(JSON.parse(String(data))));
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    const reason = new Promise<string>((resolve) => ws.on('close', (_code, why) => resolve(why.toString())));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      ws.once('error', reject);
    });
    return { ws, messages, closed, reason };
  }

  /** A raw TCP client that completes the handshake, then behaves as told (never reads, or never pongs). */
  async function rawClient(who: PersonKey, mode: 'never-read' | 'never-pong'): Promise<{ socket: net.Socket; closed: Promise<void> }> {
    const [host, port] = base.split(':') as [string, string];
    const socket = net.connect({ host, port: Number(port) });
    open.push({ close: () => socket.destroy() });
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.on('error', () => {});
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(
      `GET /api/v1/realtime HTTP/1.1\r\nHost: ${base}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n` +
        `Sec-WebSocket-Version: 13\r\nOrigin: ${ORIGIN}\r\nCookie: ${await cookieOf(who)}\r\n\r\n`,
    );
    await new Promise<void>((resolve) => {
      socket.once('data', (chunk) => {
        expect(chunk.toString('latin1')).toMatch(/^HTTP\/1\.1 101/);
        resolve();
      });
    });
    if (mode === 'never-read') socket.pause();
    else socket.on('data', () => {});
    return { socket, closed };
  }

  const counter = (name: string, reason: string) => t.preau.metrics.render().split('\n').find((l) => l.startsWith(`${name}{reason="${reason}"}`));

  it('refuses without a session (401), from another site’s page (403), and answers a plain GET with 426', async () => {
    await expect(connect(null)).rejects.toThrow('HTTP 401');
    await expect(connect('pupilA1', 'https://evil.example')).rejects.toThrow('HTTP 403');
    const plain = await t.preau.app.inject({ method: 'GET', url: '/api/v1/realtime', headers: { cookie: await cookieOf('pupilA1') } });
    expect(plain.statusCode).toBe(426);
    expect(plain.json().error.id).toBe('realtime.upgrade_required');
    expect(t.preau.realtime.connections()).toBe(0);
  });

  it('delivers a person’s notifications and unread count to them, never to anyone else; answers pings', async () => {
    const pupil = await connect('pupilA1');
    const other = await connect('pupilA2');
    const parent = await connect('parentB1');
    await t.preau.notifications.notify({ kind: 'work.posted', schoolId: 'schoolA', recipientIds: ['pupilA1'], actorId: 'teacherA', title: 'Rédaction', link: '/cahier-de-textes?travail=w1', subjectId: 'w1' });
    await eventually(() => expect(pupil.messages.map((m) => m.type)).toEqual(['notification', 'unread']));
    expect(pupil.messages[0]).toMatchObject({ notification: { kind: 'work.posted', title: 'Rédaction', link: '/cahier-de-textes?travail=w1', read: false } });
    expect(pupil.messages[1]).toMatchObject({ count: 1 });
    pupil.ws.send('ping');
    await eventually(() => expect(pupil.messages.at(-1)).toEqual({ type: 'pong' }));
    // Let several heartbeats pass: healthy clients (ws answers pings) stay; the others got nothing.
    await new Promise((r) => setTimeout(r, 1000));
    expect([pupil.ws.readyState, other.ws.readyState]).toEqual([WebSocket.OPEN, WebSocket.OPEN]);
    expect(other.messages).toEqual([]);
    expect(parent.messages).toEqual([]);
    for (const c of [pupil, other, parent]) c.ws.close();
    await Promise.all([pupil.closed, other.closed, parent.closed]);
  });

  it('per-person cap: the oldest socket is closed (4001); the node’s cap refuses with 503', async () => {
    const first = await connect('teacherA');
    const second = await connect('teacherA');
    const third = await connect('teacherA');
    expect(await first.closed).toBe(CLOSE.replaced);
    await eventually(() => expect(t.preau.realtime.connections('teacherA')).toBe(2));
    const more = [await connect('teacherB'), await connect('teacherB'), await connect('cpeA'), await connect('cpeA')];
    expect(t.preau.realtime.connections()).toBe(6);
    await expect(connect('directionA')).rejects.toThrow('HTTP 503');
    // Open sockets hold no admission slot (a socket lasts hours; a request slot must not).
    await eventually(() => expect(t.preau.metrics.render()).toMatch(/^preau_edge_inflight 0$/m));
    for (const c of [second, third, ...more]) c.ws.close();
    await eventually(() => expect(t.preau.realtime.connections()).toBe(0));
  });

  it('an oversize incoming message closes the socket (1009)', async () => {
    const c = await connect('pupilB1');
    c.ws.send('x'.repeat(1000));
    expect(await c.closed).toBe(1009);
    await eventually(() => expect(t.preau.realtime.connections('pupilB1')).toBe(0));
  });

  it('backpressure: a client that does not read is dropped, never buffered without limit', async () => {
    const raw = await rawClient('parentA1', 'never-read');
    await eventually(() => expect(t.preau.realtime.connections('parentA1')).toBe(1));
    const big = JSON.stringify({ type: 'unread', padding: 'x'.repeat(64 * 1024) });
    for (let i = 0; i < 1000 && t.preau.realtime.connections('parentA1') > 0; i++) {
      await t.preau.pubsub.publish(personChannel('parentA1'), big);
      await new Promise((r) => setImmediate(r));
    }
    await eventually(() => expect(t.preau.realtime.connections('parentA1')).toBe(0));
    expect(counter('preau_realtime_drops_total', 'backpressure')).toBeDefined();
    await raw.closed;
  });

  it('heartbeat: a client that never answers pings is dropped as dead', async () => {
    const raw = await rawClient('teacherOther', 'never-pong');
    await eventually(() => expect(t.preau.realtime.connections('teacherOther')).toBe(1));
    await raw.closed;
    await eventually(() => expect(t.preau.realtime.connections('teacherOther')).toBe(0));
    expect(counter('preau_realtime_drops_total', 'dead')).toBeDefined();
  });

  it('a logout elsewhere closes the socket of that session (4003); another session of the person stays', async () => {
    const c = await connect('pupilOther');
    const other = await t.preau.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { login: t.fx.people.pupilOther.login, password: FIXTURE_PASSWORD } });
    const oc = other.cookies.find((x) => x.name.endsWith('preau_session'))!;
    const kept = new WebSocket(`ws://${base}/api/v1/realtime`, { headers: { cookie: `${oc.name}=${oc.value}` }, origin: ORIGIN });
    open.push(kept);
    await new Promise<void>((resolve) => kept.once('open', () => resolve()));
    const login = await t.preau.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: { cookie: await cookieOf('pupilOther'), origin: ORIGIN, 'x-csrf-token': csrfOf.get('pupilOther')! } });
    expect(login.statusCode, login.body).toBeLessThan(300);
    expect(await c.closed).toBe(CLOSE.signedOut);
    await new Promise((r) => setTimeout(r, 700));
    expect(kept.readyState).toBe(WebSocket.OPEN);
    kept.close();
    await eventually(() => expect(t.preau.realtime.connections()).toBe(0));
  });

  it('shows in /metrics, and a server stop tells clients "service restart" (1012) with a reconnect delay', async () => {
    const c = await connect('directionA');
    const metrics = await t.preau.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/^preau_realtime_connections 1$/m);
    expect(metrics.body).toMatch(/^preau_realtime_messages_sent_total \d+$/m);
    closed = true;
    await t.close();
    expect(await c.closed).toBe(CLOSE.restart);
    const hint = /^reconnect=(\d+)$/.exec(await c.reason);
    expect(hint, await c.reason).not.toBeNull();
    expect(Number(hint![1])).toBeGreaterThanOrEqual(500);
    expect(Number(hint![1])).toBeLessThanOrEqual(RESTART_HINT_MIN_WINDOW_MS);
  });
});

/**
 * Scaled mode: two nodes over one database and one Redis. The teacher's socket is on node A; the
 * parent's message is written through node B; node A pushes it (the pub/sub went through Redis).
 */
describe.runIf(await redisAvailable())('realtime across two nodes through Redis', () => {
  const nodes = twoNodesSharingRedis(REDIS_URL, {}, true);

  it('a message written on node B is pushed to the recipient’s socket on node A', async () => {
    const { a, b } = nodes;
    const login = await a.preau.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { login: a.fx.people.teacherA.login, password: FIXTURE_PASSWORD } });
    const c = login.cookies.find((x) => x.name.endsWith('preau_session'))!;
    const port = (a.preau.app.server.address() as net.AddressInfo).port;
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/v1/realtime`, { headers: { cookie: `${c.name}=${c.value}` }, origin: ORIGIN });
    const got: { type: string; notification?: { title: string } }[] = [];
    ws.on('message', (d) => got.push(JSON.parse(String(d))));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    await eventually(() => expect(a.preau.realtime.connections('teacherA')).toBe(1));
    // The subscription reaches Redis asynchronously: write once it is certainly there.
    await new Promise((r) => setTimeout(r, 200));
    const parent = await b.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { login: a.fx.people.parentA1.login, password: FIXTURE_PASSWORD } });
    const pc = parent.cookies.find((x) => x.name.endsWith('preau_session'))!;
    const sent = await b.app.inject({
      method: 'POST', url: '/api/v1/messages', headers: { cookie: `${pc.name}=${pc.value}`, 'x-csrf-token': parent.json().csrfToken },
      payload: { to: [{ kind: 'person', id: 'teacherA' }], subject: 'Par Redis', bodyHtml: '<p>x</p>' },
    });
    expect(sent.statusCode, sent.body).toBe(201);
    await eventually(() => expect(got.find((m) => m.type === 'notification')?.notification?.title).toBe('Par Redis'));
    // Presence is shared too: node B knows the teacher is connected (on node A), and when no more.
    expect(await b.realtime.online(['teacherA', 'parentA1'])).toEqual(new Set(['teacherA']));
    ws.close();
    await eventually(() => expect(a.preau.realtime.connections('teacherA')).toBe(0));
    // The departure reaches Redis asynchronously.
    let left = await b.realtime.online(['teacherA']);
    for (let i = 0; i < 50 && left.size > 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
      left = await b.realtime.online(['teacherA']);
    }
    expect(left).toEqual(new Set());
  });
});
