import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest, onResponseHookHandler, onSendHookHandler, preHandlerHookHandler } from 'fastify';
import { sendError } from '../../http/error-handler.js';
import { normaliseLogin } from '../../modules/identity/index.js';
import { AppError, type ErrorId } from '../../platform/errors.js';
import type { Metrics } from '../../platform/metrics.js';
import { clientAddress } from '../client-address.js';
import { openSigned, signClaims } from '../signed-token.js';
import { clientBinding } from '../waiting-room/ticket.js';
import { TICKET_COOKIE } from '../waiting-room/waiting-room.js';
import { issueChallenge, MAX_BITS, MIN_BITS, verifySolution } from './proof-of-work.js';
import { MemorySpentIds, type SpentIds } from '../shared/spent-ids.js';
import { KNOWN_BAD_PASSWORDS, StuffingDetector } from './stuffing.js';

export const CHALLENGE_HEADER = 'x-preau-challenge';
export const NONCE_HEADER = 'x-preau-nonce';
export const DEVICE_COOKIE = 'preau_device';

/** `off`: never; `auto`: when the login path is under pressure or stuffing is detected (unknown devices only); `always`: every unknown device. */
export type ChallengeMode = 'off' | 'auto' | 'always';

export interface ChallengeSettings {
  mode: ChallengeMode;
  /** Difficulty: 16 bits ≈ 65,000 hashes, about a second in a browser. */
  bits: number;
  ttlMs: number;
  /** Spent challenge ids remembered (until they expire) at most. */
  maxSpent: number;
  /** Accounts a device mark remembers (siblings share a phone). */
  maxAccountsPerDevice: number;
  deviceMarkDays: number;
}

export const DEFAULT_CHALLENGE_SETTINGS: ChallengeSettings = { mode: 'auto', bits: 16, ttlMs: 5 * 60_000, maxSpent: 500_000, maxAccountsPerDevice: 8, deviceMarkDays: 400 };

/** What else the gate listens to: login pressure (the waiting room), the client's country (crisis mode). */
export interface ChallengeSignals {
  loginUnderPressure(): boolean;
  /** True when crisis mode is on and the client is outside France: challenged first. */
  challengeFirst(request: FastifyRequest): boolean;
}

const accountMark = (login: string) => createHash('sha256').update(normaliseLogin(login)).digest('base64url').slice(0, 16);

/**
 * The proof-of-work gate before password checks, and the credential-stuffing watch that raises
 * it. A device that already opened a session on the account carries a signed mark and is never
 * challenged for that account. Fails open on its own state (no detector data: no challenge) and
 * closed on solutions (a solution that does not verify, or was already spent, is refused).
 */
export class ChallengeGate {
  /** Solved challenges on this node (always checked: cheap), bounded by `maxSpent`. */
  private readonly spent: MemorySpentIds;
  private readonly counts = { issued: 0, solved: 0, failed: 0 };

  constructor(
    public settings: ChallengeSettings,
    private readonly key: Buffer,
    private readonly deviceKey: Buffer,
    private readonly signals: ChallengeSignals,
    private readonly nowMs: () => number,
    metrics: Metrics,
    private readonly serializeCookie: (name: string, value: string, maxAgeS: number) => string,
    /** This node's counts alone (embedded), or over the deployment's (several nodes: see StuffingDetector). */
    readonly detector: StuffingDetector = new StuffingDetector(),
    /** Several nodes: solved challenges every node knows (a solution is spent once across nodes); this node's alone while it cannot answer. */
    private readonly sharedSpent?: { ids: SpentIds; usable(): boolean },
  ) {
    this.spent = new MemorySpentIds(settings.maxSpent);
    const c = metrics.trackedCounter('preau_challenges_total', 'Proof-of-work challenges by outcome');
    for (const k of ['issued', 'solved', 'failed'] as const) c.track(() => this.counts[k], { outcome: k });
    metrics.gauge('preau_stuffing_elevated', 'Credential stuffing detected (1) or not (0)').track(() => (this.detector.level(this.nowMs()) === 'elevated' ? 1 : 0));
    metrics.gauge('preau_challenge_bits', 'Proof-of-work difficulty (bits)').track(() => this.settings.bits);
  }

  setMode(mode: ChallengeMode): void {
    this.settings = { ...this.settings, mode };
  }

  setBits(bits: number): void {
    this.settings = { ...this.settings, bits: Math.min(MAX_BITS, Math.max(MIN_BITS, Math.round(bits))) };
  }

