/**
 * One simulated person's HTTP client, as the web client behaves: its own source address in
 * 127.0.0.0/8 (`localAddress`: the server sees a real peer), keep-alive connections and a session
 * cookie reused across requests; backoff with jitter on 429/503 or no answer (the server's
 * Retry-After a floor: web/src/api/backoff.ts); a sign-in that follows the waiting room (ticket,
 * polls at `pollAfterMs`, then the same login again), solves proof-of-work challenges and retries
 * an overloaded refusal, as web/src/features/identity/login-flow.ts decides. Every loop is bounded.
 */
import http from 'node:http';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { createHash } from 'node:crypto';
import { leadingZeroBits, MAX_BITS } from '../../src/edge/challenge/proof-of-work.js';
import { nextDelayMs, type BackoffPolicy } from '../../web/src/api/backoff.js';

const USER_AGENT = 'Mozilla/5.0 (Linux; Android 12) PreauExercice/1';
const REQUEST_TIMEOUT_MS = 15_000;
/** Retries of one read after 429/503 or a network failure (then the person gives up, or reloads later). */
export const MAX_RETRIES = 4;
/**
 * Retries of one write: the web client's outbox keeps a write until it is delivered or refused, so
 * a hand-in made during a restart of 12 s is not lost to the person's patience. Bounded here by the
 * count (about three minutes of backoff) and by the drill's end (`ctx.stopping()`).
 */
export const MAX_WRITE_RETRIES = 9;
/** Answers, polls, challenges and retries of one sign-in, at most. */
const MAX_SIGN_IN_STEPS = 60;
const MAX_SIGN_IN_RETRIES = 6;
const MAX_CHALLENGES = 3;
const MIN_POLL_MS = 1_000;
const MAX_POLL_MS = 30_000;
/** Hashes between two yields of the solver: the generator's event loop keeps serving the other clients. */
const SOLVE_SLICE = 2_048;

/**
 * The browser's proof-of-work (src/edge/challenge/proof-of-work.ts), in slices: one load generator
 * plays hundreds of phones, so a solve must never block the others' requests and timers. The time
 * it takes (queue included) is the generator's CPU, not a phone's: reported apart (`solveMs`).
 */
export function solveInSlices(token: string, bits: number): Promise<string> {
  // One solve at a time, in arrival order: sharing the core among all solves would finish them all late.
  const run = solverQueue.then(() => solve(token, bits));
  solverQueue = run.then(
    () => undefined,
    () => undefined,
  );
  return run;
}
let solverQueue: Promise<void> = Promise.resolve();

async function solve(token: string, bits: number): Promise<string> {
  for (let i = 0; ; ) {
    for (const end = i + SOLVE_SLICE; i < end; i++) {
      const nonce = i.toString(36);
      if (leadingZeroBits(createHash('sha256').update(`${token}:${nonce}`).digest()) >= bits) return nonce;
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  ms: number;
  /** `réseau` or `délai` when no answer came. */
  failure?: string;
}

export interface Person {
  login: string;
  address: string;
  activationCode: string | null;
}

export interface Client {
  person: Person;
  agent: http.Agent;
  cookie?: string;
  csrf?: string;
}

/** What a client needs around it: where the server is, where answers are counted, when to give up. */
export interface ClientContext {
  /** Where the server is: http(s)://host[:port]. */
  origin: URL;
  /** Each client binds its own loopback address (only when the server listens on loopback: elsewhere they could not be routed). */
  bindLocal: boolean;
  random: () => number;
  record(client: Client, kind: string, startedMs: number, answer: Answer): void;
  stopping(): boolean;
  /** A client starts (+1) or stops (-1) holding a waiting-room ticket. */
  waiting(delta: 1 | -1): void;
  /** The web client's backoff by default; tests shorten it. */
  backoff?: BackoffPolicy;
}

export interface SignInOutcome {
  ok: boolean;
  queued: boolean;
  challenged: boolean;
  /** Time spent holding a waiting-room ticket (0 when never queued). */
  waitedMs: number;
  /** Time spent solving challenges (the generator's CPU, shared by all its clients). */
  solveMs: number;
}

export function newClient(person: Person, secure = false): Client {
  return { person, agent: secure ? new https.Agent({ keepAlive: true, maxSockets: 2 }) : new http.Agent({ keepAlive: true, maxSockets: 2 }) };
}

/** A loopback host: the drill's clients can each take their own source address in 127.0.0.0/8. */
export function isLoopback(hostname: string): boolean {
  return /^127\.\d+\.\d+\.\d+$/.test(hostname) || hostname === 'localhost';
}

export function send(ctx: ClientContext, client: Client, method: string, path: string, headers: Record<string, string> = {}, body?: Buffer): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve) => {
    const h: Record<string, string> = { 'user-agent': USER_AGENT, 'accept-language': 'fr-FR', ...headers };
    if (client.cookie) h.cookie = client.cookie;
    if (body) h['content-length'] = String(body.length);
    const failed = (failure: string) => resolve({ status: 0, headers: {}, body: Buffer.alloc(0), ms: performance.now() - started, failure });
    const secure = ctx.origin.protocol === 'https:';
    const options: https.RequestOptions = {
      host: ctx.origin.hostname, port: ctx.origin.port || (secure ? 443 : 80), method, path, headers: h, agent: client.agent, timeout: REQUEST_TIMEOUT_MS,
      ...(ctx.bindLocal ? { localAddress: client.person.address } : {}),
    };
    const req = (secure ? https : http).request(options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), ms: performance.now() - started }));
      res.on('error', () => failed('réseau'));
    });
    req.on('timeout', () => req.destroy(new Error('délai')));
    req.on('error', (err) => failed(err.message === 'délai' ? 'délai' : 'réseau'));
    req.end(body);
  });
}

