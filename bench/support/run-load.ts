import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { benchNodeFlags, LOAD_CPU, startPinned } from './proc.js';
import type { LoadResultMessage, LoadSpec } from './protocol.js';
import { showProgress } from './report.js';

/**
 * CPU time (user + system, ms) a process has used so far, from /proc (Linux); undefined elsewhere.
 * Clock-tick resolution (10 ms), fine over slices of seconds.
 */
export function cpuTimeMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces), in parentheses: utime and stime are the 14th and 15th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_S;
  } catch {
    return undefined;
  }
}
const CLOCK_TICKS_PER_S = 100;

/**
 * Time (ms) a process's main thread (a Node server's event loop) has spent runnable but waiting
 * for a CPU that other processes held, from /proc/<pid>/schedstat (Linux); undefined elsewhere.
 * Large against its CPU time, it says the machine, not the server, set the pace.
 */
export function runQueueWaitMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const waitNs = Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1]);
    return Number.isFinite(waitNs) ? waitNs / 1e6 : undefined;
  } catch {
    return undefined;
  }
}

async function loadOnce(label: string, spec: LoadSpec): Promise<LoadResultMessage> {
  const dir = mkdtempSync(path.join(tmpdir(), 'preau-load-'));
  const file = path.join(dir, 'spec.json');
  writeFileSync(file, JSON.stringify(spec));
  const child = startPinned(LOAD_CPU, 'load.ts', [file], benchNodeFlags());
  const end = showProgress(label, child);
  try {
    return await child.next('load-result', (spec.warmupS + spec.durationS + 60) * 1000);
  } finally {
    end();
    await child.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface LoadOutcome extends LoadResultMessage {
  /** CPU time the server used during the measured run, when it could be read. */
  serverCpuMs: number | undefined;
}

/**
 * Runs autocannon in a child pinned to the load CPU (a warm-up run first, when asked) and returns
 * its figures, not yet validated, with the server's CPU time over the measured run: CPU per
 * request is a second view of efficiency that the machine's other work disturbs less than rates.
 */
export async function runLoad(label: string, spec: LoadSpec, serverPid?: number): Promise<LoadOutcome> {
  let warm: LoadResultMessage | undefined;
  if (spec.warmupS > 0) warm = await loadOnce(label, { ...spec, warmupS: 0, durationS: spec.warmupS, phaseName: 'warmup' });
  const before = cpuTimeMs(serverPid);
  const r = await loadOnce(label, { ...spec, warmupS: 0 });
  const after = cpuTimeMs(serverPid);
  return {
    ...r,
    warmup2xx: warm?.ok2xx ?? 0,
    warmupNon2xx: (warm?.non2xx ?? 0) + (warm?.errors ?? 0),
    serverCpuMs: before !== undefined && after !== undefined ? after - before : undefined,
  };
}

/**
 * A measurement that counted refusals or errors measured something else than the route: it is
 * invalid, and the bench fails loudly rather than print a ratio.
 */
export function assertAllOk(label: string, r: LoadResultMessage): void {
  const problems: string[] = [];
  if (r.ok2xx === 0) problems.push('aucune réponse 2xx');
  if (r.non2xx > 0) problems.push(`${r.non2xx} réponses non-2xx (${Object.entries(r.statusCodes).map(([c, n]) => `${c}×${n}`).join(', ')})`);
  if (r.warmupNon2xx > 0) problems.push(`${r.warmupNon2xx} réponses non-2xx ou erreurs pendant l’échauffement`);
  if (r.errors > 0) problems.push(`${r.errors} erreurs de connexion (dont ${r.timeouts} délais dépassés)`);
  if (problems.length > 0) throw new Error(`mesure invalide pour ${label} : ${problems.join(' ; ')}`);
}

/** Several measured slices of the same load as one: rates over the summed time, p50 weighted by requests, p99 the worst slice's. */
export function combineLoads(slices: LoadOutcome[]): LoadOutcome {
  const sum = (f: (r: LoadOutcome) => number) => slices.reduce((n, r) => n + f(r), 0);
  const ok2xx = sum((r) => r.ok2xx);
  const durationS = sum((r) => r.durationS);
  const statusCodes: Record<string, number> = {};
  for (const r of slices) for (const [code, n] of Object.entries(r.statusCodes)) statusCodes[code] = (statusCodes[code] ?? 0) + n;
  const weighted = (f: (r: LoadOutcome) => number) => (ok2xx > 0 ? sum((r) => f(r) * r.ok2xx) / ok2xx : 0);
  return {
    type: 'load-result',
    durationS,
    ok2xx,
    non2xx: sum((r) => r.non2xx),
    errors: sum((r) => r.errors),
    timeouts: sum((r) => r.timeouts),
    statusCodes,
    requestsPerSecond: durationS > 0 ? ok2xx / durationS : 0,
    latencyP50Ms: weighted((r) => r.latencyP50Ms),
    latencyP99Ms: Math.max(0, ...slices.map((r) => r.latencyP99Ms)),
    latencyAvgMs: weighted((r) => r.latencyAvgMs),
    warmup2xx: sum((r) => r.warmup2xx),
    warmupNon2xx: sum((r) => r.warmupNon2xx),
    serverCpuMs: slices.every((r) => r.serverCpuMs !== undefined) ? sum((r) => r.serverCpuMs!) : undefined,
  };
}

/**
 * Measures Préau and its baseline in alternation (B P, P B, B P, …): a machine shared with
 * other work drifts, and alternating spreads the drift over both sides instead of one.
 */
export async function alternate<B, P>(rounds: number, baseline: (round: number) => Promise<B>, preau: (round: number) => Promise<P>): Promise<{ baseline: B[]; preau: P[] }> {
  const out = { baseline: [] as B[], preau: [] as P[] };
  for (let round = 0; round < rounds; round++) {
    if (round % 2 === 0) {
      out.baseline.push(await baseline(round));
      out.preau.push(await preau(round));
    } else {
      out.preau.push(await preau(round));
      out.baseline.push(await baseline(round));
    }
  }
  return out;
}

/** Median of the per-round ratios, and their spread: how much the machine's noise moved the figure. */
export function roundRatios(preau: number[], baseline: number[]): { perRound: number[]; min: number; max: number } {
  const perRound = preau.map((p, i) => p / baseline[i]!);
  return { perRound, min: Math.min(...perRound), max: Math.max(...perRound) };
}
