/**
 * One backup of the embedded store (SQLite + blobs) into a backup folder, off-site by intent.
 *
 * The database is copied with SQLite's online backup API (better-sqlite3 `backup()`) on a
 * connection of its own, while Préau keeps serving writes: the copy is a consistent snapshot of
 * committed transactions. A write by another connection between two steps makes SQLite restart
 * the copy; after the first restart the rest is copied in one step (one read transaction: in WAL
 * mode it does not block writers, and it always ends). Then the files: every blob of the data
 * directory that the pool lacks is copied (hashed while copied: bytes that no longer match their
 * name are left out and listed). The manifest is written last, and the folder renamed complete.
 * Files are copied after the database snapshot, so every file it references is there: bytes are
 * deleted only by the orphan sweep, 24 h after nothing references them.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, mkdir, open, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { DiskBlobStore, fsyncPath } from '../../src/storage/blobs/disk-blob-store.js';
import { backupIdAt, DATABASE_FILE, MANIFEST_FILE, PARTIAL_PREFIX, POOL_DIR, preauVersion, type BackupManifest } from './manifest.js';
import { silentProgress, type Progress } from './progress.js';
import { applyRetention } from './retention.js';

/** Pages copied per step of the online backup (4 MiB with 4 KiB pages): the event loop breathes between steps. */
const PAGES_PER_STEP = 1024;

export interface BackupOptions {
  /** The live SQLite file (`sqlite:<file>` of the configuration). */
  databaseFile: string;
  /** The data directory's blob store root (`<data dir>/blobs`). */
  blobsDir: string;
  backupDir: string;
  keep: number;
  nowMs?: number;
  progress?: Progress;
}

export interface BackupResult {
  id: string;
  path: string;
  manifest: BackupManifest;
  /** Files copied into the pool by this backup (the others were there already). */
  blobsCopied: number;
  bytesCopied: number;
  /** How many times another connection's write restarted the database copy. */
  restarts: number;
  retention: { deleted: string[]; poolFilesDeleted: number };
}

export class BackupError extends Error {
  override name = 'BackupError';
}

export async function takeBackup(o: BackupOptions): Promise<BackupResult> {
  const started = Date.now();
  const progress = o.progress ?? silentProgress;
  if (!(await stat(o.databaseFile).catch(() => undefined))?.isFile()) throw new BackupError(`base de données introuvable : ${o.databaseFile}`);
  // Pupils' data: the backup folders are the operator's alone (0700), the database copy 0600.
  await mkdir(o.backupDir, { recursive: true, mode: 0o700 });
  const release = await acquireLock(o.backupDir);
  try {
    const id = backupIdAt(o.nowMs ?? Date.now());
    const partial = path.join(o.backupDir, `${PARTIAL_PREFIX}${id}`);
    const final = path.join(o.backupDir, id);
    if (await stat(final).catch(() => undefined)) throw new BackupError(`une sauvegarde ${id} existe déjà`);
    await rm(partial, { recursive: true, force: true });
    await mkdir(partial, { recursive: true, mode: 0o700 });

    const dbCopy = path.join(partial, DATABASE_FILE);
    const restarts = await copyDatabase(o.databaseFile, dbCopy, progress);
    await chmod(dbCopy, 0o600);
    const described = describeDatabase(dbCopy);
    const database = { file: DATABASE_FILE, sizeBytes: (await stat(dbCopy)).size, sha256: await sha256File(dbCopy), tables: described.tables };

    const files = await copyBlobs(new DiskBlobStore(o.blobsDir), new DiskBlobStore(path.join(o.backupDir, POOL_DIR)), progress);
    const manifest: BackupManifest = {
      format: 1,
      id,
      createdAt: new Date(o.nowMs ?? started).toISOString(),
      preauVersion: preauVersion(),
      migrations: described.migrations,
      database,
      blobs: files.blobs,
      corruptAtSource: files.corrupt,
      durationMs: Date.now() - started,
    };
    await writeDurably(path.join(partial, MANIFEST_FILE), `${JSON.stringify(manifest, null, 1)}\n`);
    await rename(partial, final);
    await fsyncPath(o.backupDir);
    progress.end();
    const retention = await applyRetention(o.backupDir, o.keep);
    return { id, path: final, manifest, blobsCopied: files.copied, bytesCopied: files.bytes, restarts, retention };
  } finally {
    progress.end();
    await release();
  }
}

