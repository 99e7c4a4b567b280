/**
 * The login surge, run as a child pinned to the load CPU (see edge-surge.bench.ts): every visitor
 * starts at once, each from its own loopback address, and follows the protocol the login page
 * follows (web/src/features/identity/login-flow.ts and guarded-submit.tsx):
 *  - `challenge.*`: solve the proof of work (the server's algorithm, solveChallenge) and send
 *    the same login again with the solution (at most MAX_CHALLENGES times);
 *  - `waiting.queued`: keep the ticket, poll GET /api/v1/waiting-room after `pollAfterMs`
 *    (clamped to 1–30 s as the page does) until admitted, then send the same login again with it;
 *  - another 503 (overload): the same login again after the server's Retry-After with jitter,
 *    at most MAX_AUTO_RETRIES times; anything else ends the visit (the page shows an error).
 * Meanwhile signed-in pupils read GET /me/today (startReaders). Every visitor gives up at the
 * spec's deadline: the run is bounded.
 *
 *   node --import tsx bench/support/surge-load.ts <spec.json>   (see SurgeSpec in protocol.ts)
 */
import { readFileSync } from 'node:fs';
import { solveChallenge } from '../../src/edge/index.js';
import { call, countInto, quantile, startReaders, watchLag, type Answer } from './loopback-client.js';
import { emit, exitWhenFlushed, type SurgeSpec, type SurgeVisitorOutcome } from './protocol.js';

const spec = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as SurgeSpec;
const origin = new URL(spec.origin);
const t0 = performance.now();
const lag = watchLag();
const sinceStartMs = () => performance.now() - t0;
const deadlineMs = spec.deadlineS * 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// The login page's bounds (login-flow.ts).
const MAX_AUTO_RETRIES = 6;
const MAX_CHALLENGES = 3;
// As the web client (web/src/features/identity/login-flow.ts, MIN_POLL_MS): never sooner than 0.4 s, never later than 30 s.
const clampPoll = (ms: unknown) => Math.min(30_000, Math.max(400, typeof ms === 'number' && Number.isFinite(ms) ? ms : 1_000));
const CHALLENGES = new Set(['challenge.required', 'challenge.invalid', 'challenge.used']);
const REQUEST_TIMEOUT_MS = 30_000;
const USER_AGENT = 'Mozilla/5.0 (X11; Linux x86_64) banc-preau-afflux';

interface ErrorAnswer {
  id: string;
  details: Record<string, unknown>;
  retryAfterSeconds: number | undefined;
}

function errorOf(a: Answer): ErrorAnswer {
  try {
    const e = (JSON.parse(a.body) as { error?: { id?: unknown; details?: unknown; retryAfterSeconds?: unknown } }).error;
    return {
      id: typeof e?.id === 'string' ? e.id : `http.${a.status}`,
      details: e?.details && typeof e.details === 'object' ? (e.details as Record<string, unknown>) : {},
      retryAfterSeconds: typeof e?.retryAfterSeconds === 'number' ? e.retryAfterSeconds : undefined,
    };
  } catch {
    return { id: `http.${a.status}`, details: {}, retryAfterSeconds: undefined };
  }
}

/** The server's issue time, read from the signed ticket's claims (its first part is base64url JSON). */
function issuedAtOf(ticket: string): number | undefined {
  try {
    const claims = JSON.parse(Buffer.from(ticket.slice(0, ticket.indexOf('.')), 'base64url').toString('utf8')) as { issuedAtMs?: unknown };
    return typeof claims.issuedAtMs === 'number' ? claims.issuedAtMs : undefined;
  } catch {
    return undefined;
  }
}

/** The page's retry delay: the server's Retry-After as a floor, doubled per retry, with jitter (never in lock-step). */
const retryDelayMs = (retries: number, retryAfterS: number | undefined) => Math.min(30_000, Math.max((retryAfterS ?? 1) * 1000, 500 * 2 ** retries) * (1 + Math.random()));

