/**
 * A/A control between processes: are two identically configured Préau children alike? Pairs of
 * Préau children (same arguments, both pinned to CPU 0) are started one pair after the other; each
 * pair is loaded with the session-resume request (GET /api/v1/me/today, a remembered session) in
 * alternating slices (A B, B A, …). Per pair: B ÷ A in req/s and in server CPU per request, and
 * each child's Mark-Compacts during its measured slices (from `--trace-gc`): a child that
 * pretenured its request objects (proc.ts, `benchNodeFlags`) runs one about every second or two, a
 * healthy one none.
 *
 * The children's lag shedder is off: on a loaded machine it answers 503 for the machine's sake.
 *
 * Figure: the worst pair's agreement, min(r, 1 ÷ r) over pairs of the CPU-per-request ratio r
 * (CPU per request moves less than req/s with the machine's other work). Target ≥ 0.9. With
 * `PREAU_BENCH_V8=default` the children run with V8's default pretenuring, to see the two states.
 */
import { readFileSync } from 'node:fs';
import { signIn } from './session-resume.bench.js';
import { benchNodeFlags, pinningMode, startServer, type BenchChild } from './support/proc.js';
import type { BenchResult } from './support/protocol.js';
import { num, step } from './support/report.js';
import { alternate, assertAllOk, combineLoads, runLoad, type LoadOutcome } from './support/run-load.js';

export interface AaBenchOptions {
  pairs: number;
  durationS: number;
  warmupS: number;
  rounds: number;
  connections: number;
}

export const AA_PAIR_TARGET = 0.9;

interface GcCounted {
  child: BenchChild;
  port: number;
  markCompacts: () => number;
}

async function startCounted(): Promise<GcCounted> {
  let markCompacts = 0;
  const s = await startServer('preau-server.ts', ['--lag-shedder', 'off'], ['--trace-gc'], { onOtherLine: (line) => void (/Mark-Compact|Mark-sweep/.test(line) && markCompacts++) });
  return { child: s.child, port: s.ready.port, markCompacts: () => markCompacts };
}

const loadAverage = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const cpuPerRequestUs = (l: LoadOutcome) => (l.serverCpuMs !== undefined && l.ok2xx > 0 ? (l.serverCpuMs * 1000) / l.ok2xx : undefined);

export async function runAaBench(o: AaBenchOptions): Promise<BenchResult> {
  const sliceS = Math.max(1, Math.ceil(o.durationS / o.rounds));
  step(`${o.pairs} couples de Préau identiques (CPU 0, drapeaux V8 ${benchNodeFlags().join(' ') || 'par défaut'}), lancés l’un après l’autre ; ${o.rounds} tranches de ${sliceS} s par Préau en alternance, ${o.connections} connexions`);
  const pairs: { rps: number; cpu: number | undefined; mcA: number; mcB: number; cpuA: number | undefined; cpuB: number | undefined }[] = [];
  for (let p = 0; p < o.pairs; p++) {
    step(`couple ${p + 1}/${o.pairs} (charge ${loadAverage()})`);
    const a = await startCounted();
    let b: GcCounted | undefined;
    try {
      b = await startCounted();
      const both = [a, b] as const;
      const cookies = await Promise.all(both.map((s) => signIn(`http://127.0.0.1:${s.port}`, 'pupila1')));
      const mc = [0, 0];
      const slice = (i: 0 | 1) => async (r: number) => {
        const s = both[i];
        const before = s.markCompacts();
        const res = await runLoad(`couple ${p + 1} ${i === 0 ? 'A' : 'B'} [${r + 1}/${o.rounds}]`, {
          url: `http://127.0.0.1:${s.port}/api/v1/me/today`, method: 'GET', connections: o.connections, warmupS: r === 0 ? o.warmupS : 0, durationS: sliceS, headers: { cookie: cookies[i]! },
        }, s.child.process.pid);
        assertAllOk(`Préau ${i === 0 ? 'A' : 'B'}`, res);
        mc[i]! += s.markCompacts() - before;
        return res;
      };
      const slices = await alternate(o.rounds, slice(0), slice(1));
      const [la, lb] = [combineLoads(slices.baseline), combineLoads(slices.preau)];
      const [ca, cb] = [cpuPerRequestUs(la), cpuPerRequestUs(lb)];
      const pair = { rps: lb.requestsPerSecond / la.requestsPerSecond, cpu: ca !== undefined && cb !== undefined ? ca / cb : undefined, mcA: mc[0]!, mcB: mc[1]!, cpuA: ca, cpuB: cb };
      pairs.push(pair);
      console.log(`    couple ${p + 1} : A ${num(la.requestsPerSecond)} req/s, ${ca === undefined ? '?' : num(ca, 1)} µs CPU/req, ${pair.mcA} Mark-Compact · B ${num(lb.requestsPerSecond)} req/s, ${cb === undefined ? '?' : num(cb, 1)} µs CPU/req, ${pair.mcB} Mark-Compact → B÷A ${num(pair.rps, 3)} (req/s), ${pair.cpu === undefined ? '?' : num(pair.cpu, 3)} (CPU/req)`);
    } finally {
      await Promise.all([a.child.stop(), b?.child.stop()]);
    }
  }
  const agreement = (r: number) => Math.min(r, 1 / r);
  const cpuRatios = pairs.map((x) => x.cpu).filter((x): x is number => x !== undefined);
  if (cpuRatios.length !== pairs.length) throw new Error('temps CPU du serveur illisible (/proc) : pas de contrôle A/A par CPU');
  const worst = Math.min(...cpuRatios.map(agreement));
  const worstRps = Math.min(...pairs.map((x) => agreement(x.rps)));
  console.log(`    pire accord  ${num(worst, 3)} par CPU/req (objectif ≥ ${AA_PAIR_TARGET}) · ${num(worstRps, 3)} en req/s · Mark-Compact en mesure : ${pairs.map((x) => `${x.mcA}/${x.mcB}`).join(' ')} · charge ${loadAverage()}`);
  return {
    name: 'aa-children', title: 'Contrôle A/A : deux Préau identiques (pire couple)', unit: 'accord', preau: worst, baseline: 1, baselineLabel: 'accord parfait',
    ratio: worst, target: AA_PAIR_TARGET,
    details: {
      pairs: o.pairs, rpsRatios: pairs.map((x) => x.rps.toFixed(3)).join(' '), cpuRatios: cpuRatios.map((x) => x.toFixed(3)).join(' '),
      cpuUsPerRequest: pairs.map((x) => `${x.cpuA?.toFixed(1)}/${x.cpuB?.toFixed(1)}`).join(' '), markCompacts: pairs.map((x) => `${x.mcA}/${x.mcB}`).join(' '),
      worstRpsAgreement: worstRps, v8Flags: benchNodeFlags().join(' '), loadAverageAtEnd: loadAverage(), sliceS, rounds: o.rounds, connections: o.connections, pinning: pinningMode(), node: process.version,
    },
  };
}
