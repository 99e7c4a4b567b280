import net, { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startTestPreau, type TestPreau } from '../../test/support/app.js';
import { FIXTURE_PASSWORD } from '../../test/support/fixtures.js';

const ORIGIN = 'http://preau.test';

/** Opens a connection that sends a request's headers and the first half of its body, then waits. */
function startSlowLogin(port: number, body: string): Promise<{ finish(): void; answer: Promise<string> }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let text = '';
    const answer = new Promise<string>((done) => {
      socket.on('data', (d: Buffer) => (text += d.toString()));
      socket.on('close', () => done(text));
    });
    socket.on('error', reject);
    socket.once('connect', () => {
      const half = Math.floor(body.length / 2);
      socket.write(`POST /api/v1/auth/login HTTP/1.1\r\nHost: preau.test\r\nOrigin: ${ORIGIN}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body.slice(0, half)}`);
      resolve({ finish: () => socket.write(body.slice(half)), answer });
    });
  });
}

/**
 * What SIGTERM runs (main.ts calls preau.close()): readiness turns 503 while the node still serves
 * (the load balancer's checks see it first), WebSockets are told to reconnect elsewhere after a
 * jittered delay, the listener closes, and a request already in flight still completes.
 */
describe('graceful stop', () => {
  let t: TestPreau;
  let port: number;
  let stopped = false;
  beforeAll(async () => {
    t = await startTestPreau('sqlite', { drainDelayMs: 400, shutdownGraceMs: 10_000 });
    await t.preau.app.listen({ host: '127.0.0.1', port: 0 });
    port = (t.preau.app.server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    if (!stopped) await t.close();
  });

  it('readiness first, then the hint to WebSockets, then no new connections; the request in flight completes', async () => {
    const login = await t.preau.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { login: t.fx.people.pupilA1.login, password: FIXTURE_PASSWORD } });
    const cookie = login.cookies.find((c) => c.name.endsWith('preau_session'))!;
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/v1/realtime`, { headers: { cookie: `${cookie.name}=${cookie.value}` }, origin: ORIGIN });
    const wsClosed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);

    const inFlight = await startSlowLogin(port, JSON.stringify({ login: t.fx.people.teacherA.login, password: FIXTURE_PASSWORD }));
    stopped = true;
    const stopping = t.close();
    // Draining: not ready, yet still serving (a request the balancer sent before it noticed is answered).
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'draining' });
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    // The socket is closed only after the drain delay: readiness went first.
    expect(ws.readyState).toBe(WebSocket.OPEN);

    const closedWs = await wsClosed;
    expect(closedWs.code).toBe(1012);
    expect(closedWs.reason).toMatch(/^reconnect=\d+$/);

    // The listener closes: a new connection is refused.
    await expect.poll(() => new Promise<string>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port });
      s.once('connect', () => (s.destroy(), resolve('accepted')));
      s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    }), { timeout: 5_000 }).toBe('ECONNREFUSED');

    // The request begun before the stop gets its whole body now, and its answer.
    inFlight.finish();
    const answer = await inFlight.answer;
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(answer).toContain('"csrfToken"');
    await stopping;
  });
});
