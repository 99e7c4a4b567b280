import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { AppError, isErrorId, renderMessage, type ErrorId } from '../../platform/errors.js';
import type { Logger } from '../../platform/logger.js';
import type { PubSub, Unsubscribe } from '../../realtime/index.js';
import { ClassroomMessage } from './classroom.schema.js';

export interface RelaySettings {
  /** A publish Redis has not taken within this is a failure: the relayed message is refused at once, never left waiting. */
  publishTimeoutMs: number;
  /** A relayed join, or a teacher's action relayed from the HTTP API, that the host has not answered within this is refused. */
  answerTimeoutMs: number;
  /**
   * How often a host asks each node it carries participants for which of those sockets are still open,
   * and an edge node checks that the hosts of its sockets' rooms still listen (a vanished node answers nobody).
   */
  checkMs: number;
  /** An envelope older than this (or this far in the future) is refused: bounds the replay of a captured one. */
  maxAgeMs: number;
  /** Relayed joins and calls waiting for their answer, per node (over it: refused, as if the host did not answer). */
  maxWaiting: number;
}

export const DEFAULT_RELAY_SETTINGS: RelaySettings = { publishTimeoutMs: 1_000, answerTimeoutMs: 5_000, checkMs: 5_000, maxAgeMs: 30_000, maxWaiting: 10_000 };

/** A teacher's HTTP action made on a node that does not host the room. */
export type RelayCall = { op: 'open' } | { op: 'close' } | { op: 'lock'; locked: boolean };

type Params = Record<string, string | number>;

/**
 * What travels between nodes (`from`: the sending node; `conn`: `<instance>.<socket id>` of the edge
 * node: its gateway's socket ids start again at each restart, the instance tells two lives apart).
 */
type Envelope =
  // edge → host
  | { k: 'in'; from: string; conn: string; person: string; ref?: string; m: ClassroomMessage; at: number }
  | { k: 'gone'; from: string; conns: string[]; at: number }
  | { k: 'ping'; from: string; at: number }
  | { k: 'call'; from: string; id: string; person: string; roomId: string; call: RelayCall; at: number }
  // host → edge
  | { k: 'out'; from: string; conn: string; msg: string; at: number }
  | { k: 'check'; from: string; conns: string[]; at: number }
  | { k: 'reply'; from: string; id: string; error?: { id: string; params?: Params }; at: number };

/** What the host side does with what edges relay (the classroom service and runtime). */
export interface RelayHost {
  /** A message from a participant's socket on another node, as if that socket were here. */
  onRelayed(ctx: { personId: string; connectionId: string }, m: ClassroomMessage): Promise<void>;
  /** A teacher's open, close or lock made through the HTTP API of another node. */
  onCall(personId: string, roomId: string, call: RelayCall): Promise<void>;
  /** A relayed socket closed (or its node vanished): the participant is away, as after a dropped socket. */
  disconnected(connectionId: string): void;
}

/** This node's sockets (the realtime gateway). */
export interface LocalSockets {
  sendToConnection(connectionId: string, message: string): boolean;
  hasConnection(connectionId: string): boolean;
  /** Closes these sockets with "reconnect" (1012): the client comes back and joins again. */
  restartConnections(connectionIds: readonly string[]): void;
}

const checkMessage = TypeCompiler.Compile(ClassroomMessage);
/** Separates the edge node from its socket id in the host's connection ids (gateway ids are `c<base36>`). */
const SEP = '#';

/**
 * The classe virtuelle across nodes: behind the load balancer a pupil's socket lands on any node,
 * and a room lives on one (`host_node`). Messages for a room another node hosts are relayed to it
 * over the realtime pub/sub (Redis), and the host's events and media signals come back to the
 * socket on the edge node. Each node listens on one channel of its own
 * (`<prefix>classroom:node:<nodeId>`); a publish that reaches nobody says the node is gone.
 *
 * Identity: the edge node authenticated the socket (session at the upgrade, revalidated by the
 * heartbeat) and puts its person in the envelope. Envelopes are **signed** (HMAC-SHA256 with a key
 * derived from the nodes' shared secret, over the destination channel and the body) and dated, so a
 * client of Redis that is not a Préau node (Redis may be shared or reachable by more than Préau) can
 * neither act as a teacher in a room nor push events to pupils; a captured envelope replays only to
 * the same node within `maxAgeMs`.
 *
 * Fails closed for what waits on an answer: Redis away or slow → `classroom.host_unreachable` at
 * once; a host that does not answer a join or a call within `answerTimeoutMs` → the same. Events
 * from host to edge are best effort, like every push (a rejoin restores the room).
 */
