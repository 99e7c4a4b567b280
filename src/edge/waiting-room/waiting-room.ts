import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest, preHandlerHookHandler } from 'fastify';
import { sendError } from '../../http/error-handler.js';
import { AppError, type ErrorId } from '../../platform/errors.js';
import type { Metrics } from '../../platform/metrics.js';
import { clientAddress } from '../client-address.js';
import type { Lane } from './fair-queue.js';
import { RedisAway } from './redis-room-line.js';
import { MemoryRoomLine, type Look, type RoomLine } from './room-line.js';
import { clientBinding, signTicket, verifyTicket, type TicketCheck } from './ticket.js';

export const TICKET_COOKIE = 'preau_ticket';
export const TICKET_HEADER = 'x-preau-ticket';

/** What the room reads of login capacity (the password hasher). */
export interface LoginCapacity {
  /** Password checks waiting for a hashing thread. */
  queued(): number;
  /** Hashing threads. */
  concurrency(): number;
  /** Password checks completed since start (for the admission rate). */
  completed(): number;
}

/** Which lane and school a login belongs to (from the directory and the timetable). */
export type LaneResolver = (login: string, nowMs: number) => Promise<{ lane: Lane; schoolId: string }>;

export interface WaitingRoomSettings {
  /** Logins let through at once (in the hasher or on their way to it); beyond, new visitors get tickets. */
  maxLoginsInFlight: number;
  /** Waiting tickets at most; beyond, a plain refusal with Retry-After. */
  maxWaiting: number;
  /** A ticket is valid this long after issue (waiting included). */
  ticketTtlMs: number;
  /** An admitted ticket must be used within this. */
  admittedTtlMs: number;
  /** An admitted ticket reserves login capacity this long (its page polls, then posts); after, it is still valid but reserves nothing. */
  claimHoldMs: number;
  /** How often expired tickets are forgotten (a scan of the room). */
  cleanupEveryMs: number;
  /** A waiting ticket not polled for this long is dropped (its visitor has left). */
  abandonAfterMs: number;
  /** How often the room admits (while anyone waits). */
  tickMs: number;
  /** Clients poll every base..base+spread ms (jitter: no lock-step). */
  pollBaseMs: number;
  pollSpreadMs: number;
  /**
   * The head of the line (those to be admitted within about two seconds at the measured rate) polls
   * sooner: an admitted visitor only learns it at its next poll, and its place reserves capacity until
   * it signs in, so a slow poll at the head would pace the whole room at capacity ÷ poll delay.
   */
  headPollBaseMs: number;
  headPollSpreadMs: number;
  /** Expected time from admission to the sign-in (head poll + the page's round trip): sizes the admitted-unclaimed reservation. */
  claimWindowMs: number;
}

export const DEFAULT_WAITING_ROOM_SETTINGS: WaitingRoomSettings = {
  maxLoginsInFlight: 32,
  maxWaiting: 200_000,
  ticketTtlMs: 45 * 60_000,
  admittedTtlMs: 2 * 60_000,
  claimHoldMs: 10_000,
  cleanupEveryMs: 10_000,
  abandonAfterMs: 60_000,
  tickMs: 100,
  pollBaseMs: 2_000,
  pollSpreadMs: 3_000,
  headPollBaseMs: 500,
  headPollSpreadMs: 500,
  claimWindowMs: 1_500,
};

/** Pure: does a new visitor (no valid ticket) go straight to the password check, or get a ticket? */
export function decideEntry(s: { inFlight: number; admittedUnclaimed: number; maxInFlight: number; waiting: number; hashQueued: number; hashConcurrency: number }): 'pass' | 'queue' {
  // Nobody overtakes the line: while anyone waits, newcomers queue too (first come, first served).
  if (s.waiting > 0) return 'queue';
  // Capacity promised to admitted tickets on their way back is not given to newcomers.
  if (s.inFlight + s.admittedUnclaimed >= s.maxInFlight) return 'queue';
  // Password checks from elsewhere (password changes, activations) count against the same capacity.
  if (s.hashQueued >= s.maxInFlight + s.hashConcurrency) return 'queue';
  return 'pass';
}

