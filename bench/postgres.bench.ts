/**
 * The morning mix on PostgreSQL against the same mix on the embedded SQLite store (issue 7, part 1's
 * benchmark): one Préau child on a SQLite file (WAL), one on a fresh schema of the local
 * PostgreSQL (127.0.0.1:5432, database `test`), and a second SQLite child as the A/A control — two
 * identically configured Préau children have been seen to settle 2× apart (docs/STATUS.md), so a
 * run whose control differs from the first child by more than AA_TOLERANCE is refused as invalid.
 *
 * The mix is the morning-mix bench's (90 % reads, 8 % downloads of a 200 KB PDF, 2 % hand-ins of
 * 500 KB), sent in alternating slices, each round in another order. The Préau children are pinned
 * to CPU 0 and the load to CPU 1; the PostgreSQL server is the machine's own and is NOT pinned: it
 * takes its CPU wherever the scheduler puts it, often the load generator's core. The printed ratio
 * says what this 2-core machine gives, not what a database host of its own would.
 */
import { cpus } from 'node:os';
import { postgresAvailable, PG_URL } from '../test/support/backends.js';
import { AA_TOLERANCE } from './engagement.bench.js';
import { prepareMorningMix } from './morning-mix.bench.js';
import { pinningMode, startServer } from './support/proc.js';
import type { BenchResult, LoadSpec } from './support/protocol.js';
import { num, step } from './support/report.js';
import { assertAllOk, combineLoads, roundRatios, runLoad, type LoadOutcome } from './support/run-load.js';

export interface PostgresMixOptions {
  durationS: number;
  warmupS: number;
  rounds: number;
  connections: number;
}

/** Our own bar (the issue sets none): PostgreSQL over loopback at least half the embedded store's throughput on this machine. */
export const POSTGRES_MIX_TARGET = 0.5;

export async function runPostgresMixBench(o: PostgresMixOptions): Promise<BenchResult> {
  if (!(await postgresAvailable())) throw new Error(`PostgreSQL injoignable (${PG_URL}) : le banc compare SQLite et PostgreSQL`);
  const sliceS = Math.max(1, Math.ceil(o.durationS / o.rounds));
  const sides = [
    { label: 'SQLite    ', args: [] as string[] },
    { label: 'PostgreSQL', args: ['--postgres-url', PG_URL] },
    { label: 'témoin SQLite', args: [] as string[] },
  ];
  const servers: Awaited<ReturnType<typeof startServer>>[] = [];
  const slices: LoadOutcome[][] = [[], [], []];
  try {
    for (const side of sides) {
      step(`Préau sur ${side.label.trim()} (CPU 0), jeu d’essai + emploi du temps + cahier de textes`);
      servers.push(await startServer('preau-server.ts', side.args));
    }
    const mixes = await Promise.all(servers.map((s) => prepareMorningMix(`http://127.0.0.1:${s.ready.port}`)));
    step(`${o.rounds} tranches de ${sliceS} s par côté, ${o.connections} connexions, chaque tour dans un autre ordre`);
    for (let r = 0; r < o.rounds; r++) {
      for (let k = 0; k < sides.length; k++) {
        const i = (k + r) % sides.length;
        const s = servers[i]!;
        const origin = `http://127.0.0.1:${s.ready.port}`;
        const spec: LoadSpec = {
          url: `${origin}/api/v1/me/today`, method: 'GET', connections: o.connections, warmupS: r === 0 ? o.warmupS : 0, durationS: sliceS,
          headers: { cookie: mixes[i]!.pupil.cookie }, mix: mixes[i]!.mix,
        };
        const res = await runLoad(`${sides[i]!.label} [${r + 1}/${o.rounds}]`, spec, s.child.process.pid);
        assertAllOk(`le mélange sur ${sides[i]!.label.trim()}`, res);
        slices[i]!.push(res);
      }
    }
  } finally {
    await Promise.all(servers.map((s) => s.child.stop()));
  }
  const [sqlite, postgres, control] = slices.map((x) => combineLoads(x)) as [LoadOutcome, LoadOutcome, LoadOutcome];
  const ratio = postgres.requestsPerSecond / sqlite.requestsPerSecond;
  const aa = control.requestsPerSecond / sqlite.requestsPerSecond;
  const spread = roundRatios(slices[1]!.map((s) => s.requestsPerSecond), slices[0]!.map((s) => s.requestsPerSecond));
  console.log(`    PostgreSQL    ${num(postgres.requestsPerSecond, 1)} req/s   p50 ${num(postgres.latencyP50Ms, 2)} ms   p99 (pire tranche) ${num(postgres.latencyP99Ms, 0)} ms`);
  console.log(`    SQLite        ${num(sqlite.requestsPerSecond, 1)} req/s   p50 ${num(sqlite.latencyP50Ms, 2)} ms   p99 (pire tranche) ${num(sqlite.latencyP99Ms, 0)} ms`);
  console.log(`    témoin SQLite ${num(control.requestsPerSecond, 1)} req/s   (contrôle A/A : ${num(aa, 3)})`);
  console.log(`    ratio         ${num(ratio, 3)} (notre seuil ≥ ${POSTGRES_MIX_TARGET}) ; par tour : ${spread.perRound.map((x) => num(x, 3)).join(' · ')}`);
  if (Math.abs(aa - 1) > AA_TOLERANCE) {
    throw new Error(`mesure invalide : deux Préau identiques (SQLite) diffèrent de ${num(aa, 3)} (tolérance ±${AA_TOLERANCE}) ; le ratio ${num(ratio, 3)} ne dit rien — relancer (docs/STATUS.md)`);
  }
  return {
    name: 'postgres-mix', title: 'Mélange du matin sur PostgreSQL contre SQLite', unit: 'req/s', preau: postgres.requestsPerSecond, baseline: sqlite.requestsPerSecond,
    baselineLabel: 'Préau sur SQLite (fichier, WAL)', ratio, target: POSTGRES_MIX_TARGET,
    details: {
      ratioPerRound: spread.perRound.map((x) => x.toFixed(3)).join(' '), aaControl: aa.toFixed(3), postgresP99Ms: postgres.latencyP99Ms, sqliteP99Ms: sqlite.latencyP99Ms,
      connections: o.connections, sliceS, rounds: o.rounds, pinning: pinningMode(), postgresPinned: false, cpu: cpus()[0]?.model ?? 'inconnu', node: process.version,
    },
  };
}
