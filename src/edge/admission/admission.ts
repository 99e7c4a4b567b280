import type { ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import { langOf, type Criticality } from '../../http/request-context.js';
import { LATENCY_BUCKETS_MS, type Metrics } from '../../platform/metrics.js';
import { jitteredRetryAfterS, type Refusals } from '../refusal.js';
import { CodelQueue, type CodelSettings } from './codel-queue.js';
import { DEFAULT_GRADIENT_SETTINGS, initialGradientState, nextLimit, type GradientSettings, type GradientState } from './gradient-limit.js';
import { DEFAULT_SHED_SETTINGS, INITIAL_SHED_STATE, nextShedState, SHED_ORDER, type ShedSettings, type ShedState, type Shares } from './shedder.js';

export interface AdmissionSettings {
  gradient: GradientSettings;
  /** Latencies are averaged over windows this long before the limit moves. */
  windowMs: number;
  /** A window with fewer completed requests says nothing and is merged into the next. */
  minWindowSamples: number;
  /**
   * Share of the concurrency limit each class may fill: the lower classes stop at a smaller
   * share, so under pressure they queue (then time out) first and critical is the last to wait.
   */
  limitShare: Record<Criticality, number>;
  queues: Record<Criticality, CodelSettings>;
  shed: ShedSettings;
  /** How often the event-loop lag is sampled (and the shares moved); 0: never (the shedder then admits everything). */
  lagSampleMs: number;
  /** How often queued requests are checked for expiry while any queue holds some. */
  expirySweepMs: number;
  /** Refusals say "retry in base + random(spread)" seconds. */
  retryAfterBaseS: number;
  retryAfterSpreadS: number;
}

/** A line that has not emptied for half a second is standing: a burst the node clears in less is let through. */
const queue = (maxLength: number, maxWaitMs: number, overloadWaitMs: number): CodelSettings => ({ maxLength, maxWaitMs, overloadWaitMs, intervalMs: 500 });

export const DEFAULT_ADMISSION_SETTINGS: AdmissionSettings = {
  // In one Node process, latency also grows with the CPU the other requests take between awaits:
  // the floor stays high enough that CPU contention alone does not turn the limit into a queue.
  gradient: { ...DEFAULT_GRADIENT_SETTINGS, initialLimit: 256, minLimit: 64 },
  windowMs: 250,
  minWindowSamples: 10,
  limitShare: { critical: 1, normal: 0.9, login: 1, sheddable: 0.5 },
  // A pupil's page is worth a short wait rather than a refusal and a retry seconds later, but a wait
  // must stay well under what a client waits for an answer (2 s): an answer after that is wasted work.
  // (Login takes no concurrency slot, so never queues here: its line is the waiting room.)
  queues: { critical: queue(1_024, 600, 150), normal: queue(512, 300, 50), login: queue(1, 1, 1), sheddable: queue(64, 100, 20) },
  shed: DEFAULT_SHED_SETTINGS,
  lagSampleMs: 100,
  expirySweepMs: 10,
  retryAfterBaseS: 2,
  retryAfterSpreadS: 8,
};

type Done = (err?: Error) => void;

interface Waiting {
  request: FastifyRequest;
  reply: FastifyReply;
  done: Done;
}

/** Set on a response whose request holds a concurrency slot; read once when it closes. */
const kStartedMs = Symbol('preau.admission.startedMs');
type Tracked = ServerResponse & { [kStartedMs]?: number };

/** Order in which queued requests are served when a slot frees: critical first. */
const SERVE_ORDER: readonly Criticality[] = [...SHED_ORDER].reverse();

/**
 * Adaptive admission in front of every route (the mechanism; the policies are gradient-limit.ts,
 * codel-queue.ts and shedder.ts). Per request: a shedding check by class (lag-driven), then a
 * concurrency slot if one is free for this class, else a short CoDel-bounded queue, else a
 * pre-built 503 with a jittered Retry-After.
 *
 * Login requests are shed but take no concurrency slot: their capacity is the password-hashing
 * queue, which the waiting room manages (a surge of logins must not hold the slots critical
 * reads need).
 *
 * Fails open where it knows nothing (no lag sample yet: all shares 1; no latency window yet: the
 * initial limit) and closed where a bound is reached (queue full, wait too long): an overloaded
 * node that admits everything serves no one in time.
 */
export class Admission {
  private state: GradientState;
  private shed: ShedState = INITIAL_SHED_STATE;
  private inflight = 0;
  private readonly queues: Record<Criticality, CodelQueue<Waiting>>;
  private windowStartMs: number;
  private windowSumMs = 0;
  private windowCount = 0;
  private windowMaxInflight = 0;
  private lastLagMs = 0;
  private readonly seenAtLastSample: Record<Criticality, number> = { critical: 0, normal: 0, login: 0, sheddable: 0 };
  private lagTimer: NodeJS.Timeout | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  // Plain counters for the hot path (read at scrape time).
  private readonly admitted: Record<Criticality, number> = { critical: 0, normal: 0, login: 0, sheddable: 0 };
  private readonly refused: Record<Criticality, Record<'shed' | 'queue_full' | 'queue_timeout', number>> = {
    critical: { shed: 0, queue_full: 0, queue_timeout: 0 },
    normal: { shed: 0, queue_full: 0, queue_timeout: 0 },
    login: { shed: 0, queue_full: 0, queue_timeout: 0 },
    sheddable: { shed: 0, queue_full: 0, queue_timeout: 0 },
  };
  private readonly queueWaitMs;
  private readonly hooks: Record<Criticality, onRequestHookHandler>;

  constructor(
    readonly settings: AdmissionSettings,
    private readonly refusals: Refusals,
    metrics: Metrics,
    private readonly nowMs: () => number = () => performance.now(),
    private readonly random: () => number = Math.random,
  ) {
    const now = this.nowMs();
    this.state = initialGradientState(settings.gradient);
    this.windowStartMs = now;
    this.queues = {
      critical: new CodelQueue(settings.queues.critical, now),
      normal: new CodelQueue(settings.queues.normal, now),
      login: new CodelQueue(settings.queues.login, now),
      sheddable: new CodelQueue(settings.queues.sheddable, now),
    };
    metrics.gauge('preau_edge_concurrency_limit', 'Adaptive concurrency limit (requests in flight)').track(() => Math.round(this.state.limit));
    metrics.gauge('preau_edge_inflight', 'Requests holding a concurrency slot').track(() => this.inflight);
    metrics.gauge('preau_edge_event_loop_lag_ms', 'Last sampled event-loop lag').track(() => this.lastLagMs);
    const admittedC = metrics.trackedCounter('preau_edge_admitted_total', 'Requests admitted, by class');
    const refusedC = metrics.trackedCounter('preau_edge_refused_total', 'Requests refused by admission, by class and reason');
    const queueLen = metrics.gauge('preau_edge_queue_length', 'Requests waiting for a concurrency slot, by class');
    const share = metrics.gauge('preau_edge_admitted_share', 'Share of requests admitted by the lag-driven shedder, by class');
    for (const c of SHED_ORDER) {
      admittedC.track(() => this.admitted[c], { class: c });
      for (const reason of ['shed', 'queue_full', 'queue_timeout'] as const) refusedC.track(() => this.refused[c][reason], { class: c, reason });
      queueLen.track(() => this.queues[c].length, { class: c });
      share.track(() => this.shed.shares[c], { class: c });
    }
    this.queueWaitMs = metrics.histogram('preau_edge_queue_wait_ms', 'Time a queued request waited for a slot, by class', LATENCY_BUCKETS_MS);
    this.hooks = { critical: this.hookFor('critical'), normal: this.hookFor('normal'), login: this.hookFor('login'), sheddable: this.hookFor('sheddable') };
  }

  /** The admission hook for routes of this class (see edge.ts, which puts it first on every route). */
  hook(criticality: Criticality): onRequestHookHandler {
    return this.hooks[criticality];
  }

  /**
   * The hook of routes that check a password: when the shedder would refuse one, `instead` answers
   * it (the waiting room gives a ticket: a visitor is never sent away with nothing on the crisis
   * morning, and a ticket costs a signature, not a password check). Made once per route.
   */
  passwordHook(instead: (request: FastifyRequest, reply: FastifyReply) => boolean): onRequestHookHandler {
    return this.hookFor('login', instead);
  }

  limit(): number {
    return this.state.limit;
  }

  inFlight(): number {
    return this.inflight;
  }

  currentShares(): Readonly<Shares> {
    return this.shed.shares;
  }

  /** Feeds one lag sample to the shedder (called by the timer; tests call it directly). */
  observeLag(lagMs: number): void {
    this.lastLagMs = lagMs;
    const seen = (c: Criticality) => this.admitted[c] + this.refused[c].shed + this.refused[c].queue_full + this.refused[c].queue_timeout;
    const active = { critical: false, normal: false, login: false, sheddable: false };
    for (const c of SHED_ORDER) {
      const total = seen(c);
      active[c] = total !== this.seenAtLastSample[c];
      this.seenAtLastSample[c] = total;
    }
    this.shed = nextShedState(this.settings.shed, this.shed, lagMs, active);
  }

  start(): void {
    this.stop();
    if (this.settings.lagSampleMs <= 0) return;
    let expected = this.nowMs() + this.settings.lagSampleMs;
    this.lagTimer = setInterval(() => {
      const now = this.nowMs();
      this.observeLag(Math.max(0, now - expected));
      expected = now + this.settings.lagSampleMs;
    }, this.settings.lagSampleMs);
    this.lagTimer.unref();
  }

  stop(): void {
    if (this.lagTimer) clearInterval(this.lagTimer);
    if (this.sweepTimer) clearTimeout(this.sweepTimer);
    this.lagTimer = undefined;
    this.sweepTimer = undefined;
  }

  private hookFor(criticality: Criticality, instead?: (request: FastifyRequest, reply: FastifyReply) => boolean): onRequestHookHandler {
    const share = () => this.shed.shares[criticality];
    const takesSlot = criticality !== 'login';
    const classLimit = () => this.state.limit * this.settings.limitShare[criticality];
    // A callback hook: the fast path (share 1, a free slot) costs two comparisons and a clock read.
    return (request, reply, done) => {
      const s = share();
      if (s < 1 && this.random() >= s) {
        this.refused[criticality].shed++;
        if (instead?.(request, reply) === true) return;
        return this.refuse(request, reply);
      }
      if (!takesSlot) {
        this.admitted[criticality]++;
        return done();
      }
      if (this.inflight < classLimit()) {
        this.admitted[criticality]++;
        this.take(reply.raw);
        return done();
      }
      if (!this.queues[criticality].push({ request, reply, done }, this.nowMs())) {
        this.refused[criticality].queue_full++;
        return this.refuse(request, reply);
      }
      this.scheduleSweep();
    };
  }

  private take(res: Tracked): void {
    this.inflight++;
    if (this.inflight > this.windowMaxInflight) this.windowMaxInflight = this.inflight;
    res[kStartedMs] = this.nowMs();
    // `on`, not `once`: no wrapper per request; the response is closed once and then dropped.
    res.on('close', this.onClose);
  }

  /** Shared listener (no closure per request): `this` is bound, the response is the emitter. */
  private readonly onClose = ((admission: Admission) =>
    function (this: Tracked) {
      admission.release(this);
    })(this);

  private release(res: Tracked): void {
    const started = res[kStartedMs];
    if (started === undefined) return;
    res[kStartedMs] = undefined;
    this.inflight--;
    const now = this.nowMs();
    this.windowSumMs += now - started;
    this.windowCount++;
    if (now - this.windowStartMs >= this.settings.windowMs && this.windowCount >= this.settings.minWindowSamples) {
      this.state = nextLimit(this.settings.gradient, this.state, { avgLatencyMs: this.windowSumMs / this.windowCount, maxInflight: this.windowMaxInflight });
      this.windowStartMs = now;
      this.windowSumMs = 0;
      this.windowCount = 0;
      this.windowMaxInflight = this.inflight;
    }
    this.serveQueued(now);
  }

  /** Gives free slots to queued requests, critical first. Bounded by the free slots. */
  private serveQueued(now: number): void {
    for (const c of SERVE_ORDER) {
      const q = this.queues[c];
      while (q.length > 0 && this.inflight < this.state.limit * this.settings.limitShare[c]) {
        const next = q.pop(now, (w) => this.expired(c, w));
        if (!next) break;
        this.queueWaitMs.observe(next.waitedMs, { class: c });
        if (next.item.request.raw.destroyed) continue; // the client left while waiting
        this.admitted[c]++;
        this.take(next.item.reply.raw);
        next.item.done();
      }
    }
  }

  private expired(criticality: Criticality, w: Waiting): void {
    this.refused[criticality].queue_timeout++;
    this.refuse(w.request, w.reply);
  }

  private scheduleSweep(): void {
    if (this.sweepTimer) return;
    this.sweepTimer = setTimeout(() => {
      this.sweepTimer = undefined;
      const now = this.nowMs();
      let waiting = 0;
      for (const c of SERVE_ORDER) {
        this.queues[c].expire(now, (w) => this.expired(c, w));
        waiting += this.queues[c].length;
      }
      // Slots may have freed by a limit increase rather than a completion.
      this.serveQueued(now);
      if (waiting > 0) this.scheduleSweep();
    }, this.settings.expirySweepMs);
  }

  private refuse(request: FastifyRequest, reply: FastifyReply): void {
    reply.hijack();
    if (reply.raw.destroyed || reply.raw.headersSent) return;
    this.refusals.send(reply.raw, 'edge.overloaded', langOf(request), jitteredRetryAfterS(this.settings.retryAfterBaseS, this.settings.retryAfterSpreadS, this.random));
  }
}
