import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Redis } from 'ioredis';
import type { Logger } from '../../platform/logger.js';
import type { Metrics } from '../../platform/metrics.js';
import { DEFAULT_BREAKER_SETTINGS, INITIAL_BREAKER, mayCall, nextBreaker, type BreakerSettings, type BreakerState } from './circuit-breaker.js';

export interface EdgeRedisSettings {
  /** A call slower than this is a failure (the hot path never waits longer for Redis). */
  timeoutMs: number;
  breaker: BreakerSettings;
}

export const DEFAULT_EDGE_REDIS_SETTINGS: EdgeRedisSettings = { timeoutMs: 50, breaker: DEFAULT_BREAKER_SETTINGS };

/** What the stores see of the connection: a guarded call, the key prefix, this node's name. */
export interface SharedState {
  /** Keys of every store start with this (one prefix per deployment; one per test). */
  readonly prefix: string;
  /** This process, unique across the deployment (presence says which node holds a socket). */
  readonly nodeId: string;
  /** False while the breaker is open: callers use their local state and pay nothing. */
  usable(): boolean;
  /** Runs `op` under the timeout and the breaker; `undefined` when it was not run or failed (callers fall back). */
  run<T>(op: (redis: Redis) => Promise<T>): Promise<T | undefined>;
}

/**
 * The edge's Redis connection (rate-limit buckets, waiting-room line, stuffing counters, presence).
 * Fails open for every caller: a call that errs or takes more than `timeoutMs` resolves to
 * `undefined` and counts against the breaker; an open breaker makes no call at all. Préau keeps
 * serving on per-node state, and says so once in the log, in `preau_redis_degraded` and in /readyz
 * (as a detail: a degraded Redis never makes the node unready).
 *
 * The offline queue is off: while the connection is down a command fails at once instead of
 * waiting; ioredis reconnects in the background with its own backoff.
 */
export class EdgeRedis implements SharedState {
  readonly redis: Redis;
  readonly nodeId = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private state: BreakerState = INITIAL_BREAKER;
  private readonly counts = { calls: 0, failures: 0, skipped: 0, transitions: 0 };

  constructor(
    url: string,
    readonly prefix: string,
    private readonly settings: EdgeRedisSettings,
    private readonly logger: Logger,
    metrics: Metrics,
    private readonly nowMs: () => number = Date.now,
  ) {
    this.redis = new Redis(url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: settings.timeoutMs,
      connectTimeout: 1_000,
      // Reconnects forever, never faster than every 200 ms nor slower than every 2 s.
      retryStrategy: (times) => Math.min(2_000, 200 * times),
    });
    // Errors are counted by run(); the connection's own errors are said once by the breaker's transition.
    this.redis.on('error', () => {});
    metrics.gauge('preau_redis_degraded', 'The edge runs on per-node state because Redis is unreachable or slow (1) or shares its state through Redis (0)').track(() => (this.degraded() ? 1 : 0));
    const c = metrics.trackedCounter('preau_redis_calls_total', 'Edge calls to Redis, by outcome');
    c.track(() => this.counts.calls - this.counts.failures, { outcome: 'ok' });
    c.track(() => this.counts.failures, { outcome: 'failed' });
    c.track(() => this.counts.skipped, { outcome: 'skipped' });
  }

  /** Starts connecting; never throws: a Redis down at boot is a degraded start, not a failed one. */
  async connect(): Promise<void> {
    try {
      await this.redis.connect();
    } catch (err) {
      this.fail(err, 'trip');
    }
  }

  degraded(): boolean {
    return this.state.mode !== 'closed';
  }

  usable(): boolean {
    this.state = nextBreaker(this.settings.breaker, this.state, { kind: 'tick', nowMs: this.nowMs() });
    return mayCall(this.state);
  }

  async run<T>(op: (redis: Redis) => Promise<T>): Promise<T | undefined> {
    if (!this.usable()) {
      this.counts.skipped++;
      return undefined;
    }
    if (this.state.mode === 'half_open') this.state = nextBreaker(this.settings.breaker, this.state, { kind: 'probe' });
    this.counts.calls++;
    let timer: NodeJS.Timeout | undefined;
    try {
      // commandTimeout bounds each command; this bounds a whole operation (a pipeline, a script load).
      const result = await Promise.race([
        op(this.redis),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`Redis n’a pas répondu en ${this.settings.timeoutMs} ms`)), this.settings.timeoutMs);
        }),
      ]);
      this.succeed();
      return result;
    } catch (err) {
      this.counts.failures++;
      this.fail(err);
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  private succeed(): void {
    const was = this.state.mode;
    this.state = nextBreaker(this.settings.breaker, this.state, { kind: 'success' });
    if (was !== 'closed') this.logger.info('Redis de nouveau joignable : l’état partagé de l’entrée reprend');
  }

  private fail(err: unknown, kind: 'failure' | 'trip' = 'failure'): void {
    const was = this.state.mode;
    const next = nextBreaker(this.settings.breaker, this.state, { kind, nowMs: this.nowMs() });
    this.state = next;
    // Said once per outage (closed → open), not on every failed probe.
    if (was === 'closed' && next.mode === 'open') {
      this.counts.transitions++;
      this.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'Redis injoignable ou lent : limites, file d’attente et détection par nœud jusqu’à son retour');
    }
  }

  /** For /readyz: a detail, never a reason to be unready. */
  health(): 'ok' | 'degraded' {
    return this.degraded() ? 'degraded' : 'ok';
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
