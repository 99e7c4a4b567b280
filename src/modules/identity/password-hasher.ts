import { hash, verify } from '@node-rs/argon2';
import { AppError } from '../../platform/errors.js';
import { LATENCY_BUCKETS_MS, type Metrics } from '../../platform/metrics.js';
import type { Clock } from '../../platform/clock.js';
import { HashBudget, nextHashShare, type HashGovernorSettings } from './hash-governor.js';

/** OWASP's Argon2id setting: m = 19 MiB, t = 2, p = 1 (≈ 15 ms of one core here). */
export const ARGON2_OPTIONS = { algorithm: 2 /* Argon2id (a const enum in the typings) */, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/** Passwords longer than this are refused before hashing: a 1 MB "password" must not buy 1 MB of hashing. */
export const MAX_PASSWORD_BYTES = 256;

export interface HasherLimits {
  /** Hashes computed at once, off the event loop (libuv threads). One per core is the most a core can give. */
  concurrency: number;
  /** Password checks allowed to wait; beyond, a cheap 503 is answered at once. */
  maxQueued: number;
  /** A check that waited this long is refused rather than computed for a client that has likely given up. */
  maxWaitMs: number;
}

/**
 * Retry-After of a refused check: the expected time for the queue to drain at the measured time per
 * hash and thread, at least 1 s, plus up to 4 s of jitter so that refused clients do not come back
 * in lock-step.
 */
export function drainRetryAfterS(queued: number, hashMs: number, concurrency: number, random: () => number): number {
  const drainSeconds = (queued * hashMs) / 1000 / Math.max(1, concurrency);
  return Math.ceil(Math.max(1, drainSeconds) + random() * 4);
}

interface Job {
  run: () => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
  enqueuedAtMs: number;
}

/**
 * Argon2id behind a bounded FIFO queue. This is where the 8:30 surge of password checks
 * lands; the crisis-morning edge reads `queued()` and `metrics` to admit logins.
 * Fails closed: when the queue is full the login is refused (503 + Retry-After) rather than
 * letting memory and latency grow without bound; existing sessions are not affected.
 */
export class PasswordHasher {
  private readonly queue: Job[] = [];
  private running = 0;
  private completedCount = 0;
  /** Measured time of one hash (moving average), for an honest Retry-After; 15 ms until measured. */
  private hashMsAverage = 15;
  private readonly waitMs;
  private readonly computeMs;
  private readonly refused;
  /** The governor's budget (hash-governor.ts): at share 1 it never binds. */
  private readonly budget: HashBudget;
  private retryTimer: NodeJS.Timeout | undefined;
  private sampleTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly limits: HasherLimits,
    private readonly clock: Clock,
    metrics: Metrics,
    /** Yield the CPU to the event loop when it is saturated; undefined: never (the share stays 1). */
    private readonly governor?: HashGovernorSettings,
    /** Monotonic time of the budget (tests drive it). */
    private readonly monotonicMs: () => number = () => performance.now(),
  ) {
    // 200 ms of burst: a few checks at once after a quiet spell, never a minute's worth.
    this.budget = new HashBudget(limits.concurrency, 200, monotonicMs());
    metrics.gauge('preau_password_cpu_share', 'Share of its threads the hashing governor lets password checks use (1: unthrottled)').track(() => this.budget.currentShare());
    metrics.gauge('preau_password_queue_depth', 'Password checks waiting for a hashing thread').track(() => this.queue.length);
    metrics.gauge('preau_password_running', 'Password checks being computed').track(() => this.running);
    this.waitMs = metrics.histogram('preau_password_queue_wait_ms', 'Time a password check waited in the queue', LATENCY_BUCKETS_MS);
    this.computeMs = metrics.histogram('preau_password_compute_ms', 'Time to compute one Argon2id', LATENCY_BUCKETS_MS);
    this.refused = metrics.counter('preau_password_refused_total', 'Password checks refused because the queue was full or the wait too long');
  }

  queued(): number {
    return this.queue.length;
  }

  /** Hashing threads: what the waiting room admits logins against (fewer while the governor throttles). */
  concurrency(): number {
    return this.budget.threadsAllowed();
  }

  /** The share the governor gives hashing now (1: unthrottled). */
  share(): number {
    return this.budget.currentShare();
  }

  /** True while checks wait only for the governor's budget to refill (no thread busy). */
  waitingForBudget(): boolean {
    return this.queue.length > 0 && this.running === 0 && this.retryTimer !== undefined;
  }

  /** Sets the share by hand (tests; the governor's sampler does it otherwise). */
  setShare(share: number): void {
    this.budget.setShare(share, this.monotonicMs());
    this.pump();
  }

  /**
   * Starts the governor's sampler: every `sampleMs` the event loop's utilisation since the last
   * sample moves the share (nextHashShare). Nothing when no governor is configured.
   */
  start(): void {
    this.stop();
    const settings = this.governor;
    if (!settings || settings.sampleMs <= 0) return;
    let last = performance.eventLoopUtilization();
    this.sampleTimer = setInterval(() => {
      const now = performance.eventLoopUtilization();
      const utilisation = performance.eventLoopUtilization(now, last).utilization;
      last = now;
      const next = nextHashShare(settings, this.budget.currentShare(), utilisation);
      if (next !== this.budget.currentShare()) this.setShare(next);
    }, settings.sampleMs);
    this.sampleTimer.unref();
  }

  stop(): void {
    if (this.sampleTimer) clearInterval(this.sampleTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.sampleTimer = undefined;
    this.retryTimer = undefined;
  }

  /** Checks computed since start: the waiting room's measure of the hash rate. */
  completed(): number {
    return this.completedCount;
  }

  hash(password: string): Promise<string> {
    return this.submit(() => hash(password, ARGON2_OPTIONS));
  }

  /** False for a wrong password or an unparsable stored hash (never throws for those). */
  verify(storedHash: string, password: string): Promise<boolean> {
    return this.submit(() => verify(storedHash, password).catch(() => false));
  }

  private submit<T>(run: () => Promise<T>): Promise<T> {
    if (this.queue.length >= this.limits.maxQueued) {
      this.refused.inc({ reason: 'full' });
      return Promise.reject(this.busy());
    }
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run, resolve: resolve as (v: unknown) => void, reject, enqueuedAtMs: this.clock.nowMs() });
      this.pump();
    });
  }

  private busy(): AppError {
    return new AppError('auth.busy', { retryAfterSeconds: drainRetryAfterS(this.queue.length, this.hashMsAverage, this.limits.concurrency, Math.random) });
  }

  private pump(): void {
    while (this.running < this.budget.threadsAllowed() && this.queue.length > 0) {
      if (!this.budget.canStart(this.monotonicMs())) {
        this.pumpLater();
        return;
      }
      const job = this.queue.shift()!;
      const waitedMs = this.clock.nowMs() - job.enqueuedAtMs;
      this.waitMs.observe(waitedMs);
      if (waitedMs > this.limits.maxWaitMs) {
        this.refused.inc({ reason: 'wait' });
        job.reject(this.busy());
        continue;
      }
      this.running++;
      const startedMs = performance.now();
      // The thread is handed back before the caller resumes, so a caller that chains another check finds it free.
      const done = () => {
        const tookMs = performance.now() - startedMs;
        this.computeMs.observe(tookMs);
        this.budget.spend(tookMs, this.monotonicMs());
        this.hashMsAverage += (tookMs - this.hashMsAverage) / 16;
        this.running--;
        this.completedCount++;
        this.pump();
      };
      job.run().then(
        (value) => {
          done();
          job.resolve(value);
        },
        (err: unknown) => {
          done();
          job.reject(err);
        },
      );
    }
  }

  /** The budget is spent: try again when it has refilled (one timer at most). */
  private pumpLater(): void {
    if (this.retryTimer) return;
    const waitMs = Math.min(1_000, Math.max(1, this.budget.waitMs(this.monotonicMs())));
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.pump();
    }, waitMs);
    this.retryTimer.unref();
  }
}
