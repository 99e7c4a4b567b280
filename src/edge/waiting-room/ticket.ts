import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { networkOf } from '../address.js';

/**
 * Waiting-room tickets: `base64url(claims).base64url(HMAC-SHA256(claims))`. Signed so that a
 * ticket cannot be invented or edited; bound to the client (its network and browser) so that a
 * ticket handed to someone else, or sold, does not work there; expiring; and single-use at
 * admission (the room remembers used ids until they expire). The claims say nothing about the
 * person (no lane, no school): a ticket is readable by whoever holds it.
 */
export interface TicketClaims {
  v: 1;
  /** Random id, the key of the ticket's place in the room. */
  id: string;
  issuedAtMs: number;
  expiresAtMs: number;
  /** Hash of the client's network and user agent at issue. */
  bind: string;
}

export type TicketCheck = { ok: true; claims: TicketClaims } | { ok: false; reason: 'malformed' | 'forged' | 'expired' | 'transferred' };

/** Tickets are small; anything longer is refused before any parsing or hashing. */
export const MAX_TICKET_CHARS = 400;

/**
 * The client a ticket is bound to: its /24 (or /48) network rather than its exact address (a
 * phone moving between antennas of one operator keeps its ticket) and its user agent.
 */
export function clientBinding(address: string, userAgent: string | undefined): string {
  return createHash('sha256').update(`${networkOf(address)}\u0000${(userAgent ?? '').slice(0, 300)}`).digest('base64url').slice(0, 22);
}

export function signTicket(key: Buffer, claims: TicketClaims): string {
  const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${body}.${createHmac('sha256', key).update(body).digest('base64url')}`;
}

/** Pure (given the key): checks signature first, then expiry, then binding. */
export function verifyTicket(key: Buffer, token: string, nowMs: number, binding: string): TicketCheck {
  if (token.length > MAX_TICKET_CHARS) return { ok: false, reason: 'malformed' };
  const dot = token.indexOf('.');
  if (dot <= 0 || dot !== token.lastIndexOf('.')) return { ok: false, reason: 'malformed' };
  const body = token.slice(0, dot);
  const given = Buffer.from(token.slice(dot + 1), 'base64url');
  const expected = createHmac('sha256', key).update(body).digest();
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'forged' };
  let claims: TicketClaims;
  try {
    claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as TicketClaims;
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (claims.v !== 1 || typeof claims.id !== 'string' || typeof claims.expiresAtMs !== 'number' || typeof claims.bind !== 'string') return { ok: false, reason: 'malformed' };
  if (nowMs >= claims.expiresAtMs) return { ok: false, reason: 'expired' };
  if (claims.bind !== binding) return { ok: false, reason: 'transferred' };
  return { ok: true, claims };
}

/** The ticket key is derived from the instance secret: one secret, distinct keys per use. */
export function ticketKey(instanceSecret: string): Buffer {
  return createHmac('sha256', instanceSecret).update('preau:waiting-room-ticket:v1').digest();
}
