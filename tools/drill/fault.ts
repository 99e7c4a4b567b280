/**
 * The fault overlay's pure parts (unit-tested in fault.test.ts): which faults exist, how a write's
 * answer counts while the database fails over, the figures of a faulted morning (from what the
 * clients saw) and its verdict. The mechanisms are in drill.ts (`restart`) and sites-morning.ts
 * (`primary`, `site`).
 */
import { failoverFigures, type FailoverFigures, type WriteAttempt } from '../drill-fire/measure.js';

/**
 * `restart`: the drill's own Préau killed and started again; `primary`: the PostgreSQL primary of
 * site A stopped (Patroni and PostgreSQL killed, the Préau nodes stay); `site`: site A cut entirely.
 */
export const FAULT_KINDS = ['restart', 'primary', 'site'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];
/** Faults played on the two-site layout (sites-morning.ts) instead of the drill's own Préau. */
export const isSitesFault = (kind: FaultKind): kind is 'primary' | 'site' => kind === 'primary' || kind === 'site';

/** The actions that write (their acknowledgements are what the lost-write check looks for). */
export const WRITE_KINDS: ReadonlySet<string> = new Set(['handin', 'post', 'edit', 'message']);

/** One write attempt as a client saw it: when it was sent, when its answer (or failure) came, what it was. */
export interface WriteSample {
  startedMs: number;
  endedMs: number;
  outcome: WriteAttempt['outcome'];
}

/**
 * How a write's answer counts for the failover's figures: acknowledged; refused "read-only" (the
 * node knows there is no primary); stuck on an Idempotency-Key claimed by a request the fault
 * interrupted; no answer (network, time-out); refused by the server otherwise (5xx, including
 * `platform.database_unavailable` and HAProxy's 502/503). A 4xx other than those (a rate limit, a
 * validation error) says nothing about the database: undefined, not counted.
 */
export function writeOutcome(status: number, reason: string | undefined): WriteAttempt['outcome'] | undefined {
  if (status >= 200 && status < 300) return 'ok';
  if (reason === 'platform.read_only') return 'read_only';
  if (reason === 'idempotency.in_progress') return 'stuck';
  if (status === 0) return 'network';
  if (status >= 500) return 'refused';
  return undefined;
}

/**
 * The failover as the morning's clients saw it, every client going through the front load balancer
 * (so all of them count, as "site B" does in the fire drill's figures). A failure counts at the
 * moment it was *sent* (a request sent to the lost site just before the front marked it down fails
 * only at the client's time-out: that it failed is what matters, not when the client gave up); a
 * success counts when it was acknowledged. Writes sent before the fault are left out.
 */
export function faultFigures(writes: readonly WriteSample[], faultAtMs: number): FailoverFigures & { stuck: number } {
  const attempts: WriteAttempt[] = writes.map((w) => ({ site: 'b', atMs: w.outcome === 'ok' ? w.endedMs : w.startedMs, outcome: w.outcome }));
  return { ...failoverFigures(attempts, faultAtMs), stuck: writes.filter((w) => w.outcome === 'stuck' && w.startedMs >= faultAtMs).length };
}

/** What a fault on the two-site layout did and what the clients saw (in the report's FaultRecord). */
export interface FailoverRecord {
  /** The layout's namespace prefix and subnet. */
  layout: string;
  /** Processes killed by the fault. */
  killed: number;
  /** From the fault to site B's Patroni answering /primary 200 (null: not within the drill). */
  newPrimaryAfterMs: number | null;
  /** Patroni's leader at the end of the morning. */
  newPrimary: string | null;
  /** From the fault to the first write acknowledged after the last failed one (null: never). */
  writesBackAfterMs: number | null;
  /** From the first failed write after the fault to that recovery (0: none failed). */
  readOnlyWindowMs: number | null;
  readOnlyAnswers: number;
  otherFailures: number;
  /** Writes refused 409 `idempotency.in_progress` after the fault (a key claimed by a request the fault cut). */
  stuckAnswers: number;
}

export function failoverRecord(figures: FailoverFigures & { stuck: number }, layout: string, killed: number, newPrimaryAfterMs: number | null, newPrimary: string | null): FailoverRecord {
  return {
    layout, killed, newPrimaryAfterMs, newPrimary,
    writesBackAfterMs: figures.rtoMs ?? null,
    readOnlyWindowMs: figures.readOnlyWindowMs ?? null,
    readOnlyAnswers: figures.readOnlyAnswers,
    otherFailures: figures.otherFailures,
    stuckAnswers: figures.stuck,
  };
}

/**
 * Writes must come back after the fault, on the surviving site, within this long. Issue 7's
 * target for the failover is 15 s (the fire drill's clients retry every 250 ms); the morning's
 * clients back off as the web client does (up to several seconds between tries), which adds to
 * what they see: the verdict's bar is twice the target, and the report says whether 15 s was held.
 */
export const WRITES_BACK_MS = 30_000;
export const FAILOVER_TARGET_MS = 15_000;

export interface FaultVerdictInput {
  kind: 'primary' | 'site';
  failover: FailoverRecord;
}

/** The verdict of a faulted morning: writes came back (and site B leads the database at the end). */
export function faultVerdict(f: FaultVerdictInput): { ok: boolean; threshold: string; measured: string } {
  const back = f.failover.writesBackAfterMs;
  const s = (x: number | null) => (x === null ? 'jamais' : `${(x / 1000).toLocaleString('fr-FR', { maximumFractionDigits: 1 })} s`);
  const ok = back !== null && back <= WRITES_BACK_MS && f.failover.newPrimary === 'pg-b';
  return {
    ok,
    threshold: `écritures de nouveau acquittées en ≤ ${WRITES_BACK_MS / 1000} s après la panne, base primaire au site B (objectif de bascule : ${FAILOVER_TARGET_MS / 1000} s)`,
    measured: `écritures de nouveau acquittées après ${s(back)} (objectif de ${FAILOVER_TARGET_MS / 1000} s ${back !== null && back <= FAILOVER_TARGET_MS ? 'tenu' : 'NON tenu'}) ; fenêtre de lecture seule vue par les clients ${s(f.failover.readOnlyWindowMs)} (${f.failover.readOnlyAnswers} refus « lecture seule », ${f.failover.otherFailures} autres échecs, ${f.failover.stuckAnswers} refus « clé en cours ») ; nouveau primaire ${f.failover.newPrimary ?? 'aucun'}${f.failover.newPrimaryAfterMs === null ? '' : ` après ${s(f.failover.newPrimaryAfterMs)}`}`,
  };
}
