import { describe, expect, it } from 'vitest';
import { AppError } from '../../platform/errors.js';
import { createLogger } from '../../platform/logger.js';
import { eventually } from '../../realtime/pubsub.contract.js';
import { MemoryPubSub, type PubSub } from '../../realtime/index.js';
import { RoomRelay, type RelayCall, type RelaySettings } from './room.relay.js';
import type { ClassroomMessage } from './classroom.schema.js';

/**
 * The relay between two nodes on one pub/sub (memory here; the Redis path is test/classroom-nodes.test.ts):
 * edge node E holds the sockets, host node H the room.
 */
const FAST: RelaySettings = { publishTimeoutMs: 100, answerTimeoutMs: 150, checkMs: 1_000_000, maxAgeMs: 30_000, maxWaiting: 10 };
const KEY = RoomRelay.keyFrom('secret partagé');
const logger = createLogger('silent');

class Sockets {
  readonly sent: { conn: string; msg: Record<string, unknown> }[] = [];
  readonly open = new Set<string>(['c1', 'c2']);
  sendToConnection(conn: string, message: string): boolean {
    if (!this.open.has(conn)) return false;
    this.sent.push({ conn, msg: JSON.parse(message) as Record<string, unknown> });
    return true;
  }
  hasConnection(conn: string): boolean {
    return this.open.has(conn);
  }
  readonly restarted: string[] = [];
  restartConnections(conns: readonly string[]): void {
    this.restarted.push(...conns);
  }
}

function pair(pubsub: PubSub = new MemoryPubSub(), edgeKey = KEY) {
  const edgeSockets = new Sockets();
  const relayed: { ctx: { personId: string; connectionId: string }; m: ClassroomMessage }[] = [];
  const calls: { personId: string; roomId: string; call: RelayCall }[] = [];
  const gone: string[] = [];
  let failWith: unknown;
  const host = new RoomRelay(pubsub, 'rn:', 'host:1', KEY, new Sockets(), logger, FAST);
  const edge = new RoomRelay(pubsub, 'rn:', 'edge:2', edgeKey, edgeSockets, logger, FAST);
  host.start({
    onRelayed: async (ctx, m) => {
      if (failWith) throw failWith;
      relayed.push({ ctx, m });
    },
    onCall: async (personId, roomId, call) => {
      if (failWith) throw failWith;
      calls.push({ personId, roomId, call });
    },
    disconnected: (conn) => gone.push(conn),
  });
  edge.start({ onRelayed: async () => {}, onCall: async () => {}, disconnected: () => {} });
  return { host, edge, edgeSockets, relayed, calls, gone, fail: (err: unknown) => (failWith = err) };
}

const join = { roomId: 'r1', op: 'join' } as ClassroomMessage;
const ctxOf = (conn: string) => ({ personId: 'pupilA1', connectionId: conn, ref: 'j1' });

