/** What the drill's children and the drill say to each other (JSON lines on stdout, JSON files). */
import type { DrillProfile } from './roster.js';
import type { Phase, Scenario } from './scenario.js';

export interface LoadSpec {
  /** The Préau played against: http(s)://host[:port]. */
  origin: string;
  /** Clients bind their own loopback addresses (the server is on loopback). */
  bindLocal: boolean;
  /** A deployment (`--target`): the acknowledged writes are checked through its API at the end, by the people who made them. */
  checkThroughApi: boolean;
  /** The server's clock is the real one plus this (a school morning). */
  clockOffsetMs: number;
  scenario: Scenario;
  password: string;
  newPassword: string;
  /** After the peak (08:45, when arrivals stop), visits begun go on with their actions this long; then they are cut. */
  drainS: number;
  resultFile: string;
}

export interface Percentiles {
  n: number;
  p50: number;
  p95: number;
  p99: number;
}

export interface SecondStats {
  /** Seconds since the warm-up began. */
  sec: number;
  phase: Phase;
  offered: number;
  served: number;
  /** Non-2xx answers and failures by reason (error id, `http-<status>`, `réseau`, `délai`). */
  refusals: Record<string, number>;
  /** Latency of served requests, per user class. */
  latency: Partial<Record<DrillProfile, Percentiles>>;
  /** Clients holding a waiting-room ticket at the end of the second (as the clients see it). */
  waitingClients: number;
  activeVisits: number;
}

export interface PhaseStats {
  visits: number;
  actionsOk: number;
  actionsFailed: number;
  /** Actions not begun because the drill's time was over (not counted as failures). */
  actionsNotStarted: number;
  signInsFailed: number;
}

export interface HandinAck {
  login: string;
  entryId: string;
  handinId: string;
  /** SHA-256 of the bytes the client sent; the receipt said the same (otherwise `receiptMismatch`). */
  sha256: string;
  idempotencyKey: string;
  receiptMismatch: boolean;
}

export interface PostAck {
  login: string;
  entryId: string;
  /** The title as last acknowledged (after an acknowledged edit, the edited one). */
  title: string;
  edited: boolean;
}

export interface MessageAck {
  login: string;
  messageId: string;
  /** Unique to the visit: the checker finds copies by it. */
  subject: string;
  toId: string;
}

export interface Acknowledged {
  handins: HandinAck[];
  posts: PostAck[];
  messages: MessageAck[];
}

export interface LoadResult {
  t0Ms: number;
  seconds: SecondStats[];
  phases: Record<Phase, PhaseStats>;
  actionsByKind: Record<string, { ok: number; failed: number }>;
  signIns: { remembered: number; password: number; activation: number; queued: number; challenged: number; failed: number; eveningBefore: number; eveningBeforeFailed: number; solveMs: number };
  /** Time sign-ins spent in the waiting room (those that were queued). */
  queueWaits: Percentiles;
  /** Pupils' reads (today, mine, cahier, entry) in the ramp and the peak. */
  pupilReads: Percentiles;
  /** Simulated 08:25–08:35. */
  at830: { pupils: number; pupilReads: Percentiles };
  /** Visits cut at the end of the drain (still running). */
  cut: number;
  acknowledged: Acknowledged;
  /** Every write attempt after the warm-up began, as the client saw it (the fault overlay's figures, fault.ts). */
  writes?: import('./fault.js').WriteSample[];
  /** With `checkThroughApi`: what the API showed of the acknowledged writes. */
  apiCheck?: import('./checker.js').CheckResult;
}

export type LoadMessage =
  | { type: 'started'; t0Ms: number }
  | ({ type: 'tick' } & SecondStats & { totalS: number; actionsOk: number; actionsFailed: number; pupilP95: number })
  | { type: 'done' };

export function percentiles(values: number[]): Percentiles {
  if (values.length === 0) return { n: 0, p50: 0, p95: 0, p99: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  return { n: sorted.length, p50: at(0.5), p95: at(0.95), p99: at(0.99) };
}
