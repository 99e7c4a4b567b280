/**
 * The drill's load generator, run as a child pinned to the load CPU (never the server's): plays a
 * planned scenario (scenario.ts) with clients that behave like the web client (client.ts). Each visit has its
 * own source address in 127.0.0.0/8 (`localAddress`: the server sees a real peer), its own
 * keep-alive connections and session cookie; it pauses between actions, backs off on 429/503 with
 * jitter (the server's Retry-After a floor: web/src/api/backoff.ts), follows waiting-room tickets
 * by polling until admitted, solves proof-of-work challenges, and retries a write with the same
 * Idempotency-Key. Bounded: every retry loop has a count, the drill a deadline (peak end + drain),
 * after which running visits are cut.
 *
 * "The evening before", untimed: the clients whose phone remembers a session sign in once.
 *
 *   node --import tsx tools/drill/drill-load.ts <spec.json>    (LoadSpec in protocol.ts)
 */
import { createHash, randomBytes } from 'node:crypto';
import type http from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { addDays, parisDate } from '../../src/platform/clock.js';
import { rng } from '../gen-aaf.js';
import { call, isOk, jsonOf, newClient, reasonOf, signIn, type Answer, type Client, type ClientContext } from './client.js';
import type { CheckResult } from './checker.js';
import { percentiles, type Acknowledged, type LoadMessage, type LoadResult, type LoadSpec, type PhaseStats, type SecondStats } from './protocol.js';
import type { DrillProfile } from './roster.js';
import { WRITE_KINDS, writeOutcome, type WriteSample } from './fault.js';
import { PHASES, phaseAt, READ_KINDS, window830, type Action, type Phase, type Visit } from './scenario.js';

const spec = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as LoadSpec;
const { scenario } = spec;
const EVENING_CONCURRENCY = 4;
const random = rng(scenario.seed ^ 0x10ad);

const emit = (m: LoadMessage) => process.stdout.write(`${JSON.stringify(m)}\n`);

/** A person's client during a visit; timed requests are counted (the evening before is not). */
interface VisitClient extends Client {
  visit: Visit;
  timed: boolean;
}

// ---------- statistics ----------
interface Bucket {
  offered: number;
  served: number;
  refusals: Record<string, number>;
  latency: Partial<Record<DrillProfile, number[]>>;
  actionsOk: number;
  actionsFailed: number;
}
const buckets = new Map<number, Bucket>();
let t0 = 0;
const elapsedMs = () => Date.now() - t0;
const bucket = (sec: number): Bucket => {
  let b = buckets.get(sec);
  if (!b) buckets.set(sec, (b = { offered: 0, served: 0, refusals: {}, latency: {}, actionsOk: 0, actionsFailed: 0 }));
  return b;
};
const phases = Object.fromEntries(PHASES.map((p) => [p, { visits: 0, actionsOk: 0, actionsFailed: 0, actionsNotStarted: 0, signInsFailed: 0 }])) as Record<Phase, PhaseStats>;
const actionsByKind: Record<string, { ok: number; failed: number }> = {};
const signIns = { remembered: 0, password: 0, activation: 0, queued: 0, challenged: 0, failed: 0, eveningBefore: 0, eveningBeforeFailed: 0, solveMs: 0 };
const pupilReads: number[] = [];
const queueWaits: number[] = [];
const w830 = window830(scenario);
const pupilReads830: number[] = [];
const pupils830 = new Set<string>();
const acknowledged: Acknowledged = { handins: [], posts: [], messages: [] };
/** Write attempts and their outcome (bounded by the scenario's writes × their retries). */
const writes: WriteSample[] = [];
let waitingClients = 0;
let activeVisits = 0;
let cut = 0;

