import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { MediaEngineError } from '../media-engine.js';
import { JANUS_CORE, JanusError } from './janus-errors.js';

/**
 * The Janus API over its WebSocket transport (subprotocol `janus-protocol`): one connection, one
 * Janus session holding every handle of this adapter, keepalives, transactions with explicit
 * timeouts, and reconnection when the transport drops.
 *
 * Fails closed and fast: while Janus is unreachable, every call rejects `unavailable` at once (no
 * queueing, no hang); a background loop reconnects with bounded backoff. After a reconnection the
 * old session is claimed (`claim`, kept by Janus when its `reclaim_session_timeout` > 0): handles and
 * media survive; when the claim fails, a new session is made and `onSessionLost` tells the adapter
 * that every handle (hence every participant's media) is gone.
 */

export interface JanusJsep {
  type: 'offer' | 'answer';
  sdp: string;
  /** Janus asks for an ICE restart on its offer (our `configure` with `restart: true`). */
  restart?: boolean;
}

/** A message from Janus (only the fields this adapter reads). */
export interface JanusMessage {
  janus: string;
  transaction?: string;
  session_id?: number;
  sender?: number;
  data?: { id?: number };
  error?: { code: number; reason: string };
  plugindata?: { plugin: string; data: Record<string, unknown> };
  jsep?: JanusJsep;
  candidate?: { candidate?: string; sdpMid?: string | null; sdpMLineIndex?: number | null; completed?: boolean };
  reason?: string;
  uplink?: boolean;
  lost?: number;
  mid?: string;
  media?: string;
  receiving?: boolean;
}

export interface JanusClientOptions {
  /** `ws://host:port` of Janus' WebSocket transport. */
  url: string;
  /** Janus' `api_secret` (general section of janus.jcfg), when it has one. */
  apiSecret?: string | undefined;
  connectTimeoutMs: number;
  /** A request Janus has not answered by then rejects `unavailable` (a Janus that hangs is a Janus that is down). */
  requestTimeoutMs: number;
  /** Well below Janus' `session_timeout` (60 s by default). */
  keepaliveMs: number;
  /** First and last wait between two reconnection attempts (doubling). */
  reconnectMinMs: number;
  reconnectMaxMs: number;
  /** Events Janus sends on its own (plugin events without transaction, trickle, webrtcup, hangup, slowlink, media). */
  onEvent: (message: JanusMessage) => void;
  /** The session and every handle in it are gone (Janus restarted, or the claim failed). */
  onSessionLost: () => void;
}

/** Keepalive round trips kept for the API latency percentile (`load()`). */
const RTT_SAMPLES_KEPT = 64;

interface Pending {
  resolve: (m: JanusMessage) => void;
  reject: (e: Error) => void;
  /** `ack`: resolved by Janus' ack (trickle, keepalive); `result`: by its success/event/error. */
  until: 'ack' | 'result';
  timer: NodeJS.Timeout;
}

export class JanusClient {
  private socket: WebSocket | undefined;
  private connecting: Promise<void> | undefined;
  private sessionId: number | undefined;
  private readonly pending = new Map<string, Pending>();
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private reconnectDelayMs: number;
  private closed = false;
  private readonly rtts: number[] = [];

  constructor(private readonly options: JanusClientOptions) {
    this.reconnectDelayMs = options.reconnectMinMs;
  }

  /** The Janus session this adapter holds (for the Admin API), when connected. */
  get session(): number | undefined {
    return this.connected ? this.sessionId : undefined;
  }

  get connected(): boolean {
    return this.sessionId !== undefined && this.socket?.readyState === WebSocket.OPEN;
  }

