import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest, preHandlerHookHandler } from 'fastify';
import { sendError } from '../../http/error-handler.js';
import { AppError, type ErrorId } from '../../platform/errors.js';
import type { Metrics } from '../../platform/metrics.js';
import { clientAddress } from '../client-address.js';
import { FairQueue, type Lane } from './fair-queue.js';
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

interface Place {
  state: 'waiting' | 'admitted';
  lane: Lane;
  issuedAtMs: number;
  expiresAtMs: number;
  lastSeenMs: number;
  admittedAtMs: number;
  /** Admitted and still reserving capacity (see claimHoldMs). */
  holding: boolean;
  /** Issue order: the test of "admitted in order" and the figure of the bench. */
  seq: number;
}

export interface TicketStatus {
  state: 'waiting' | 'admitted';
  position: number;
  estimatedWaitSeconds: number;
  pollAfterMs: number;
}

type Refusal = { id: ErrorId; params?: Record<string, string | number>; retryAfterSeconds?: number };

/**
 * The waiting room for new sessions. While login capacity (password hashing) is short, a new
 * visitor gets a signed ticket with a position and an estimated wait instead of a refusal; the
 * room admits tickets as capacity frees — lanes first, fair share per school, first come first
 * served within — and an admitted ticket is spent by one login. Invisible without pressure.
 * Existing sessions never pass here (only `login` routes do), so none is ever evicted.
 *
 * Fails closed for tickets (a ticket that does not verify is refused: the line is only fair if it
 * cannot be jumped) and open for the room itself (no capacity signal, no pressure: everyone passes).
 * Bounded: `maxWaiting` places; used ids are remembered until they expire, and so bounded too.
 */
