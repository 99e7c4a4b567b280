/**
 * Restore of a backup of the embedded store, and the restore drill that proves a backup restores.
 * Both verify first: the database file and every file the manifest lists are hashed against it;
 * nothing is written anywhere until the whole backup checks out.
 */
import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DiskBlobStore, fsyncPath } from '../../src/storage/blobs/disk-blob-store.js';
import { BLOB_REFERENCES } from '../../src/storage/blobs/orphan-sweep.js';
import { MIGRATION_NAMES, migrateToLatest, openStorage } from '../../src/storage/db.js';
import { describeDatabase, sha256File } from './backup.js';
import { DATABASE_FILE, isPostgresPart, ManifestError, poolDirOf, readManifest, type BackupManifest } from './manifest.js';
import { silentProgress, type Progress } from './progress.js';

/** Problems found in a backup, in French, one line each; empty when the backup is intact. */
export async function verifyBackup(backupPath: string, progress: Progress = silentProgress): Promise<{ manifest: BackupManifest; problems: string[] }> {
  const manifest = await readManifest(backupPath);
  if (isPostgresPart(manifest.database)) throw new ManifestError(`${backupPath} est une sauvegarde PostgreSQL : elle se restaure avec DATABASE_URL=postgres://… (voir docs/OPERATIONS.md, « Sauvegardes »)`);
  const problems: string[] = [];
  const dbFile = path.join(backupPath, DATABASE_FILE);
  const dbStat = await stat(dbFile).catch(() => undefined);
  if (!dbStat) problems.push(`base de données absente de la sauvegarde (${dbFile})`);
  else if (dbStat.size !== manifest.database.sizeBytes) problems.push(`base de données : ${dbStat.size} octets au lieu de ${manifest.database.sizeBytes}`);
  else if ((await sha256File(dbFile)) !== manifest.database.sha256) problems.push('base de données : empreinte SHA-256 différente de celle du manifeste (fichier altéré)');

  const pool = new DiskBlobStore(poolDirOf(backupPath));
  const total = manifest.blobs.length;
  for (const [i, b] of manifest.blobs.entries()) {
    progress.update('vérification des fichiers', i, total);
    const stream = await pool.open(b.sha256);
    if (!stream) {
      problems.push(`fichier ${b.sha256} absent de la réserve ${poolDirOf(backupPath)}`);
      continue;
    }
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of stream) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
    if (size !== b.sizeBytes || hash.digest('hex') !== b.sha256) problems.push(`fichier ${b.sha256} : contenu différent de son empreinte (fichier altéré)`);
  }
  progress.end();
  return { manifest, problems };
}

export class RestoreRefused extends Error {
  override name = 'RestoreRefused';
  constructor(
    message: string,
    readonly problems: string[] = [],
  ) {
    super(message);
  }
}

export interface RestoreOptions {
  backupPath: string;
  /** Where the database goes (`<dir>/preau.sqlite` for `--into DIR`). */
  databaseFile: string;
  /** Where the files go (`<dir>/blobs`). */
  blobsDir: string;
  /** Overwrite a data directory that holds a database (the old one is kept aside, renamed). */
  force: boolean;
  progress?: Progress;
  nowMs?: number;
}

export interface RestoreResult {
  manifest: BackupManifest;
  /** Where the database that was there before went (with --force), if there was one. */
  setAside: string | undefined;
  blobsRestored: number;
}

export async function restoreBackup(o: RestoreOptions): Promise<RestoreResult> {
  const progress = o.progress ?? silentProgress;
  const existing = await stat(o.databaseFile).catch(() => undefined);
  if (existing && !o.force) {
    throw new RestoreRefused(`${o.databaseFile} existe déjà : une restauration ne remplace pas des données sans --force (arrêtez Préau d’abord ; l’ancienne base sera gardée à côté)`);
  }
  const { manifest, problems } = await verifyBackup(o.backupPath, progress);
  if (problems.length > 0) throw new RestoreRefused('la sauvegarde est altérée : rien n’a été restauré', problems);

  await mkdir(path.dirname(path.resolve(o.databaseFile)), { recursive: true });
  // The files first: once the database is in place, everything it references is there.
  const pool = new DiskBlobStore(poolDirOf(o.backupPath));
  const target = new DiskBlobStore(o.blobsDir);
  let blobsRestored = 0;
  for (const [i, b] of manifest.blobs.entries()) {
    progress.update('restauration des fichiers', i, manifest.blobs.length);
    if ((await target.stat(b.sha256))?.sizeBytes === b.sizeBytes) continue;
    const stream = await pool.open(b.sha256);
    if (!stream) throw new RestoreRefused(`fichier ${b.sha256} disparu de la réserve pendant la restauration`);
    const stored = await target.put(stream, { maxBytes: Number.MAX_SAFE_INTEGER });
    if (stored.sha256 !== b.sha256) {
      if (stored.created) await target.delete(stored.sha256);
      throw new RestoreRefused(`fichier ${b.sha256} modifié pendant la restauration`);
    }
    blobsRestored++;
  }
  progress.end();

  const staging = `${o.databaseFile}.restauration`;
  await copyFile(path.join(o.backupPath, DATABASE_FILE), staging);
  await fsyncPath(staging);
  if ((await sha256File(staging)) !== manifest.database.sha256) {
    await rm(staging, { force: true });
    throw new RestoreRefused('la base copiée ne correspond plus au manifeste (disque de destination ?) : rien n’a été remplacé');
  }
  // Kept, never deleted: a restore over the wrong directory can be undone. A -wal must go too, even
  // without its database (left over): SQLite would replay it over the restored file.
  const stamp = new Date(o.nowMs ?? Date.now()).toISOString().replace(/[:.]/g, '-');
  const aside = `${o.databaseFile}.avant-restauration-${stamp}`;
  let setAside: string | undefined;
  for (const suffix of ['', '-wal', '-shm']) {
    if (!(await stat(`${o.databaseFile}${suffix}`).catch(() => undefined))) continue;
    await rename(`${o.databaseFile}${suffix}`, `${aside}${suffix}`);
    setAside = aside;
  }
  await rename(staging, o.databaseFile);
  await fsyncPath(path.dirname(path.resolve(o.databaseFile)));
  return { manifest, setAside, blobsRestored };
}

