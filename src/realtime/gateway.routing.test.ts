import { Type } from '@sinclair/typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startTestPreau, type TestPreau } from '../../test/support/app.js';
import { connectAs, listenOnce } from '../../test/support/ws.js';
import { DEFAULT_GATEWAY_LIMITS, INCOMING_MAX_BYTES, takeToken } from './gateway.limits.js';
import { MEDIA_SIGNAL_MAX_BYTES } from '../media/media-engine.js';
import { AppError } from '../platform/errors.js';

describe('route budgets (pure)', () => {
  it('a bucket lets a burst through, refuses past it, refills with time, never above the burst', () => {
    const budget = { perSecond: 2, burst: 3 };
    let bucket = takeToken(budget, undefined, 0);
    expect(bucket.ok).toBe(true);
    bucket = takeToken(budget, bucket.bucket, 0);
    bucket = takeToken(budget, bucket.bucket, 0);
    expect(bucket.ok).toBe(true);
    expect(takeToken(budget, bucket.bucket, 0).ok).toBe(false);
    // Half a second refills one token at 2/s.
    expect(takeToken(budget, bucket.bucket, 500).ok).toBe(true);
    expect(takeToken(budget, bucket.bucket, 100_000).bucket.tokens).toBe(2);
  });

  it('the gateway takes a media signal at its bound in its envelope, and no more', () => {
    expect(DEFAULT_GATEWAY_LIMITS.maxIncomingBytes).toBe(INCOMING_MAX_BYTES);
    expect(INCOMING_MAX_BYTES).toBeGreaterThan(MEDIA_SIGNAL_MAX_BYTES);
    expect(INCOMING_MAX_BYTES).toBeLessThanOrEqual(MEDIA_SIGNAL_MAX_BYTES + 4096);
  });
});

/**
 * Routed messages over a real socket: a test route `echo` (closed schema, 200 bytes, 6 messages of
 * burst) answers `{type:'echo', who, text}` to the sending socket; `boom` throws an unknown error,
 * `nope` a catalogue error. Every refusal is an `{type:'error', id}` and the socket stays usable.
 */
