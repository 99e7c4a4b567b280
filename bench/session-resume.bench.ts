/**
 * Session resume: the 8:30 read. A pupil already signed in ("rester connecté") opens
 * GET /api/v1/me/today; every request resumes the session from its cookie and reads the day.
 *
 * Préau (composed as in production on a SQLite file in WAL mode, fixture + a real week of
 * timetable) and a bare node:http hello world are each run pinned to CPU 0 and loaded
 * identically by autocannon pinned to CPU 1, in alternating slices (B P, P B, …) so that the
 * drift of a shared machine falls on both sides. Figure: requests/s of Préau ÷ requests/s of
 * the hello world (target ≥ 0.5), plus latencies and the per-slice ratios (the noise). Every response must be a 2xx: a bench that
 * measured 401s measured nothing.
 */
import { cpus } from 'node:os';
import { FIXTURE_PASSWORD } from '../test/support/fixtures.js';
import { pinningMode, startServer } from './support/proc.js';
import type { BenchResult, LoadSpec } from './support/protocol.js';
import { num, step } from './support/report.js';
import { alternate, assertAllOk, combineLoads, roundRatios, runLoad, type LoadOutcome } from './support/run-load.js';
import { printProfile, profileFlags } from './support/cpuprofile.js';

export interface SessionResumeOptions {
  /** Measured seconds per side, split over the rounds. */
  durationS: number;
  warmupS: number;
  rounds: number;
  connections: number;
  /** Profile the Préau server (`--cpu-prof`) and print its hottest functions. */
  profile: boolean;
}

export const SESSION_RESUME_TARGET = 0.5;

