import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { Static, TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { AppError, renderMessage, type ErrorId } from '../platform/errors.js';
import type { Logger } from '../platform/logger.js';
import type { Metrics } from '../platform/metrics.js';
import { canQueue, decideAdmit, restartHintMs, takeToken, toEvict, type Bucket, type GatewayLimits, type RouteBudget } from './gateway.limits.js';
import { MemoryPresence, type PresenceStore } from './presence.js';
import type { PubSub, Unsubscribe } from './pubsub.js';

/** The channel of one person: everything published there is theirs alone. */
export const personChannel = (personId: string): string => `person:${personId}`;

/** Close codes a client can act on (4000–4999 are the application's). */
export const CLOSE = {
  /** The person opened too many sockets: this, the oldest, is closed. Do not reconnect this tab. */
  replaced: 4001,
  /** The client could not keep up (backpressure) or sent too much: reconnect after a delay. */
  dropped: 4002,
  /** The session that opened the socket has ended (logout, revocation): sign in again. */
  signedOut: 4003,
  /** Server stopping (its reason says `reconnect=<ms>`): reconnect after that delay, through the load balancer to another node. */
  restart: 1012,
} as const;

interface Person {
  /** Oldest first. */
  sockets: WebSocket[];
  unsubscribe: Promise<Unsubscribe | undefined>;
}

interface Tracked {
  alive: boolean;
  incoming: number;
  checkedAtMs: number;
  stillSignedIn: () => Promise<boolean>;
  /** This socket's id (routes address replies and room events to one tab, not to every tab of the person). */
  connectionId: string;
  personId: string;
  /** Per-route budgets of this socket. */
  buckets: Map<string, Bucket>;
}

/** Who sent a routed message: the socket's person (authenticated at the upgrade, revalidated by the heartbeat) and which of their sockets. */
export interface RouteContext {
  personId: string;
  connectionId: string;
  /** The client's correlation token (`ref`, optional, echoed in the error that refuses this message). */
  ref: string | undefined;
}

/**
 * An inbound message type a module handles (`gateway.route('classroom', …)`). The gateway checks,
 * in order: JSON object with a known `type` → the route's own size bound → its budget → its TypeBox
 * schema (closed objects; `ref` is taken off first) → the handler, which authorises against the
 * sender's person. Any refusal answers `{type:'error', id, message, ref?}` and changes nothing; a
 * handler that throws an AppError answers its id; anything else is logged and answered
 * `server.internal`. Nothing a client sends can crash the gateway or a room.
 */
export interface GatewayRoute<S extends TSchema> {
  schema: S;
  /** Largest message of this type, in bytes (the gateway's maxIncomingBytes when smaller). */
  maxBytes: number;
  budget: RouteBudget;
  handle(ctx: RouteContext, message: Static<S>): void | Promise<void>;
}

interface CompiledRoute {
  check: TypeCheck<TSchema>;
  maxBytes: number;
  budget: RouteBudget;
  handle(ctx: RouteContext, message: unknown): void | Promise<void>;
}

/** `type` of a routed message: a short lowercase word. `ref`: the client's correlation token. */
const TYPE_PATTERN = /^[a-z][a-z0-9-]{0,31}$/;
const REF_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;

/**
 * The WebSocket gateway: one socket per open tab of a signed-in person, fed from that person's
 * pub/sub channel. The server pushes (`{type:'notification'}`, `{type:'unread'}`, room events); the
 * client sends "ping" (answered "pong") to learn early that a link died, and JSON messages routed by
 * their `type` to the module that registered it (`route()`: the classe virtuelle's signalling). Everything is bounded (see
 * gateway.limits.ts): sockets per person and per node, incoming size and rate, bytes waiting for a
 * slow client. A push is best effort (fails open): the feed in the database is the truth, and the
 * client reloads it on (re)connection.
 */
export class RealtimeGateway {
  private readonly wss: WebSocketServer;
  private readonly people = new Map<string, Person>();
  private readonly tracked = new WeakMap<WebSocket, Tracked>();
  private readonly byConnection = new Map<string, WebSocket>();
  private readonly routes = new Map<string, CompiledRoute>();
  private readonly closeListeners: ((personId: string, connectionId: string) => void)[] = [];
  private nextConnection = 0;
  private open = 0;
  private heartbeat: NodeJS.Timeout | undefined;
  private closing = false;
  private readonly sent;
  private readonly drops;
  private readonly refused;
  private readonly badMessages;

  constructor(
    readonly limits: GatewayLimits,
    private readonly pubsub: PubSub,
    metrics: Metrics,
    private readonly logger: Logger,
    private readonly nowMs: () => number = Date.now,
    /** Where presence is told (several nodes: Redis); by default this node's memory. */
    private readonly presence: { store: PresenceStore; nodeId: string } = { store: new MemoryPresence(nowMs), nodeId: 'local' },
  ) {
    // No compression: per-message deflate keeps a zlib context per socket (memory × 10 000 sockets) for tiny JSON.
    this.wss = new WebSocketServer({ noServer: true, maxPayload: limits.maxIncomingBytes, perMessageDeflate: false, clientTracking: false });
    metrics.gauge('preau_realtime_connections', 'Open realtime WebSocket connections').track(() => this.open);
    metrics.gauge('preau_realtime_people', 'People with at least one open realtime connection').track(() => this.people.size);
    this.sent = metrics.counter('preau_realtime_messages_sent_total', 'Messages pushed to realtime clients');
    this.drops = metrics.counter('preau_realtime_drops_total', 'Realtime connections closed by the server, by reason');
    this.refused = metrics.counter('preau_realtime_refused_total', 'Realtime connections refused at upgrade, by reason');
    this.badMessages = metrics.counter('preau_realtime_bad_messages_total', 'Incoming realtime messages refused, by reason');
  }

  /** Registers the handler of one inbound message type (at composition, before clients connect). */
  route<S extends TSchema>(type: string, route: GatewayRoute<S>): void {
    if (!TYPE_PATTERN.test(type) || type === 'error' || type === 'pong') throw new Error(`type de message temps réel invalide : ${type}`);
    if (this.routes.has(type)) throw new Error(`type de message temps réel déjà routé : ${type}`);
    // A route never takes more than the gateway does (a gateway shrunk by configuration or a test bounds every route).
    const maxBytes = Math.min(route.maxBytes, this.limits.maxIncomingBytes);
    this.routes.set(type, { check: TypeCompiler.Compile(route.schema), maxBytes, budget: route.budget, handle: route.handle as CompiledRoute['handle'] });
  }

  /** Called when a socket closes (a module's live state bound to that socket: a participant of a room). */
  onClose(listener: (personId: string, connectionId: string) => void): void {
    this.closeListeners.push(listener);
  }

  /** Sends to one socket of this node; false when it is gone. */
  sendToConnection(connectionId: string, message: string): boolean {
    const ws = this.byConnection.get(connectionId);
    if (!ws) return false;
    this.sendTo(ws, message);
    return true;
  }

  /** Whether this socket is still open on this node (a relay asks for the sockets it carries for another node). */
  hasConnection(connectionId: string): boolean {
    return this.byConnection.has(connectionId);
  }

  /**
   * Asks these sockets to reconnect (1012 with a jittered `reconnect=<ms>`, as when a node stops): the
   * client comes back and sends what it sends on every connection (a room's `join`). Used when what a
   * socket was bound to is gone from another node.
   */
  restartConnections(connectionIds: readonly string[]): void {
    const sockets = connectionIds.map((id) => this.byConnection.get(id)).filter((ws) => ws !== undefined);
    for (const ws of sockets) {
      this.drops.inc({ reason: 'restart' });
      ws.close(CLOSE.restart, `reconnect=${restartHintMs(sockets.length, Math.random)}`);
    }
  }

  start(): void {
    this.heartbeat ??= setInterval(() => this.beat(), this.limits.heartbeatMs);
    this.heartbeat.unref();
  }

  connections(personId?: string): number {
    return personId === undefined ? this.open : (this.people.get(personId)?.sockets.length ?? 0);
  }

  /** Before upgrading: refuses (503) when the node is full. Throws an AppError the route turns into an HTTP answer. */
  admit(personId: string): void {
    if (this.closing) throw new AppError('realtime.full', { retryAfterSeconds: 5 });
    const decision = decideAdmit(this.limits, this.open, this.connections(personId));
    if (!decision.accept) {
      this.refused.inc({ reason: 'total' });
      throw new AppError('realtime.full', { retryAfterSeconds: 30 });
    }
  }

  /** Completes the upgrade for an admitted, authenticated person (the route has checked session and Origin). */
  upgrade(raw: IncomingMessage, socket: Duplex, head: Buffer, personId: string, stillSignedIn: () => Promise<boolean>): void {
    this.wss.handleUpgrade(raw, socket, head, (ws) => this.attach(personId, ws, stillSignedIn));
  }

  private attach(personId: string, ws: WebSocket, stillSignedIn: () => Promise<boolean>): void {
    if (this.closing) return ws.close(CLOSE.restart, `reconnect=${restartHintMs(1, Math.random)}`);
    let person = this.people.get(personId);
    if (!person) {
      person = { sockets: [], unsubscribe: this.subscribe(personId) };
      this.people.set(personId, person);
      this.announce([personId]);
    }
    for (const old of person.sockets.slice(0, toEvict(this.limits, person.sockets.length))) {
      this.drops.inc({ reason: 'replaced' });
      old.close(CLOSE.replaced, 'remplacée');
      this.forget(personId, old);
    }
    person.sockets.push(ws);
    this.open++;
    const connectionId = `c${(++this.nextConnection).toString(36)}`;
    this.byConnection.set(connectionId, ws);
    this.tracked.set(ws, { alive: true, incoming: 0, checkedAtMs: this.nowMs(), stillSignedIn, connectionId, personId, buckets: new Map() });
    ws.on('pong', () => {
      const t = this.tracked.get(ws);
      if (t) t.alive = true;
    });
    ws.on('message', (data: RawData, isBinary: boolean) => this.onMessage(ws, data, isBinary));
    ws.on('error', (err) => {
      // Oversized message (1009) or a protocol error: ws closes the socket itself.
      this.drops.inc({ reason: (err as { code?: string }).code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? 'oversize' : 'protocol' });
    });
    ws.on('close', () => this.forget(personId, ws));
  }

  private onMessage(ws: WebSocket, data: RawData, isBinary: boolean): void {
    const t = this.tracked.get(ws);
    if (!t) return;
    t.alive = true;
    if (++t.incoming > this.limits.maxIncomingPerInterval) {
      this.drops.inc({ reason: 'flood' });
      ws.close(CLOSE.dropped, 'trop de messages');
      return;
    }
    if (isBinary) return this.refuse(ws, 'realtime.bad_message', undefined, 'binary');
    const text = data.toString();
    if (text === 'ping') return this.sendTo(ws, '{"type":"pong"}');
    this.dispatch(ws, t, text);
  }

  private dispatch(ws: WebSocket, t: Tracked, text: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return this.refuse(ws, 'realtime.bad_message', undefined, 'json');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return this.refuse(ws, 'realtime.bad_message', undefined, 'shape');
    const { type, ref: rawRef, ...rest } = parsed as Record<string, unknown>;
    const ref = typeof rawRef === 'string' && REF_PATTERN.test(rawRef) ? rawRef : undefined;
    if (rawRef !== undefined && ref === undefined) return this.refuse(ws, 'realtime.bad_message', undefined, 'ref');
    const route = typeof type === 'string' ? this.routes.get(type) : undefined;
    if (!route || typeof type !== 'string') return this.refuse(ws, 'realtime.unknown_type', ref, 'type');
    if (Buffer.byteLength(text) > route.maxBytes) return this.refuse(ws, 'realtime.too_large', ref, 'size');
    const taken = takeToken(route.budget, t.buckets.get(type), this.nowMs());
    t.buckets.set(type, taken.bucket);
    if (!taken.ok) return this.refuse(ws, 'realtime.rate_limited', ref, 'budget');
    if (!route.check.Check(rest)) return this.refuse(ws, 'realtime.bad_message', ref, 'schema');
    const ctx: RouteContext = { personId: t.personId, connectionId: t.connectionId, ref };
    const fail = (err: unknown) => {
      if (err instanceof AppError) return this.refuse(ws, err.id, ref, 'handler', err.options.params);
      this.logger.error({ err, type }, 'temps réel : erreur dans un gestionnaire de messages');
      this.refuse(ws, 'server.internal', ref, 'internal');
    };
    try {
      const done = route.handle(ctx, rest);
      if (done instanceof Promise) done.catch(fail);
    } catch (err) {
      fail(err);
    }
  }

  /** Answers a refused message: its error id and French message (the client's second language comes from the catalogue by id). */
  private refuse(ws: WebSocket, id: ErrorId, ref: string | undefined, reason: string, params?: Record<string, string | number>): void {
    this.badMessages.inc({ reason });
    this.sendTo(ws, JSON.stringify({ type: 'error', id, message: renderMessage(id, 'fr', params), ...(ref ? { ref } : {}) }));
  }

  private subscribe(personId: string): Promise<Unsubscribe | undefined> {
    return this.pubsub.subscribe(personChannel(personId), (message) => this.push(personId, message)).catch((err: unknown) => {
      // Fails open: without the subscription this person gets no push, the client's polling still works.
      this.logger.warn({ err }, 'temps réel : abonnement impossible');
      return undefined;
    });
  }

  /** Sends a message to every socket of this person (messages come from their own channel only). */
  push(personId: string, message: string): void {
    for (const ws of this.people.get(personId)?.sockets ?? []) this.sendTo(ws, message);
  }

  private sendTo(ws: WebSocket, message: string): void {
    if (ws.readyState !== WebSocket.OPEN) return;
    if (!canQueue(this.limits, ws.bufferedAmount, Buffer.byteLength(message))) {
      // Backpressure: this client does not read. Dropping it bounds memory; it reconnects and reloads the feed.
      this.drops.inc({ reason: 'backpressure' });
      ws.terminate();
      return;
    }
    ws.send(message);
    this.sent.inc();
  }

  private forget(personId: string, ws: WebSocket): void {
    const person = this.people.get(personId);
    if (!person) return;
    const i = person.sockets.indexOf(ws);
    if (i < 0) return;
    person.sockets.splice(i, 1);
    this.open--;
    const t = this.tracked.get(ws);
    if (t) {
      this.byConnection.delete(t.connectionId);
      for (const listener of this.closeListeners) {
        try {
          listener(personId, t.connectionId);
        } catch (err) {
          this.logger.error({ err }, 'temps réel : erreur à la fermeture d’une connexion');
        }
      }
    }
    if (person.sockets.length > 0) return;
    this.people.delete(personId);
    this.presence.store.leave(this.presence.nodeId, personId).catch((err: unknown) => this.logger.debug({ err }, 'présence : départ non transmis'));
    void person.unsubscribe.then((off) => off?.()).catch((err: unknown) => this.logger.warn({ err }, 'temps réel : désabonnement impossible'));
  }

  /**
   * Presence entries live three heartbeats: renewed by every beat of a live node, gone soon after a
   * node dies. Fails open: a renewal Redis did not take is retried at the next beat.
   */
  private announce(personIds: string[]): void {
    this.presence.store.announce(this.presence.nodeId, personIds, 3 * this.limits.heartbeatMs).catch((err: unknown) => this.logger.debug({ err }, 'présence : annonce non transmise'));
  }

  /**
   * Which of these people have a live connection, on this node or any other. Fails open to what
   * this node knows when the shared presence does not answer (people on other nodes then look away).
   */
  async online(personIds: readonly string[]): Promise<Set<string>> {
    try {
      return await this.presence.store.online(personIds);
    } catch {
      return new Set(personIds.filter((id) => this.people.has(id)));
    }
  }

  /** Heartbeat: a socket that did not answer the previous ping (or send anything) is dead: dropped. */
  private beat(): void {
    if (this.people.size > 0) this.announce([...this.people.keys()]);
    const now = this.nowMs();
    for (const person of this.people.values()) {
      for (const ws of [...person.sockets]) {
        const t = this.tracked.get(ws);
        if (!t) continue;
        if (!t.alive) {
          this.drops.inc({ reason: 'dead' });
          ws.terminate();
          continue;
        }
        t.alive = false;
        t.incoming = 0;
        ws.ping();
        this.revalidate(ws, t, now);
      }
    }
  }

  /**
   * The session behind a socket is checked again every `revalidateMs`: ended → the socket closes
   * (4003). Fails open on a lookup error (the database away is no sign the session ended; the next
   * check decides).
   */
  private revalidate(ws: WebSocket, t: Tracked, now: number): void {
    if (now - t.checkedAtMs < this.limits.revalidateMs) return;
    t.checkedAtMs = now;
    t.stillSignedIn().then(
      (ok) => {
        if (ok || ws.readyState !== WebSocket.OPEN) return;
        this.drops.inc({ reason: 'signed_out' });
        ws.close(CLOSE.signedOut, 'session terminée');
      },
      (err: unknown) => this.logger.warn({ err }, 'temps réel : vérification de session impossible'),
    );
  }

  /**
   * Graceful stop: every client is told "service restart" (1012) with its own jittered reconnect
   * delay (`reconnect=<ms>`, see restartHintMs), then sockets still open after `graceMs` are cut.
   */
  async close(graceMs = 1_000): Promise<void> {
    this.closing = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    const all = [...this.people.values()].flatMap((p) => p.sockets);
    await Promise.all(
      all.map(
        (ws) =>
          new Promise<void>((resolve) => {
            const timer = setTimeout(() => {
              ws.terminate();
              resolve();
            }, graceMs);
            ws.once('close', () => {
              clearTimeout(timer);
              resolve();
            });
            ws.close(CLOSE.restart, `reconnect=${restartHintMs(all.length, Math.random)}`);
          }),
      ),
    );
    this.wss.close();
  }
}
