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