function retryAfterOf(a: Answer): number | undefined {
  const v = Number(a.headers['retry-after']);
  return Number.isFinite(v) && v > 0 ? v : undefined;
}

export const isOk = (a: Answer) => a.status >= 200 && a.status < 300;

export function jsonOf(a: Answer): Record<string, unknown> {
  try {
    return JSON.parse(a.body.toString('utf8')) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** Why an answer is not a success: its error id, `http-<status>`, `réseau` or `délai`. */
export function reasonOf(a: Answer): string {
  if (a.failure) return a.failure;
  const id = (jsonOf(a).error as { id?: unknown } | undefined)?.id;
  return typeof id === 'string' ? id : `http-${a.status}`;
}

/** One request as a client makes it: recorded, and retried with backoff on 429/503 or no answer. */
export async function call(ctx: ClientContext, client: Client, kind: string, method: string, path: string, headers: Record<string, string> = {}, body?: Buffer): Promise<Answer> {
  for (let attempt = 0; ; attempt++) {
    const startedMs = Date.now();
    const a = await send(ctx, client, method, path, headers, body);
    ctx.record(client, kind, startedMs, a);
    const again = a.failure !== undefined || a.status === 429 || a.status === 503;
    if (!again || attempt >= (method === 'GET' ? MAX_RETRIES : MAX_WRITE_RETRIES) || ctx.stopping()) return a;
    await sleep(nextDelayMs(attempt, retryAfterOf(a), ctx.random, ctx.backoff));
  }
}

/** Signs in with the password, or activates the account with its code and a new password. */
export async function signIn(ctx: ClientContext, client: Client, mode: 'password' | 'activation', password: string): Promise<SignInOutcome> {
  const p = client.person;
  const path = mode === 'activation' ? '/api/v1/auth/activate' : '/api/v1/auth/login';
  const body = Buffer.from(JSON.stringify(mode === 'activation' ? { login: p.login, code: p.activationCode, password, remember: true } : { login: p.login, password, remember: true }));
  const extra: Record<string, string> = {};
  const outcome: SignInOutcome = { ok: false, queued: false, challenged: false, waitedMs: 0, solveMs: 0 };
  let queuedAt = 0;
  let retries = 0;
  let challenges = 0;
  try {
    for (let steps = 0; steps < MAX_SIGN_IN_STEPS && !ctx.stopping(); steps++) {
      const startedMs = Date.now();
      const a = await send(ctx, client, 'POST', path, { 'content-type': 'application/json', ...extra }, body);
      ctx.record(client, 'login', startedMs, a);
      const answer = jsonOf(a);
      if (a.status === 200) {
        const cookie = ([] as string[]).concat(a.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]!).find((c) => /^(__Host-)?preau_session=/.test(c));
        if (!cookie || typeof answer.csrfToken !== 'string') return outcome;
        client.cookie = cookie;
        client.csrf = answer.csrfToken;
        outcome.ok = true;
        return outcome;
      }
      const error = (answer.error ?? {}) as { id?: string; details?: Record<string, unknown> };
      delete extra['x-preau-challenge'];
      delete extra['x-preau-nonce'];
      const ticket = extra['x-preau-ticket'];
      if (error.id === 'waiting.queued' && typeof error.details?.ticket === 'string') {
        extra['x-preau-ticket'] = error.details.ticket;
        if (!outcome.queued) {
          outcome.queued = true;
          queuedAt = performance.now();
          ctx.waiting(1);
        }
        if (!(await waitTurn(ctx, client, error.details.ticket, Number(error.details.pollAfterMs)))) return outcome;
      } else if (error.id === 'waiting.not_your_turn' && ticket) {
        if (!(await waitTurn(ctx, client, ticket, (retryAfterOf(a) ?? 1) * 1000))) return outcome;
      } else if (error.id?.startsWith('challenge.') && typeof error.details?.challenge === 'string' && typeof error.details.bits === 'number' && error.details.bits <= MAX_BITS && challenges < MAX_CHALLENGES) {
        challenges++;
        outcome.challenged = true;
        const solveStart = performance.now();
        extra['x-preau-challenge'] = error.details.challenge;
        extra['x-preau-nonce'] = await solveInSlices(error.details.challenge, error.details.bits);
        outcome.solveMs += performance.now() - solveStart;
      } else if ((a.status === 503 || a.status === 429 || a.failure) && retries < MAX_SIGN_IN_RETRIES) {
        delete extra['x-preau-ticket'];
        await sleep(nextDelayMs(retries++, retryAfterOf(a), ctx.random));
      } else return outcome;
    }
    return outcome;
  } finally {
    if (outcome.queued) {
      outcome.waitedMs = performance.now() - queuedAt;
      ctx.waiting(-1);
    }
  }
}

/** Polls the waiting room with the ticket until admitted (true) or the ticket is refused (false). */
async function waitTurn(ctx: ClientContext, client: Client, ticket: string, firstPollMs: number): Promise<boolean> {
  let pollMs = firstPollMs;
  for (let polls = 0; polls < MAX_SIGN_IN_STEPS && !ctx.stopping(); polls++) {
    await sleep(Math.min(MAX_POLL_MS, Math.max(MIN_POLL_MS, Number.isFinite(pollMs) ? pollMs : MIN_POLL_MS)));
    const a = await call(ctx, client, 'attente', 'GET', '/api/v1/waiting-room', { 'x-preau-ticket': ticket });
    const s = jsonOf(a) as { state?: string; pollAfterMs?: number };
    if (s.state === 'admitted') return true;
    if (s.state !== 'waiting') return false;
    pollMs = Number(s.pollAfterMs);
  }
  return false;
}
