import { nextDelayMs } from '../../api/backoff.js';
import { ApiError } from '../../api/client.js';

/**
 * What the login page does with a refused sign-in, as a pure decision (unit-tested): the crisis
 * morning's edge answers a login with a place in the waiting room (`waiting.queued`), a
 * proof-of-work challenge (`challenge.*`) or an overload refusal (`auth.busy` and other 503s); only
 * the rest is shown as an error to the person.
 */
export type LoginStep =
  /** Wait in line: poll the waiting room after `pollAfterMs`, then send the same login again once admitted. */
  | { kind: 'queue'; position: number; estimatedWaitSeconds: number; pollAfterMs: number }
  /** Solve the challenge in the browser, then send the same login again with the solution. */
  | { kind: 'challenge'; challenge: string; bits: number }
  /** Overloaded: the same login again after `delayMs` (spread with jitter; the server's Retry-After is a floor). */
  | { kind: 'retry'; delayMs: number }
  | { kind: 'fail' };

/** Bounds: a person is never kept in an automatic loop without being told. */
export const MAX_AUTO_RETRIES = 6;
export const MAX_CHALLENGES = 3;
/** The hardest challenge the page agrees to solve (the server's maximum; beyond, something is wrong). */
export const MAX_CHALLENGE_BITS = 26;
/** A poll of the waiting room is never sooner than this, whatever the server says (the head of the line is asked to poll every 0.5–1 s). */
export const MIN_POLL_MS = 400;
const MAX_POLL_MS = 30_000;

export interface Attempts {
  retries: number;
  challenges: number;
}

const CHALLENGE_IDS = new Set(['challenge.required', 'challenge.invalid', 'challenge.used']);

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

export function clampPoll(ms: number | undefined): number {
  return Math.min(MAX_POLL_MS, Math.max(MIN_POLL_MS, ms ?? MIN_POLL_MS));
}

export function nextLoginStep(err: unknown, attempts: Attempts, random: () => number = Math.random): LoginStep {
  if (!(err instanceof ApiError) || err.kind !== 'http') return { kind: 'fail' };
  if (err.id === 'waiting.queued') {
    const d = err.details;
    return {
      kind: 'queue',
      position: Math.max(1, Math.floor(num(d.position) ?? 1)),
      estimatedWaitSeconds: Math.max(1, Math.ceil(num(d.estimatedWaitSeconds) ?? err.retryAfterSeconds ?? 1)),
      pollAfterMs: clampPoll(num(d.pollAfterMs) ?? (err.retryAfterSeconds ?? 1) * 1000),
    };
  }
  if (CHALLENGE_IDS.has(err.id)) {
    const challenge = err.details.challenge;
    const bits = num(err.details.bits);
    if (typeof challenge !== 'string' || challenge === '' || bits === undefined || bits < 1 || bits > MAX_CHALLENGE_BITS || attempts.challenges >= MAX_CHALLENGES) return { kind: 'fail' };
    return { kind: 'challenge', challenge, bits };
  }
  if (err.status === 503 && attempts.retries < MAX_AUTO_RETRIES) return { kind: 'retry', delayMs: nextDelayMs(attempts.retries, err.retryAfterSeconds, random) };
  return { kind: 'fail' };
}

/** What a poll of `/api/v1/waiting-room` means for the page. */
export type PollOutcome = { kind: 'admitted' } | { kind: 'waiting'; position: number; estimatedWaitSeconds: number; pollAfterMs: number } | { kind: 'again' };

export function readPoll(answer: unknown): PollOutcome {
  const a = answer as { state?: unknown; position?: unknown; estimatedWaitSeconds?: unknown; pollAfterMs?: unknown } | undefined;
  if (a?.state === 'admitted') return { kind: 'admitted' };
  if (a?.state === 'waiting') {
    return {
      kind: 'waiting',
      position: Math.max(1, Math.floor(num(a.position) ?? 1)),
      estimatedWaitSeconds: Math.max(1, Math.ceil(num(a.estimatedWaitSeconds) ?? 1)),
      pollAfterMs: clampPoll(num(a.pollAfterMs)),
    };
  }
  return { kind: 'again' };
}

/**
 * The proof-of-work solver is the server's own script (`/preau-pow.js`, same origin, allowed by the
 * CSP): loaded once, only by a browser that is challenged.
 */
let solverLoading: Promise<void> | undefined;
export async function solveChallenge(challenge: string, bits: number): Promise<string> {
  const w = window as unknown as { preauSolve?: (challenge: string, bits: number) => Promise<string> };
  if (!w.preauSolve) {
    solverLoading ??= new Promise<void>((resolve, reject) => {
      const s = document.createElement('script');
      s.src = '/preau-pow.js';
      s.onload = () => resolve();
      s.onerror = () => {
        solverLoading = undefined;
        reject(new ApiError('network', 0, 'network', '', undefined));
      };
      document.head.append(s);
    });
    await solverLoading;
  }
  if (!w.preauSolve) throw new ApiError('network', 0, 'network', '', undefined);
  return w.preauSolve(challenge, bits);
}
