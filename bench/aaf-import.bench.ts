/**
 * AAF import benchmark: a generated 100,000-person académie imported into a fresh SQLite file,
 * side by side with a baseline in the same run, a bare saxes pass over the same files that only
 * counts records (the floor any XML import pays). Each side runs in its own child process so that
 * peak RSS belongs to that work alone.
 *
 *   tsx bench/aaf-import.bench.ts [--people 100000] [--keep]
 */
import { spawn } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SaxesParser } from 'saxes';
import { generateAafFeed } from '../tools/gen-aaf.js';

/**
 * The importer writes every record to the database in one transaction; a fifth of the bare parse
 * speed is what we measure today (0.2–0.23), a tenth is the floor below which something regressed.
 */
const TARGET_RATIO = 0.1;

export interface AafImportBenchResult {
  /** Fields of bench/support/protocol.ts's BenchResult, so that `npm run bench` can summarise this run. */
  name: 'aaf';
  title: string;
  unit: string;
  preau: number;
  baseline: number;
  baselineLabel: string;
  target: number;
  details: Record<string, number>;
  records: number;
  people: number;
  recordsPerSecond: number;
  baselineRecordsPerSecond: number;
  /** Importer throughput as a fraction of the bare parse: 1 would mean the database costs nothing. */
  ratio: number;
  peakRssMb: number;
  baselinePeakRssMb: number;
}

interface ChildReport {
  records: number;
  elapsedMs: number;
  maxRssMb: number;
}

const THIS_FILE = fileURLToPath(import.meta.url);

function runChild(args: string[]): Promise<ChildReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', THIS_FILE, '--child', ...args], { stdio: ['ignore', 'pipe', 'inherit'], cwd: path.resolve(path.dirname(THIS_FILE), '..') });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`processus enfant ${args[0]} : code ${code}`));
      const last = stdout.trim().split('\n').pop() ?? '';
      resolve(JSON.parse(last) as ChildReport);
    });
  });
}

export async function runAafImportBench(opts: { people?: number; keep?: boolean } = {}): Promise<AafImportBenchResult> {
  const people = opts.people ?? 100_000;
  const dir = mkdtempSync(path.join(tmpdir(), 'preau-aaf-bench-'));
  try {
    const feedDir = path.join(dir, 'feed');
    process.stderr.write(`génération d’un flux AAF de ~${people.toLocaleString('fr-FR')} personnes dans ${feedDir}\n`);
    const feed = await generateAafFeed(feedDir, {
      people,
      seed: 42,
      onProgress: (done, total) => process.stderr.write(`\r  génération : ${done.toLocaleString('fr-FR')} / ~${total.toLocaleString('fr-FR')} personnes`),
    });
    process.stderr.write(`\n  ${feed.counts.records.toLocaleString('fr-FR')} enregistrements, ${feed.files.length} fichiers\n`);

    process.stderr.write('référence : lecture saxes seule (compte les enregistrements)\n');
    const baseline = await runChild(['baseline', feedDir]);
    process.stderr.write('import Préau dans une base SQLite neuve\n');
    const imported = await runChild(['import', feedDir, path.join(dir, 'bench.sqlite')]);
    if (imported.records !== baseline.records) throw new Error(`enregistrements : import ${imported.records}, référence ${baseline.records}`);

    const recordsPerSecond = Math.round(imported.records / (imported.elapsedMs / 1000));
    const baselineRecordsPerSecond = Math.round(baseline.records / (baseline.elapsedMs / 1000));
    const ratio = Number((recordsPerSecond / baselineRecordsPerSecond).toFixed(3));
    const result: AafImportBenchResult = {
      name: 'aaf',
      title: 'Import AAF (SQLite)',
      unit: 'enregistrements/s',
      preau: recordsPerSecond,
      baseline: baselineRecordsPerSecond,
      baselineLabel: 'lecture saxes seule',
      target: TARGET_RATIO,
      details: { records: imported.records, people: feed.counts.people, peakRssMb: imported.maxRssMb, baselinePeakRssMb: baseline.maxRssMb },
      records: imported.records,
      people: feed.counts.people,
      recordsPerSecond,
      baselineRecordsPerSecond,
      ratio,
      peakRssMb: imported.maxRssMb,
      baselinePeakRssMb: baseline.maxRssMb,
    };
    const rows = [
      ['', 'enr./s', 'durée', 'RSS max'],
      ['référence (saxes seul)', baselineRecordsPerSecond.toLocaleString('fr-FR'), `${(baseline.elapsedMs / 1000).toFixed(1)} s`, `${baseline.maxRssMb} Mo`],
      ['import Préau (SQLite)', recordsPerSecond.toLocaleString('fr-FR'), `${(imported.elapsedMs / 1000).toFixed(1)} s`, `${imported.maxRssMb} Mo`],
    ];
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    console.log(`\nImport AAF, ${feed.counts.people.toLocaleString('fr-FR')} personnes (${imported.records.toLocaleString('fr-FR')} enregistrements)`);
    for (const r of rows) console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('   '));
    console.log(`rapport import / référence : ${result.ratio}`);
    return result;
  } finally {
    if (!opts.keep) rmSync(dir, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------ child processes

async function childBaseline(feedDir: string): Promise<ChildReport> {
  const { orderFeedFiles } = await import('../src/modules/schools/aaf/aaf.importer.js');
  const files = await orderFeedFiles(feedDir);
  const started = performance.now();
  let records = 0;
  for (const f of files) {
    const parser = new SaxesParser({ xmlns: false, position: true });
    parser.on('closetag', (tag) => {
      if (tag.name === 'addRequest' || tag.name === 'modifyRequest' || tag.name === 'deleteRequest') records++;
    });
    parser.on('error', (e) => {
      throw e;
    });
    const stream = createReadStream(f.file, { highWaterMark: 64 * 1024, encoding: 'utf8' });
    for await (const chunk of stream as AsyncIterable<string>) parser.write(chunk);
    parser.close();
  }
  return { records, elapsedMs: performance.now() - started, maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024) };
}

async function childImport(feedDir: string, dbFile: string): Promise<ChildReport> {
  const { openStorage, migrateToLatest } = await import('../src/storage/db.js');
  const { importAafFeed } = await import('../src/modules/schools/aaf/aaf.importer.js');
  const { createLogger } = await import('../src/platform/logger.js');
  const { systemClock } = await import('../src/platform/clock.js');
  const storage = await openStorage(`sqlite:${dbFile}`);
  try {
    await migrateToLatest(storage.db);
    const started = performance.now();
    let lastMs = 0;
    const summary = await importAafFeed(storage, feedDir, {
      clock: systemClock,
      logger: createLogger('warn'),
      fullFeed: true,
      onProgress: (p) => {
        const nowMs = performance.now();
        if (nowMs - lastMs < 1000) return;
        lastMs = nowMs;
        process.stderr.write(`\r  ${((100 * p.bytesRead) / p.bytesTotal).toFixed(0).padStart(3)} % · ${p.records.toLocaleString('fr-FR')} enregistrements`);
      },
    });
    process.stderr.write('\n');
    return { records: summary.records, elapsedMs: performance.now() - started, maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024) };
  } finally {
    await storage.close();
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--child') {
    const report = argv[1] === 'baseline' ? await childBaseline(argv[2]!) : await childImport(argv[2]!, argv[3]!);
    console.log(JSON.stringify(report));
    return;
  }
  const i = argv.indexOf('--people');
  const people = i >= 0 ? Number(argv[i + 1]) : undefined;
  const result = await runAafImportBench({ people, keep: argv.includes('--keep') });
  console.log(JSON.stringify(result));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