function record(c: Client, kind: string, startedMs: number, a: Answer): void {
  const client = c as VisitClient;
  // Requests cut by the drill's own stop are not the server's refusals.
  if (!client.timed || stopping) return;
  bucket(Math.floor((startedMs - t0) / 1000)).offered++;
  const b = bucket(Math.floor(elapsedMs() / 1000));
  if (WRITE_KINDS.has(kind)) {
    const outcome = writeOutcome(a.status, a.status >= 200 && a.status < 300 ? undefined : reasonOf(a));
    if (outcome) writes.push({ startedMs, endedMs: Date.now(), outcome });
  }
  if (a.status >= 200 && a.status < 300) {
    b.served++;
    const profile = client.visit.profile;
    (b.latency[profile] ??= []).push(a.ms);
    if (profile === 'eleve' && READ_KINDS.has(kind as Action['kind'])) {
      const at = startedMs - t0;
      if (phaseAt(at, scenario) !== 'warmup') pupilReads.push(a.ms);
      if (at >= w830.fromMs && at < w830.toMs) {
        pupilReads830.push(a.ms);
        pupils830.add(client.visit.login);
      }
    }
  } else {
    const r = reasonOf(a);
    b.refusals[r] = (b.refusals[r] ?? 0) + 1;
  }
}

const agents = new Set<http.Agent>();
let stopping = false;
const ctx: ClientContext = {
  origin: new URL(spec.origin),
  bindLocal: spec.bindLocal,
  random,
  record,
  stopping: () => stopping,
  waiting: (delta) => {
    waitingClients += delta;
  },
};

// ---------- what people do ----------
// The next day on the server's (moved) clock.
const tomorrow = addDays(parisDate(Date.now() + spec.clockOffsetMs), 1);

function multipart(bytes: Buffer): { body: Buffer; contentType: string } {
  const boundary = `----preauexercice${randomBytes(8).toString('hex')}`;
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="copie.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`);
  return { body: Buffer.concat([head, bytes, Buffer.from(`\r\n--${boundary}--\r\n`)]), contentType: `multipart/form-data; boundary=${boundary}` };
}

