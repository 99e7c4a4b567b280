import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpApp } from '../http/app.js';
import { createLogger } from '../platform/logger.js';
import { Metrics } from '../platform/metrics.js';
import { networkOf, normaliseAddress } from './address.js';
import { Refusals } from './refusal.js';
import { decideConnection, DEFAULT_SOCKET_LIMITS, isSlowReader, judgeUpload, SocketGuards, type SocketLimits } from './socket-guards.js';

describe('connection and slow-reader policies', () => {
  it('caps connections per address and in total, never the other way round', () => {
    const limits = { maxConnections: 10, maxConnectionsPerAddress: 3 };
    expect(decideConnection(limits, 0, 0)).toEqual({ accept: true });
    expect(decideConnection(limits, 5, 2)).toEqual({ accept: true });
    expect(decideConnection(limits, 5, 3)).toEqual({ accept: false, reason: 'address' });
    expect(decideConnection(limits, 10, 0)).toEqual({ accept: false, reason: 'total' });
  });

  it('cuts a reader only once its response has waited undrained for the whole allowance', () => {
    expect(isSlowReader({ slowReadCutMs: 30_000 }, undefined, 1e9)).toBe(false);
    expect(isSlowReader({ slowReadCutMs: 30_000 }, 1_000, 30_999)).toBe(false);
    expect(isSlowReader({ slowReadCutMs: 30_000 }, 1_000, 31_000)).toBe(true);
  });

  it('lets a slow but steady upload run past the request deadline, cuts a trickle', () => {
    const limits = { requestTimeoutMs: 30_000, uploadMinBytesPerS: 4096, uploadRateWindowMs: 30_000 };
    const p = { startedMs: 0, windowStartMs: 0, windowStartBytes: 0 };
    expect(judgeUpload(limits, p, 10, 29_000)).toBe('keep');
    expect(judgeUpload(limits, p, 30 * 4096, 30_000)).toBe('new-window');
    expect(judgeUpload(limits, p, 30 * 4096 - 1, 30_000)).toBe('cut');
    expect(judgeUpload(limits, { startedMs: 0, windowStartMs: 30_000, windowStartBytes: 0 }, 1, 45_000)).toBe('keep');
  });

  it('keys addresses the same whichever way the socket reported them, and finds their network', () => {
    expect(normaliseAddress('::ffff:127.66.0.7')).toBe('127.66.0.7');
    expect(normaliseAddress(undefined)).toBe('unknown');
    expect(networkOf('203.0.113.77')).toBe('203.0.113.0/24');
    expect(networkOf('2001:db8:abcd:12::1')).toBe('2001:db8:abcd::/48');
    expect(networkOf('2001:db8::1')).toBe('2001:db8:0::/48');
    expect(networkOf('::1')).toBe('0:0:0::/48');
  });
});

/** Short limits so that the cuts happen within a test; the production values are the same code. */
const LIMITS: SocketLimits = {
  ...DEFAULT_SOCKET_LIMITS,
  headersTimeoutMs: 1_000,
  requestTimeoutMs: 2_000,
  uploadMinBytesPerS: 1_000,
  uploadRateWindowMs: 1_000,
  slowReadCutMs: 1_500,
  checkIntervalMs: 250,
  maxConnectionsPerAddress: 3,
  maxHeaderBytes: 4096,
};

/** A response big enough to fill the kernel's buffers on loopback and stay in ours. */
const BIG = Buffer.alloc(48 * 1024 * 1024, 'x');

/** Resolves when the socket is closed by the server; what it received meanwhile comes with it. */
function closed(socket: net.Socket): Promise<string> {
  let received = '';
  socket.on('data', (d: Buffer) => {
    if (received.length < 4096) received += d.toString('latin1');
  });
  return new Promise((resolve) => {
    socket.on('error', () => undefined);
    socket.once('close', () => resolve(received));
  });
}

function connect(port: number, localAddress: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port, localAddress });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

async function get(port: number, localAddress: string, path = '/'): Promise<string> {
  const s = await connect(port, localAddress);
  const done = closed(s);
  s.write(`GET ${path} HTTP/1.1\r\nHost: preau.test\r\nConnection: close\r\n\r\n`);
  return done;
}

