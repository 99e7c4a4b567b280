import type { Logger } from '../platform/logger.js';
import type { Metrics } from '../platform/metrics.js';

/**
 * Automatic read-only mode: the node watches whether its database takes writes, and while it does
 * not (no primary during a failover, a primary demoted, the link to it cut) it refuses writes
 * itself with `platform.read_only` and a short Retry-After, keeps serving reads (from the standby
 * HAProxy sends it to, see deploy/haproxy-postgres.cfg), and says so in the status banner and
 * /readyz. Lifted by the first write probe that succeeds. Node-local: every node judges its own
 * path to the primary; no operator is needed, and the operator's own switch is unaffected.
 */

/** How a database error bears on writes: the database said it takes none, or it could not be reached. */
export type DatabaseFailure = 'read_only' | 'unreachable';

/** SQLSTATEs that mean "this server takes no writes now". */
const READ_ONLY_CODES = new Set([
  '25006', // read_only_sql_transaction: a standby, or default_transaction_read_only
]);
/** SQLSTATEs and socket errors that mean "the database is not there (or going away)". */
const UNREACHABLE_CODES = new Set([
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, promoting)
  '53300', // too_many_connections
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);
/** node-postgres reports a lost or never-made connection with these messages and no code. */
const UNREACHABLE_MESSAGES = [/^Connection terminated/i, /timeout exceeded when trying to connect/i, /^Client has encountered a connection error/i, /Connection ended unexpectedly/i];

/** What a database error means for writes, or undefined when it is an ordinary error (a constraint, a bug). */
export function classifyDatabaseError(err: unknown): DatabaseFailure | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (READ_ONLY_CODES.has(code)) return 'read_only';
    if (UNREACHABLE_CODES.has(code) || code.startsWith('08')) return 'unreachable';
  }
  const message = (err as { message?: unknown }).message;
  if (typeof message === 'string' && UNREACHABLE_MESSAGES.some((re) => re.test(message))) return 'unreachable';
  return undefined;
}

export type WriteState = 'writable' | 'read_only';

export type HealthEvent =
  | { kind: 'probe_ok' }
  | { kind: 'probe_failed' }
  /** A request's query failed with a classified error. */
  | { kind: 'traffic_failed'; failure: DatabaseFailure };

export interface HealthDecision {
  state: WriteState;
  /** Probe at once (rather than at the next tick) to confirm. */
  probeNow: boolean;
}

/**
 * The watcher's rule, pure. The write probe is the judge both ways: a probe that commits lifts
 * read-only mode, a probe that fails or hangs sets it (fails closed for writes: while no primary
 * takes them, a write accepted would only fail later and slower; refusing with Retry-After lets
 * the client's outbox keep it). The database saying "read-only" (25006) is believed at once.
 * A lost connection alone proves little (HAProxy cuts sessions when it moves to a new primary):
 * it asks for a probe now.
 */
export function decide(state: WriteState, event: HealthEvent): HealthDecision {
  switch (event.kind) {
    case 'probe_ok':
      return { state: 'writable', probeNow: false };
    case 'probe_failed':
      return { state: 'read_only', probeNow: false };
    case 'traffic_failed':
      return event.failure === 'read_only' ? { state: 'read_only', probeNow: true } : { state, probeNow: true };
  }
}

export interface DatabaseHealthSettings {
  /** While writable: a probe this often, so a primary that stops taking writes without erroring (a hung synchronous commit) is seen. */
  probeEveryMs: number;
  /** While read-only: a probe this often; bounds how long writes stay refused after a new primary is up. */
  probeWhileReadOnlyEveryMs: number;
  /** A probe that has not committed after this long has failed (a commit waiting for a standby that is gone, a dead socket). */
  probeTimeoutMs: number;
}

export const DEFAULT_DATABASE_HEALTH_SETTINGS: DatabaseHealthSettings = { probeEveryMs: 2_000, probeWhileReadOnlyEveryMs: 500, probeTimeoutMs: 2_000 };

/** The mechanism: runs the probe on a timer (and on demand), applies `decide`, reports changes. */
export class DatabaseHealth {
  private state: WriteState = 'writable';
  private timer: NodeJS.Timeout | undefined;
  private probing: Promise<void> | undefined;
  private stopped = true;
  private sinceMs = Date.now();
  private transitions = 0;

  constructor(
    private readonly settings: DatabaseHealthSettings,
    /** Commits one small write; rejects (or never settles) when the database takes no writes. */
    private readonly writeProbe: (timeoutMs: number) => Promise<void>,
    private readonly logger: Logger,
    metrics: Metrics,
  ) {
    metrics.gauge('preau_database_read_only', 'The node refuses writes by itself because its database takes none (1) or takes writes (0)').track(() => (this.state === 'read_only' ? 1 : 0));
    metrics.trackedCounter('preau_database_read_only_transitions_total', 'Changes of the automatic read-only state').track(() => this.transitions);
  }

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** True while writes must be refused (synchronous: read on every write request). */
  readOnly(): boolean {
    return this.state === 'read_only';
  }

  details(): { database: WriteState } {
    return { database: this.state };
  }

  /** Any error a request met: a database failure (classified) informs the watcher; others are ignored. */
  observe(err: unknown): void {
    const failure = classifyDatabaseError(err);
    if (failure) this.apply({ kind: 'traffic_failed', failure });
  }

  /** One probe now (single flight); resolves when it has been judged. */
  probe(): Promise<void> {
    this.probing ??= this.runProbe().finally(() => {
      this.probing = undefined;
      this.schedule();
    });
    return this.probing;
  }

  private async runProbe(): Promise<void> {
    let timeout: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_resolve, reject) => {
      timeout = setTimeout(() => reject(new Error('write probe timed out')), this.settings.probeTimeoutMs);
    });
    try {
      await Promise.race([this.writeProbe(this.settings.probeTimeoutMs), timedOut]);
      this.apply({ kind: 'probe_ok' });
    } catch (err) {
      if (this.state === 'writable') this.logger.warn({ err }, 'base de données : la sonde d’écriture a échoué');
      this.apply({ kind: 'probe_failed' });
    } finally {
      clearTimeout(timeout);
    }
  }

  private apply(event: HealthEvent): void {
    const { state, probeNow } = decide(this.state, event);
    if (state !== this.state) {
      const nowMs = Date.now();
      this.transitions++;
      if (state === 'read_only') this.logger.error({ event: event.kind }, 'base de données sans primaire joignable : nœud en lecture seule automatique (écritures refusées avec Retry-After)');
      else this.logger.warn({ readOnlyForMs: nowMs - this.sinceMs }, 'base de données de nouveau en écriture : fin de la lecture seule automatique');
      this.state = state;
      this.sinceMs = nowMs;
      this.schedule();
    }
    if (probeNow && !this.stopped) void this.probe();
  }

  private schedule(): void {
    clearTimeout(this.timer);
    if (this.stopped || this.probing) return;
    const every = this.state === 'read_only' ? this.settings.probeWhileReadOnlyEveryMs : this.settings.probeEveryMs;
    this.timer = setTimeout(() => void this.probe(), every);
    this.timer.unref();
  }
}
