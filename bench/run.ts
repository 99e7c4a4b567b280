/**
 * `npm run bench [-- options]`: runs Préau's benchmarks in sequence. Each compares Préau with a
 * baseline measured side by side in this same run, on this machine, and reports a ratio
 * (absolute figures on a shared machine are noise). Exits non-zero only when a bench could not
 * run (or measured something invalid); a ratio under its target is reported, not fatal.
 *
 *   --only session|login|aaf|web|mix|backup|nodes|engagement|pg|aa   one bench (repeatable, or comma-separated); aa is not in the default set
 *   --duration S               measured seconds per side (Préau, baseline), default 12
 *   --rounds N                 alternating slices the duration is split into (default 3); web: rounds of visits per side
 *   --warmup S                 warm-up seconds before the first slice of each side (default 3)
 *   --connections N            connections for the session bench (default 50)
 *   --login-connections N      connections for the login bench (default 16)
 *   --users N                  accounts the login bench rotates over (default 500)
 *   --hash-concurrency N       force the server's hashing concurrency (default: its own choice)
 *   --people N                 size of the AAF import bench (default 10000); the suivi bench's school takes min(N, 1000) pupils
 *   --processes N              suivi bench: Préau children started in turn, each measured on/off against itself (default 3);
 *                              aa: pairs of identical Préau children compared (default 3)
 *   --profile                  CPU-profile the Préau server (session and login benches)
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { runLoginBench } from './login.bench.js';
import { runSessionResumeBench } from './session-resume.bench.js';
import { runWebBench } from './web.bench.js';
import { runMorningMixBench } from './morning-mix.bench.js';
import { runBackupBench } from './backup.bench.js';
import { runNodesBench } from './nodes.bench.js';
import { runEngagementBench } from './engagement.bench.js';
import { runPostgresMixBench } from './postgres.bench.js';
import { runAaBench } from './aa.bench.js';
import { pinningMode, REPO_ROOT, LOAD_CPU, SERVER_CPU } from './support/proc.js';
import { PartialBenchError, type BenchResult } from './support/protocol.js';
import { printSummary, writeResults } from './support/report.js';

const BENCHES = ['session', 'login', 'aaf', 'web', 'mix', 'backup', 'nodes', 'engagement', 'pg', 'aa'] as const;
/** Diagnostics run only when asked by name. */
const ON_REQUEST: readonly BenchName[] = ['aa'];
type BenchName = (typeof BENCHES)[number];

function usage(message?: string): never {
  if (message) console.error(`${message}\n`);
  console.error('usage : npm run bench -- [--only session|login|aaf|web|mix|backup|nodes|engagement|pg|aa] [--duration s] [--rounds n] [--warmup s] [--connections n] [--login-connections n] [--users n] [--hash-concurrency n] [--people n] [--processes n] [--profile]');
  process.exit(message ? 2 : 0);
}

function positive(name: string, raw: string | undefined, fallback: number, max: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max) usage(`--${name} attend un entier de 1 à ${max} (reçu « ${raw} »)`);
  return n;
}