describe('realtime gateway: routed messages', () => {
  let t: TestPreau;
  let base: string;
  beforeAll(async () => {
    t = await startTestPreau('sqlite', {}, { realtime: { maxIncomingBytes: 4096, maxIncomingPerInterval: 40, heartbeatMs: 60_000 } });
    const gw = t.preau.realtime;
    gw.route('echo', {
      schema: Type.Object({ text: Type.String({ maxLength: 50 }) }, { additionalProperties: false }),
      maxBytes: 200,
      budget: { perSecond: 0.001, burst: 6 },
      handle: (ctx, m) => void gw.sendToConnection(ctx.connectionId, JSON.stringify({ type: 'echo', who: ctx.personId, text: m.text })),
    });
    gw.route('boom', { schema: Type.Object({}, { additionalProperties: false }), maxBytes: 100, budget: { perSecond: 10, burst: 10 }, handle: () => Promise.reject(new Error('boom')) });
    gw.route('nope', { schema: Type.Object({}, { additionalProperties: false }), maxBytes: 100, budget: { perSecond: 10, burst: 10 }, handle: () => { throw new AppError('access.forbidden'); } });
    expect(() => gw.route('echo', { schema: Type.Object({}), maxBytes: 10, budget: { perSecond: 1, burst: 1 }, handle: () => {} })).toThrow();
    expect(() => gw.route('Pas-un-type', { schema: Type.Object({}), maxBytes: 10, budget: { perSecond: 1, burst: 1 }, handle: () => {} })).toThrow();
    base = await listenOnce(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('routes by type to the handler with the socket’s person; refuses garbage, unknown types, bad shapes, oversize and over-budget messages with an error id', async () => {
    const c = await connectAs(t, base, 'pupilA1');
    const other = await connectAs(t, base, 'pupilA2');
    c.send({ type: 'echo', text: 'bonjour', ref: 'r1' });
    expect(await c.next((m) => m.type === 'echo')).toEqual({ type: 'echo', who: 'pupilA1', text: 'bonjour' });
    const refusals: [unknown, string][] = [
      ['{pas du json', 'realtime.bad_message'],
      ['[1,2]', 'realtime.bad_message'],
      ['"ping"', 'realtime.bad_message'],
      [{ type: 'inconnu' }, 'realtime.unknown_type'],
      [{ text: 'sans type' }, 'realtime.unknown_type'],
      [{ type: 'echo' }, 'realtime.bad_message'],
      [{ type: 'echo', text: 'x', extra: 1 }, 'realtime.bad_message'],
      [{ type: 'echo', text: 42 }, 'realtime.bad_message'],
      [{ type: 'echo', text: 'x', ref: 'pas un ref !' }, 'realtime.bad_message'],
      [{ type: 'echo', text: 'x'.repeat(300) }, 'realtime.too_large'],
      [{ type: '__proto__' }, 'realtime.unknown_type'],
      [{ type: 'nope', ref: 'r9' }, 'access.forbidden'],
      [{ type: 'boom' }, 'server.internal'],
    ];
    for (const [message, id] of refusals) {
      const before = c.messages.length;
      c.send(message);
      await c.next((m) => c.messages.indexOf(m) >= before && m.type === 'error');
      expect(c.messages.slice(before)).toEqual([expect.objectContaining({ type: 'error', id, message: expect.any(String) })]);
    }
    expect(c.messages.at(-2)).toMatchObject({ id: 'access.forbidden', ref: 'r9', message: 'Vous n’avez pas accès à cette ressource.' });
    // The burst of 6: four used above (refused shapes cost too), two more pass, the next is refused and dropped.
    c.send({ type: 'echo', text: 'deux' });
    c.send({ type: 'echo', text: 'trois' });
    c.send({ type: 'echo', text: 'quatre' });
    await c.next((m) => m.type === 'error' && m.id === 'realtime.rate_limited');
    expect(c.messages.filter((m) => m.type === 'echo').map((m) => m.text)).toEqual(['bonjour', 'deux', 'trois']);
    // The budget is per socket: another person's socket is not affected; the socket still answers pings.
    other.send({ type: 'echo', text: 'moi' });
    expect(await other.next((m) => m.type === 'echo')).toMatchObject({ who: 'pupilA2', text: 'moi' });
    c.send('ping');
    await c.next((m) => m.type === 'pong');
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
    expect(t.preau.metrics.render()).toMatch(/^preau_realtime_bad_messages_total\{reason="schema"\} [1-9]/m);
    c.ws.close();
    other.ws.close();
    await Promise.all([c.closed, other.closed]);
  });

  it('the flood cut still closes a socket that keeps sending past the total per interval (4002)', async () => {
    const c = await connectAs(t, base, 'pupilB1');
    for (let i = 0; i < 60; i++) c.send({ type: 'inconnu' });
    expect(await c.closed).toBe(4002);
  });

  it('a close is told to the modules that listen (with the socket’s id), and a send to a gone socket says so', async () => {
    const closedOnes: string[] = [];
    t.preau.realtime.onClose((personId, connectionId) => {
      if (personId === 'teacherA') closedOnes.push(`${personId}/${connectionId}`);
    });
    const c = await connectAs(t, base, 'teacherA');
    c.send({ type: 'echo', text: 'id ?' });
    await c.next((m) => m.type === 'echo');
    c.ws.close();
    await c.closed;
    await new Promise((r) => setTimeout(r, 50));
    expect(closedOnes).toHaveLength(1);
    expect(closedOnes[0]).toMatch(/^teacherA\/c[0-9a-z]+$/);
    expect(t.preau.realtime.sendToConnection(closedOnes[0]!.split('/')[1]!, '{}')).toBe(false);
  });
});