async function perform(client: VisitClient, action: Action, lastPost: { entryId?: string; title?: string }): Promise<boolean> {
  const v = client.visit;
  const write = { 'x-csrf-token': client.csrf ?? '' };
  switch (action.kind) {
    case 'today':
      return isOk(await call(ctx, client, action.kind, 'GET', '/api/v1/me/today'));
    case 'mine':
      return isOk(await call(ctx, client, action.kind, 'GET', '/api/v1/me/today/mine'));
    case 'cahier':
      return isOk(await call(ctx, client, action.kind, 'GET', `/api/v1/homework${action.pupilId ? `?pupilId=${encodeURIComponent(action.pupilId)}` : ''}`));
    case 'entry':
      return isOk(await call(ctx, client, action.kind, 'GET', `/api/v1/homework/${action.entryId}`));
    case 'attachment':
      return isOk(await call(ctx, client, action.kind, 'GET', action.path));
    case 'handins':
      return isOk(await call(ctx, client, action.kind, 'GET', `/api/v1/homework/${action.entryId}/handins`));
    case 'handin': {
      // A photo of the copy: JPEG magic, then bytes unique to this hand-in (its SHA-256 identifies it).
      const bytes = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(action.bytes - 4)]);
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      const { body, contentType } = multipart(bytes);
      const idempotencyKey = `exercice-${v.index}-${randomBytes(6).toString('hex')}`;
      const a = await call(ctx, client, action.kind, 'POST', `/api/v1/homework/${action.entryId}/handins`, { ...write, 'content-type': contentType, 'idempotency-key': idempotencyKey }, body);
      if (!isOk(a)) return false;
      const receipt = (jsonOf(a).receipt ?? {}) as { id?: string; files?: { sha256?: string }[] };
      if (typeof receipt.id !== 'string') return false;
      acknowledged.handins.push({ login: v.login, entryId: action.entryId, handinId: receipt.id, sha256, idempotencyKey, receiptMismatch: receipt.files?.[0]?.sha256 !== sha256 });
      return true;
    }
    case 'post': {
      const title = `Exercice du matin n° ${v.index} (${v.login})`;
      const payload = { kind: 'travail', classId: action.classId, ...(action.subjectId ? { subjectId: action.subjectId } : {}), title, bodyHtml: '<p>Lire le chapitre et répondre aux questions 1 à 3.</p>', date: tomorrow, publishAt: 'now' };
      const a = await call(ctx, client, action.kind, 'POST', '/api/v1/homework', { ...write, 'content-type': 'application/json', 'idempotency-key': `exercice-post-${v.index}` }, Buffer.from(JSON.stringify(payload)));
      const entryId = (jsonOf(a).entry as { id?: unknown } | undefined)?.id;
      if (!isOk(a) || typeof entryId !== 'string') return false;
      acknowledged.posts.push({ login: v.login, entryId, title, edited: false });
      Object.assign(lastPost, { entryId, title });
      return true;
    }
    case 'message': {
      const subject = `Absence ce matin — visite n° ${v.index} (${v.login})`;
      const payload = { to: [{ kind: 'person', id: action.toId }], subject, bodyHtml: '<p>Bonjour, notre enfant sera absent ce matin (rendez-vous médical). Cordialement.</p>' };
      const a = await call(ctx, client, action.kind, 'POST', '/api/v1/messages', { ...write, 'content-type': 'application/json', 'idempotency-key': `exercice-message-${v.index}` }, Buffer.from(JSON.stringify(payload)));
      const messageId = (jsonOf(a).message as { id?: unknown } | undefined)?.id;
      if (!isOk(a) || typeof messageId !== 'string') return false;
      acknowledged.messages.push({ login: v.login, messageId, subject, toId: action.toId });
      return true;
    }
    case 'edit': {
      if (!lastPost.entryId) return false;
      const title = `${lastPost.title} — corrigé`;
      const a = await call(ctx, client, action.kind, 'PATCH', `/api/v1/homework/${lastPost.entryId}`, { ...write, 'content-type': 'application/json', 'idempotency-key': `exercice-edit-${v.index}` }, Buffer.from(JSON.stringify({ title })));
      if (!isOk(a)) return false;
      const ack = acknowledged.posts.find((p) => p.entryId === lastPost.entryId);
      if (ack) Object.assign(ack, { title, edited: true });
      return true;
    }
  }
}

const sessions = new Map<string, { cookie: string; csrf: string }>();
const visitClient = (visit: Visit, timed: boolean): VisitClient => {
  const client = { ...newClient(visit, spec.origin.startsWith('https:')), visit, timed };
  agents.add(client.agent);
  return client;
};
const closeClient = (c: Client) => {
  c.agent.destroy();
  agents.delete(c.agent);
};

async function runVisit(v: Visit, stopActionsAtMs: number): Promise<void> {
  const client = visitClient(v, true);
  const stats = phases[v.phase];
  stats.visits++;
  activeVisits++;
  try {
    const remembered = v.signIn === 'remembered' ? sessions.get(v.login) : undefined;
    if (remembered) {
      Object.assign(client, remembered);
      signIns.remembered++;
    } else {
      const mode = v.signIn === 'activation' ? 'activation' : 'password';
      signIns[mode]++;
      const outcome = await signIn(ctx, client, mode, mode === 'activation' ? spec.newPassword : spec.password);
      if (outcome.queued) {
        signIns.queued++;
        queueWaits.push(outcome.waitedMs);
      }
      if (outcome.challenged) signIns.challenged++;
      signIns.solveMs += outcome.solveMs;
      if (!outcome.ok && stopping) {
        // Still signing in when the drill ended (e.g. waiting its turn): cut, not refused.
        stats.actionsNotStarted += v.actions.length;
        return;
      }
      if (!outcome.ok) {
        signIns.failed++;
        stats.signInsFailed++;
        stats.actionsFailed += v.actions.length;
        return;
      }
      // The phone remembers it: this person's next visit (a teacher's second) reuses it.
      sessions.set(v.login, { cookie: client.cookie!, csrf: client.csrf! });
    }
    const lastPost = {};
    for (const [i, step] of v.actions.entries()) {
      if (stopping || elapsedMs() >= stopActionsAtMs) {
        stats.actionsNotStarted += v.actions.length - i;
        break;
      }
      await sleep(step.thinkMs);
      const done = await perform(client, step.action, lastPost);
      if (!done && stopping) {
        // Cut by the drill's own stop, not refused by the server.
        stats.actionsNotStarted += v.actions.length - i;
        break;
      }
      const kind = (actionsByKind[step.action.kind] ??= { ok: 0, failed: 0 });
      const b = bucket(Math.floor(elapsedMs() / 1000));
      if (done) {
        stats.actionsOk++;
        kind.ok++;
        b.actionsOk++;
      } else {
        stats.actionsFailed++;
        kind.failed++;
        b.actionsFailed++;
      }
    }
  } finally {
    activeVisits--;
    closeClient(client);
  }
}

