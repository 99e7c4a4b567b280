import { createHash } from 'node:crypto';
import { networkOf } from '../address.js';
import { deriveKey, openSigned, signClaims } from '../signed-token.js';

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
  return signClaims(key, claims);
}

/** Pure (given the key): checks signature first, then expiry, then binding. */
export function verifyTicket(key: Buffer, token: string, nowMs: number, binding: string): TicketCheck {
  const opened = openSigned(key, token, MAX_TICKET_CHARS);
  if (!opened.ok) return opened;
  const claims = opened.claims as Partial<TicketClaims>;
  if (claims.v !== 1 || typeof claims.id !== 'string' || typeof claims.expiresAtMs !== 'number' || typeof claims.bind !== 'string') return { ok: false, reason: 'malformed' };
  if (nowMs >= claims.expiresAtMs) return { ok: false, reason: 'expired' };
  if (claims.bind !== binding) return { ok: false, reason: 'transferred' };
  return { ok: true, claims: claims as TicketClaims };
}

export function ticketKey(instanceSecret: string): Buffer {
  return deriveKey(instanceSecret, 'waiting-room-ticket');
}
