import { MEDIA_SIGNAL_MAX_BYTES } from '../media/media-engine.js';

/**
 * The realtime gateway's bounds, and the pure decisions taken from them (LiveKit-style small
 * policies: `decide(state) → action`, applied by gateway.ts).
 */
export interface GatewayLimits {
  /** Open sockets of one person (tabs, phone, computer): past it, the oldest is closed. */
  maxConnectionsPerPerson: number;
  /** Open sockets on this node: descriptors and memory are finite; past it, new ones are refused (503). */
  maxConnections: number;
  /**
   * Largest message a client may send: "ping", or a routed JSON message (the classe virtuelle's
   * signalling: an SDP of at most MEDIA_SIGNAL_MAX_BYTES in an envelope). Larger closes the socket
   * (1009); each route also has its own, smaller or equal, bound answered with an error.
   */
  maxIncomingBytes: number;
  /** Messages a client may send per heartbeat interval, every type together: past it the socket is closed (flood cut). Each route also has its own budget (`RouteBudget`). */
  maxIncomingPerInterval: number;
  /** How often the server pings; a socket that has not answered the previous ping is dropped. */
  heartbeatMs: number;
  /**
   * How often an open socket's session is checked again: a logout or a revocation elsewhere ("log out
   * my other devices") closes the socket within this. Spread over heartbeats; a few lookups a second at 10 000 sockets.
   */
  revalidateMs: number;
  /** Bytes waiting for a client to read: past it the client is dropped (it reconnects and reloads the feed), never buffered without limit. */
  maxBufferedBytes: number;
}

/** What a routed message carries besides a media signal's SDP (type, room, op, connection label, quoting). */
export const INCOMING_ENVELOPE_BYTES = 1024;
/** The largest message the gateway takes: a media signal at its bound in its envelope. */
export const INCOMING_MAX_BYTES = MEDIA_SIGNAL_MAX_BYTES + INCOMING_ENVELOPE_BYTES;

export const DEFAULT_GATEWAY_LIMITS: GatewayLimits = {
  maxConnectionsPerPerson: 5,
  maxConnections: 10_000,
  maxIncomingBytes: INCOMING_MAX_BYTES,
  // A classe virtuelle's negotiation (offer, answer, a few dozen ICE candidates), chat, whiteboard strokes: ~24 messages/s on average over a heartbeat.
  maxIncomingPerInterval: 600,
  // Under the socket guards' 30 s idle cut and most proxies' 60 s: a healthy socket always has traffic.
  heartbeatMs: 25_000,
  revalidateMs: 5 * 60_000,
  // A few hundred notifications: a client that far behind is better served by reloading the feed.
  maxBufferedBytes: 256 * 1024,
};

export type AdmitDecision = { accept: false } | { accept: true; evictOldest: number };

/**
 * Pure: may this person open one more socket? Their own oldest sockets make room first (a person
 * at their cap always gets in: the newest tab is the one being looked at); otherwise the node's cap
 * refuses. Fails closed for the excess socket: the client falls back to polling the unread count.
 */
export function decideAdmit(limits: Pick<GatewayLimits, 'maxConnections' | 'maxConnectionsPerPerson'>, openTotal: number, openOfPerson: number): AdmitDecision {
  const evictOldest = toEvict(limits, openOfPerson);
  if (openTotal - evictOldest >= limits.maxConnections) return { accept: false };
  return { accept: true, evictOldest };
}

/** Pure: may a message of `bytes` be queued for a client that has `bufferedBytes` not yet read? */
export function canQueue(limits: Pick<GatewayLimits, 'maxBufferedBytes'>, bufferedBytes: number, bytes: number): boolean {
  return bufferedBytes + bytes <= limits.maxBufferedBytes;
}

/** Pure: how many of a person's oldest sockets to close so that one more fits under their cap. */
export function toEvict(limits: Pick<GatewayLimits, 'maxConnectionsPerPerson'>, openOfPerson: number): number {
  return Math.max(0, openOfPerson - limits.maxConnectionsPerPerson + 1);
}

/** The reconnect hint's window: at least this wide, wider with more sockets to spread, never longer than the cap. */
export const RESTART_HINT_MIN_WINDOW_MS = 5_000;
export const RESTART_HINT_MAX_WINDOW_MS = 30_000;
/** Reconnections per second the other nodes are asked to absorb from one stopping node, at most. */
const RESTART_RECONNECTS_PER_S = 1_000;

/**
 * Pure: the delay one client is told to wait before reconnecting when this node stops (close 1012,
 * reason `reconnect=<ms>`). Drawn at random per socket over a window that grows with how many
 * sockets close at once, so 10 000 tabs land on the other nodes spread over seconds, not in one
 * burst; 0.5 s at least (the load balancer has marked this node down by then).
 */
export function restartHintMs(socketsClosing: number, random: () => number): number {
  const windowMs = Math.min(RESTART_HINT_MAX_WINDOW_MS, Math.max(RESTART_HINT_MIN_WINDOW_MS, (socketsClosing / RESTART_RECONNECTS_PER_S) * 1000));
  return Math.round(500 + Math.min(Math.max(random(), 0), 1) * (windowMs - 500));
}

/**
 * A route's own budget per socket: a token bucket of `burst` messages refilled at `perSecond`. A
 * message over budget is refused with an error (`realtime.rate_limited`) and dropped; the socket
 * stays (the flood cut above closes it if the client keeps going).
 */
export interface RouteBudget {
  perSecond: number;
  burst: number;
}

export interface Bucket {
  tokens: number;
  atMs: number;
}

/** Pure: takes one token from this bucket at `nowMs` if there is one; returns the bucket after, and whether the message may pass. */
export function takeToken(budget: RouteBudget, bucket: Bucket | undefined, nowMs: number): { ok: boolean; bucket: Bucket } {
  const start = bucket ?? { tokens: budget.burst, atMs: nowMs };
  const tokens = Math.min(budget.burst, start.tokens + (Math.max(0, nowMs - start.atMs) / 1000) * budget.perSecond);
  if (tokens < 1) return { ok: false, bucket: { tokens, atMs: nowMs } };
  return { ok: true, bucket: { tokens: tokens - 1, atMs: nowMs } };
}