/** The evening before: people whose phone remembers a session signed in once (untimed, a few at a time). */
async function eveningBefore(): Promise<void> {
  const first = new Map<string, Visit>();
  for (const v of scenario.visits) if (v.signIn === 'remembered' && !first.has(v.login)) first.set(v.login, v);
  const queue = [...first.values()];
  await Promise.all(
    Array.from({ length: EVENING_CONCURRENCY }, async () => {
      for (let v = queue.shift(); v; v = queue.shift()) {
        const c = visitClient(v, false);
        signIns.eveningBefore++;
        if ((await signIn(ctx, c, 'password', spec.password)).ok) sessions.set(v.login, { cookie: c.cookie!, csrf: c.csrf! });
        else signIns.eveningBeforeFailed++;
        closeClient(c);
      }
    }),
  );
}

function secondStats(sec: number): SecondStats {
  const b = bucket(sec);
  const latency: SecondStats['latency'] = {};
  for (const [p, values] of Object.entries(b.latency) as [DrillProfile, number[]][]) latency[p] = percentiles(values);
  return { sec, phase: phaseAt(sec * 1000, scenario), offered: b.offered, served: b.served, refusals: b.refusals, latency, waitingClients, activeVisits };
}

await eveningBefore();
t0 = Date.now();
emit({ type: 'started', t0Ms: t0 });
const totalS = scenario.warmupS + scenario.peakS;
const seconds: SecondStats[] = [];
const ticker = setInterval(() => {
  const sec = Math.floor(elapsedMs() / 1000) - 1;
  if (sec < 0 || seconds.some((s) => s.sec === sec)) return;
  const s = secondStats(sec);
  seconds.push(s);
  const b = bucket(sec);
  emit({ type: 'tick', ...s, totalS, actionsOk: b.actionsOk, actionsFailed: b.actionsFailed, pupilP95: s.latency.eleve?.p95 ?? 0 });
}, 1000);

const endMs = totalS * 1000;
const running = scenario.visits.map(async (v) => {
  await sleep(v.atMs);
  if (stopping) return;
  // Arrivals stop at 08:45, not people: a visit begun goes on into the drain, then is cut.
  await runVisit(v, endMs + spec.drainS * 1000);
});
const all = Promise.all(running);
const drained = await Promise.race([all.then(() => true), sleep(endMs + spec.drainS * 1000).then(() => false)]);
if (!drained) {
  // The drill stops by itself: what still runs is cut (and counted).
  stopping = true;
  cut = activeVisits;
  for (const a of agents) a.destroy();
  await Promise.race([all, sleep(5_000)]);
}
clearInterval(ticker);
const lastSec = Math.floor(elapsedMs() / 1000);
for (let sec = 0; sec <= lastSec; sec++) if (!seconds.some((s) => s.sec === sec)) seconds.push(secondStats(sec));
seconds.sort((a, b) => a.sec - b.sec);

