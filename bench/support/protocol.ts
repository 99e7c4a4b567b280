/**
 * What bench children print on stdout, one JSON object per line, and what the benches return.
 * Children never print anything else on stdout (diagnostics go to stderr).
 */

export interface ProgressMessage {
  type: 'progress';
  phase: 'warmup' | 'measure';
  elapsedS: number;
  totalS: number;
  /** Requests (or verifications) completed so far in this phase. */
  count: number;
}

export interface ReadyMessage {
  type: 'ready';
  port: number;
  /** Préau server only: the hashing concurrency it actually runs with. */
  hashConcurrency?: number;
  /** Préau server only: rows of its timetable table. */
  timetableSlots?: number;
}

export interface LoadResultMessage {
  type: 'load-result';
  durationS: number;
  ok2xx: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  requestsPerSecond: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencyAvgMs: number;
  warmup2xx: number;
  warmupNon2xx: number;
}

export interface HashResultMessage {
  type: 'hash-result';
  durationS: number;
  verifies: number;
  failures: number;
  verifiesPerSecond: number;
  concurrency: number;
  /** CPU time of the whole process (all threads) over the measured phase. */
  cpuMs: number;
}

/** One class of request of an overload run (see mix-load.ts). */
export interface MixLoadClass {
  name: string;
  path: string;
  connections: number;
  ratePerS: number;
  /** Header sets used in turn (e.g. one cookie per pupil). */
  headerSets: Record<string, string>[];
}

/** An overload run: each class at its own rate, one deadline for all. */
export interface MixLoadSpec {
  origin: string;
  durationS: number;
  deadlineS: number;
  classes: MixLoadClass[];
}

export interface OpenClassResult {
  sent: number;
  /** 2xx within the deadline: goodput. */
  good: number;
  refused: number;
  otherStatus: number;
  late: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
}

export interface OpenLoadResultMessage {
  type: 'open-load-result';
  durationS: number;
  /** Requests actually sent per second (the generator may fall short of the asked rate). */
  offeredPerS: number;
  classes: Record<string, OpenClassResult>;
}

/** The flood from abroad with slow clients (see flood-load.ts): what one side of the run met. */
/** An open-loop stream of requests (password guesses) over raw keep-alive connections. */
export interface FloodStreamSpec {
  path: string;
  ratePerS: number;
  /** Sent in turn (JSON bodies). */
  bodies: string[];
  /** Connections are opened from these addresses in turn. */
  addresses: string[];
  maxConnections: number;
}

/** What came back for a stream: by status, and by reason (error id in the body, `http-<status>` otherwise). */
export interface FloodStreamResult {
  sent: number;
  notSent: number;
  byStatus: Record<string, number>;
  byReason: Record<string, number>;
  errors: number;
  timeouts: number;
  pending: number;
}

export interface FloodSpec {
  origin: string;
  /** Flood and pupils run this long; slow connections are watched `slowWatchS` from their opening. */
  durationS: number;
  slowWatchS: number;
  flood: FloodStreamSpec;
  /** Credential stuffing (the drill): a second open-loop stream of guesses, from other addresses. */
  stuffing?: FloodStreamSpec;
  slowHeaders: { count: number; addresses: string[]; byteEveryMs: number };
  slowReads: { count: number; addresses: string[]; path: string; pipelined: number; receiveBufferBytes: number };
  pupils: { path: string; ratePerS: number; cookies: string[]; addresses: string[]; deadlineMs: number; timeoutMs: number };
}

/** When slow connections were closed by the server, in seconds after they opened. */
export interface SlowCutSummary {
  opened: number;
  /** Could not even connect (refused, reset at once). */
  failedToOpen: number;
  cutByServer: number;
  /** Still open when the watch ended (then closed by the generator). */
  stillOpen: number;
  /** Of those cut: answered with a status before the cut (e.g. 408), by status. */
  answered: Record<string, number>;
  cutP50S: number;
  cutMinS: number;
  cutMaxS: number;
}

export interface FloodResultMessage {
  type: 'flood-result';
  durationS: number;
  flood: FloodStreamResult;
  stuffing?: FloodStreamResult;
  /** Per second since the start: answers by reason, per stream (network failures `réseau`, no answer `délai`). */
  series: { sec: number; flood: Record<string, number>; stuffing: Record<string, number> }[];
  pupils: { sent: number; ok: number; late: number; byStatus: Record<string, number>; errors: number; byError: Record<string, number>; p50Ms: number; p95Ms: number; p99Ms: number };
  slowHeaders: SlowCutSummary;
  slowReads: SlowCutSummary;
  /** Why there were no slow readers (python3 missing), if so. */
  slowReadsSkipped: string | undefined;
  /** The generator's own descriptor limit (it opens every connection of the run). */
  fdLimit: number;
  /** The generator's event-loop delay, p99 (ms): when high, the generator, not the server, set the pace. */
  generatorLagP99Ms: number;
}

/** The login surge (see surge-load.ts). */
export interface SurgeSpec {
  origin: string;
  password: string;
  visitors: { login: string; address: string }[];
  /** Signed-in pupils reading `sessionPath` meanwhile, at `sessionRatePerS` in all. */
  sessions: { cookies: string[]; addresses: string[]; ratePerS: number; path: string };
  /** Every visitor gives up after this (bounded run). */
  deadlineS: number;
}

