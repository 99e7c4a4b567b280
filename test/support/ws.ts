import type net from 'node:net';
import { WebSocket } from 'ws';
import { eventually } from '../../src/realtime/pubsub.contract.js';
import type { TestPreau } from './app.js';
import { FIXTURE_PASSWORD, type PersonKey } from './fixtures.js';

export const WS_ORIGIN = 'http://preau.test';

/** A signed-in WebSocket client of the realtime gateway, keeping every JSON message it receives. */
export interface LiveSocket {
  ws: WebSocket;
  messages: Record<string, unknown>[];
  closed: Promise<number>;
  send(message: unknown): void;
  /** Waits until a received message matches, and returns it (messages before it stay in `messages`). */
  next(match: (m: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
}

/** Listens `t` on a free loopback port (once) and returns `host:port`. */
export async function listenOnce(t: TestPreau): Promise<string> {
  if (!t.preau.app.server.listening) await t.preau.app.listen({ host: '127.0.0.1', port: 0 });
  return `127.0.0.1:${(t.preau.app.server.address() as net.AddressInfo).port}`;
}

/** Signs this fixture person in (a session of its own) and opens a realtime socket with its cookie. */
export async function connectAs(t: TestPreau, base: string, who: PersonKey): Promise<LiveSocket> {
  const res = await t.preau.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { login: t.fx.people[who].login, password: FIXTURE_PASSWORD } });
  const c = res.cookies.find((x) => x.name.endsWith('preau_session'));
  if (!c) throw new Error(`login ${who}: ${res.statusCode}`);
  const ws = new WebSocket(`ws://${base}/api/v1/realtime`, { headers: { cookie: `${c.name}=${c.value}` }, origin: WS_ORIGIN });
  const messages: Record<string, unknown>[] = [];
  ws.on('message', (data) => messages.push(JSON.parse(String(data)) as Record<string, unknown>));
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, r) => reject(new Error(`HTTP ${r.statusCode}`)));
    ws.once('error', reject);
  });
  return {
    ws, messages, closed,
    send: (message) => ws.send(typeof message === 'string' ? message : JSON.stringify(message)),
    async next(match) {
      let found: Record<string, unknown> | undefined;
      await eventually(() => {
        found = messages.find(match);
        if (!found) throw new Error(`pas encore reçu ; reçus : ${JSON.stringify(messages.slice(-5)).slice(0, 800)}`);
      }, 5_000);
      return found!;
    },
  };
}