describe('RoomRelay between two nodes', () => {
  it('carries a join with the socket’s person to the host, and the host’s answers back to that socket only', async () => {
    const p = pair();
    await Promise.all([p.host.ready, p.edge.ready]);
    expect(await p.edge.forward('host:1', ctxOf('c1'), join)).toBe(true);
    await eventually(() => expect(p.relayed).toEqual([{ ctx: { personId: 'pupilA1', connectionId: expect.stringMatching(/^edge:2#[0-9a-f]{12}\.c1$/) }, m: join }]));
    const remote = p.relayed[0]!.ctx.connectionId;
    expect(p.edge.hostOf('c1', 'r1')).toBe('host:1');
    expect(p.edge.hostOf('c2', 'r1')).toBeUndefined();
    expect(p.host.isRemote(remote)).toBe(true);
    p.host.send(remote, JSON.stringify({ type: 'classroom', event: 'snapshot' }));
    await eventually(() => expect(p.edgeSockets.sent).toEqual([{ conn: 'c1', msg: { type: 'classroom', event: 'snapshot' } }]));
    // Answered: no "host unreachable" later.
    await new Promise((r) => setTimeout(r, FAST.answerTimeoutMs + 50));
    expect(p.edgeSockets.sent).toHaveLength(1);
  });

  it('the host’s refusal reaches the socket with its ref (a pupil of another class: not found)', async () => {
    const p = pair();
    await Promise.all([p.host.ready, p.edge.ready]);
    p.fail(new AppError('classroom.not_found'));
    await p.edge.forward('host:1', ctxOf('c1'), join);
    await eventually(() => expect(p.edgeSockets.sent[0]?.msg).toEqual({ type: 'error', id: 'classroom.not_found', message: 'Cette classe virtuelle est introuvable.', ref: 'j1' }));
  });

  it('an envelope not signed with the nodes’ key is ignored (someone else on Redis cannot act as a teacher)', async () => {
    const pubsub = new MemoryPubSub();
    const p = pair(pubsub, RoomRelay.keyFrom('autre secret'));
    await Promise.all([p.host.ready, p.edge.ready]);
    expect(await p.edge.forward('host:1', { personId: 'teacherA', connectionId: 'c1', ref: undefined }, join)).toBe(true);
    await pubsub.publish('rn:classroom:node:host:1', JSON.stringify({ b: JSON.stringify({ k: 'in', from: 'x', conn: 'c9', person: 'teacherA', m: join, at: Date.now() }), s: 'AAAA' }));
    await pubsub.publish('rn:classroom:node:host:1', 'pas du JSON');
    await new Promise((r) => setTimeout(r, 50));
    expect(p.relayed).toEqual([]);
  });

  it('a host nobody listens for is said gone (false); a join the host never answers is refused after the wait', async () => {
    const p = pair();
    await Promise.all([p.host.ready, p.edge.ready]);
    expect(await p.edge.forward('host:parti', ctxOf('c1'), join)).toBe(false);
    expect(p.edge.hostOf('c1', 'r1')).toBeUndefined();
    // A host that listens but never answers (stuck): the socket is told, not left waiting.
    const silent = new MemoryPubSub();
    await silent.subscribe('rn:classroom:node:muet', () => {});
    const edge2 = new RoomRelay(silent, 'rn:', 'edge:3', KEY, p.edgeSockets, logger, FAST);
    expect(await edge2.forward('muet', ctxOf('c2'), join)).toBe(true);
    await eventually(() => expect(p.edgeSockets.sent).toContainEqual({ conn: 'c2', msg: expect.objectContaining({ id: 'classroom.host_unreachable', ref: 'j1' }) }));
    edge2.close();
  });

  it('Redis refusing or not answering a publish: a clear error at once, never a wait', async () => {
    const refusing: PubSub = { publish: () => Promise.reject(new Error('Stream isn’t writeable')), subscribe: async () => async () => {}, close: async () => {} };
    const hanging: PubSub = { ...refusing, publish: () => new Promise<number>(() => {}) };
    for (const pubsub of [refusing, hanging]) {
      const edge = new RoomRelay(pubsub, 'rn:', 'edge:2', KEY, new Sockets(), logger, FAST);
      const err = await edge.forward('host:1', ctxOf('c1'), join).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(AppError);
      expect((err as AppError).id).toBe('classroom.host_unreachable');
      expect(edge.hostOf('c1', 'r1')).toBeUndefined();
      const called = await edge.call('host:1', 'teacherA', 'r1', { op: 'open' }).then(() => undefined, (e: unknown) => e);
      expect((called as AppError).id).toBe('classroom.host_unreachable');
    }
  });

  it('a teacher’s action relayed from another node’s HTTP API: done on the host, its error carried back', async () => {
    const p = pair();
    await Promise.all([p.host.ready, p.edge.ready]);
    expect(await p.edge.call('host:1', 'teacherA', 'r1', { op: 'lock', locked: true })).toBe(true);
    expect(p.calls).toEqual([{ personId: 'teacherA', roomId: 'r1', call: { op: 'lock', locked: true } }]);
    p.fail(new AppError('classroom.school_full', { params: { max: 3 } }));
    const err = await p.edge.call('host:1', 'teacherA', 'r1', { op: 'open' }).then(() => undefined, (e: unknown) => e as AppError);
    expect([err?.id, err?.options.params]).toEqual(['classroom.school_full', { max: 3 }]);
    expect(await p.edge.call('host:parti', 'teacherA', 'r1', { op: 'open' })).toBe(false);
  });

  it('a socket closing on the edge reaches the host; a vanished edge node’s sockets are found gone by the host’s check', async () => {
    const p = pair();
    await Promise.all([p.host.ready, p.edge.ready]);
    await p.edge.forward('host:1', ctxOf('c1'), join);
    await p.edge.forward('host:1', { ...ctxOf('c2'), personId: 'pupilA2' }, join);
    await eventually(() => expect(p.relayed).toHaveLength(2));
    p.edgeSockets.open.delete('c1');
    p.edge.socketClosed('c1');
    const id = (c: string) => expect.stringMatching(new RegExp(`^edge:2#[0-9a-f]{12}\\.${c}$`));
    await eventually(() => expect(p.gone).toEqual([id('c1')]));
    // A `gone` lost on the way: the host's check asks, the edge answers for the sockets it no longer has.
    p.edgeSockets.open.delete('c2');
    await p.host.check();
    await eventually(() => expect(p.gone).toEqual([id('c1'), id('c2')]));
    // The edge node vanishes (nobody on its channel): the host's check lets all its sockets go.
    await p.edge.forward('host:1', { ...ctxOf('c3'), personId: 'pupilB1' }, join);
    await eventually(() => expect(p.relayed).toHaveLength(3));
    p.edge.close();
    await p.host.check();
    expect(p.gone).toEqual([id('c1'), id('c2'), id('c3')]);
  });

  it('a host that vanished: the edge asks its sockets in that host’s rooms to reconnect (their rejoin re-hosts the room)', async () => {
    const p = pair();
    await Promise.all([p.host.ready, p.edge.ready]);
    await p.edge.forward('host:1', ctxOf('c1'), join);
    await p.edge.checkHosts();
    expect(p.edgeSockets.restarted).toEqual([]);
    p.host.close();
    await p.edge.checkHosts();
    expect(p.edgeSockets.restarted).toEqual(['c1']);
    expect(p.edge.hostOf('c1', 'r1')).toBeUndefined();
  });

  it('a message of a socket whose host vanished, before any check: that host’s sockets reconnect', async () => {
    const p = pair();
    await Promise.all([p.host.ready, p.edge.ready]);
    await p.edge.forward('host:1', ctxOf('c1'), join);
    await p.edge.forward('host:1', { ...ctxOf('c2'), personId: 'pupilA2' }, join);
    p.host.close();
    expect(await p.edge.forward('host:1', { ...ctxOf('c2'), personId: 'pupilA2' }, { roomId: 'r1', op: 'hand', raised: true } as ClassroomMessage)).toBe(false);
    expect(p.edgeSockets.restarted.sort()).toEqual(['c1', 'c2']);
  });

  it('a second node with the same id is said loudly at its start', async () => {
    const pubsub = new MemoryPubSub();
    const errors: string[] = [];
    const spy = Object.assign(Object.create(logger) as typeof logger, { error: (_o: unknown, msg?: string) => errors.push(String(msg)) });
    const first = new RoomRelay(pubsub, 'rn:', 'node:1', KEY, new Sockets(), spy, FAST);
    first.start({ onRelayed: async () => {}, onCall: async () => {}, disconnected: () => {} });
    await first.ready;
    const twin = new RoomRelay(pubsub, 'rn:', 'node:1', KEY, new Sockets(), spy, FAST);
    expect(errors).toEqual([]);
    twin.start({ onRelayed: async () => {}, onCall: async () => {}, disconnected: () => {} });
    await eventually(() => expect(errors).toEqual([expect.stringContaining('un autre nœud porte déjà cet identifiant')]));
    first.close();
    twin.close();
  });

  it('an edge node restarted under the same id never gets its previous life’s room events (its socket ids start again)', async () => {
    const pubsub = new MemoryPubSub();
    const p = pair(pubsub);
    await Promise.all([p.host.ready, p.edge.ready]);
    await p.edge.forward('host:1', ctxOf('c1'), join);
    await eventually(() => expect(p.relayed).toHaveLength(1));
    const old = p.relayed[0]!.ctx.connectionId;
    p.edge.close();
    // The same node id again, a new process: its own c1 is someone else's socket.
    const again = new Sockets();
    const restarted = new RoomRelay(pubsub, 'rn:', 'edge:2', KEY, again, logger, FAST);
    restarted.start({ onRelayed: async () => {}, onCall: async () => {}, disconnected: () => {} });
    await restarted.ready;
    p.host.send(old, JSON.stringify({ type: 'classroom', event: 'chat' }));
    await eventually(() => expect(p.gone).toEqual([old]));
    expect(again.sent).toEqual([]);
    restarted.close();
  });
});
