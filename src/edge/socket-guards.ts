import http, { type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Metrics } from '../platform/metrics.js';
import { normaliseAddress } from './address.js';
import { jitteredRetryAfterS, type Refusals } from './refusal.js';

/**
 * The limits a connection meets before any route: what a slowloris, a slow reader or a
 * connection flood can hold of the node. Everything is bounded and explicit (Node's defaults
 * are generous: a 30 s check interval means a 10 s header timeout really cuts at up to 40 s).
 */
export interface SocketLimits {
  /** The request line and headers must arrive within this (slow-header clients are cut with a 408). */
  headersTimeoutMs: number;
  /** The whole request, body included, must arrive within this (slow bodies are cut with a 408). */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** A response the client has not drained (bytes still waiting in our buffers) for this long is cut. */
  slowReadCutMs: number;
  /** A socket with no traffic at all in either direction for this long is closed. */
  socketIdleTimeoutMs: number;
  /** How often Node checks header/request deadlines, and how often we look for slow readers. */
  checkIntervalMs: number;
  /** Request line + headers, in bytes (Node answers 431 beyond). */
  maxHeaderBytes: number;
  /** Headers kept per request (Node ignores the excess: a header flood costs no parsing of it). */
  maxHeadersCount: number;
  /** Open connections from one client address. Generous: a school or a mobile carrier's NAT puts hundreds of people behind one address. */
  maxConnectionsPerAddress: number;
  /** Open connections in total: file descriptors and memory are finite. */
  maxConnections: number;
}

export const DEFAULT_SOCKET_LIMITS: SocketLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  slowReadCutMs: 30_000,
  socketIdleTimeoutMs: 30_000,
  checkIntervalMs: 1_000,
  maxHeaderBytes: 16 * 1024,
  maxHeadersCount: 100,
  maxConnectionsPerAddress: 1_000,
  maxConnections: 20_000,
};

export type ConnectionDecision = { accept: true } | { accept: false; reason: 'address' | 'total' };

/** Pure: may one more connection be opened, given what is open now? */
export function decideConnection(limits: Pick<SocketLimits, 'maxConnections' | 'maxConnectionsPerAddress'>, openTotal: number, openFromAddress: number): ConnectionDecision {
  if (openTotal >= limits.maxConnections) return { accept: false, reason: 'total' };
  if (openFromAddress >= limits.maxConnectionsPerAddress) return { accept: false, reason: 'address' };
  return { accept: true };
}

/** Pure: should a socket whose response has waited undrained since `pendingSinceMs` be cut now? */
export function isSlowReader(limits: Pick<SocketLimits, 'slowReadCutMs'>, pendingSinceMs: number | undefined, nowMs: number): boolean {
  return pendingSinceMs !== undefined && nowMs - pendingSinceMs >= limits.slowReadCutMs;
}

interface Tracked {
  address: string;
  /** When we first saw bytes of a response waiting for this client to read them; undefined when drained. */
  pendingSinceMs: number | undefined;
}

/**
 * An HTTP/1.1 server with the socket limits applied (given to Fastify as its `serverFactory`).
 * The connection caps fail closed for the excess connection (a pre-built 503 with Retry-After,
 * then close): descriptors and memory are what a flood exhausts first, and existing
 * connections are never touched to make room. HTTP/2 is not served (no stream-level attacks
 * such as rapid reset to defend against here; a TLS-terminating proxy speaks HTTP/2 to browsers).
 */
export class SocketGuards {
  private readonly open = new Map<Socket, Tracked>();
  private readonly perAddress = new Map<string, number>();
  private sweepTimer: NodeJS.Timeout | undefined;
  private readonly refusedTotal;
  private readonly slowReadersCut;

  constructor(
    readonly limits: SocketLimits,
    private readonly refusals: Refusals,
    metrics: Metrics,
    private readonly nowMs: () => number = Date.now,
  ) {
    metrics.gauge('preau_edge_connections', 'Open client connections').track(() => this.open.size);
    metrics.gauge('preau_edge_connection_addresses', 'Client addresses with at least one open connection').track(() => this.perAddress.size);
    this.refusedTotal = metrics.counter('preau_edge_connections_refused_total', 'Connections refused by the connection caps, by reason');
    this.slowReadersCut = metrics.counter('preau_edge_slow_readers_cut_total', 'Connections cut because the client did not read its response');
  }

  /** The Fastify `serverFactory`. */
  createServer = (handler: RequestListener<typeof IncomingMessage, typeof ServerResponse>): http.Server => {
    const l = this.limits;
    const server = http.createServer(
      {
        maxHeaderSize: l.maxHeaderBytes,
        headersTimeout: l.headersTimeoutMs,
        requestTimeout: l.requestTimeoutMs,
        keepAliveTimeout: l.keepAliveTimeoutMs,
        connectionsCheckingInterval: l.checkIntervalMs,
      },
      handler,
    );
    server.maxHeadersCount = l.maxHeadersCount;
    server.setTimeout(l.socketIdleTimeoutMs);
    // Our own cap answers politely before Node's hard cap (which drops silently) is reached.
    server.maxConnections = l.maxConnections + 64;
    server.on('connection', (socket: Socket) => this.onConnection(socket));
    server.on('listening', () => this.startSweeping());
    server.on('close', () => this.stopSweeping());
    return server;
  };

  openConnections(): number {
    return this.open.size;
  }

  private onConnection(socket: Socket): void {
    const address = normaliseAddress(socket.remoteAddress);
    const fromAddress = this.perAddress.get(address) ?? 0;
    const decision = decideConnection(this.limits, this.open.size, fromAddress);
    if (!decision.accept) {
      this.refusedTotal.inc({ reason: decision.reason });
      const refusal = this.refusals.get('edge.too_many_connections', 'fr', jitteredRetryAfterS(5, 10));
      socket.on('error', () => socket.destroy());
      socket.end(refusal.raw, () => socket.destroy());
      return;
    }
    this.perAddress.set(address, fromAddress + 1);
    this.open.set(socket, { address, pendingSinceMs: undefined });
    socket.once('close', () => {
      this.open.delete(socket);
      const n = (this.perAddress.get(address) ?? 1) - 1;
      if (n <= 0) this.perAddress.delete(address);
      else this.perAddress.set(address, n);
    });
  }

  /**
   * Once per check interval: sockets whose written bytes still wait in our buffers. A client that
   * reads a response slowly (or not at all) keeps the response's memory and the socket; after
   * `slowReadCutMs` of never being drained it is cut. O(open connections) per interval, no work per write.
   */
  private sweep(): void {
    const now = this.nowMs();
    for (const [socket, t] of this.open) {
      if (socket.writableLength === 0) {
        t.pendingSinceMs = undefined;
        continue;
      }
      t.pendingSinceMs ??= now;
      if (isSlowReader(this.limits, t.pendingSinceMs, now)) {
        this.slowReadersCut.inc();
        socket.destroy();
      }
    }
  }

  private startSweeping(): void {
    this.stopSweeping();
    this.sweepTimer = setInterval(() => this.sweep(), this.limits.checkIntervalMs);
    this.sweepTimer.unref();
  }

  private stopSweeping(): void {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
  }
}
