import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * `base64url(JSON claims).base64url(HMAC-SHA256)`: the edge's signed tokens (waiting-room
 * tickets, proof-of-work challenges, device marks). The signature is checked before anything
 * else is parsed; oversized input is refused before any hashing.
 */
export function signClaims(key: Buffer, claims: object): string {
  const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${body}.${createHmac('sha256', key).update(body).digest('base64url')}`;
}

export type Opened = { ok: true; claims: Record<string, unknown> } | { ok: false; reason: 'malformed' | 'forged' };

export function openSigned(key: Buffer, token: string, maxChars: number): Opened {
  if (token.length > maxChars) return { ok: false, reason: 'malformed' };
  const dot = token.indexOf('.');
  if (dot <= 0 || dot !== token.lastIndexOf('.')) return { ok: false, reason: 'malformed' };
  const body = token.slice(0, dot);
  const given = Buffer.from(token.slice(dot + 1), 'base64url');
  const expected = createHmac('sha256', key).update(body).digest();
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'forged' };
  try {
    const claims: unknown = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
    return claims !== null && typeof claims === 'object' ? { ok: true, claims: claims as Record<string, unknown> } : { ok: false, reason: 'malformed' };
  } catch {
    return { ok: false, reason: 'malformed' };
  }
}

/** Keys are derived from the instance secret: one secret, a distinct key per use. */
export function deriveKey(instanceSecret: string, purpose: string): Buffer {
  return createHmac('sha256', instanceSecret).update(`preau:${purpose}:v1`).digest();
}