export class RoomRelay {
  /** Edge: this node's sockets whose room another node hosts (set by a relayed join). */
  private readonly bound = new Map<string, { roomId: string; host: string }>();
  /** Edge: relayed joins not yet answered (any message from the host to the socket answers). */
  private readonly awaiting = new Map<string, { timer: NodeJS.Timeout; ref: string | undefined }>();
  /** Edge: relayed HTTP actions waiting for the host's reply. */
  private readonly calls = new Map<string, { resolve: () => void; reject: (err: AppError) => void; timer: NodeJS.Timeout }>();
  /** Host: per edge node, its socket ids that sent messages here. */
  private readonly remote = new Map<string, Set<string>>();
  private host: RelayHost | undefined;
  private off: Unsubscribe | undefined;
  private timer: NodeJS.Timeout | undefined;
  private nextCall = 0;
  /** This process among the lives of this node id (a restart on the same host and port is another instance). */
  private readonly instance = randomBytes(6).toString('hex');
  /** Resolves once this node listens on its channel. */
  ready: Promise<void> = Promise.resolve();

  constructor(
    private readonly pubsub: PubSub,
    private readonly channelPrefix: string,
    readonly nodeId: string,
    private readonly key: Buffer,
    private readonly local: LocalSockets,
    private readonly logger: Logger,
    private readonly settings: RelaySettings = DEFAULT_RELAY_SETTINGS,
    private readonly nowMs: () => number = Date.now,
  ) {}

  /** Derives the relay's key from the secret every node shares (settings in the database, or PREAU_SECRET). */
  static keyFrom(secret: string): Buffer {
    return createHmac('sha256', secret).update('preau:classroom-relay').digest();
  }