export interface DrillVerdict {
  ok: boolean;
  /** One line per check, `✓` or `✗` first. */
  lines: string[];
}

/**
 * The restore drill: restores the backup into a scratch folder with the real restore, opens it,
 * compares row counts with the manifest, checks every file the database references is in the
 * backup, then applies this code's migrations to the copy (a backup the running version cannot
 * open is not a backup). The scratch folder is removed at the end.
 */
export async function restoreDrill(backupPath: string, options: { scratchParent?: string; progress?: Progress } = {}): Promise<DrillVerdict> {
  const lines: string[] = [];
  let ok = true;
  const check = (pass: boolean, line: string) => {
    ok &&= pass;
    lines.push(`${pass ? '✓' : '✗'} ${line}`);
  };
  const scratch = await mkdtemp(path.join(options.scratchParent ?? tmpdir(), 'preau-exercice-restauration-'));
  try {
    const databaseFile = path.join(scratch, DATABASE_FILE);
    let manifest: BackupManifest;
    try {
      ({ manifest } = await restoreBackup({ backupPath, databaseFile, blobsDir: path.join(scratch, 'blobs'), force: false, ...(options.progress ? { progress: options.progress } : {}) }));
    } catch (err) {
      if (!(err instanceof RestoreRefused) && !(err instanceof ManifestError)) throw err;
      check(false, `restauration refusée : ${err.message}`);
      if (err instanceof RestoreRefused) for (const p of err.problems) lines.push(`    ${p}`);
      return { ok, lines };
    }
    check(true, `empreintes SHA-256 conformes : base (${manifest.database.sizeBytes} octets) et ${manifest.blobs.length} fichier(s)`);

    const described = describeDatabase(databaseFile);
    const names = new Set([...Object.keys(described.tables), ...Object.keys(manifest.database.tables)]);
    const differing = [...names].sort().filter((t) => described.tables[t] !== manifest.database.tables[t]);
    check(
      differing.length === 0,
      differing.length === 0
        ? `nombres de lignes conformes au manifeste (${names.size} tables, ${Object.values(described.tables).reduce((a, b) => a + b, 0)} lignes)`
        : `nombres de lignes différents du manifeste : ${differing.map((t) => `${t} ${described.tables[t] ?? 'absente'} au lieu de ${manifest.database.tables[t] ?? 'absente'}`).join(', ')}`,
    );

    const listed = new Set(manifest.blobs.map((b) => b.sha256));
    const storage = await openStorage(`sqlite:${databaseFile}`);
    try {
      const missing = new Set<string>();
      for (const table of BLOB_REFERENCES) {
        if (!(table in described.tables)) continue;
        const rows = await storage.db.selectFrom(table as 'doc_entries').select('blob_sha256').distinct().execute();
        for (const r of rows) if (r.blob_sha256 && !listed.has(r.blob_sha256)) missing.add(r.blob_sha256);
      }
      check(missing.size === 0, missing.size === 0 ? 'chaque fichier référencé par la base est dans la sauvegarde' : `${missing.size} fichier(s) référencé(s) par la base absent(s) de la sauvegarde (par exemple ${[...missing][0]})`);

      const unknown = described.migrations.applied.filter((m) => !MIGRATION_NAMES.includes(m));
      if (unknown.length > 0) check(false, `migrations inconnues de cette version de Préau (sauvegarde d’une version plus récente ?) : ${unknown.join(', ')}`);
      else {
        const pending = MIGRATION_NAMES.filter((m) => !described.migrations.applied.includes(m));
        try {
          await migrateToLatest(storage.db);
          check(true, pending.length === 0 ? `schéma à jour (${described.migrations.latest ?? 'aucune migration'})` : `${pending.length} migration(s) appliquée(s) sans erreur sur la copie : ${pending.join(', ')}`);
        } catch (err) {
          check(false, `migrations en échec sur la copie : ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      if (manifest.corruptAtSource.length > 0) check(false, `${manifest.corruptAtSource.length} fichier(s) corrompu(s) à la source, absents de la sauvegarde : ${manifest.corruptAtSource.slice(0, 3).join(', ')}`);
    } finally {
      await storage.close();
    }
    return { ok, lines };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