/**
 * Pure: how many waiting tickets may be admitted now. Two bounds: the logins in flight (in the
 * hasher or on their way to it) stay under `maxInFlight`; admitted tickets not yet used stay under
 * `maxUnclaimed` (the measured rate × the claim window). The second is apart from the first on
 * purpose: a visitor takes a second to come back after being admitted, and counting them as in
 * flight paced the room at maxInFlight per claim delay (the surge bench saw 8/s for a node hashing 88/s).
 */
export function admissionsNow(s: { inFlight: number; admittedUnclaimed: number; maxInFlight: number; hashQueued: number; maxUnclaimed: number }): number {
  const capacity = s.maxInFlight - s.inFlight - Math.max(0, s.hashQueued - s.inFlight);
  return Math.max(0, Math.min(capacity, s.maxUnclaimed - s.admittedUnclaimed));
}

export interface TicketStatus {
  state: 'waiting' | 'admitted';
  position: number;
  estimatedWaitSeconds: number;
  pollAfterMs: number;
}

type Refusal = { id: ErrorId; params?: Record<string, string | number>; retryAfterSeconds?: number };

/** The line shared by every node (Redis), and whether it can be used now (its breaker). */
export interface SharedLine {
  line: RoomLine;
  usable(): boolean;
}

/**
 * The waiting room for new sessions. While login capacity (password hashing) is short, a new
 * visitor gets a signed ticket with a position and an estimated wait instead of a refusal; the
 * room admits tickets as capacity frees — lanes first, fair share per school, first come first
 * served within — and an admitted ticket is spent by one login. Invisible without pressure.
 * Existing sessions never pass here (only `login` routes do), so none is ever evicted.
 *
 * Several nodes (a shared line, Redis): one line for all; each node admits from it as its own
 * hashing capacity frees, so the room's admission rate is the sum of the nodes' and its order is
 * global; a ticket issued by one node is honoured, and spent once, on any. While the shared line
 * cannot be reached, each node falls back to its own line and its own capacity (tickets issued
 * before are unknown to it and get a new place — see docs/OPERATIONS.md).
 *
 * Fails closed for tickets (a ticket that does not verify is refused: the line is only fair if it
 * cannot be jumped) and open for the room itself (no capacity signal, no pressure: everyone passes).
 * Bounded: `maxWaiting` places; used ids are remembered until they expire, and so bounded too.
 */
export class WaitingRoom {
  private readonly local: MemoryRoomLine;
  private inFlight = 0;
  /** Tickets this node admitted and that still reserve its capacity, by admission time (oldest first). */
  private readonly holds = new Map<string, number>();
  private lastCleanupMs = 0;
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  /** The shared line's size at the last tick (the synchronous `waiting()` reads it). */
  private sharedWaiting = 0;
  /** Password checks per second, smoothed: the wait estimate. */
  private rateEstimatePerS = 0;
  private lastCompleted = 0;
  private lastRateSampleMs = 0;
  private readonly counts = { issued: 0, admitted: 0, used: 0, refused: 0, abandoned: 0 };
  private readonly hookFn: preHandlerHookHandler;