  readonly preHandler: preHandlerHookHandler = (request, reply, done) => {
    const login = loginOf(request);
    if (!this.required(request, login)) return done();
    const token = header(request, CHALLENGE_HEADER);
    const nonce = header(request, NONCE_HEADER);
    const now = this.nowMs();
    const bind = this.bindingOf(request);
    if (!token || !nonce) return this.challenge(request, reply, 'challenge.required', now, bind);
    const check = verifySolution(this.key, token, nonce, now, bind, (id) => this.spent.has(id));
    if (!check.ok) {
      this.counts.failed++;
      return this.challenge(request, reply, check.reason === 'replayed' ? 'challenge.used' : 'challenge.invalid', now, bind);
    }
    this.spent.spendNow(check.claims.id, check.claims.expiresAtMs, now);
    if (!this.sharedSpent?.usable()) return this.solved(done);
    // Fails open to this node's memory when the shared set does not answer (the solution is still spent here).
    this.sharedSpent.ids.spend(check.claims.id, check.claims.expiresAtMs, now).then(
      (first) => {
        if (first) return this.solved(done);
        this.counts.failed++;
        this.challenge(request, reply, 'challenge.used', now, bind);
      },
      () => this.solved(done),
    );
  };

  private solved(done: (err?: Error) => void): void {
    this.counts.solved++;
    done();
  }

  /** Records each password check's outcome for the stuffing watch. */
  readonly onResponse: onResponseHookHandler = (request, reply, done) => {
    const status = reply.statusCode;
    if (status === 200 || status === 401) {
      const body = request.body as { login?: unknown; password?: unknown } | undefined;
      const account = typeof body?.login === 'string' ? normaliseLogin(body.login) : '';
      this.detector.record(this.nowMs(), {
        account,
        address: clientAddress(request.raw),
        success: status === 200,
        knownBadPassword: typeof body?.password === 'string' && KNOWN_BAD_PASSWORDS.has(body.password),
      });
    }
    done();
  };

  /** On a successful password check, marks the device as known for this account. */
  readonly onSend: onSendHookHandler = (request, reply, payload, done) => {
    const login = loginOf(request);
    if (reply.statusCode === 200 && login) {
      const marks = [accountMark(login), ...this.deviceMarks(request).filter((m) => m !== accountMark(login))].slice(0, this.settings.maxAccountsPerDevice);
      const cookie = this.serializeCookie(DEVICE_COOKIE, signClaims(this.deviceKey, { v: 1, a: marks }), this.settings.deviceMarkDays * 86_400);
      const existing = reply.getHeader('set-cookie');
      reply.header('set-cookie', [...(Array.isArray(existing) ? existing : existing !== undefined ? [String(existing)] : []), cookie]);
    }
    done(null, payload);
  };

  isKnownDevice(request: FastifyRequest, login: string | undefined): boolean {
    return login !== undefined && this.deviceMarks(request).includes(accountMark(login));
  }

  private required(request: FastifyRequest, login: string | undefined): boolean {
    const mode = this.settings.mode;
    if (mode === 'off') return false;
    // A visitor coming back with a waiting-room ticket has been through the gate already.
    if (request.cookies[TICKET_COOKIE]) return false;
    if (this.isKnownDevice(request, login)) return false;
    if (mode === 'always') return true;
    return this.signals.challengeFirst(request) || this.signals.loginUnderPressure() || this.detector.level(this.nowMs()) === 'elevated';
  }

  private challenge(request: FastifyRequest, reply: FastifyReply, id: ErrorId, now: number, bind: string): void {
    const { token, claims } = issueChallenge(this.key, this.settings.bits, now, this.settings.ttlMs, bind);
    this.counts.issued++;
    sendError(request, reply, new AppError(id, { details: { challenge: token, bits: claims.bits, algorithm: 'sha256-leading-zero-bits', input: 'challenge:nonce', expiresAt: new Date(claims.expiresAtMs).toISOString() } }));
  }

  private deviceMarks(request: FastifyRequest): string[] {
    const raw = request.cookies[DEVICE_COOKIE];
    if (!raw) return [];
    const opened = openSigned(this.deviceKey, raw, 1_000);
    const a = opened.ok ? opened.claims.a : undefined;
    return Array.isArray(a) ? a.filter((x): x is string => typeof x === 'string') : [];
  }

  private bindingOf(request: FastifyRequest): string {
    return clientBinding(clientAddress(request.raw), request.headers['user-agent']);
  }
}

function loginOf(request: FastifyRequest): string | undefined {
  const login = (request.body as { login?: unknown } | undefined)?.login;
  return typeof login === 'string' ? login : undefined;
}

function header(request: FastifyRequest, name: string): string | undefined {
  const v = request.headers[name];
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}
