/**
 * The realtime gateway's bounds, and the pure decisions taken from them (LiveKit-style small
 * policies: `decide(state) → action`, applied by gateway.ts).
 */
export interface GatewayLimits {
  /** Open sockets of one person (tabs, phone, computer): past it, the oldest is closed. */
  maxConnectionsPerPerson: number;
  /** Open sockets on this node: descriptors and memory are finite; past it, new ones are refused (503). */
  maxConnections: number;
  /** Largest message a client may send: it only ever sends "ping". Larger closes the socket (1009). */
  maxIncomingBytes: number;
  /** Messages a client may send per heartbeat interval (pings every few seconds at most). */
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

export const DEFAULT_GATEWAY_LIMITS: GatewayLimits = {
  maxConnectionsPerPerson: 5,
  maxConnections: 10_000,
  maxIncomingBytes: 64,
  maxIncomingPerInterval: 20,
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