  constructor(
    readonly settings: WaitingRoomSettings,
    private readonly key: Buffer,
    private readonly capacity: LoginCapacity,
    private readonly resolveLane: LaneResolver,
    private readonly nowMs: () => number,
    metrics: Metrics,
    private readonly secureCookie: boolean,
    /** Crisis mode: clients outside France queue in the last lane. */
    private readonly isAbroad: (request: FastifyRequest) => boolean = () => false,
    private readonly shared?: SharedLine,
  ) {
    this.local = new MemoryRoomLine(settings);
    metrics.gauge('preau_waiting_room_waiting', 'Visitors holding a waiting ticket').track(() => this.waiting());
    metrics.gauge('preau_waiting_room_logins_in_flight', 'Logins let through and not yet answered').track(() => this.inFlight);
    metrics.gauge('preau_waiting_room_admitted_unclaimed', 'Tickets this node admitted that still reserve its login capacity').track(() => this.holds.size);
    metrics.gauge('preau_waiting_room_rate_per_s', 'Estimated password checks per second (the wait estimate)').track(() => this.rateEstimatePerS);
    const c = metrics.trackedCounter('preau_waiting_room_tickets_total', 'Waiting-room tickets by outcome');
    for (const k of ['issued', 'admitted', 'used', 'refused', 'abandoned'] as const) c.track(() => this.counts[k], { outcome: k });
    this.hookFn = (request, reply, done) => {
      this.guard(request, reply, done).catch((err: unknown) => done(err instanceof Error ? err : new Error(String(err))));
    };
  }

  /** The preHandler for login routes (they have a validated body with `login`). */
  hook(): preHandlerHookHandler {
    return this.hookFn;
  }

  /** The line in use now: the shared one while it answers, else this node's. */
  private line(): RoomLine {
    return this.shared?.usable() ? this.shared.line : this.local;
  }

  /** Runs on the line in use; when the shared line fails mid-call, again on this node's (fails open to local). */
  private async onLine<T>(op: (line: RoomLine) => Promise<T>): Promise<T> {
    const line = this.line();
    try {
      return await op(line);
    } catch (err) {
      if (line === this.local || !(err instanceof RedisAway)) throw err;
      return op(this.local);
    }
  }

  waiting(): number {
    return this.shared?.usable() ? this.sharedWaiting : this.local.waiting;
  }

  start(): void {
    this.stop();
    this.timer = setInterval(() => void this.tick(), this.settings.tickMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Admits as many waiting tickets as this node's capacity allows; forgets expired state. Called by the timer (and by tests). */
  async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      const now = this.nowMs();
      this.sampleRate(now);
      // Admitted tickets not claimed in time stop reserving capacity.
      for (const [id, atMs] of this.holds) {
        if (now - atMs <= this.settings.claimHoldMs) break;
        this.holds.delete(id);
      }
      if (now - this.lastCleanupMs >= this.settings.cleanupEveryMs) {
        this.lastCleanupMs = now;
        await this.local.cleanup(now);
      }
      const free = admissionsNow({ inFlight: this.inFlight, admittedUnclaimed: this.holds.size, maxInFlight: this.settings.maxLoginsInFlight, hashQueued: this.capacity.queued(), maxUnclaimed: this.maxUnclaimed() });
      const { admitted, abandoned } = await this.onLine((line) => line.admit(free, now));
      for (const id of admitted) this.holds.set(id, now);
      this.counts.admitted += admitted.length;
      this.counts.abandoned += abandoned;
      if (this.shared?.usable()) {
        this.sharedWaiting = await this.shared.line.size().catch(() => this.sharedWaiting);
        for (const id of await this.shared.line.spentElsewhere().catch(() => [])) this.holds.delete(id);
      }
    } finally {
      this.ticking = false;
    }
  }

  /** The status a waiting page polls. */
  async status(request: FastifyRequest): Promise<TicketStatus | Refusal> {
    const token = ticketOf(request);
    if (!token) return { id: 'waiting.invalid_ticket' };
    const now = this.nowMs();
    const check = verifyTicket(this.key, token, now, this.bindingOf(request));
    if (!check.ok) return refusalFor(check);
    const look = await this.onLine((line) => line.look(check.claims.id, now));
    if (look.state === 'used') return { id: 'waiting.ticket_used' };
    if (look.state === 'unknown') return { id: 'waiting.ticket_expired' };
    return this.describe(look);
  }

  /** Issue order of a ticket on this node's line (tests and benches check that admission follows it). */
  seqOf(token: string): number | undefined {
    const dot = token.indexOf('.');
    try {
      const id = (JSON.parse(Buffer.from(token.slice(0, dot), 'base64url').toString('utf8')) as { id: string }).id;
      return this.local.seqOf(id);
    } catch {
      return undefined;
    }
  }

