import http, { type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Metrics } from '../platform/metrics.js';
import { connectionAddress } from './client-address.js';
import { jitteredRetryAfterS, type Refusals } from './refusal.js';

/**
 * The limits a connection meets before any route: what a slowloris, a slow reader or a
 * connection flood can hold of the node. Everything is bounded and explicit (Node's defaults
 * are generous: a 30 s check interval means a 10 s header timeout really cuts at up to 40 s).
 */
export interface SocketLimits {
  /** The request line and headers must arrive within this (slow-header clients are cut with a 408). */
  headersTimeoutMs: number;
  /**
   * The whole request, body included, should arrive within this; past it, a body still arriving is
   * cut (408) only if it comes slower than `uploadMinBytesPerS` — a pupil's 20 MB hand-in on a weak
   * link takes minutes, a slowloris body trickles.
   */
  requestTimeoutMs: number;
  /** The slowest upload kept past `requestTimeoutMs`, measured over `uploadRateWindowMs`. */
  uploadMinBytesPerS: number;
  uploadRateWindowMs: number;
  /** No request, however steady, may take longer than this (Node's own hard cut). */
  uploadMaxMs: number;
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
  // 4 KiB/s: 20 MB in under 90 minutes would be cut by uploadMaxMs first; a 32 kbit/s link still passes.
  uploadMinBytesPerS: 4 * 1024,
  uploadRateWindowMs: 30_000,
  uploadMaxMs: 15 * 60_000,
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

export interface UploadProgress {
  /** When the request's headers were complete. */
  startedMs: number;
  /** Start of the current measuring window, and the socket's bytes read then. */
  windowStartMs: number;
  windowStartBytes: number;
}

/**
 * Pure: what to do with a request whose body is still arriving. Before `requestTimeoutMs`,
 * nothing; after, the body must keep `uploadMinBytesPerS` over each window.
 */
export function judgeUpload(limits: Pick<SocketLimits, 'requestTimeoutMs' | 'uploadMinBytesPerS' | 'uploadRateWindowMs'>, p: UploadProgress, bytesReadNow: number, nowMs: number): 'keep' | 'new-window' | 'cut' {
  if (nowMs - p.startedMs < limits.requestTimeoutMs) return 'keep';
  const windowMs = nowMs - p.windowStartMs;
  if (windowMs < limits.uploadRateWindowMs) return 'keep';
  return ((bytesReadNow - p.windowStartBytes) * 1000) / windowMs < limits.uploadMinBytesPerS ? 'cut' : 'new-window';
}

/** Pure: should a socket whose response has waited undrained since `pendingSinceMs` be cut now? */
export function isSlowReader(limits: Pick<SocketLimits, 'slowReadCutMs'>, pendingSinceMs: number | undefined, nowMs: number): boolean {
  return pendingSinceMs !== undefined && nowMs - pendingSinceMs >= limits.slowReadCutMs;
}

interface Tracked {
  address: string;
  /** The socket's latest request and response (set on each request: no listener, no allocation). */
  request: IncomingMessage | undefined;
  response: ServerResponse | undefined;
  /** The request whose body is being watched, and its progress. */
  watched: IncomingMessage | undefined;
  upload: UploadProgress;
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
  private readonly slowBodiesCut;

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
    this.slowBodiesCut = metrics.counter('preau_edge_slow_bodies_cut_total', 'Requests cut because their body arrived slower than the minimum rate after the request deadline');
  }

  /**
   * A check run on every request before Fastify routes it (the rate limiter's penalty box): true
   * when it has answered the request itself. Set by the composition root once the limiter exists.
   */
  refuseBeforeRouting: ((request: IncomingMessage, response: ServerResponse) => boolean) | undefined;

  /**
   * Peers exempt from the per-address cap (only the total applies): trusted proxies that carry
   * many clients per connection behind a forwarding header. Set by the composition root.
   */
  exemptFromAddressCap: ((address: string) => boolean) | undefined;

  /** The Fastify `serverFactory`. */
  createServer = (fastifyHandler: RequestListener<typeof IncomingMessage, typeof ServerResponse>): http.Server => {
    const l = this.limits;
    const handler: RequestListener<typeof IncomingMessage, typeof ServerResponse> = (request, response) => {
      if (this.refuseBeforeRouting?.(request, response) === true) return;
      fastifyHandler(request, response);
    };
    const server = http.createServer(
      {
        maxHeaderSize: l.maxHeaderBytes,
        headersTimeout: l.headersTimeoutMs,
        // Node's cut is the hard cap; the rate rule past requestTimeoutMs is ours (see judgeUpload).
        requestTimeout: Math.max(l.requestTimeoutMs, l.uploadMaxMs),
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
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      const t = this.open.get(request.socket);
      if (t) {
        t.request = request;
        t.response = response;
      }
    });
    server.on('listening', () => this.startSweeping());
    server.on('close', () => this.stopSweeping());
    return server;
  };

  openConnections(): number {
    return this.open.size;
  }

  private onConnection(socket: Socket): void {
    const address = connectionAddress(socket);
    const fromAddress = this.perAddress.get(address) ?? 0;
    const decision = decideConnection(this.limits, this.open.size, this.exemptFromAddressCap?.(address) === true ? 0 : fromAddress);
    if (!decision.accept) {
      this.refusedTotal.inc({ reason: decision.reason });
      const refusal = this.refusals.get('edge.too_many_connections', 'fr', jitteredRetryAfterS(5, 10));
      socket.on('error', () => socket.destroy());
      socket.end(refusal.raw, () => socket.destroy());
      return;
    }
    this.perAddress.set(address, fromAddress + 1);
    this.open.set(socket, { address, pendingSinceMs: undefined, request: undefined, response: undefined, watched: undefined, upload: { startedMs: 0, windowStartMs: 0, windowStartBytes: 0 } });
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
      if (this.bodyTooSlow(socket, t, now)) continue;
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

  /** True when the socket was cut because its request body arrives too slowly. */
  private bodyTooSlow(socket: Socket, t: Tracked, now: number): boolean {
    const req = t.request;
    if (!req || req.complete || req.destroyed) return false;
    if (t.watched !== req) {
      t.watched = req;
      t.upload = { startedMs: now, windowStartMs: now, windowStartBytes: socket.bytesRead };
      return false;
    }
    const verdict = judgeUpload(this.limits, t.upload, socket.bytesRead, now);
    if (verdict === 'new-window') t.upload = { ...t.upload, windowStartMs: now, windowStartBytes: socket.bytesRead };
    if (verdict !== 'cut') return false;
    this.slowBodiesCut.inc();
    const refusal = this.refusals.get('request.timeout', 'fr', 10);
    // A 408 when nothing of a response has been written yet; otherwise only the cut.
    if (!t.response?.headersSent && socket.writableLength === 0) socket.end(refusal.raw, () => socket.destroy());
    else socket.destroy();
    return true;
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