export interface SurgeVisitorOutcome {
  /** ms from the start of the surge (the generator's clock). */
  signedInAtMs: number | undefined;
  /** The first answer that was not a challenge: 'pass' (signed in at once), 'ticket', or the error id of a plain refusal. */
  first: string;
  /** Issue time of the ticket (ms since the epoch, the server's, read from the signed ticket); undefined without a ticket. */
  ticketIssuedAtMs: number | undefined;
  /** When the visitor received its ticket, and last saw itself waiting, and first saw itself admitted (ms from the start). */
  ticketAtMs: number | undefined;
  lastWaitingAtMs: number | undefined;
  admittedSeenAtMs: number | undefined;
  challenges: number;
  polls: number;
  /** Refusals met on the way (error id → count): overloads retried as the browser retries them. */
  refusals: Record<string, number>;
  /** Why it did not sign in, if it did not. */
  failure: string | undefined;
}

export interface SurgeResultMessage {
  type: 'surge-result';
  durationS: number;
  visitors: SurgeVisitorOutcome[];
  sessions: { sent: number; ok: number; byStatus: Record<string, number>; errors: number; byError: Record<string, number>; p50Ms: number; p95Ms: number };
  generatorLagP99Ms: number;
}

/** The classroom bench's client child: every figure of its run (see classroom.bench.ts and classroom-clients.ts). */
export interface ClassroomResultMessage {
  type: 'classroom-result';
  result: import('./classroom-protocol.js').ClassroomResult;
}

/** A line of the classroom bench's progress (phase and what it is doing). */
export interface ClassroomProgressMessage {
  type: 'classroom-progress';
  text: string;
}

/**
 * A bench-only control sent by the parent over the fork channel (`startServer(…, { ipc: true })`):
 * play recording on / off / on-again windows in the Préau child (recording-switch.ts). Only bench/support/preau-server.ts
 * listens for it, and only when started with `--engagement-recording switchable`; `preau serve`
 * (src/main.ts) has no such listener and is never started with a channel.
 */
export interface BenchControl {
  /** Play `cycles` × (on, off, on-again) windows of `windowMs` once traffic has run `warmupMs`. */
  type: 'engagement-windows';
  cycles: number;
  windowMs: number;
  warmupMs: number;
}

/** The windows played for an `engagement-windows` control (empty with `error` when they could not be). */
export interface EngagementWindowsMessage {
  type: 'engagement-windows';
  windows: import('./recording-switch.js').RecordingWindow[];
  error?: string;
}

/** The windows played for an `engagement-windows` control (empty with `error` when they could not be). */
export interface EngagementWindowsMessage {
  type: 'engagement-windows';
  windows: import('./recording-switch.js').RecordingWindow[];
  error?: string;
}

export type ChildMessage = EngagementWindowsMessage | ProgressMessage | ReadyMessage | LoadResultMessage | HashResultMessage | OpenLoadResultMessage | FloodResultMessage | SurgeResultMessage | ClassroomResultMessage | ClassroomProgressMessage;

/** The load a pinned autocannon child applies (written to a JSON file, its path given as argv[2]). */
export interface LoadSpec {
  url: string;
  method: 'GET' | 'POST';
  connections: number;
  warmupS: number;
  durationS: number;
  headers: Record<string, string>;
  /** Bodies sent in turn, one per request (rotating), when given. */
  bodies?: string[];
  /** A mix of requests sent in turn (rotating), instead of `url`'s path: the morning mix. */
  mix?: MixRequest[];
  /** How the measured run is shown in progress lines (a separate warm-up run says 'warmup'). */
  phaseName?: 'warmup' | 'measure';
}

/** One request of a mix. */
export interface MixRequest {
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  /** Body, base64 (binary-safe in the JSON spec file). */
  bodyBase64?: string;
  /**
   * Byte offset in the body where a per-request counter is written (16 ASCII digits), and a fresh
   * `idempotency-key` header added: every upload is new content, not a replay nor a deduplicated file.
   */
  uniqueAt?: number;
}

/** One bench's outcome, as printed in the summary and written as JSON. */
export interface BenchResult {
  name: string;
  title: string;
  /** Label of the compared figure (e.g. "req/s", "connexions/s"). */
  unit: string;
  preau: number;
  baseline: number;
  baselineLabel: string;
  ratio: number;
  target: number;
  /**
   * The same comparison by CPU time per operation (baseline's ÷ Préau's), when it could be read:
   * what the ratio would be on a core of its own, less disturbed by the machine's other work.
   */
  cpuRatio?: number;
  /**
   * The bench's own verdict when it judges against a noise band (an A/A control, see
   * ab-rounds.ts) instead of ratio ≥ target alone: `indécis` when the ratio is within the noise.
   */
  verdict?: 'atteint' | 'manqué' | 'indécis';
  /** Any further figures worth keeping (latencies, counts, settings). */
  details: Record<string, number | string | boolean>;
}

/** A bench that failed after some of its figures were measured: they are kept in the summary, the failure too. */
export class PartialBenchError extends Error {
  constructor(
    message: string,
    readonly results: BenchResult[],
  ) {
    super(message);
  }
}

export function emit(message: ChildMessage): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

/**
 * Exits once everything emitted has reached the pipe: stdout to a pipe is asynchronous, and an
 * exit right after a large result (the surge's visitors: hundreds of kilobytes) would cut it.
 */
export function exitWhenFlushed(code = 0): void {
  process.stdout.write('', () => process.exit(code));
}