export class WaitingRoom {
  private readonly line: FairQueue;
  private readonly places = new Map<string, Place>();
  /** Spent ticket ids until their expiry: a replay is recognised. */
  private readonly used = new Map<string, number>();
  private inFlight = 0;
  /** Admitted tickets still reserving capacity, and the order they were admitted in (to release them). */
  private holding = 0;
  private admittedOrder: { id: string; atMs: number }[] = [];
  private lastCleanupMs = 0;
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
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
  ) {
    this.line = new FairQueue(settings.maxWaiting);
    metrics.gauge('preau_waiting_room_waiting', 'Visitors holding a waiting ticket').track(() => this.line.size);
    metrics.gauge('preau_waiting_room_logins_in_flight', 'Logins let through and not yet answered').track(() => this.inFlight);
    metrics.gauge('preau_waiting_room_rate_per_s', 'Estimated password checks per second (the wait estimate)').track(() => this.rateEstimatePerS);
    const c = metrics.trackedCounter('preau_waiting_room_tickets_total', 'Waiting-room tickets by outcome');
    for (const k of ['issued', 'admitted', 'used', 'refused', 'abandoned'] as const) c.track(() => this.counts[k], { outcome: k });
    this.hookFn = (request, reply, done) => this.guard(request, reply, done);
  }

  /** The preHandler for login routes (they have a validated body with `login`). */
  hook(): preHandlerHookHandler {
    return this.hookFn;
  }

  waiting(): number {
    return this.line.size;
  }

  start(): void {
    this.stop();
    this.timer = setInterval(() => this.tick(), this.settings.tickMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Admits as many waiting tickets as capacity allows; forgets expired state. Called by the timer (and by tests). O(admitted) per tick, O(room) every cleanup. */
  tick(): void {
    const now = this.nowMs();
    this.sampleRate(now);
    // Admitted tickets not claimed in time stop reserving capacity.
    let i = 0;
    for (; i < this.admittedOrder.length && now - this.admittedOrder[i]!.atMs > this.settings.claimHoldMs; i++) this.release(this.places.get(this.admittedOrder[i]!.id));
    if (i > 0) this.admittedOrder = this.admittedOrder.slice(i);
    if (now - this.lastCleanupMs >= this.settings.cleanupEveryMs) this.cleanup(now);
    let free = admissionsNow({ inFlight: this.inFlight, admittedUnclaimed: this.holding, maxInFlight: this.settings.maxLoginsInFlight, hashQueued: this.capacity.queued(), maxUnclaimed: this.maxUnclaimed() });
    while (free > 0) {
      const id = this.line.pop();
      if (id === undefined) break;
      const p = this.places.get(id);
      if (!p) continue;
      if (now - p.lastSeenMs > this.settings.abandonAfterMs) {
        this.counts.abandoned++;
        this.places.delete(id);
        continue;
      }
      p.state = 'admitted';
      p.admittedAtMs = now;
      p.holding = true;
      this.holding++;
      this.admittedOrder.push({ id, atMs: now });
      this.counts.admitted++;
      free--;
    }
  }

  private release(p: Place | undefined): void {
    if (p?.holding) {
      p.holding = false;
      this.holding--;
    }
  }

  private cleanup(now: number): void {
    this.lastCleanupMs = now;
    for (const [id, p] of this.places) {
      if (now >= p.expiresAtMs || (p.state === 'admitted' && now - p.admittedAtMs > this.settings.admittedTtlMs)) {
        this.release(p);
        this.places.delete(id);
        this.line.remove(id);
      }
    }
    for (const [id, exp] of this.used) if (now >= exp) this.used.delete(id);
  }

  /** The status a waiting page polls. */
  status(request: FastifyRequest): TicketStatus | Refusal {
    const token = ticketOf(request);
    if (!token) return { id: 'waiting.invalid_ticket' };
    const now = this.nowMs();
    const check = verifyTicket(this.key, token, now, this.bindingOf(request));
    if (!check.ok) return refusalFor(check);
    if (this.used.has(check.claims.id)) return { id: 'waiting.ticket_used' };
    const p = this.places.get(check.claims.id);
    if (!p) return { id: 'waiting.ticket_expired' };
    p.lastSeenMs = now;
    return this.describe(check.claims.id, p);
  }

  /** Issue order of a ticket (tests and benches check that admission follows it). */
  seqOf(token: string): number | undefined {
    const dot = token.indexOf('.');
    try {
      const id = (JSON.parse(Buffer.from(token.slice(0, dot), 'base64url').toString('utf8')) as { id: string }).id;
      return this.places.get(id)?.seq;
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

  private describe(id: string, p: Place): TicketStatus {
    if (p.state === 'admitted') return { state: 'admitted', position: 0, estimatedWaitSeconds: 0, pollAfterMs: 0 };
    const position = this.line.position(id) ?? 1;
    const rate = this.rate();
    const head = position <= Math.max(this.maxUnclaimed(), Math.ceil(rate * 2));
    const pollAfterMs = head
      ? Math.round(this.settings.headPollBaseMs + Math.random() * this.settings.headPollSpreadMs)
      : Math.round(this.settings.pollBaseMs + Math.random() * this.settings.pollSpreadMs);
    return { state: 'waiting', position, estimatedWaitSeconds: Math.max(1, Math.ceil(position / rate)), pollAfterMs };
  }

  private guard(request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void): void {
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
      if (this.used.has(id)) {
        if (!pressure) return this.pass(reply, done, true);
        return this.refuse(request, reply, { id: 'waiting.ticket_used' }, true);
      }
      const p = this.places.get(id);
      if (!p) {
        if (!pressure) return this.pass(reply, done, true);
        return this.refuse(request, reply, { id: 'waiting.ticket_expired' }, true);
      }
      p.lastSeenMs = now;
      if (p.state === 'waiting') {
        const s = this.describe(id, p);
        return this.refuse(request, reply, { id: 'waiting.not_your_turn', params: { position: s.position }, retryAfterSeconds: Math.ceil(s.pollAfterMs / 1000) }, false);
      }
      // Admitted: spent now, whatever the password check says.
      this.release(p);
      this.places.delete(id);
      this.used.set(id, check.claims.expiresAtMs);
      this.counts.used++;
      return this.pass(reply, done, true);
    }
    if (this.pressure() === 'pass') return this.pass(reply, done, false);
    this.issue(request, reply, now).catch((err: unknown) => done(err instanceof Error ? err : new Error(String(err))));
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
      admittedUnclaimed: this.holding,
      maxInFlight: this.settings.maxLoginsInFlight,
      waiting: this.line.size,
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
    if (!this.line.push(id, lane, schoolId)) {
      this.counts.refused++;
      return void sendError(request, reply, new AppError('waiting.full', { retryAfterSeconds: 30 + Math.random() * 60 }));
    }
    const place: Place = { state: 'waiting', lane, issuedAtMs: now, expiresAtMs: now + this.settings.ticketTtlMs, lastSeenMs: now, admittedAtMs: 0, holding: false, seq: ++this.seq };
    this.places.set(id, place);
    this.counts.issued++;
    const token = signTicket(this.key, { v: 1, id, issuedAtMs: now, expiresAtMs: place.expiresAtMs, bind: this.bindingOf(request) });
    this.setCookie(reply, token, this.settings.ticketTtlMs);
    const s = this.describe(id, place);
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

