import { createHash, randomBytes } from 'node:crypto';
import { openSigned, signClaims } from '../signed-token.js';

/**
 * A self-hosted proof of work (no third party sees our pupils): the server signs a challenge, the
 * browser finds a nonce such that SHA-256(challenge ":" nonce) starts with `bits` zero bits
 * (2^bits hashes on average; 16 bits ≈ a second in a browser with WebCrypto), the server checks
 * it with one hash. Signed, bound to the client, expiring, single-use: a solution is worth one
 * password check, on one client, for a few minutes.
 */
export interface ChallengeClaims {
  v: 1;
  id: string;
  bits: number;
  expiresAtMs: number;
  bind: string;
}

export const MAX_CHALLENGE_CHARS = 300;
export const MAX_NONCE_CHARS = 32;
/** Bounds on difficulty: 0 would be no work; beyond 26 a phone would take minutes. */
export const MIN_BITS = 1;
export const MAX_BITS = 26;

export function issueChallenge(key: Buffer, bits: number, nowMs: number, ttlMs: number, bind: string): { token: string; claims: ChallengeClaims } {
  const claims: ChallengeClaims = { v: 1, id: randomBytes(12).toString('base64url'), bits: Math.min(MAX_BITS, Math.max(MIN_BITS, Math.round(bits))), expiresAtMs: nowMs + ttlMs, bind };
  return { token: signClaims(key, claims), claims };
}

export function leadingZeroBits(digest: Buffer): number {
  let n = 0;
  for (const byte of digest) {
    if (byte === 0) {
      n += 8;
      continue;
    }
    return n + Math.clz32(byte) - 24;
  }
  return n;
}

export type SolutionCheck =
  | { ok: true; claims: ChallengeClaims }
  | { ok: false; reason: 'malformed' | 'forged' | 'expired' | 'transferred' | 'insufficient' | 'replayed' };

/** Pure given the key and the set of spent ids: signature, expiry, binding, single use, then the work. */
export function verifySolution(key: Buffer, token: string, nonce: string, nowMs: number, bind: string, isSpent: (id: string) => boolean): SolutionCheck {
  if (nonce.length === 0 || nonce.length > MAX_NONCE_CHARS) return { ok: false, reason: 'malformed' };
  const opened = openSigned(key, token, MAX_CHALLENGE_CHARS);
  if (!opened.ok) return opened;
  const c = opened.claims as Partial<ChallengeClaims>;
  if (c.v !== 1 || typeof c.id !== 'string' || typeof c.bits !== 'number' || typeof c.expiresAtMs !== 'number' || typeof c.bind !== 'string') return { ok: false, reason: 'malformed' };
  if (nowMs >= c.expiresAtMs) return { ok: false, reason: 'expired' };
  if (c.bind !== bind) return { ok: false, reason: 'transferred' };
  if (isSpent(c.id)) return { ok: false, reason: 'replayed' };
  if (leadingZeroBits(createHash('sha256').update(`${token}:${nonce}`).digest()) < c.bits) return { ok: false, reason: 'insufficient' };
  return { ok: true, claims: c as ChallengeClaims };
}

/** What the browser does (here for tests, benches and non-browser clients). */
export function solveChallenge(token: string, bits: number): string {
  for (let i = 0; ; i++) {
    const nonce = i.toString(36);
    if (leadingZeroBits(createHash('sha256').update(`${token}:${nonce}`).digest()) >= bits) return nonce;
  }
}