describe('socket guards on a real loopback server', () => {
  let app: FastifyInstance;
  let port: number;
  let guards: SocketGuards;
  const metrics = new Metrics();

  beforeAll(async () => {
    guards = new SocketGuards(LIMITS, new Refusals(false), metrics);
    app = createHttpApp(createLogger('silent'), false, undefined, guards.createServer);
    app.get('/', { config: { criticality: 'critical' } }, (_request, reply) => {
      void reply.send({ ok: true });
    });
    app.post('/upload', { config: { criticality: 'normal' } }, (_request, reply) => {
      void reply.send({ ok: true });
    });
    app.get('/big', { config: { criticality: 'sheddable' } }, (_request, reply) => {
      void reply.type('application/octet-stream').send(BIG);
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await app?.close();
  });

  /** A client that sends `head`, then one byte now and then, never finishing; meanwhile another client asks for `/`. */
  async function trickleWhileOtherIsServed(head: string, trickler: string, other: string): Promise<{ trickled: string; served: string }> {
    const slow = await connect(port, trickler);
    const slowClosed = closed(slow);
    slow.write(head);
    const trickle = setInterval(() => slow.writable && slow.write('x'), 200);
    const served = await get(port, other);
    const trickled = await slowClosed;
    clearInterval(trickle);
    return { trickled, served };
  }

  it('cuts a slow-header client while a normal client is served', async () => {
    const r = await trickleWhileOtherIsServed('GET / HTTP/1.1\r\nHost: preau.test\r\nX-Trickle: ', '127.66.0.1', '127.66.0.2');
    expect(r.served).toMatch(/^HTTP\/1\.1 200/);
    expect(r.trickled).toMatch(/^HTTP\/1\.1 408/);
  });

  it('cuts a body that trickles in beyond the request deadline while a normal client is served', async () => {
    const r = await trickleWhileOtherIsServed('POST /upload HTTP/1.1\r\nHost: preau.test\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"a":"', '127.66.0.9', '127.66.0.10');
    expect(r.served).toMatch(/^HTTP\/1\.1 200/);
    expect(r.trickled).toMatch(/^HTTP\/1\.1 408/);
  });

  it('keeps a slow but steady upload past the request deadline', async () => {
    const s = await connect(port, '127.66.0.11');
    const done = closed(s);
    const size = 12_000;
    s.write(`POST /upload HTTP/1.1\r\nHost: preau.test\r\nContent-Type: application/json\r\nContent-Length: ${size}\r\nConnection: close\r\n\r\n{"a":"`);
    let sent = 6;
    // About 2,000 bytes a second (twice the minimum), for longer than the request deadline.
    const timer = setInterval(() => {
      const chunk = Math.min(200, size - 2 - sent);
      if (chunk > 0) {
        s.write('x'.repeat(chunk));
        sent += chunk;
      } else {
        clearInterval(timer);
        s.write('"}');
      }
    }, 100);
    expect(await done).toMatch(/^HTTP\/1\.1 200/);
  });

  it('cuts a slow reader that does not drain its response while a normal client is served', async () => {
    const reader = await connect(port, '127.66.0.3');
    reader.on('error', () => undefined);
    reader.write('GET /big HTTP/1.1\r\nHost: preau.test\r\n\r\n');
    // Read nothing: the kernel buffers fill, then ours. (A paused socket does not see the cut
    // either, so the server's own count says when it happened.)
    reader.pause();
    expect(await get(port, '127.66.0.4')).toMatch(/^HTTP\/1\.1 200/);
    while (metrics.counter('preau_edge_slow_readers_cut_total', '').get() === 0) await new Promise((r) => setTimeout(r, 100));
    let receivedBytes = 0;
    const readerClosed = new Promise<void>((resolve) => reader.once('close', () => resolve()));
    reader.on('data', (d: Buffer) => (receivedBytes += d.length));
    reader.resume();
    await readerClosed;
    expect(receivedBytes).toBeLessThan(BIG.length);
  });

  it('caps connections from one address with a pre-built 503 (catalogue id, French, Retry-After); another address is served', async () => {
    const held = await Promise.all([1, 2, 3].map(() => connect(port, '127.66.0.5')));
    const refused = await get(port, '127.66.0.5');
    expect(refused).toMatch(/^HTTP\/1\.1 503/);
    expect(refused).toMatch(/retry-after: \d+/i);
    expect(refused).toContain('"id":"edge.too_many_connections"');
    expect(refused).toContain('Trop de connexions');
    expect(await get(port, '127.66.0.6')).toMatch(/^HTTP\/1\.1 200/);
    for (const s of held) s.destroy();
  });

  it('refuses oversized headers before any route runs', async () => {
    const res = await new Promise<string>((resolve) => {
      void connect(port, '127.66.0.8').then((s) => {
        const done = closed(s);
        s.write(`GET / HTTP/1.1\r\nHost: preau.test\r\nX-Big: ${'y'.repeat(8192)}\r\n\r\n`);
        void done.then(resolve);
      });
    });
    expect(res).toMatch(/^HTTP\/1\.1 431/);
  });
});