let parsed;
try {
  parsed = parseArgs({
    options: {
      only: { type: 'string', multiple: true },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      rounds: { type: 'string' },
      connections: { type: 'string' },
      'login-connections': { type: 'string' },
      users: { type: 'string' },
      'hash-concurrency': { type: 'string' },
      people: { type: 'string' },
      processes: { type: 'string' },
      profile: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
} catch (err) {
  usage(err instanceof Error ? err.message : String(err));
}
const opts = parsed.values;
if (opts.help) usage();

const only = (opts.only ?? []).flatMap((o) => o.split(',')).map((o) => o.trim()).filter(Boolean);
for (const o of only) if (!(BENCHES as readonly string[]).includes(o)) usage(`--only : banc inconnu « ${o} » (connus : ${BENCHES.join(', ')})`);
const selected: BenchName[] = only.length > 0 ? BENCHES.filter((b) => only.includes(b)) : BENCHES.filter((b) => !ON_REQUEST.includes(b));
const durationS = positive('duration', opts.duration, 12, 600);
const rounds = positive('rounds', opts.rounds, 3, 20);
const warmupS = opts.warmup === '0' ? 0 : positive('warmup', opts.warmup, 3, 120);
const connections = positive('connections', opts.connections, 50, 1000);
const loginConnections = positive('login-connections', opts['login-connections'], 16, 1000);
const users = positive('users', opts.users, 500, 100_000);
const hashConcurrency = opts['hash-concurrency'] === undefined ? undefined : positive('hash-concurrency', opts['hash-concurrency'], 1, 64);
const people = positive('people', opts.people, 10_000, 10_000_000);
const processes = positive('processes', opts.processes, 3, 10);

/** What another bench may return: taken into the summary when it carries a ratio and a target. */
function asBenchResult(name: string, value: unknown): BenchResult | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Partial<BenchResult>;
  if (typeof v.ratio !== 'number' || typeof v.target !== 'number') return undefined;
  return {
    name: v.name ?? name, title: v.title ?? name, unit: v.unit ?? '', preau: v.preau ?? NaN, baseline: v.baseline ?? NaN,
    baselineLabel: v.baselineLabel ?? '', ratio: v.ratio, target: v.target, details: v.details ?? {},
  };
}

const AAF_BENCH = path.join(REPO_ROOT, 'bench', 'aaf-import.bench.ts');

async function runAaf(): Promise<BenchResult | undefined> {
  if (!existsSync(AAF_BENCH)) {
    console.log('  (bench/aaf-import.bench.ts n’existe pas encore : banc ignoré)');
    return undefined;
  }
  // Resolved at run time: the module may not exist when this file is type-checked.
  const mod = (await import(pathToFileURL(AAF_BENCH).href)) as { runAafImportBench?: (o: { people: number }) => Promise<unknown> };
  if (typeof mod.runAafImportBench !== 'function') throw new Error('bench/aaf-import.bench.ts n’exporte pas runAafImportBench');
  const value = await mod.runAafImportBench({ people });
  const result = asBenchResult('aaf', value);
  if (!result) console.log(`  résultat du banc AAF (sans ratio exploitable) : ${JSON.stringify(value)}`);
  return result;
}

console.log(`Bancs Préau — ${selected.join(', ')} · ${durationS} s mesurées par côté en ${rounds} tranches alternées, après ${warmupS} s d’échauffement · Node ${process.version}`);
const mode = pinningMode();
console.log(mode === 'taskset' ? `Épinglage : serveurs et références sur le CPU ${SERVER_CPU}, générateur de charge sur le CPU ${LOAD_CPU} (taskset).` : 'Épinglage : AUCUN (voir l’avertissement ci-dessus).');

const results: BenchResult[] = [];
const failures: { name: string; error: string }[] = [];
for (const bench of selected) {
  const title = { session: 'Reprise de session', login: 'Connexions par mot de passe', aaf: 'Import AAF', web: 'Client web sur lien faible', mix: 'Mélange du matin', backup: 'Sauvegarde du stockage embarqué', nodes: 'Deux nœuds contre un derrière HAProxy', engagement: 'Suivi du décrochage', pg: 'Mélange du matin : PostgreSQL contre SQLite', aa: 'Contrôle A/A : deux Préau identiques' }[bench];
  console.log(`\n▶ ${title}`);
  try {
    const result =
      bench === 'session'
        ? await runSessionResumeBench({ durationS, warmupS, rounds, connections, profile: opts.profile })
        : bench === 'login'
          ? await runLoginBench({ durationS, warmupS, rounds, connections: loginConnections, users, hashConcurrency, profile: opts.profile })
          : bench === 'web'
            ? await runWebBench({ rounds })
          : bench === 'mix'
            ? await runMorningMixBench({ durationS, warmupS, rounds, connections })
          : bench === 'backup'
            ? await runBackupBench({ dbMb: 64, files: 200, rounds })
          : bench === 'nodes'
            ? await runNodesBench({ durationS, warmupS, rounds, connections })
          : bench === 'engagement'
            ? await runEngagementBench({ durationS, warmupS, rounds, processes, connections, pupils: Math.min(people, 1000), builds: 15 })
          : bench === 'pg'
            ? await runPostgresMixBench({ durationS, warmupS, rounds, connections })
          : bench === 'aa'
            ? await runAaBench({ pairs: processes, durationS, warmupS, rounds, connections })
            : await runAaf();
    for (const r of Array.isArray(result) ? result : result ? [result] : []) {
      results.push(r);
      console.log(`    résultats : ${writeResults(r.name, { ...r, at: new Date().toISOString() })}`);
    }
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    for (const r of err instanceof PartialBenchError ? err.results : []) {
      results.push(r);
      console.log(`    résultats : ${writeResults(r.name, { ...r, at: new Date().toISOString() })}`);
    }
    console.error(`\n✖ ${title} n’a pas pu tourner : ${message}`);
    failures.push({ name: title, error: message });
  }
}

printSummary(results, failures);
if (results.length > 0) console.log(`\nTous les résultats : ${writeResults('bench', { at: new Date().toISOString(), results, failures })}`);
process.exit(failures.length > 0 ? 1 : 0);
