import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { DiskBlobStore } from '../../src/storage/blobs/disk-blob-store.js';
import { BACKUP_PREFIX, DATABASE_FILE, isPostgresPart, PARTIAL_PREFIX, POOL_DIR, readManifest, type BackupManifest } from './manifest.js';

export interface BackupEntry {
  id: string;
  /** Manifest readable and the database file of the size it says: a backup a restore can start from. */
  good: boolean;
}

/**
 * Which backups go (pure). Ids sort in time order. The `keep` newest good backups stay; an older
 * good one goes; a bad one (no manifest, database missing or of the wrong size) goes only when
 * `keep` good backups newer than it exist — so nothing is deleted while fewer than `keep` good
 * ones exist, and the only good backup is never deleted (`keep` is at least 1).
 */
export function decideRetention(entries: readonly BackupEntry[], keep: number): string[] {
  if (!Number.isInteger(keep) || keep < 1) throw new RangeError(`keep doit être un entier ≥ 1 (reçu ${keep})`);
  const newestFirst = [...entries].sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  const remove: string[] = [];
  let goodSeen = 0;
  for (const e of newestFirst) {
    if (goodSeen >= keep) remove.push(e.id);
    else if (e.good) goodSeen++;
  }
  return remove;
}

/** The complete backups in `backupDir`, good or not, with their manifests when readable. */
export async function listBackups(backupDir: string): Promise<(BackupEntry & { manifest: BackupManifest | undefined })[]> {
  const names = await readdir(backupDir).catch(() => [] as string[]);
  const out: (BackupEntry & { manifest: BackupManifest | undefined })[] = [];
  for (const id of names.filter((n) => n.startsWith(BACKUP_PREFIX)).sort()) {
    const dir = path.join(backupDir, id);
    const manifest = await readManifest(dir).catch(() => undefined);
    const size = (await stat(path.join(dir, manifest?.database.file ?? DATABASE_FILE)).catch(() => undefined))?.size;
    out.push({ id, manifest, good: manifest !== undefined && size === manifest.database.sizeBytes });
  }
  return out;
}

/**
 * The WAL segment the archive must keep from (pure): the first segment of the oldest kept good
 * PostgreSQL base backup. Undefined — clean nothing — when a kept backup's manifest is unreadable
 * (it may be an older PostgreSQL backup) or no PostgreSQL backup is kept.
 */
export function walToKeepFrom(kept: readonly { good: boolean; manifest: BackupManifest | undefined }[]): string | undefined {
  if (kept.some((e) => !e.manifest)) return undefined;
  for (const e of kept) if (e.good && e.manifest && isPostgresPart(e.manifest.database)) return e.manifest.database.startWal;
  return undefined;
}

/**
 * Applies the retention under the backup lock: deletes the backups `decideRetention` names,
 * leftovers of interrupted backups (`.partial-*`), then the pool's files that no remaining
 * manifest lists; with `wal` (PostgreSQL), the archive's segments older than the oldest kept base
 * backup needs (pg_archivecleanup).
 */
export async function applyRetention(
  backupDir: string,
  keep: number,
  wal?: { walDir: string; pgBinDir: string },
): Promise<{ deleted: string[]; poolFilesDeleted: number; walFilesDeleted: number }> {
  const entries = await listBackups(backupDir);
  const deleted = decideRetention(entries, keep);
  for (const id of deleted) await rm(path.join(backupDir, id), { recursive: true, force: true });
  for (const n of await readdir(backupDir)) if (n.startsWith(PARTIAL_PREFIX)) await rm(path.join(backupDir, n), { recursive: true, force: true });
  let walFilesDeleted = 0;
  const keepFrom = wal ? walToKeepFrom(entries.filter((e) => !deleted.includes(e.id))) : undefined;
  if (wal && keepFrom) {
    const { cleanWalArchive } = await import('./postgres.js');
    walFilesDeleted = await cleanWalArchive(wal.walDir, keepFrom, wal.pgBinDir);
  }

  const listed = new Set<string>();
  let unreadable = false;
  for (const e of entries) {
    if (deleted.includes(e.id)) continue;
    if (e.manifest) for (const b of e.manifest.blobs) listed.add(b.sha256);
    else unreadable = true;
  }
  // A kept backup whose manifest cannot be read may still need its files: keep the whole pool.
  if (unreadable) return { deleted, poolFilesDeleted: 0, walFilesDeleted };
  const pool = new DiskBlobStore(path.join(backupDir, POOL_DIR));
  let poolFilesDeleted = 0;
  for await (const b of pool.list()) {
    if (listed.has(b.sha256)) continue;
    await pool.delete(b.sha256);
    poolFilesDeleted++;
  }
  return { deleted, poolFilesDeleted, walFilesDeleted };
}