/** SQLite online backup from a connection of its own; returns how often the copy restarted. */
async function copyDatabase(source: string, destination: string, progress: Progress): Promise<number> {
  const src = new BetterSqlite3(source, { fileMustExist: true, readonly: true });
  let restarts = 0;
  try {
    src.pragma('busy_timeout = 5000');
    let lastRemaining = Number.POSITIVE_INFINITY;
    await src.backup(destination, {
      progress: ({ totalPages, remainingPages }) => {
        if (remainingPages > lastRemaining) restarts++;
        lastRemaining = remainingPages;
        progress.update('base de données', totalPages - remainingPages, totalPages);
        // Restarted: the rest in one step, a snapshot no writer can invalidate.
        return restarts > 0 ? 0x7fffffff : PAGES_PER_STEP;
      },
    });
  } finally {
    src.close();
  }
  // The copy is a file on its own: rollback-journal mode, so that reading it never leaves -wal/-shm
  // files beside it, and it is checked before it is described.
  const copy = new BetterSqlite3(destination, { fileMustExist: true });
  try {
    copy.pragma('journal_mode = DELETE');
    const check = copy.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new BackupError(`la copie de la base est incohérente (quick_check : ${String(check)})`);
  } finally {
    copy.close();
  }
  return restarts;
}

/** Row counts of every table and the applied migrations, read from a database file (never written). */
export function describeDatabase(file: string): { tables: Record<string, number>; migrations: BackupManifest['migrations'] } {
  const db = new BetterSqlite3(file, { fileMustExist: true, readonly: true });
  try {
    const names = db.prepare(`select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name`).pluck().all() as string[];
    const tables: Record<string, number> = {};
    for (const n of names) tables[n] = db.prepare(`select count(*) from "${n.replace(/"/g, '""')}"`).pluck().get() as number;
    const applied = names.includes('kysely_migration') ? (db.prepare('select name from kysely_migration order by name').pluck().all() as string[]) : [];
    return { tables, migrations: { applied, latest: applied.at(-1) ?? null } };
  } finally {
    db.close();
  }
}

async function copyBlobs(source: DiskBlobStore, pool: DiskBlobStore, progress: Progress): Promise<{ blobs: BackupManifest['blobs']; corrupt: string[]; copied: number; bytes: number }> {
  const all: string[] = [];
  for await (const b of source.list()) all.push(b.sha256);
  all.sort();
  const blobs: BackupManifest['blobs'] = [];
  const corrupt: string[] = [];
  let copied = 0;
  let bytes = 0;
  for (const [i, sha] of all.entries()) {
    progress.update('fichiers', i, all.length);
    const size = (await source.stat(sha))?.sizeBytes;
    if (size === undefined) continue; // deleted since the listing (orphan sweep): not in this backup
    const inPool = await pool.stat(sha);
    if (inPool?.sizeBytes === size) {
      blobs.push({ sha256: sha, sizeBytes: size });
      continue;
    }
    const stream = await source.open(sha);
    if (!stream) continue;
    const stored = await pool.put(stream, { maxBytes: Number.MAX_SAFE_INTEGER });
    if (stored.sha256 !== sha) {
      // The bytes no longer match their name: never put them in a backup under that name.
      if (stored.created) await pool.delete(stored.sha256);
      corrupt.push(sha);
      continue;
    }
    copied++;
    bytes += stored.sizeBytes;
    blobs.push({ sha256: sha, sizeBytes: stored.sizeBytes });
  }
  progress.update('fichiers', all.length, all.length);
  return { blobs, corrupt, copied, bytes };
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function writeDurably(file: string, text: string): Promise<void> {
  const h = await open(file, 'wx', 0o600);
  try {
    await h.writeFile(text);
    await h.sync();
  } finally {
    await h.close();
  }
}

/**
 * One backup (or retention) at a time per backup folder, across processes (the server's schedule
 * and `preau backup`). A lock left by a process that no longer exists on this host is taken over.
 */
export async function acquireLock(backupDir: string): Promise<() => Promise<void>> {
  const file = path.join(backupDir, '.lock');
  const me = `${process.pid}@${hostname()}`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(file, me, { flag: 'wx' });
      return () => unlink(file).catch(() => undefined);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = (await readFile(file, 'utf8').catch(() => '')).trim();
      const [pid, host] = holder.split('@');
      if (host === hostname() && pid && !isAlive(Number(pid))) {
        await unlink(file).catch(() => undefined);
        continue;
      }
      throw new BackupError(`une sauvegarde est déjà en cours dans ${backupDir} (processus ${holder || 'inconnu'} ; fichier ${file})`);
    }
  }
  throw new BackupError(`verrou de sauvegarde impossible à prendre : ${file}`);
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
