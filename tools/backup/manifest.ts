/**
 * What a backup of the embedded store is on disk, and its manifest.
 *
 *   <backup dir>/
 *     preau-2026-11-29T09-15-00-123Z/   one complete backup: preau.sqlite + manifest.json
 *     .partial-preau-…/                  a backup being written (renamed when complete)
 *     blobs/sha256/ab/cd/<sha256>        the files of every backup, content-addressed, shared:
 *                                        a backup copies only the files the pool does not hold
 *     .lock                              one backup or retention at a time
 *
 * A backup is complete when its folder carries the `preau-` name: the manifest is written, synced,
 * and the folder renamed last.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const MANIFEST_FILE = 'manifest.json';
export const DATABASE_FILE = 'preau.sqlite' as const;
/** PostgreSQL: the base backup's main tar (pg_basebackup -Ft -z), beside pg_wal.tar.gz and backup_manifest. */
export const PG_BASE_FILE = 'base.tar.gz' as const;
export const BACKUP_PREFIX = 'preau-';
export const PARTIAL_PREFIX = '.partial-';
export const POOL_DIR = 'blobs';

export interface BackupManifest {
  format: 1;
  id: string;
  /** ISO 8601, UTC. */
  createdAt: string;
  preauVersion: string;
  /** Kysely migrations applied in the copied database (names, sorted), and the last one. */
  migrations: { applied: string[]; latest: string | null };
  database: SqliteDatabasePart | PostgresDatabasePart;
  blobs: { sha256: string; sizeBytes: number }[];
  /** Files of the data directory left out because their bytes no longer match their name (corrupt at the source). */
  corruptAtSource: string[];
  durationMs: number;
}

export interface SqliteDatabasePart {
  file: typeof DATABASE_FILE;
  sizeBytes: number;
  sha256: string;
  tables: Record<string, number>;
}

/**
 * A PostgreSQL base backup (`base.tar.gz` is `file`; the other files pg_basebackup wrote are in
 * `files`), and what the restored copy must hold: row counts and checksums of Préau's tables, read
 * in a snapshot that matches the archive's state at `snapshotLsn` exactly (see postgres.ts).
 */
export interface PostgresDatabasePart {
  engine: 'postgresql';
  file: typeof PG_BASE_FILE;
  sizeBytes: number;
  sha256: string;
  tables: Record<string, number>;
  /** Per table: the sum of the first 64 bits of each row's md5 (order-free), as a decimal string. */
  checksums: Record<string, string>;
  /** Every other file of the backup (pg_wal.tar.gz, backup_manifest, tablespaces' tars). */
  files: { name: string; sizeBytes: number; sha256: string }[];
  serverVersion: string;
  /** Where Préau's tables are: the database, its schema, and the role the drill connects as. */
  database: string;
  schema: string;
  user: string;
  /** First WAL segment the base backup needs (from its backup_label): the archive is cleaned up to the oldest kept one. */
  startWal: string;
  /** The counts and checksums are those of a recovery up to this LSN (`recovery_target_lsn`). */
  snapshotLsn: string;
  /** The archived segment holding `snapshotLsn` (the backup waited for it in the archive). */
  snapshotWal: string;
}

export function isPostgresPart(d: BackupManifest['database']): d is PostgresDatabasePart {
  return (d as PostgresDatabasePart).engine === 'postgresql';
}

/** The folder name of a backup taken at `atMs`: sorts in time order, safe on every filesystem. */
export function backupIdAt(atMs: number): string {
  return `${BACKUP_PREFIX}${new Date(atMs).toISOString().replace(/:/g, '-').replace('.', '-')}`;
}

export function poolDirOf(backupPath: string): string {
  return path.join(path.dirname(path.resolve(backupPath)), POOL_DIR);
}

export class ManifestError extends Error {
  override name = 'ManifestError';
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const SHA256 = /^[0-9a-f]{64}$/;

/** Reads and checks the shape of a backup's manifest; a backup without a readable one is not a backup. */
export async function readManifest(backupPath: string): Promise<BackupManifest> {
  const file = path.join(backupPath, MANIFEST_FILE);
  let raw: string;
  try {
    raw = await readFile(file, 'utf8');
  } catch {
    throw new ManifestError(`pas de manifeste lisible dans ${backupPath} (${MANIFEST_FILE}) : ce n’est pas une sauvegarde complète de Préau`);
  }
  let m: unknown;
  try {
    m = JSON.parse(raw);
  } catch {
    throw new ManifestError(`le manifeste ${file} n’est pas du JSON valide (fichier abîmé ?)`);
  }
  const bad = (what: string) => new ManifestError(`le manifeste ${file} est invalide : ${what}`);
  if (!isRecord(m) || m.format !== 1) throw bad('format inconnu (attendu : 1)');
  if (typeof m.id !== 'string' || typeof m.createdAt !== 'string' || typeof m.preauVersion !== 'string') throw bad('identifiant, date ou version manquants');
  const db = m.database;
  const engineFile = isRecord(db) && db.engine === 'postgresql' ? PG_BASE_FILE : DATABASE_FILE;
  if (!isRecord(db) || db.file !== engineFile || typeof db.sizeBytes !== 'number' || typeof db.sha256 !== 'string' || !SHA256.test(db.sha256) || !isRecord(db.tables)) throw bad('description de la base manquante');
  for (const n of Object.values(db.tables)) if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw bad('nombre de lignes invalide');
  if (db.engine === 'postgresql') {
    const strings = ['serverVersion', 'database', 'schema', 'user', 'startWal', 'snapshotLsn', 'snapshotWal'];
    if (!strings.every((k) => typeof db[k] === 'string' && (db[k] as string).length > 0)) throw bad('description de la sauvegarde PostgreSQL incomplète');
    if (!/^[0-9A-F]{24}$/.test(db.startWal as string) || !/^[0-9A-F]{24}$/.test(db.snapshotWal as string) || !/^[0-9A-F]{1,8}\/[0-9A-F]{1,8}$/.test(db.snapshotLsn as string)) throw bad('segment WAL ou LSN invalide');
    if (!isRecord(db.checksums) || !Object.values(db.checksums).every((c) => typeof c === 'string' && /^-?\d+$/.test(c))) throw bad('empreintes des tables invalides');
    // File names are joined to the backup's path: never a path of their own.
    if (!Array.isArray(db.files) || !db.files.every((f) => isRecord(f) && typeof f.name === 'string' && /^[A-Za-z0-9_.-]+$/.test(f.name) && typeof f.sizeBytes === 'number' && typeof f.sha256 === 'string' && SHA256.test(f.sha256))) throw bad('liste des fichiers de la sauvegarde PostgreSQL invalide');
  }
  const mig = m.migrations;
  if (!isRecord(mig) || !Array.isArray(mig.applied) || !mig.applied.every((x) => typeof x === 'string')) throw bad('migrations manquantes');
  if (!Array.isArray(m.blobs) || !m.blobs.every((b) => isRecord(b) && typeof b.sha256 === 'string' && SHA256.test(b.sha256) && typeof b.sizeBytes === 'number')) throw bad('liste des fichiers invalide');
  if (!Array.isArray(m.corruptAtSource)) throw bad('liste des fichiers corrompus manquante');
  return m as unknown as BackupManifest;
}

/** The version of the package this file belongs to (from src/ under tsx or from dist/). */
export function preauVersion(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++, dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'preau' && typeof pkg.version === 'string') return pkg.version;
    }
  }
  return 'inconnue';
}
