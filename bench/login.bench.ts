/**
 * Password logins: successful POST /api/v1/auth/login per second against the raw Argon2id
 * verification rate of this machine, in the same run.
 *
 * Préau runs pinned to CPU 0 with a few hundred users holding real passwords; autocannon,
 * pinned to CPU 1, logs them in in turn with correct credentials (no failure, so throttling
 * never triggers; every response must be a 200). Baseline: a child pinned to CPU 0 too, running
 * @node-rs/argon2 `verify()` with ARGON2_OPTIONS hashes, as many at once as the server's
 * hashConcurrency. `taskset` pins every thread of a process (libuv's pool, where Argon2 runs,
 * included), so the server's hashes get exactly one core: the baseline must be pinned the same
 * way for the comparison to be fair. Both are measured in alternating slices (B P, P B, …) so
 * that the drift of a shared machine falls on both sides. Figure: logins/s ÷ verifies/s
 * (target ≥ 0.9).
 */
import { cpus } from 'node:os';
import { FIXTURE_PASSWORD } from '../test/support/fixtures.js';
import { benchLogin } from './support/bench-users.js';
import { printProfile, profileFlags } from './support/cpuprofile.js';
import { pinningMode, SERVER_CPU, startPinned, startServer } from './support/proc.js';
import type { BenchResult, HashResultMessage } from './support/protocol.js';
import { num, showProgress, step } from './support/report.js';
import { alternate, assertAllOk, combineLoads, roundRatios, runLoad } from './support/run-load.js';

export interface LoginOptions {
  /** Measured seconds per side, split over the rounds. */
  durationS: number;
  warmupS: number;
  rounds: number;
  connections: number;
  users: number;
  /** Forces the server's (and so the baseline's) hashing concurrency; default: what the pinned server picks. */
  hashConcurrency: number | undefined;
  /** Profile the Préau server (`--cpu-prof`) and print its hottest functions. */
  profile: boolean;
}

export const LOGIN_TARGET = 0.9;

export async function rawVerifyRate(label: string, concurrency: number, warmupS: number, durationS: number): Promise<HashResultMessage> {
  const child = startPinned(SERVER_CPU, 'argon2-baseline.ts', ['--concurrency', String(concurrency), '--warmup', String(warmupS), '--duration', String(durationS)]);
  const end = showProgress(label, child, 'vérifs');
  try {
    const r = await child.next('hash-result', (warmupS + durationS + 60) * 1000);
    if (r.failures > 0 || r.verifies === 0) throw new Error(`mesure de référence invalide : ${r.verifies} vérifications réussies, ${r.failures} échouées`);
    return r;
  } finally {
    end();
    await child.stop();
  }
}

export async function runLoginBench(options: LoginOptions): Promise<BenchResult> {
  const sliceS = Math.max(1, Math.ceil(options.durationS / options.rounds));
  step(`Préau : composition sur SQLite (fichier, WAL), ${options.users} élèves avec mot de passe (CPU 0)`);
  const prof = profileFlags(options.profile);
  const server = await startServer('preau-server.ts', ['--bench-users', String(options.users), ...(options.hashConcurrency ? ['--hash-concurrency', String(options.hashConcurrency)] : [])], prof.flags);
  const concurrency = server.ready.hashConcurrency ?? 1;
  let slices;
  try {
    const url = `http://127.0.0.1:${server.ready.port}/api/v1/auth/login`;
    const bodies = Array.from({ length: options.users }, (_, i) => JSON.stringify({ login: benchLogin(i), password: FIXTURE_PASSWORD, remember: true }));
    const probe = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: bodies[0] });
    if (probe.status !== 200) throw new Error(`la connexion d’essai répond ${probe.status} : ${await probe.text()}`);
    step(`serveur prêt, hashConcurrency = ${concurrency} ; connexions tour à tour sur ${options.users} comptes ; ${options.rounds} tranches de ${sliceS} s en alternance avec verify() brut (CPU 0)`);
    const tag = (r: number) => `[${r + 1}/${options.rounds}]`;
    slices = await alternate(
      options.rounds,
      (r) => rawVerifyRate(`argon2 ${tag(r)}`, concurrency, r === 0 ? options.warmupS : 0, sliceS),
      async (r) => {
        const res = await runLoad(`Préau  ${tag(r)}`, {
          url, method: 'POST', connections: options.connections, warmupS: r === 0 ? options.warmupS : 0, durationS: sliceS,
          headers: { 'content-type': 'application/json' }, bodies,
        }, server.child.process.pid);
        assertAllOk('Préau POST /api/v1/auth/login', res);
        return res;
      },
    );
  } finally {
    await server.child.stop();
  }
  const mine = combineLoads(slices.preau);
  const verifies = slices.baseline.reduce((n, r) => n + r.verifies, 0);
  const rawPerSecond = verifies / slices.baseline.reduce((n, r) => n + r.durationS, 0);
  const spread = roundRatios(slices.preau.map((s) => s.requestsPerSecond), slices.baseline.map((s) => s.verifiesPerSecond));

  // CPU per operation: the whole server process (event loop + hashing threads) per login, the whole baseline process per verify.
  const mineCpu = mine.serverCpuMs !== undefined && mine.ok2xx > 0 ? mine.serverCpuMs / mine.ok2xx : undefined;
  const baseCpu = slices.baseline.reduce((n, r) => n + r.cpuMs, 0) / verifies;
  const result: BenchResult = {
    name: 'login',
    title: 'Connexions par mot de passe',
    unit: '/s',
    preau: mine.requestsPerSecond,
    baseline: rawPerSecond,
    baselineLabel: `argon2 verify() ×${concurrency}`,
    ratio: mine.requestsPerSecond / rawPerSecond,
    target: LOGIN_TARGET,
    ...(mineCpu ? { cpuRatio: baseCpu / mineCpu } : {}),
    details: {
      ...(mineCpu ? { preauCpuMsPerLogin: mineCpu } : {}), baselineCpuMsPerVerify: baseCpu,
      logins: mine.ok2xx, preauP50Ms: mine.latencyP50Ms, preauP99Ms: mine.latencyP99Ms, rawVerifies: verifies,
      ratioPerRound: spread.perRound.map((r) => r.toFixed(3)).join(' '),
      hashConcurrency: concurrency, users: options.users, connections: options.connections, warmupS: options.warmupS, sliceS, rounds: options.rounds,
      pinning: pinningMode(), cpu: cpus()[0]?.model ?? 'inconnu', node: process.version,
    },
  };
  console.log(`    Préau        ${num(mine.requestsPerSecond)} connexions/s   p50 ${num(mine.latencyP50Ms, 1)} ms   p99 (pire tranche) ${num(mine.latencyP99Ms, 1)} ms`);
  console.log(`    argon2 brut  ${num(rawPerSecond)} vérifications/s (${concurrency} en parallèle)`);
  if (mineCpu) console.log(`    CPU/op       Préau ${num(mineCpu, 2)} ms par connexion · argon2 ${num(baseCpu, 2)} ms par vérification → ratio CPU ${num(baseCpu / mineCpu, 3)}`);
  console.log(`    ratio        ${num(result.ratio, 3)} (objectif ≥ ${LOGIN_TARGET}) ; par tranche : ${spread.perRound.map((r) => num(r, 3)).join(' · ')}`);
  if (prof.dir) {
    const file = printProfile(prof.dir);
    if (file) result.details.cpuProfile = file;
  }
  return result;
}