  /** Connects and creates (or claims) the session if needed. Rejects `unavailable` when Janus is away. */
  ensureSession(): Promise<void> {
    if (this.closed) return Promise.reject(new MediaEngineError('unavailable', 'adaptateur Janus fermé'));
    if (this.connected) return Promise.resolve();
    this.connecting ??= this.connect().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  async attach(): Promise<number> {
    await this.ensureSession();
    const answer = await this.send({ janus: 'attach', plugin: 'janus.plugin.videoroom', session_id: this.sessionId }, 'result');
    const id = answer.data?.id;
    if (typeof id !== 'number') throw new MediaEngineError('unavailable', 'Janus : attach sans identifiant de handle');
    return id;
  }

  async detach(handleId: number): Promise<void> {
    if (!this.connected) return;
    await this.send({ janus: 'detach', session_id: this.sessionId, handle_id: handleId }, 'result').catch(() => undefined);
  }

  /**
   * A request to the VideoRoom plugin on a handle. Synchronous requests (create, destroy, list…)
   * answer `success`; asynchronous ones (join, publish, configure, start, subscribe…) answer `ack`
   * then an `event` with the same transaction: both resolve here with the plugin's data and jsep.
   */
  async message(handleId: number, body: Record<string, unknown>, jsep?: JanusJsep): Promise<{ data: Record<string, unknown>; jsep: JanusJsep | undefined }> {
    await this.ensureSession();
    const answer = await this.send({ janus: 'message', session_id: this.sessionId, handle_id: handleId, body, ...(jsep ? { jsep } : {}) }, 'result');
    const data = answer.plugindata?.data ?? {};
    if (typeof data.error_code === 'number') throw new JanusError('videoroom', data.error_code, typeof data.error === 'string' ? data.error : 'erreur');
    return { data, jsep: answer.jsep };
  }

  async trickle(handleId: number, candidate: Record<string, unknown>): Promise<void> {
    await this.ensureSession();
    await this.send({ janus: 'trickle', session_id: this.sessionId, handle_id: handleId, candidate }, 'ack');
  }

  /** p99 of the last keepalive round trips, in ms (0 before the first): how late this Janus answers. */
  apiRttP99Ms(): number {
    if (this.rtts.length === 0) return 0;
    const sorted = [...this.rtts].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)]!;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.keepaliveTimer);
    if (this.connected) await this.send({ janus: 'destroy', session_id: this.sessionId }, 'result').catch(() => undefined);
    this.teardown(new MediaEngineError('unavailable', 'adaptateur Janus fermé'));
  }

  private async connect(): Promise<void> {
    if (this.socket?.readyState !== WebSocket.OPEN) await this.openSocket();
    const previous = this.sessionId;
    if (previous !== undefined) {
      // The transport dropped but Janus may have kept the session (reclaim_session_timeout).
      try {
        await this.send({ janus: 'claim', session_id: previous }, 'result');
        this.startKeepalive();
        return;
      } catch (error) {
        if (error instanceof JanusError && error.janusCode !== JANUS_CORE.sessionNotFound) throw error.toMediaError();
        this.sessionId = undefined;
        this.options.onSessionLost();
      }
    }
    const created = await this.send({ janus: 'create' }, 'result').catch((e: unknown) => {
      throw e instanceof JanusError ? e.toMediaError() : e;
    });
    const id = created.data?.id;
    if (typeof id !== 'number') throw new MediaEngineError('unavailable', 'Janus : create sans identifiant de session');
    this.sessionId = id;
    this.startKeepalive();
  }

  private openSocket(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const socket = new WebSocket(this.options.url, 'janus-protocol', { handshakeTimeout: this.options.connectTimeoutMs });
      const fail = (error: Error) => {
        socket.removeAllListeners();
        socket.on('error', () => undefined);
        socket.terminate();
        reject(new MediaEngineError('unavailable', `Janus injoignable (${this.options.url}) : ${error.message}`));
      };
      socket.once('error', fail);
      socket.once('open', () => {
        socket.off('error', fail);
        this.socket = socket;
        this.reconnectDelayMs = this.options.reconnectMinMs;
        socket.on('message', (raw) => this.receive(raw.toString()));
        socket.on('error', () => undefined); // 'close' follows and handles it
        socket.once('close', () => this.dropped(socket));
        resolve();
      });
    });
  }

  private receive(raw: string): void {
    let message: JanusMessage;
    try {
      message = JSON.parse(raw) as JanusMessage;
    } catch {
      return;
    }
    const pending = message.transaction !== undefined ? this.pending.get(message.transaction) : undefined;
    if (pending) {
      if (message.janus === 'ack' && pending.until === 'result') return;
      this.pending.delete(message.transaction!);
      clearTimeout(pending.timer);
      if (message.janus === 'error') pending.reject(new JanusError('core', message.error?.code ?? 0, message.error?.reason ?? 'erreur'));
      else pending.resolve(message);
      return;
    }
    if (message.janus !== 'ack') this.options.onEvent(message);
  }

  private send(payload: Record<string, unknown>, until: 'ack' | 'result'): Promise<JanusMessage> {
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) return Promise.reject(new MediaEngineError('unavailable', 'Janus injoignable'));
    const transaction = randomBytes(9).toString('base64url');
    return new Promise<JanusMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(transaction);
        reject(new MediaEngineError('unavailable', `Janus n’a pas répondu en ${this.options.requestTimeoutMs} ms (${String(payload.janus)})`));
      }, this.options.requestTimeoutMs);
      this.pending.set(transaction, { resolve, reject, until, timer });
      socket.send(JSON.stringify({ ...payload, transaction, ...(this.options.apiSecret ? { apisecret: this.options.apiSecret } : {}) }), (error) => {
        if (!error) return;
        clearTimeout(timer);
        this.pending.delete(transaction);
        reject(new MediaEngineError('unavailable', `Janus : envoi impossible (${error.message})`));
      });
    });
  }

  private startKeepalive(): void {
    clearInterval(this.keepaliveTimer);
    this.keepaliveTimer = setInterval(() => {
      const started = performance.now();
      this.send({ janus: 'keepalive', session_id: this.sessionId }, 'ack').then(
        () => {
          this.rtts.push(performance.now() - started);
          if (this.rtts.length > RTT_SAMPLES_KEPT) this.rtts.shift();
        },
        (error: unknown) => {
          // The session is gone while the socket is up (Janus restarted behind a proxy, or timed it out).
          if (error instanceof JanusError && error.janusCode === JANUS_CORE.sessionNotFound) {
            this.sessionId = undefined;
            this.options.onSessionLost();
            void this.ensureSession().catch(() => undefined);
          }
        },
      );
    }, this.options.keepaliveMs);
    this.keepaliveTimer.unref();
  }

  private dropped(socket: WebSocket): void {
    if (this.socket !== socket) return;
    this.teardown(new MediaEngineError('unavailable', 'Janus : connexion perdue'), true);
    if (this.closed) return;
    const retry = () => {
      this.reconnectTimer = setTimeout(() => {
        this.ensureSession().catch(() => {
          this.reconnectDelayMs = Math.min(this.reconnectDelayMs * 2, this.options.reconnectMaxMs);
          if (!this.closed) retry();
        });
      }, this.reconnectDelayMs);
      this.reconnectTimer.unref();
    };
    retry();
  }

  /** Rejects every pending request; `keepSessionId` lets the next connection try to claim it. */
  private teardown(error: Error, keepSessionId = false): void {
    clearInterval(this.keepaliveTimer);
    const socket = this.socket;
    this.socket = undefined;
    if (socket) {
      socket.removeAllListeners();
      socket.on('error', () => undefined);
      socket.terminate();
    }
    if (!keepSessionId) this.sessionId = undefined;
    for (const [transaction, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(transaction);
      p.reject(error);
    }
  }
}