  /** Password checks per second: measured; before any measure, a cautious 50 per hashing thread. */
  private rate(): number {
    return this.rateEstimatePerS > 0 ? this.rateEstimatePerS : 50 * this.capacity.concurrency();
  }

  /** Admitted tickets that may wait to be used at once: the rate × the claim window (never below the in-flight bound). */
  private maxUnclaimed(): number {
    return Math.max(this.settings.maxLoginsInFlight, Math.ceil((this.rate() * this.settings.claimWindowMs) / 1000));
  }

  private describe(look: Extract<Look, { state: 'waiting' | 'admitted' }>): TicketStatus {
    if (look.state === 'admitted') return { state: 'admitted', position: 0, estimatedWaitSeconds: 0, pollAfterMs: 0 };
    const position = look.position;
    const rate = this.rate();
    const head = position <= Math.max(this.maxUnclaimed(), Math.ceil(rate * 2));
    const pollAfterMs = head
      ? Math.round(this.settings.headPollBaseMs + Math.random() * this.settings.headPollSpreadMs)
      : Math.round(this.settings.pollBaseMs + Math.random() * this.settings.pollSpreadMs);
    return { state: 'waiting', position, estimatedWaitSeconds: Math.max(1, Math.ceil(position / rate)), pollAfterMs };
  }

  private async guard(request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void): Promise<void> {
    const token = ticketOf(request);
    const now = this.nowMs();
    if (token) {
      const check = verifyTicket(this.key, token, now, this.bindingOf(request));
      const pressure = this.pressure() === 'queue';
      if (!check.ok) {
        // A stale ticket without pressure is simply forgotten; a forged or transferred one never is.
        if (!pressure && (check.reason === 'expired' || check.reason === 'malformed')) return this.pass(reply, done, true);
        return this.refuse(request, reply, refusalFor(check), true);
      }
      const id = check.claims.id;
      // Admitted: spent now (on whichever node), whatever the password check says.
      const look = await this.onLine((line) => line.claim(id, now, check.claims.expiresAtMs));
      if (look.state === 'used') {
        if (!pressure) return this.pass(reply, done, true);
        return this.refuse(request, reply, { id: 'waiting.ticket_used' }, true);
      }
      if (look.state === 'unknown') {
        if (!pressure) return this.pass(reply, done, true);
        return this.refuse(request, reply, { id: 'waiting.ticket_expired' }, true);
      }
      if (look.state === 'waiting') {
        const s = this.describe(look);
        return this.refuse(request, reply, { id: 'waiting.not_your_turn', params: { position: s.position }, retryAfterSeconds: Math.ceil(s.pollAfterMs / 1000) }, false);
      }
      this.holds.delete(id);
      this.counts.used++;
      return this.pass(reply, done, true);
    }
    if (this.pressure() === 'pass') return this.pass(reply, done, false);
    await this.issue(request, reply, now);
  }

  /**
   * For admission's shedder: a password check it would refuse under pressure gets a ticket instead
   * (before its body is read, so in the 'other' lane: no directory lookup while shedding). True when
   * answered here. A visitor who already holds a ticket is not answered here: its place (perhaps its
   * turn) must not be replaced by a new one — the shedder refuses it and the page retries with it.
   */
  readonly ticketInstead = (request: FastifyRequest, reply: FastifyReply): boolean => {
    if (ticketOf(request)) return false;
    this.issue(request, reply, this.nowMs()).catch((err: unknown) => reply.send(err));
    return true;
  };

  private pressure(): 'pass' | 'queue' {
    return decideEntry({
      inFlight: this.inFlight,
      admittedUnclaimed: this.holds.size,
      maxInFlight: this.settings.maxLoginsInFlight,
      waiting: this.waiting(),
      hashQueued: this.capacity.queued(),
      hashConcurrency: this.capacity.concurrency(),
    });
  }

