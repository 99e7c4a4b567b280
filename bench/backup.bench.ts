/**
 * Backup benchmark: `takeBackup` of an embedded store (a SQLite file and content-addressed files)
 * into a fresh backup folder, side by side with a baseline in the same run that copies the same
 * bytes with `copyFile` and nothing else (no consistency, no checksum, no manifest). The ratio is
 * Préau's MB/s over the baseline's: what the online copy, the SHA-256 of every byte, the row counts
 * and the fsyncs cost. Sides alternate, each round into an empty folder (nothing already in the pool).
 *
 *   tsx bench/backup.bench.ts [--db-mb 64] [--files 200] [--rounds 3]
 */
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';
import { DiskBlobStore } from '../src/storage/blobs/disk-blob-store.js';
import { takeBackup } from '../tools/backup/backup.js';
import type { BenchResult } from './support/protocol.js';

/** One small-scale run here (16 MB database, 40 files, a busy shared 2-core machine) gave 0.18; below a tenth, something regressed. */
const TARGET_RATIO = 0.1;
const FILE_BYTES = 256 * 1024;

async function copyTree(from: string, to: string): Promise<void> {
  await mkdir(to, { recursive: true });
  for (const e of await readdir(from, { withFileTypes: true })) {
    if (e.isDirectory()) await copyTree(path.join(from, e.name), path.join(to, e.name));
    else await copyFile(path.join(from, e.name), path.join(to, e.name));
  }
}

export async function runBackupBench(o: { dbMb: number; files: number; rounds: number }): Promise<BenchResult> {
  const work = mkdtempSync(path.join(tmpdir(), 'preau-bench-backup-'));
  try {
    const dataDir = path.join(work, 'data');
    const dbFile = path.join(dataDir, 'preau.sqlite');
    await mkdir(dataDir, { recursive: true });
    const db = new BetterSqlite3(dbFile);
    db.pragma('journal_mode = WAL');
    db.exec('create table rows (id integer primary key, pad blob)');
    const insert = db.prepare('insert into rows (pad) values (?)');
    db.transaction(() => {
      for (let i = 0; i < o.dbMb * 1024; i++) insert.run(randomBytes(1000));
    })();
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    const blobs = new DiskBlobStore(path.join(dataDir, 'blobs'));
    for (let i = 0; i < o.files; i++) await blobs.put([randomBytes(FILE_BYTES)], { maxBytes: FILE_BYTES });
    const totalBytes = (await stat(dbFile)).size + o.files * FILE_BYTES;

    const preauMs: number[] = [];
    const baselineMs: number[] = [];
    for (let r = 0; r < o.rounds; r++) {
      const a = path.join(work, `preau-${r}`);
      let t = performance.now();
      await takeBackup({ databaseFile: dbFile, blobsDir: path.join(dataDir, 'blobs'), backupDir: a, keep: 1 });
      preauMs.push(performance.now() - t);
      await rm(a, { recursive: true, force: true });

      const b = path.join(work, `baseline-${r}`);
      t = performance.now();
      await mkdir(b, { recursive: true });
      await copyFile(dbFile, path.join(b, 'preau.sqlite'));
      await copyTree(path.join(dataDir, 'blobs', 'sha256'), path.join(b, 'blobs', 'sha256'));
      baselineMs.push(performance.now() - t);
      await rm(b, { recursive: true, force: true });
      console.log(`    tranche ${r + 1}/${o.rounds} : Préau ${Math.round(preauMs[r]!)} ms, copyFile ${Math.round(baselineMs[r]!)} ms`);
    }
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
    const mbPerS = (ms: number) => totalBytes / 1e6 / (ms / 1000);
    const preau = mbPerS(median(preauMs));
    const baseline = mbPerS(median(baselineMs));
    return {
      name: 'backup',
      title: 'Sauvegarde du stockage embarqué',
      unit: 'Mo/s',
      preau,
      baseline,
      baselineLabel: 'copyFile des mêmes octets',
      ratio: preau / baseline,
      target: TARGET_RATIO,
      details: { totalBytes, files: o.files, dbMb: o.dbMb, rounds: o.rounds, preauMedianMs: median(preauMs), baselineMedianMs: median(baselineMs) },
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { 'db-mb': { type: 'string', default: '64' }, files: { type: 'string', default: '200' }, rounds: { type: 'string', default: '3' } } });
  const int = (name: string, raw: string, max: number) => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > max) {
      console.error(`--${name} attend un entier de 1 à ${max} (reçu « ${raw} »)`);
      process.exit(2);
    }
    return n;
  };
  const r = await runBackupBench({ dbMb: int('db-mb', values['db-mb'], 100_000), files: int('files', values.files, 1_000_000), rounds: int('rounds', values.rounds, 20) });
  console.log(`Sauvegarde : Préau ${r.preau.toFixed(1)} Mo/s, ${r.baselineLabel} ${r.baseline.toFixed(1)} Mo/s, ratio ${r.ratio.toFixed(2)} (objectif ≥ ${r.target})`);
}