/**
 * Janus' Admin API over WebSocket (subprotocol `janus-admin-protocol`), for what the VideoRoom API
 * does not tell: per-handle packet counters (`handle_info`). Optional; connected on first use, a
 * failure is `unavailable` after `requestTimeoutMs`, like the main API. Never exposed beyond the
 * private network between Préau and Janus (it can do anything to Janus).
 */
export class JanusAdminClient {
  private socket: WebSocket | undefined;
  private opening: Promise<WebSocket> | undefined;
  private readonly pending = new Map<string, { resolve: (m: Record<string, unknown>) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();

  constructor(private readonly options: { url: string; secret: string; connectTimeoutMs: number; requestTimeoutMs: number }) {}

  /** `handle_info` of one handle of one session: the `info` object, as Janus gives it. */
  async handleInfo(sessionId: number, handleId: number): Promise<Record<string, unknown>> {
    const answer = await this.request({ janus: 'handle_info', session_id: sessionId, handle_id: handleId });
    if (answer.janus === 'error') {
      const error = answer.error as { code?: number; reason?: string } | undefined;
      throw new JanusError('core', error?.code ?? 0, error?.reason ?? 'erreur');
    }
    return (answer.info as Record<string, unknown> | undefined) ?? {};
  }

  close(): void {
    this.socket?.terminate();
    this.socket = undefined;
  }

  private async request(payload: Record<string, unknown>): Promise<Record<string, unknown>> {
    const socket = await this.open();
    const transaction = randomBytes(9).toString('base64url');
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(transaction);
        reject(new MediaEngineError('unavailable', `API d’administration de Janus muette en ${this.options.requestTimeoutMs} ms`));
      }, this.options.requestTimeoutMs);
      this.pending.set(transaction, { resolve, reject, timer });
      socket.send(JSON.stringify({ ...payload, transaction, admin_secret: this.options.secret }));
    });
  }

  private open(): Promise<WebSocket> {
    if (this.socket?.readyState === WebSocket.OPEN) return Promise.resolve(this.socket);
    this.opening ??= new Promise<WebSocket>((resolve, reject) => {
      const socket = new WebSocket(this.options.url, 'janus-admin-protocol', { handshakeTimeout: this.options.connectTimeoutMs });
      socket.once('error', (e) => reject(new MediaEngineError('unavailable', `API d’administration de Janus injoignable : ${e.message}`)));
      socket.once('open', () => {
        socket.removeAllListeners('error');
        socket.on('error', () => undefined);
        socket.on('message', (raw) => {
          let m: Record<string, unknown>;
          try {
            m = JSON.parse(raw.toString()) as Record<string, unknown>;
          } catch {
            return;
          }
          const p = typeof m.transaction === 'string' ? this.pending.get(m.transaction) : undefined;
          if (!p) return;
          this.pending.delete(m.transaction as string);
          clearTimeout(p.timer);
          p.resolve(m);
        });
        socket.once('close', () => {
          if (this.socket === socket) this.socket = undefined;
          for (const [t, p] of this.pending) {
            clearTimeout(p.timer);
            this.pending.delete(t);
            p.reject(new MediaEngineError('unavailable', 'API d’administration de Janus : connexion perdue'));
          }
        });
        this.socket = socket;
        resolve(socket);
      });
    }).finally(() => (this.opening = undefined));
    return this.opening;
  }
}