/** Signs in as a fixture pupil over HTTP and returns the `Cookie` header value. */
export async function signIn(base: string, login: string): Promise<string> {
  const res = await fetch(`${base}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ login, password: FIXTURE_PASSWORD, remember: true }),
  });
  if (res.status !== 200) throw new Error(`connexion de ${login} refusée : ${res.status} ${await res.text()}`);
  const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]!).find((c) => c.startsWith('preau_session='));
  if (!cookie) throw new Error('la connexion n’a pas posé le cookie preau_session');
  return cookie;
}

export async function runSessionResumeBench(options: SessionResumeOptions): Promise<BenchResult> {
  const sliceS = Math.max(1, Math.ceil(options.durationS / options.rounds));
  const load = (port: number, headers: Record<string, string>, urlPath: string, warmupS: number): LoadSpec => ({
    url: `http://127.0.0.1:${port}${urlPath}`, method: 'GET', connections: options.connections, warmupS, durationS: sliceS, headers,
  });

  // Both servers live on CPU 0 for the whole bench; only the one being loaded works.
  step('référence : serveur node:http nu (CPU 0)');
  const hello = await startServer('hello-server.ts');
  step('Préau : composition sur SQLite (fichier, WAL), jeu d’essai + emploi du temps de la semaine (CPU 0)');
  const prof = profileFlags(options.profile);
  let preau;
  try {
    preau = await startServer('preau-server.ts', [], prof.flags);
  } catch (err) {
    await hello.child.stop();
    throw err;
  }
  let slices;
  let lessons: number;
  try {
    const origin = `http://127.0.0.1:${preau.ready.port}`;
    const cookie = await signIn(origin, 'pupila1');
    const probe = await fetch(`${origin}/api/v1/me/today`, { headers: { cookie } });
    if (probe.status !== 200) throw new Error(`GET /api/v1/me/today répond ${probe.status} : ${await probe.text()}`);
    const day = (await probe.json()) as { timetable?: unknown[] };
    lessons = day.timetable?.length ?? 0;
    if (lessons < 7) throw new Error(`la journée de pupilA1 n’a que ${lessons} cours : le jeu d’essai du banc n’est pas celui attendu`);
    step(`pupila1 connecté ; sa journée : ${lessons} cours (emploi du temps : ${preau.ready.timetableSlots ?? '?'} créneaux depuis la rentrée) ; ${options.rounds} tranches de ${sliceS} s en alternance, ${options.connections} connexions`);
    const tag = (r: number) => `[${r + 1}/${options.rounds}]`;
    slices = await alternate(
      options.rounds,
      async (r) => {
        const res = await runLoad(`node:http ${tag(r)}`, load(hello.ready.port, {}, '/', r === 0 ? options.warmupS : 0), hello.child.process.pid);
        assertAllOk('la référence node:http', res);
        return res;
      },
      async (r) => {
        const res = await runLoad(`Préau     ${tag(r)}`, load(preau.ready.port, { cookie }, '/api/v1/me/today', r === 0 ? options.warmupS : 0), preau.child.process.pid);
        assertAllOk('Préau GET /api/v1/me/today', res);
        return res;
      },
    );
  } finally {
    await Promise.all([preau.child.stop(), hello.child.stop()]);
  }
  const base = combineLoads(slices.baseline);
  const mine = combineLoads(slices.preau);
  const spread = roundRatios(slices.preau.map((s) => s.requestsPerSecond), slices.baseline.map((s) => s.requestsPerSecond));

  const cpuPerReq = (l: LoadOutcome) => (l.serverCpuMs !== undefined && l.ok2xx > 0 ? l.serverCpuMs / l.ok2xx : undefined);
  const mineCpu = cpuPerReq(mine);
  const baseCpu = cpuPerReq(base);
  const result: BenchResult = {
    name: 'session-resume',
    title: 'Reprise de session (GET /me/today)',
    unit: 'req/s',
    preau: mine.requestsPerSecond,
    baseline: base.requestsPerSecond,
    baselineLabel: 'node:http nu',
    ratio: mine.requestsPerSecond / base.requestsPerSecond,
    target: SESSION_RESUME_TARGET,
    ...(mineCpu && baseCpu ? { cpuRatio: baseCpu / mineCpu } : {}),
    details: {
      ...(mineCpu && baseCpu ? { preauCpuUsPerRequest: mineCpu * 1000, baselineCpuUsPerRequest: baseCpu * 1000 } : {}),
      preauP50Ms: mine.latencyP50Ms, preauP99Ms: mine.latencyP99Ms, preauAvgMs: mine.latencyAvgMs, preauRequests: mine.ok2xx,
      baselineP50Ms: base.latencyP50Ms, baselineP99Ms: base.latencyP99Ms, baselineAvgMs: base.latencyAvgMs, baselineRequests: base.ok2xx,
      ratioPerRound: spread.perRound.map((r) => r.toFixed(3)).join(' '),
      lessonsToday: lessons, timetableSlots: preau.ready.timetableSlots ?? 0, connections: options.connections, warmupS: options.warmupS, sliceS, rounds: options.rounds,
      pinning: pinningMode(), cpu: cpus()[0]?.model ?? 'inconnu', node: process.version,
    },
  };
  console.log(`    Préau     ${num(mine.requestsPerSecond)} req/s   p50 ${num(mine.latencyP50Ms, 2)} ms   p99 (pire tranche) ${num(mine.latencyP99Ms, 2)} ms`);
  console.log(`    node:http ${num(base.requestsPerSecond)} req/s   p50 ${num(base.latencyP50Ms, 2)} ms   p99 (pire tranche) ${num(base.latencyP99Ms, 2)} ms`);
  if (mineCpu && baseCpu) console.log(`    CPU/req   Préau ${num(mineCpu * 1000, 0)} µs · node:http ${num(baseCpu * 1000, 0)} µs → ratio CPU ${num(baseCpu / mineCpu, 3)}`);
  console.log(`    ratio     ${num(result.ratio, 3)} (objectif ≥ ${SESSION_RESUME_TARGET}) ; par tranche : ${spread.perRound.map((r) => num(r, 3)).join(' · ')}`);

  if (prof.dir) {
    const file = printProfile(prof.dir);
    if (file) result.details.cpuProfile = file;
  }
  return result;
}