  /** Listens on this node's channel (not awaited at boot: a Redis away at boot subscribes when it is back; see `ready`). */
  start(host: RelayHost): void {
    this.host = host;
    // Someone already listening on this node's channel: another node with the same id (hostname and port) —
    // their rooms' messages would reach both. Said loudly; the operator must give each node its own port or host name.
    this.publish(this.nodeId, { k: 'ping', from: this.nodeId, at: this.nowMs() }).then(
      (listeners) => {
        if (listeners > 0) this.logger.error({ nodeId: this.nodeId }, 'classe virtuelle : un autre nœud porte déjà cet identifiant (nom d’hôte:port) ; donnez à chaque nœud le sien');
      },
      () => undefined,
    );
    this.ready = this.pubsub.subscribe(this.channel(this.nodeId), (raw) => this.receive(raw)).then(
      (off) => {
        this.off = off;
      },
      (err: unknown) => this.logger.warn({ err }, 'classe virtuelle : relais entre nœuds non abonné'),
    );
    this.timer ??= setInterval(() => {
      this.check()
        .then(() => this.checkHosts())
        .catch((err: unknown) => this.logger.warn({ err }, 'classe virtuelle : vérification entre nœuds en échec'));
    }, this.settings.checkMs);
    this.timer.unref();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const w of this.awaiting.values()) clearTimeout(w.timer);
    this.awaiting.clear();
    for (const c of this.calls.values()) {
      clearTimeout(c.timer);
      c.reject(new AppError('classroom.host_unreachable', { retryAfterSeconds: 5 }));
    }
    this.calls.clear();
    // Not awaited: with Redis away the unsubscribe waits in the subscriber's queue until the pub/sub closes.
    void this.off?.().catch(() => undefined);
  }

  private channel(node: string): string {
    return `${this.channelPrefix}classroom:node:${node}`;
  }

  // ——— Edge side: a socket here, its room on another node ———

  /** The node hosting the room this socket joined through the relay, if any. */
  hostOf(connectionId: string, roomId: string): string | undefined {
    const b = this.bound.get(connectionId);
    return b && b.roomId === roomId ? b.host : undefined;
  }

  /** The room another node hosts that this socket joined through the relay, if any. */
  roomOf(connectionId: string): string | undefined {
    return this.bound.get(connectionId)?.roomId;
  }

  /** A host's connection id stands for a socket of another node. */
  isRemote(connectionId: string): boolean {
    return connectionId.includes(SEP);
  }

  /**
   * Relays a socket's message to the room's host. False: nobody listens there (the node is gone).
   * Throws `classroom.host_unreachable` when Redis does not take it.
   */
  async forward(host: string, ctx: { personId: string; connectionId: string; ref: string | undefined }, m: ClassroomMessage): Promise<boolean> {
    const conn = ctx.connectionId;
    if (m.op === 'join') {
      if (this.awaiting.size >= this.settings.maxWaiting) throw new AppError('classroom.host_unreachable', { retryAfterSeconds: 5 });
      this.bound.set(conn, { roomId: m.roomId, host });
      this.expectAnswer(conn, ctx.ref);
    }
    let listeners: number;
    try {
      listeners = await this.publish(host, { k: 'in', from: this.nodeId, conn: this.wire(conn), person: ctx.personId, ...(ctx.ref ? { ref: ctx.ref } : {}), m, at: this.nowMs() });
    } catch (err) {
      this.unbindAfterFailure(conn, m);
      throw err;
    }
    if (listeners === 0) {
      this.unbindAfterFailure(conn, m);
      // A later message to a host gone: the socket reconnects and joins again (the room is re-hosted then).
      if (m.op !== 'join') this.hostGone(host);
    }
    return listeners > 0;
  }

  /** Every `checkMs` (public for tests): the hosts of this node's relayed sockets still listen, or those sockets rejoin. */
  async checkHosts(): Promise<void> {
    const hosts = new Set([...this.bound.values()].map((b) => b.host));
    for (const host of hosts) {
      const listeners = await this.publish(host, { k: 'ping', from: this.nodeId, at: this.nowMs() }).catch(() => undefined);
      // Redis away (undefined): nothing to conclude; the next check decides.
      if (listeners === 0) this.hostGone(host);
    }
  }

  /**
   * The node hosting these sockets' rooms is gone (killed: it could not say `closed`). Its sockets here
   * are asked to reconnect: the client's `join` on reconnection re-hosts the room on the node it reaches.
   */
  private hostGone(host: string): void {
    const conns = [...this.bound].filter(([, b]) => b.host === host).map(([conn]) => conn);
    for (const conn of conns) this.bound.delete(conn);
    this.local.restartConnections(conns);
  }

  private unbindAfterFailure(conn: string, m: ClassroomMessage): void {
    if (m.op !== 'join') return;
    this.bound.delete(conn);
    this.answered(conn);
  }

  private expectAnswer(conn: string, ref: string | undefined): void {
    this.answered(conn);
    const timer = setTimeout(() => {
      this.awaiting.delete(conn);
      this.local.sendToConnection(conn, errorJson('classroom.host_unreachable', ref));
    }, this.settings.answerTimeoutMs);
    timer.unref();
    this.awaiting.set(conn, { timer, ref });
  }

  private answered(conn: string): void {
    const w = this.awaiting.get(conn);
    if (!w) return;
    clearTimeout(w.timer);
    this.awaiting.delete(conn);
  }

  /**
   * Relays a teacher's HTTP action to the room's host and waits for its answer. False: nobody
   * listens there (the node is gone: the caller takes the room over). Throws the host's error, or
   * `classroom.host_unreachable` when Redis does not take it or the host does not answer in time.
   */
  async call(host: string, personId: string, roomId: string, call: RelayCall): Promise<boolean> {
    if (this.calls.size >= this.settings.maxWaiting) throw new AppError('classroom.host_unreachable', { retryAfterSeconds: 5 });
    const id = `${(++this.nextCall).toString(36)}.${randomBytes(4).toString('hex')}`;
    const answer = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.calls.delete(id);
        reject(new AppError('classroom.host_unreachable', { retryAfterSeconds: 5 }));
      }, this.settings.answerTimeoutMs);
      timer.unref();
      this.calls.set(id, { resolve, reject, timer });
    });
    // Nobody waits on the answer when the publish fails: no unhandled rejection.
    answer.catch(() => undefined);
    const drop = () => {
      const c = this.calls.get(id);
      if (c) clearTimeout(c.timer);
      this.calls.delete(id);
    };
    let listeners: number;
    try {
      listeners = await this.publish(host, { k: 'call', from: this.nodeId, id, person: personId, roomId, call, at: this.nowMs() });
    } catch (err) {
      drop();
      throw err;
    }
    if (listeners === 0) {
      drop();
      return false;
    }
    await answer;
    return true;
  }

  /** A socket of this node closed: the host of its room is told (best effort; else its check finds out). */
  socketClosed(connectionId: string): void {
    this.answered(connectionId);
    const b = this.bound.get(connectionId);
    if (!b) return;
    this.bound.delete(connectionId);
    this.publish(b.host, { k: 'gone', from: this.nodeId, conns: [this.wire(connectionId)], at: this.nowMs() }).catch((err: unknown) => this.logger.debug({ err }, 'classe virtuelle : départ non relayé'));
  }

  private wire(connectionId: string): string {
    return `${this.instance}.${connectionId}`;
  }

  /** This node's socket id for a wire id, when it is of this instance (a previous life's sockets are gone). */
  private localOf(wire: string): string | undefined {
    const i = wire.indexOf('.');
    return i > 0 && wire.slice(0, i) === this.instance ? wire.slice(i + 1) : undefined;
  }

  // ——— Host side: the room here, some sockets on other nodes ———

  /** Sends to a socket: this node's own, or through the relay to the node holding it (best effort, in order). */
  send(connectionId: string, message: string): boolean {
    const i = connectionId.lastIndexOf(SEP);
    if (i < 0) return this.local.sendToConnection(connectionId, message);
    const node = connectionId.slice(0, i);
    this.publish(node, { k: 'out', from: this.nodeId, conn: connectionId.slice(i + 1), msg: message, at: this.nowMs() }).catch((err: unknown) =>
      this.logger.debug({ err }, 'classe virtuelle : message vers un autre nœud non relayé'),
    );
    return true;
  }

  /** Every `checkMs`: asks each edge node which of its sockets are gone; a node nobody hears any more has lost them all (public for tests). */
  async check(): Promise<void> {
    for (const [node, conns] of [...this.remote]) {
      if (conns.size === 0) {
        this.remote.delete(node);
        continue;
      }
      const listeners = await this.publish(node, { k: 'check', from: this.nodeId, conns: [...conns], at: this.nowMs() }).catch(() => undefined);
      // Redis away (undefined): nothing can be told; the next check decides.
      if (listeners === 0) this.gone(node, [...conns]);
    }
  }

  private gone(node: string, conns: readonly string[]): void {
    const known = this.remote.get(node);
    for (const conn of conns) {
      known?.delete(conn);
      try {
        this.host?.disconnected(`${node}${SEP}${conn}`);
      } catch (err) {
        this.logger.error({ err }, 'classe virtuelle : départ relayé non appliqué');
      }
    }
    if (known?.size === 0) this.remote.delete(node);
  }

  // ——— Both sides ———

  private async publish(node: string, envelope: Envelope): Promise<number> {
    const channel = this.channel(node);
    const body = JSON.stringify(envelope);
    const wire = JSON.stringify({ b: body, s: this.sign(channel, body) });
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        this.pubsub.publish(channel, wire),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`Redis n’a pas pris le message en ${this.settings.publishTimeoutMs} ms`)), this.settings.publishTimeoutMs);
        }),
      ]);
    } catch (err) {
      this.logger.warn({ err, node }, 'classe virtuelle : relais vers un autre nœud impossible');
      throw new AppError('classroom.host_unreachable', { retryAfterSeconds: 5 });
    } finally {
      clearTimeout(timer);
    }
  }

  private sign(channel: string, body: string): string {
    return createHmac('sha256', this.key).update(channel).update('\n').update(body).digest('base64url');
  }

  /** What arrives on this node's channel: checked (signature, age, shape), then handled; nothing received throws. */
  private receive(raw: string): void {
    const e = this.open(raw);
    if (!e) return;
    try {
      this.handle(e);
    } catch (err) {
      this.logger.error({ err, kind: e.k }, 'classe virtuelle : message relayé non traité');
    }
  }

  private open(raw: string): Envelope | undefined {
    try {
      const { b, s } = JSON.parse(raw) as { b?: unknown; s?: unknown };
      if (typeof b !== 'string' || typeof s !== 'string') throw new Error('forme');
      const want = Buffer.from(this.sign(this.channel(this.nodeId), b));
      const got = Buffer.from(s);
      if (got.length !== want.length || !timingSafeEqual(got, want)) throw new Error('signature');
      const e = JSON.parse(b) as Envelope;
      if (typeof e.at !== 'number' || Math.abs(this.nowMs() - e.at) > this.settings.maxAgeMs) throw new Error('date');
      if (typeof e.from !== 'string' || e.from.includes(SEP)) throw new Error('nœud');
      return e;
    } catch (err) {
      this.logger.warn({ reason: err instanceof Error ? err.message : String(err) }, 'classe virtuelle : message relayé refusé');
      return undefined;
    }
  }

  private handle(e: Envelope): void {
    const host = this.host;
    switch (e.k) {
      case 'in': {
        const connectionId = `${e.from}${SEP}${e.conn}`;
        let conns = this.remote.get(e.from);
        if (!conns) this.remote.set(e.from, (conns = new Set()));
        conns.add(e.conn);
        const fail = (err: unknown) => {
          this.send(connectionId, this.errorFor(err, e.ref));
        };
        if (!host || !checkMessage.Check(e.m)) return fail(new AppError('realtime.bad_message'));
        host.onRelayed({ personId: e.person, connectionId }, e.m).catch(fail);
        return;
      }
      case 'gone':
        this.gone(e.from, e.conns);
        return;
      case 'ping':
        return;
      case 'call': {
        const reply = (error?: { id: string; params?: Params }) =>
          void this.publish(e.from, { k: 'reply', from: this.nodeId, id: e.id, ...(error ? { error } : {}), at: this.nowMs() }).catch(() => undefined);
        if (!host) return reply({ id: 'classroom.host_unreachable' });
        host.onCall(e.person, e.roomId, e.call).then(
          () => reply(),
          (err: unknown) => {
            if (err instanceof AppError) return reply({ id: err.id, ...(err.options.params ? { params: err.options.params } : {}) });
            this.logger.error({ err }, 'classe virtuelle : action relayée en échec');
            reply({ id: 'server.internal' });
          },
        );
        return;
      }
      case 'out': {
        const conn = this.localOf(e.conn);
        if (conn) this.answered(conn);
        // A socket gone here (or of this node's previous life) while the host still talks to it: the host is told (a lost `gone`).
        if (!conn || !this.local.sendToConnection(conn, e.msg)) void this.publish(e.from, { k: 'gone', from: this.nodeId, conns: [e.conn], at: this.nowMs() }).catch(() => undefined);
        return;
      }
      case 'check': {
        const lost = e.conns.filter((c) => {
          const conn = this.localOf(c);
          return !conn || !this.local.hasConnection(conn);
        });
        if (lost.length > 0) void this.publish(e.from, { k: 'gone', from: this.nodeId, conns: lost, at: this.nowMs() }).catch(() => undefined);
        return;
      }
      case 'reply': {
        const c = this.calls.get(e.id);
        if (!c) return;
        clearTimeout(c.timer);
        this.calls.delete(e.id);
        if (!e.error) return c.resolve();
        const id: ErrorId = isErrorId(e.error.id) ? e.error.id : 'server.internal';
        c.reject(new AppError(id, e.error.params ? { params: e.error.params } : {}));
        return;
      }
    }
  }

  private errorFor(err: unknown, ref: string | undefined): string {
    if (err instanceof AppError) return errorJson(err.id, ref, err.options.params);
    this.logger.error({ err }, 'classe virtuelle : erreur sur un message relayé');
    return errorJson('server.internal', ref);
  }
}

/** The gateway's refusal, as a socket receives it. */
function errorJson(id: ErrorId, ref: string | undefined, params?: Params): string {
  return JSON.stringify({ type: 'error', id, message: renderMessage(id, 'fr', params), ...(ref ? { ref } : {}) });
}