async function visit(login: string, address: string): Promise<SurgeVisitorOutcome> {
  const v: SurgeVisitorOutcome = { signedInAtMs: undefined, first: '', ticketIssuedAtMs: undefined, ticketAtMs: undefined, lastWaitingAtMs: undefined, admittedSeenAtMs: undefined, challenges: 0, polls: 0, refusals: {}, failure: undefined };
  const body = JSON.stringify({ login, password: spec.password, remember: true });
  const send = (method: 'GET' | 'POST', path: string, headers: Record<string, string>) =>
    call(origin, { method, path, headers: { 'user-agent': USER_AGENT, ...headers }, localAddress: address, timeoutMs: REQUEST_TIMEOUT_MS, ...(method === 'POST' ? { body } : {}) });
  let ticket: string | undefined;
  let solution: Record<string, string> = {};
  let retries = 0;
  try {
    while (sinceStartMs() < deadlineMs) {
      const a = await send('POST', '/api/v1/auth/login', { 'content-type': 'application/json', ...(ticket ? { cookie: `preau_ticket=${ticket}` } : {}), ...solution });
      solution = {};
      if (a.status === 200) {
        v.signedInAtMs = sinceStartMs();
        v.first ||= 'pass';
        return v;
      }
      const e = errorOf(a);
      if (CHALLENGES.has(e.id) && typeof e.details.challenge === 'string' && typeof e.details.bits === 'number' && v.challenges < MAX_CHALLENGES) {
        v.challenges++;
        solution = { 'x-preau-challenge': e.details.challenge, 'x-preau-nonce': solveChallenge(e.details.challenge, e.details.bits) };
        continue;
      }
      if (e.id === 'waiting.queued' && typeof e.details.ticket === 'string') {
        v.first ||= 'ticket';
        ticket = e.details.ticket;
        v.ticketAtMs ??= sinceStartMs();
        v.ticketIssuedAtMs ??= issuedAtOf(ticket);
        if (!(await waitTurn(v, ticket, clampPoll(e.details.pollAfterMs), send))) return v;
        continue;
      }
      // A plain refusal: what the waiting room exists to avoid. Overloads are retried as the page retries them.
      v.first ||= e.id;
      countInto(v.refusals, e.id);
      if (a.status === 503 && retries < MAX_AUTO_RETRIES) {
        await sleep(retryDelayMs(retries++, e.retryAfterSeconds));
        continue;
      }
      v.failure = e.id;
      return v;
    }
    v.failure = 'délai du banc dépassé';
  } catch (err) {
    v.failure = `réseau : ${(err as NodeJS.ErrnoException).code ?? String(err)}`;
  }
  return v;
}

/** Polls the room until admitted (true) or the visit ends (false, with the reason in `v.failure`). */
async function waitTurn(v: SurgeVisitorOutcome, ticket: string, firstPollMs: number, send: (method: 'GET', path: string, headers: Record<string, string>) => Promise<Answer>): Promise<boolean> {
  let waitMs = firstPollMs;
  let retries = 0;
  for (;;) {
    await sleep(waitMs);
    if (sinceStartMs() >= deadlineMs) {
      v.failure = 'délai du banc dépassé (en file)';
      return false;
    }
    const a = await send('GET', '/api/v1/waiting-room', { cookie: `preau_ticket=${ticket}` });
    v.polls++;
    if (a.status === 200) {
      const s = JSON.parse(a.body) as { state?: string; pollAfterMs?: number };
      if (s.state === 'admitted') {
        v.admittedSeenAtMs = sinceStartMs();
        return true;
      }
      v.lastWaitingAtMs = sinceStartMs();
      waitMs = clampPoll(s.pollAfterMs);
      continue;
    }
    const e = errorOf(a);
    countInto(v.refusals, `attente:${e.id}`);
    if (a.status === 503 && retries < MAX_AUTO_RETRIES) {
      waitMs = retryDelayMs(retries++, e.retryAfterSeconds);
      continue;
    }
    v.failure = e.id;
    return false;
  }
}

const readers = startReaders(origin, { path: spec.sessions.path, ratePerS: spec.sessions.ratePerS, cookies: spec.sessions.cookies, addresses: spec.sessions.addresses, deadlineMs: 2_000, timeoutMs: 10_000 });
let elapsedS = 0;
const visitors: SurgeVisitorOutcome[] = new Array(spec.visitors.length);
let done = 0;
const progress = setInterval(() => emit({ type: 'progress', phase: 'measure', elapsedS: Math.min(++elapsedS, spec.deadlineS), totalS: spec.deadlineS, count: done }), 1000);
// "At once": launched within a few hundred milliseconds, in batches, so that the listen backlog (not what is measured) does not drop SYNs.
const runs: Promise<void>[] = [];
for (let i = 0; i < spec.visitors.length; i += 200) {
  for (let k = i; k < Math.min(i + 200, spec.visitors.length); k++) {
    const { login, address } = spec.visitors[k]!;
    runs.push(
      visit(login, address).then((v) => {
        visitors[k] = v;
        done++;
      }),
    );
  }
  await sleep(20);
}
await Promise.all(runs);
const durationS = sinceStartMs() / 1000;
const sessions = await readers.stop();
clearInterval(progress);
emit({
  type: 'surge-result',
  durationS,
  visitors,
  sessions: { sent: sessions.sent, ok: sessions.ok + sessions.late, byStatus: sessions.byStatus, errors: sessions.errors, byError: sessions.byError, p50Ms: quantile(sessions.latenciesMs, 0.5), p95Ms: quantile(sessions.latenciesMs, 0.95) },
  generatorLagP99Ms: lag.p99Ms(),
});
exitWhenFlushed();