/**
 * On a deployment (no access to its store): each acknowledged write is asked of the API by the
 * person who made it, on their session — the hand-in's receipt (its file's SHA-256, not replaced),
 * the work as its teacher sees it (last acknowledged title), the message in its sender's box (subject,
 * recipient). Untimed, a few at a time.
 */
async function checkThroughApi(): Promise<CheckResult> {
  const out: CheckResult = {
    handins: { acknowledged: acknowledged.handins.length, found: 0 }, posts: { acknowledged: acknowledged.posts.length, found: 0 }, messages: { acknowledged: acknowledged.messages.length, found: 0 },
    missing: [], duplicated: [], method: 'api',
  };
  // The morning's cut is over: the checks below may retry (call() gives up while `stopping`).
  stopping = false;
  const ask = async (login: string, path: string): Promise<Record<string, unknown> | string> => {
    const session = sessions.get(login);
    if (!session) return 'plus de session pour le vérifier';
    const c = { ...newClient({ login, address: '127.0.0.1', activationCode: null }, spec.origin.startsWith('https:')), ...session };
    try {
      const a = await call({ ...ctx, bindLocal: false, record: () => undefined }, c, 'vérification', 'GET', path);
      return isOk(a) ? jsonOf(a) : `l’API répond ${reasonOf(a)}`;
    } finally {
      c.agent.destroy();
    }
  };
  const jobs: (() => Promise<void>)[] = [
    ...acknowledged.handins.map((h) => async () => {
      const r = await ask(h.login, `/api/v1/handins/${h.handinId}/receipt`);
      const receipt = typeof r === 'string' ? undefined : (r.receipt as { files?: { sha256?: string }[]; replacedAt?: string | null } | undefined);
      const why = typeof r === 'string' ? r : h.receiptMismatch || receipt?.files?.[0]?.sha256 !== h.sha256 ? 'le reçu ne porte pas l’empreinte des octets envoyés' : receipt?.replacedAt ? 'rendu remplacé' : undefined;
      if (why) out.missing.push({ kind: 'rendu', id: h.handinId, login: h.login, why });
      else out.handins.found++;
    }),
    ...acknowledged.posts.map((p) => async () => {
      const r = await ask(p.login, `/api/v1/homework/${p.entryId}`);
      const title = typeof r === 'string' ? undefined : (r.entry as { title?: string } | undefined)?.title;
      const why = typeof r === 'string' ? r : title !== p.title ? (p.edited ? 'la modification acquittée n’est pas enregistrée' : 'le titre enregistré diffère') : undefined;
      if (why) out.missing.push({ kind: 'travail', id: p.entryId, login: p.login, why });
      else out.posts.found++;
    }),
    ...acknowledged.messages.map((m) => async () => {
      const r = await ask(m.login, `/api/v1/messages/${m.messageId}`);
      const message = typeof r === 'string' ? undefined : (r.message as { subject?: string; to?: unknown } | undefined);
      const why = typeof r === 'string' ? r : message?.subject !== m.subject ? 'l’objet enregistré diffère' : !JSON.stringify(message.to ?? null).includes(m.toId) ? 'le destinataire n’y est plus' : undefined;
      if (why) out.missing.push({ kind: 'message', id: m.messageId, login: m.login, why });
      else out.messages.found++;
    }),
  ];
  await Promise.all(
    Array.from({ length: EVENING_CONCURRENCY }, async () => {
      for (let job = jobs.shift(); job; job = jobs.shift()) await job();
    }),
  );
  return out;
}

const apiCheck = spec.checkThroughApi ? await checkThroughApi() : undefined;

const result: LoadResult = {
  t0Ms: t0,
  seconds,
  phases,
  actionsByKind,
  signIns,
  queueWaits: percentiles(queueWaits),
  pupilReads: percentiles(pupilReads),
  at830: { pupils: pupils830.size, pupilReads: percentiles(pupilReads830) },
  cut,
  acknowledged,
  writes,
  ...(apiCheck ? { apiCheck } : {}),
};
writeFileSync(spec.resultFile, JSON.stringify(result));
emit({ type: 'done' });
process.exit(0);