  private async issue(request: FastifyRequest, reply: FastifyReply, now: number): Promise<void> {
    const login = (request.body as { login?: unknown } | undefined)?.login;
    const resolved = typeof login === 'string' ? await this.resolveLane(login, now) : { lane: 'other' as const, schoolId: '' };
    const lane: Lane = this.isAbroad(request) ? 'abroad' : resolved.lane;
    const schoolId = resolved.schoolId;
    const id = randomBytes(16).toString('base64url');
    const expiresAtMs = now + this.settings.ticketTtlMs;
    if (!(await this.onLine((line) => line.push({ id, lane, school: schoolId, nowMs: now, expiresAtMs })))) {
      this.counts.refused++;
      return void sendError(request, reply, new AppError('waiting.full', { retryAfterSeconds: 30 + Math.random() * 60 }));
    }
    this.counts.issued++;
    const token = signTicket(this.key, { v: 1, id, issuedAtMs: now, expiresAtMs, bind: this.bindingOf(request) });
    this.setCookie(reply, token, this.settings.ticketTtlMs);
    const look = await this.onLine((line) => line.look(id, now));
    const s = this.describe(look.state === 'waiting' || look.state === 'admitted' ? look : { state: 'waiting', position: 1 });
    sendError(
      request,
      reply,
      new AppError('waiting.queued', {
        params: { position: s.position },
        retryAfterSeconds: s.pollAfterMs / 1000,
        details: { ticket: token, position: s.position, estimatedWaitSeconds: s.estimatedWaitSeconds, pollAfterMs: s.pollAfterMs, waitingPage: '/attente' },
      }),
    );
  }

  /** Lets a login through; it counts in flight until its response is closed. */
  private pass(reply: FastifyReply, done: (err?: Error) => void, clearTicket: boolean): void {
    if (clearTicket) this.setCookie(reply, '', 0);
    this.inFlight++;
    reply.raw.once('close', () => {
      this.inFlight--;
    });
    done();
  }

  private refuse(request: FastifyRequest, reply: FastifyReply, r: Refusal, clearTicket: boolean): void {
    if (clearTicket) this.setCookie(reply, '', 0);
    this.counts.refused++;
    sendError(request, reply, new AppError(r.id, { ...(r.params ? { params: r.params } : {}), ...(r.retryAfterSeconds !== undefined ? { retryAfterSeconds: r.retryAfterSeconds } : {}) }));
  }

  private setCookie(reply: FastifyReply, token: string, maxAgeMs: number): void {
    reply.setCookie(TICKET_COOKIE, token, { path: '/', httpOnly: true, sameSite: 'lax', secure: this.secureCookie, maxAge: Math.floor(maxAgeMs / 1000) });
  }

  private bindingOf(request: FastifyRequest): string {
    return clientBinding(clientAddress(request.raw), request.headers['user-agent']);
  }

  private sampleRate(now: number): void {
    const completed = this.capacity.completed();
    if (this.lastRateSampleMs > 0 && now - this.lastRateSampleMs >= 1_000) {
      const instant = ((completed - this.lastCompleted) * 1000) / (now - this.lastRateSampleMs);
      // Only moments with work say something about the rate.
      if (instant > 0) this.rateEstimatePerS = this.rateEstimatePerS === 0 ? instant : this.rateEstimatePerS * 0.7 + instant * 0.3;
      this.lastCompleted = completed;
      this.lastRateSampleMs = now;
    } else if (this.lastRateSampleMs === 0) {
      this.lastCompleted = completed;
      this.lastRateSampleMs = now;
    }
  }
}

function ticketOf(request: FastifyRequest): string | undefined {
  const header = request.headers[TICKET_HEADER];
  if (typeof header === 'string' && header.length > 0) return header;
  const cookie = request.cookies[TICKET_COOKIE];
  return cookie && cookie.length > 0 ? cookie : undefined;
}

function refusalFor(check: Extract<TicketCheck, { ok: false }>): Refusal {
  return { id: check.reason === 'expired' ? 'waiting.ticket_expired' : 'waiting.invalid_ticket' };
}

