/**
 * Backups of a PostgreSQL deployment with PostgreSQL's own tools, in the same folder, manifest,
 * retention and commands as the embedded store's:
 *
 *   <backup dir>/preau-…/base.tar.gz      pg_basebackup -Ft -z -X stream: the cluster, compressed
 *                       pg_wal.tar.gz     the WAL that makes it consistent on its own
 *                       backup_manifest   PostgreSQL's (pg_verifybackup checks the extracted copy against it)
 *                       manifest.json     Préau's: SHA-256 of each file, row counts and checksums of Préau's tables
 *   <WAL archive>/                         where archive_command copies segments (PREAU_BACKUP_WAL_DIR);
 *                                          cleaned up to the oldest kept base backup's first segment
 *
 * The row counts and checksums cannot come from pg_basebackup's own snapshot (a physical copy has
 * none), so they are read in a snapshot that a recovery can reproduce exactly, taken after the base
 * backup: one transaction locks Préau's tables IN SHARE MODE (waits for the writes in flight, holds
 * new ones back for a few milliseconds), exports its snapshot and reads the WAL insert position L
 * while the locks are held, then commits; a second connection imports that snapshot and reads the
 * tables at leisure. With the tables locked, the committed writes to them are exactly those whose
 * commit record is before L, so a recovery with `recovery_target_lsn = L` holds exactly what the
 * snapshot saw. The backup then switches WAL and waits for L's segment in the archive: a backup is
 * complete only when the archive can take a restore to L.
 */
import { execFile, type ExecFileOptions } from 'node:child_process';
import { chown, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { fsyncPath } from '../../src/storage/blobs/disk-blob-store.js';
import { MIGRATION_NAMES } from '../../src/storage/db.js';
import { acquireLock, BackupError, sha256File, writeDurably } from './backup.js';
import { backupIdAt, isPostgresPart, MANIFEST_FILE, PARTIAL_PREFIX, PG_BASE_FILE, preauVersion, type BackupManifest, type PostgresDatabasePart } from './manifest.js';
import { silentProgress, type Progress } from './progress.js';
import { applyRetention } from './retention.js';
import type { DrillVerdict } from './restore.js';

const WAL_TAR = 'pg_wal.tar.gz';
/** Writers wait at most this long behind the snapshot's locks; past it the backup fails, writes go on. */
const SNAPSHOT_LOCK_TIMEOUT_MS = 5_000;
/** How long a backup waits for its snapshot's segment to reach the archive. */
const ARCHIVE_WAIT_MS = 120_000;
/** The scratch cluster's start (recovery included) and stop are bounded by this. */
const SCRATCH_START_TIMEOUT_S = 600;
/** Only names the scratch cluster's socket file (in its own folder): no TCP, no clash with any server. */
const SCRATCH_PORT = 5432;

export interface PgToolsOptions {
  pgBinDir: string;
}

/** The binaries of `names` missing from `pgBinDir`, as full paths. */
export async function missingPgTools(pgBinDir: string, names: readonly string[]): Promise<string[]> {
  const missing: string[] = [];
  for (const n of names) if (!(await stat(path.join(pgBinDir, n)).catch(() => undefined))?.isFile()) missing.push(path.join(pgBinDir, n));
  return missing;
}

export const BACKUP_TOOLS = ['pg_basebackup', 'pg_archivecleanup'] as const;
export const DRILL_TOOLS = ['pg_ctl', 'postgres', 'pg_verifybackup'] as const;

async function requireTools(pgBinDir: string, names: readonly string[]): Promise<void> {
  const missing = await missingPgTools(pgBinDir, names);
  if (missing.length > 0) throw new BackupError(`outil(s) PostgreSQL introuvable(s) : ${missing.join(', ')} (paquet Debian postgresql-15, ou PREAU_PG_BIN_DIR / --pg-bin-dir)`);
}

function run(file: string, args: string[], options: ExecFileOptions = {}): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { encoding: 'utf8', maxBuffer: 16 << 20, ...options }, (err, stdout, stderr) => {
      if (err) reject(new BackupError(`${path.basename(file)} a échoué : ${String(stderr).trim().split('\n').slice(-5).join(' | ') || err.message}`));
      else resolve({ stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** The connection of DATABASE_URL without its password (given through PGPASSWORD: never on a command line). */
function connection(databaseUrl: string): { url: string; env: NodeJS.ProcessEnv } {
  let u: URL;
  try {
    u = new URL(databaseUrl);
  } catch {
    throw new BackupError('DATABASE_URL n’est pas une URL postgres://utilisateur@hôte:port/base que pg_basebackup sache lire (plusieurs hôtes : passez par le répartiteur)');
  }
  const password = decodeURIComponent(u.password);
  u.password = '';
  return { url: u.toString(), env: { ...process.env, ...(password ? { PGPASSWORD: password } : {}) } };
}

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** Row count and an order-free checksum of every table of `schema`, in the client's current transaction. */
async function describeTables(client: pg.Client, schema: string, tables: readonly string[]): Promise<{ tables: Record<string, number>; checksums: Record<string, string> }> {
  const counts: Record<string, number> = {};
  const checksums: Record<string, string> = {};
  for (const t of tables) {
    // Each row's text form hashed, its first 64 bits summed (numeric: no overflow): the same rows give
    // the same sum whatever their physical order, in constant memory.
    const r = await client.query<{ n: string; sum: string }>(`select count(*)::text as n, coalesce(sum(('x' || left(md5(t::text), 16))::bit(64)::bigint), 0)::text as sum from ${ident(schema)}.${ident(t)} t`);
    counts[t] = Number(r.rows[0]!.n);
    checksums[t] = r.rows[0]!.sum;
  }
  return { tables: counts, checksums };
}

async function tablesOf(client: pg.Client, schema: string): Promise<string[]> {
  const r = await client.query<{ name: string }>(`select tablename as name from pg_tables where schemaname = $1 order by tablename`, [schema]);
  return r.rows.map((x) => x.name);
}

/** The WAL segment file name holding `lsn` on `timeline` (segments of `segmentBytes`). */
export function walFileName(timeline: number, lsn: string, segmentBytes: number): string {
  const [hi, lo] = lsn.split('/').map((h) => BigInt(`0x${h}`));
  const pos = (hi! << 32n) | lo!;
  const seg = pos / BigInt(segmentBytes);
  const perId = 0x1_0000_0000n / BigInt(segmentBytes);
  const hex = (n: bigint | number) => n.toString(16).toUpperCase().padStart(8, '0');
  return `${hex(timeline)}${hex(seg / perId)}${hex(seg % perId)}`;
}

export interface PostgresBackupOptions extends PgToolsOptions {
  databaseUrl: string;
  backupDir: string;
  walDir: string | undefined;
  keep: number;
  nowMs?: number;
  progress?: Progress;
  archiveWaitMs?: number;
  /** Tests shorten it; see SNAPSHOT_LOCK_TIMEOUT_MS. */
  snapshotLockTimeoutMs?: number;
}

export interface PostgresBackupResult {
  id: string;
  path: string;
  manifest: BackupManifest & { database: PostgresDatabasePart };
  bytes: number;
  retention: { deleted: string[]; walFilesDeleted: number };
}

export async function takePostgresBackup(o: PostgresBackupOptions): Promise<PostgresBackupResult> {
  const started = Date.now();
  const progress = o.progress ?? silentProgress;
  if (!o.walDir) throw new BackupError('aucune archive des journaux : donnez PREAU_BACKUP_WAL_DIR (--backup-wal-dir), le dossier où archive_command copie les segments ; sans elle, une sauvegarde de base ne se restaure qu’à sa propre fin et l’exercice ne peut rien vérifier');
  if (!(await stat(o.walDir).catch(() => undefined))?.isDirectory()) throw new BackupError(`archive des journaux introuvable : ${o.walDir}`);
  await requireTools(o.pgBinDir, BACKUP_TOOLS);
  const { url, env } = connection(o.databaseUrl);
  await mkdir(o.backupDir, { recursive: true, mode: 0o700 });
  const release = await acquireLock(o.backupDir);
  const client = new pg.Client({ connectionString: o.databaseUrl });
  const exporter = new pg.Client({ connectionString: o.databaseUrl });
  try {
    await client.connect();
    const info = (await client.query<{ schema: string; database: string; user: string; version: string; archive: string; segment: string }>(
      `select current_schema() as schema, current_database() as database, current_user as user, current_setting('server_version') as version, current_setting('archive_mode') as archive, (select setting from pg_settings where name = 'wal_segment_size') as segment`,
    )).rows[0]!;
    if (info.archive === 'off') throw new BackupError('PostgreSQL n’archive pas ses journaux (archive_mode = off) : réglez archive_mode et archive_command vers PREAU_BACKUP_WAL_DIR (docs/OPERATIONS.md, « Sauvegardes »)');

    const id = backupIdAt(o.nowMs ?? Date.now());
    const partial = path.join(o.backupDir, `${PARTIAL_PREFIX}${id}`);
    const final = path.join(o.backupDir, id);
    if (await stat(final).catch(() => undefined)) throw new BackupError(`une sauvegarde ${id} existe déjà`);
    await rm(partial, { recursive: true, force: true });
    // pg_basebackup creates the folder itself (it must be empty).
    progress.update('sauvegarde de base (pg_basebackup)', 0, 1);
    await run(path.join(o.pgBinDir, 'pg_basebackup'), ['-d', url, '-D', partial, '-Ft', '-z', '-X', 'stream', '-c', 'fast', '-l', id], { env });
    progress.update('sauvegarde de base (pg_basebackup)', 1, 1);

    const label = await backupLabel(path.join(partial, PG_BASE_FILE));

    // The snapshot the manifest describes, and the LSN a recovery must stop at to see the same.
    progress.update('instantané des tables', 0, 1);
    const tables = await tablesOf(client, info.schema);
    const lockTimeoutMs = Math.max(1, Math.floor(o.snapshotLockTimeoutMs ?? SNAPSHOT_LOCK_TIMEOUT_MS));
    await exporter.connect();
    await exporter.query('begin isolation level repeatable read');
    let snapshot: { id: string; lsn: string; timeline: number };
    try {
      // lock_timeout bounds each table's wait, statement_timeout the whole LOCK: writers queue behind it at most this long.
      await exporter.query(`set local lock_timeout = '${lockTimeoutMs}ms'`);
      await exporter.query(`set local statement_timeout = '${lockTimeoutMs}ms'`);
      if (tables.length > 0) await exporter.query(`lock table ${tables.map((t) => `${ident(info.schema)}.${ident(t)}`).join(', ')} in share mode`);
      const r = (await exporter.query<{ id: string; lsn: string; timeline: number }>('select pg_export_snapshot() as id, pg_current_wal_insert_lsn()::text as lsn, (select timeline_id from pg_control_checkpoint()) as timeline')).rows[0]!;
      snapshot = r;
      await client.query('begin isolation level repeatable read read only');
      await client.query(`set transaction snapshot '${r.id.replace(/'/g, '')}'`);
    } catch (err) {
      await exporter.query('rollback').catch(() => undefined);
      if (['55P03', '57014'].includes((err as { code?: string }).code ?? '')) throw new BackupError(`les tables de Préau n’ont pas pu être figées en ${lockTimeoutMs} ms (une longue transaction en cours ?) : réessayez`);
      throw err;
    }
    await exporter.query('commit'); // the writers go on; the snapshot lives on in `client`
    const described = await describeTables(client, info.schema, tables);
    const migrations = tables.includes('kysely_migration') ? (await client.query<{ name: string }>(`select name from ${ident(info.schema)}.kysely_migration order by name`)).rows.map((x) => x.name) : [];
    await client.query('commit');
    progress.update('instantané des tables', 1, 1);

    // The archive must hold everything up to the snapshot's LSN: close its segment and wait for it.
    const snapshotWal = walFileName(snapshot.timeline, snapshot.lsn, Number(info.segment));
    // A record after L (a commit of its own): recovery stops on the first record at or past L, and a
    // segment with nothing written since the last switch (pg_basebackup's own) is never switched out.
    await client.query('select pg_current_xact_id()');
    await client.query('select pg_switch_wal()').catch(() => undefined); // not allowed: archive_timeout closes it
    const deadline = Date.now() + (o.archiveWaitMs ?? ARCHIVE_WAIT_MS);
    // Whole, not just there: `cp` in archive_command creates the file before it has written it.
    while ((await stat(path.join(o.walDir, snapshotWal)).catch(() => undefined))?.size !== Number(info.segment)) {
      if (Date.now() > deadline) throw new BackupError(`le segment ${snapshotWal} n’est pas arrivé dans l’archive ${o.walDir} en ${Math.round((o.archiveWaitMs ?? ARCHIVE_WAIT_MS) / 1000)} s : archive_command échoue-t-il ? (journal de PostgreSQL, pg_stat_archiver)`);
      await new Promise((r) => setTimeout(r, 200));
    }

    const files: PostgresDatabasePart['files'] = [];
    let bytes = 0;
    for (const name of (await readdir(partial)).sort()) {
      if (name === PG_BASE_FILE) continue;
      const size = (await stat(path.join(partial, name))).size;
      bytes += size;
      files.push({ name, sizeBytes: size, sha256: await sha256File(path.join(partial, name)) });
    }
    const baseSize = (await stat(path.join(partial, PG_BASE_FILE))).size;
    bytes += baseSize;
    const database: PostgresDatabasePart = {
      engine: 'postgresql',
      file: PG_BASE_FILE,
      sizeBytes: baseSize,
      sha256: await sha256File(path.join(partial, PG_BASE_FILE)),
      tables: described.tables,
      checksums: described.checksums,
      files,
      serverVersion: info.version,
      database: info.database,
      schema: info.schema,
      user: info.user,
      startWal: label.startWal,
      snapshotLsn: snapshot.lsn,
      snapshotWal,
    };
    const manifest = {
      format: 1 as const,
      id,
      createdAt: new Date(o.nowMs ?? started).toISOString(),
      preauVersion: preauVersion(),
      migrations: { applied: migrations, latest: migrations.at(-1) ?? null },
      database,
      blobs: [],
      corruptAtSource: [],
      durationMs: Date.now() - started,
    };
    await writeDurably(path.join(partial, MANIFEST_FILE), `${JSON.stringify(manifest, null, 1)}\n`);
    await rename(partial, final);
    await fsyncPath(o.backupDir);
    progress.end();
    const retention = await applyRetention(o.backupDir, o.keep, { walDir: o.walDir, pgBinDir: o.pgBinDir });
    return { id, path: final, manifest, bytes, retention: { deleted: retention.deleted, walFilesDeleted: retention.walFilesDeleted } };
  } finally {
    progress.end();
    await client.end().catch(() => undefined);
    await exporter.end().catch(() => undefined);
    await release();
  }
}

/** The first WAL segment a base backup needs, from the backup_label inside its tar. */
async function backupLabel(baseTar: string): Promise<{ startWal: string }> {
  const { stdout } = await run('tar', ['-xzOf', baseTar, 'backup_label']);
  const m = /START WAL LOCATION: [0-9A-F]+\/[0-9A-F]+ \(file ([0-9A-F]{24})\)/.exec(stdout);
  if (!m) throw new BackupError(`backup_label illisible dans ${baseTar}`);
  return { startWal: m[1]! };
}

/**
 * Removes from the archive the segments older than `startWal` (the oldest kept base backup's first
 * one) with pg_archivecleanup; returns how many files went.
 */
export async function cleanWalArchive(walDir: string, startWal: string, pgBinDir: string): Promise<number> {
  const before = (await readdir(walDir)).length;
  await run(path.join(pgBinDir, 'pg_archivecleanup'), [walDir, startWal]);
  return before - (await readdir(walDir)).length;
}

/** Checks every file of a PostgreSQL backup against the manifest; problems in French, one line each. */
export async function verifyPostgresFiles(backupPath: string, part: PostgresDatabasePart, progress: Progress): Promise<string[]> {
  const problems: string[] = [];
  const all = [{ name: part.file, sizeBytes: part.sizeBytes, sha256: part.sha256 }, ...part.files];
  for (const [i, f] of all.entries()) {
    progress.update('vérification des fichiers', i, all.length);
    const file = path.join(backupPath, f.name);
    const st = await stat(file).catch(() => undefined);
    if (!st) problems.push(`${f.name} absent de la sauvegarde`);
    else if (st.size !== f.sizeBytes) problems.push(`${f.name} : ${st.size} octets au lieu de ${f.sizeBytes}`);
    else if ((await sha256File(file)) !== f.sha256) problems.push(`${f.name} : empreinte SHA-256 différente de celle du manifeste (fichier altéré)`);
  }
  const listed = new Set([...all.map((f) => f.name), MANIFEST_FILE]);
  for (const name of await readdir(backupPath)) if (!listed.has(name)) problems.push(`${name} : fichier inattendu dans la sauvegarde`);
  progress.end();
  return problems;
}

/** uid/gid to run the PostgreSQL server as: ourselves, or `postgres` when we are root (PostgreSQL refuses root). */
async function serverUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (userInfo().uid !== 0) return undefined;
  const id = async (flag: string) => Number((await run('id', [flag, 'postgres'])).stdout.trim());
  try {
    return { uid: await id('-u'), gid: await id('-g') };
  } catch {
    throw new BackupError('lancé en root, et pas d’utilisateur « postgres » pour faire tourner le cluster jetable : lancez l’exercice sous un autre utilisateur');
  }
}

/** Extracts a verified backup into an empty data directory and verifies the copy with pg_verifybackup. */
async function extractInto(backupPath: string, part: PostgresDatabasePart, dataDir: string, pgBinDir: string): Promise<void> {
  const others = part.files.filter((f) => f.name.endsWith('.tar.gz') && f.name !== WAL_TAR);
  if (others.length > 0) throw new BackupError(`la sauvegarde contient des tablespaces (${others.map((f) => f.name).join(', ')}) : leur restauration n’est pas prise en charge par Préau`);
  await mkdir(path.join(dataDir, 'pg_wal'), { recursive: true, mode: 0o700 });
  await run('tar', ['-xzf', path.join(backupPath, PG_BASE_FILE), '-C', dataDir]);
  if (part.files.some((f) => f.name === WAL_TAR)) await run('tar', ['-xzf', path.join(backupPath, WAL_TAR), '-C', path.join(dataDir, 'pg_wal')]);
  if (part.files.some((f) => f.name === 'backup_manifest')) await run(path.join(pgBinDir, 'pg_verifybackup'), ['-m', path.join(backupPath, 'backup_manifest'), dataDir]);
}

async function chownTree(dir: string, user: { uid: number; gid: number } | undefined): Promise<void> {
  if (user) await run('chown', ['-R', `${user.uid}:${user.gid}`, dir]);
}

const quote = (s: string) => `'${s.replace(/'/g, "''")}'`;
/** `cp` from the archive, refusing anything but a plain file name (%f never holds a slash). */
const restoreCommand = (walDir: string) => `cp ${path.resolve(walDir).replace(/'/g, '')}/%f %p`;

export interface PostgresDrillOptions extends PgToolsOptions {
  walDir: string | undefined;
  scratchParent?: string;
  progress?: Progress;
}

/**
 * The restore drill: verifies the files, extracts them into a scratch data directory (pg_verifybackup
 * against PostgreSQL's own manifest), starts a PostgreSQL of its own (a Unix socket in the scratch folder, no TCP) that
 * replays the archive up to the snapshot's LSN and promotes, then compares every table's row count
 * and checksum with the manifest. The scratch cluster is stopped and removed whatever happens.
 */
export async function postgresRestoreDrill(backupPath: string, manifest: BackupManifest, o: PostgresDrillOptions): Promise<DrillVerdict> {
  const lines: string[] = [];
  let ok = true;
  const check = (pass: boolean, line: string) => {
    ok &&= pass;
    lines.push(`${pass ? '✓' : '✗'} ${line}`);
  };
  const part = manifest.database;
  if (!isPostgresPart(part)) throw new BackupError('ce n’est pas une sauvegarde PostgreSQL');
  const progress = o.progress ?? silentProgress;
  const problems = await verifyPostgresFiles(backupPath, part, progress);
  if (problems.length > 0) {
    check(false, 'restauration refusée : la sauvegarde est altérée');
    for (const p of problems) lines.push(`    ${p}`);
    return { ok, lines };
  }
  check(true, `empreintes SHA-256 conformes : ${1 + part.files.length} fichier(s), ${(part.sizeBytes + part.files.reduce((a, f) => a + f.sizeBytes, 0)).toLocaleString('fr-FR')} octets`);
  if (!o.walDir) throw new BackupError('aucune archive des journaux : donnez PREAU_BACKUP_WAL_DIR (--backup-wal-dir) ; l’exercice rejoue l’archive jusqu’à l’instantané du manifeste');
  await requireTools(o.pgBinDir, DRILL_TOOLS);
  const segment = await stat(path.join(o.walDir, part.snapshotWal)).catch(() => undefined);
  // The manifest does not keep the segment size (a power of two, 1 MiB to 1 GiB): a cut copy is caught
  // unless it stopped on a MiB boundary; the recovery then refuses it ("wrong size") and the drill says so.
  if (!segment || segment.size === 0 || segment.size % (1 << 20) !== 0) {
    check(false, `segment ${part.snapshotWal} ${segment ? `incomplet (${segment.size} octets)` : 'absent'} de l’archive ${o.walDir} : cette sauvegarde ne peut pas être rejouée jusqu’à son instantané`);
    return { ok, lines };
  }

  const user = await serverUser();
  const scratch = await mkdtemp(path.join(o.scratchParent ?? tmpdir(), 'preau-exercice-pg-'));
  const dataDir = path.join(scratch, 'data');
  const asServer: ExecFileOptions = user ?? {};
  let started = false;
  try {
    progress.update('extraction', 0, 1);
    try {
      await extractInto(backupPath, part, dataDir, o.pgBinDir);
    } catch (err) {
      check(false, `extraction ou pg_verifybackup en échec : ${(err as Error).message}`);
      return { ok, lines };
    }
    progress.end();
    check(true, 'pg_verifybackup : la copie extraite est conforme au manifeste de PostgreSQL');
    const port = SCRATCH_PORT;
    await writeScratchConfig(dataDir, scratch, port, [
      `restore_command = ${quote(restoreCommand(o.walDir))}`,
      `recovery_target_lsn = ${quote(part.snapshotLsn)}`,
      `recovery_target_action = 'promote'`,
    ]);
    await writeFile(path.join(dataDir, 'recovery.signal'), '');
    // A standby's copy would stay a standby for ever (pg_basebackup leaves the file out; a tar made otherwise may not).
    await rm(path.join(dataDir, 'standby.signal'), { force: true });
    await chownTree(scratch, user);
    if (user) await chown(scratch, user.uid, user.gid);
    progress.update('rejeu de l’archive', 0, 1);
    try {
      await run(path.join(o.pgBinDir, 'pg_ctl'), ['-D', dataDir, '-l', path.join(scratch, 'log.txt'), '-w', '-t', String(SCRATCH_START_TIMEOUT_S), 'start'], asServer);
      started = true;
    } catch (err) {
      const log = await readFile(path.join(scratch, 'log.txt'), 'utf8').catch(() => '');
      check(false, `le cluster jetable n’a pas démarré : ${(err as Error).message}${log ? ` ; journal : ${log.trim().split('\n').slice(-3).join(' | ')}` : ''}`);
      return { ok, lines };
    }
    progress.end();
    // pg_ctl -w may return while the recovery still runs (hot_standby off: no connections until promoted).
    let client: pg.Client | undefined;
    const deadline = Date.now() + SCRATCH_START_TIMEOUT_S * 1000;
    while (!client) {
      const c = new pg.Client({ host: scratch, port, user: part.user, database: part.database });
      try {
        await c.connect();
        client = c;
      } catch (err) {
        await c.end().catch(() => undefined);
        const code = (err as { code?: string }).code;
        if ((code !== '57P03' && code !== 'ECONNREFUSED' && code !== 'ENOENT') || Date.now() > deadline) {
          const log = await readFile(path.join(scratch, 'log.txt'), 'utf8').catch(() => '');
          check(false, `le cluster jetable n’a pas terminé sa récupération : ${(err as Error).message}${log ? ` ; journal : ${log.trim().split('\n').slice(-3).join(' | ')}` : ''}`);
          return { ok, lines };
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    try {
      let inRecovery = true;
      for (let i = 0; i < 600 && inRecovery; i++) {
        inRecovery = (await client.query<{ r: boolean }>('select pg_is_in_recovery() as r')).rows[0]!.r;
        if (inRecovery) await new Promise((r) => setTimeout(r, 100));
      }
      check(!inRecovery, inRecovery ? 'le cluster jetable est resté en récupération (cible non atteinte ?)' : `archive rejouée jusqu’à l’instantané (LSN ${part.snapshotLsn}, segment ${part.snapshotWal}), cluster promu`);
      const tables = await tablesOf(client, part.schema);
      await client.query('begin isolation level repeatable read read only');
      const described = await describeTables(client, part.schema, tables);
      await client.query('commit');
      const names = [...new Set([...Object.keys(described.tables), ...Object.keys(part.tables)])].sort();
      const countDiff = names.filter((t) => described.tables[t] !== part.tables[t]);
      check(
        countDiff.length === 0,
        countDiff.length === 0
          ? `nombres de lignes conformes au manifeste (${names.length} tables, ${Object.values(described.tables).reduce((a, b) => a + b, 0)} lignes)`
          : `nombres de lignes différents du manifeste : ${countDiff.map((t) => `${t} ${described.tables[t] ?? 'absente'} au lieu de ${part.tables[t] ?? 'absente'}`).join(', ')}`,
      );
      const sumDiff = names.filter((t) => !countDiff.includes(t) && described.checksums[t] !== part.checksums[t]);
      check(sumDiff.length === 0, sumDiff.length === 0 ? 'empreintes du contenu de chaque table conformes au manifeste' : `contenu différent du manifeste (mêmes nombres de lignes, autres valeurs) : ${sumDiff.join(', ')}`);
      const unknown = manifest.migrations.applied.filter((m) => !MIGRATION_NAMES.includes(m));
      check(unknown.length === 0, unknown.length === 0 ? `migrations connues de cette version de Préau (${manifest.migrations.latest ?? 'aucune'})` : `migrations inconnues de cette version de Préau (sauvegarde d’une version plus récente ?) : ${unknown.join(', ')}`);
    } finally {
      await client.end().catch(() => undefined);
    }
    return { ok, lines };
  } finally {
    progress.end();
    if (started) await run(path.join(o.pgBinDir, 'pg_ctl'), ['-D', dataDir, '-w', '-t', '60', '-m', 'immediate', 'stop'], asServer).catch(() => undefined);
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * The scratch cluster's own settings, last in postgresql.auto.conf so that they win over the
 * primary's (ALTER SYSTEM copied with the data: its archive_command must never run here), and its own
 * postgresql.conf/pg_hba.conf (on Debian the primary's live in /etc, not in the backup).
 */
async function writeScratchConfig(dataDir: string, socketDir: string, port: number, recovery: string[]): Promise<void> {
  await writeFile(path.join(dataDir, 'postgresql.conf'), '# exercice de restauration de Préau : voir postgresql.auto.conf\n');
  await writeFile(path.join(dataDir, 'pg_hba.conf'), 'local all all trust\n');
  await writeFile(path.join(dataDir, 'pg_ident.conf'), '');
  await appendFile(
    path.join(dataDir, 'postgresql.auto.conf'),
    [
      '',
      '# exercice de restauration de Préau (cluster jetable)',
      `port = ${port}`,
      // Unix socket only, in the 0700 scratch folder: the copy holds every pupil's data and trusts its connections.
      `listen_addresses = ''`,
      `unix_socket_directories = ${quote(socketDir)}`,
      `hba_file = ${quote(path.join(dataDir, 'pg_hba.conf'))}`,
      `ident_file = ${quote(path.join(dataDir, 'pg_ident.conf'))}`,
      `archive_mode = off`,
      `hot_standby = off`,
      `fsync = off`,
      `synchronous_standby_names = ''`,
      `primary_conninfo = ''`,
      `shared_buffers = '32MB'`,
      `dynamic_shared_memory_type = mmap`,
      ...recovery,
      '',
    ].join('\n'),
  );
}

export interface PostgresRestoreOptions extends PgToolsOptions {
  backupPath: string;
  manifest: BackupManifest;
  into: string;
  walDir: string | undefined;
  progress?: Progress;
}

/**
 * `preau restore` for PostgreSQL: prepares a data directory the operator starts. It never touches a
 * running cluster: Préau does not run PostgreSQL (systemd, Patroni do), and a data directory swapped
 * under a live server, or under Patroni's feet, is a second incident.
 */
export async function preparePostgresRestore(o: PostgresRestoreOptions): Promise<{ problems: string[] }> {
  const part = o.manifest.database;
  if (!isPostgresPart(part)) throw new BackupError('ce n’est pas une sauvegarde PostgreSQL');
  const existing = await readdir(o.into).catch(() => undefined);
  if (existing && existing.length > 0) return { problems: [`${o.into} n’est pas vide : la restauration prépare un dossier de données neuf (jamais par-dessus un cluster)`] };
  await requireTools(o.pgBinDir, ['pg_verifybackup']);
  const problems = await verifyPostgresFiles(o.backupPath, part, o.progress ?? silentProgress);
  if (problems.length > 0) return { problems };
  await mkdir(o.into, { recursive: true, mode: 0o700 });
  await extractInto(o.backupPath, part, o.into, o.pgBinDir);
  await writeFile(path.join(o.into, 'recovery.signal'), '');
  await appendFile(
    path.join(o.into, 'postgresql.auto.conf'),
    [
      '',
      `# restauration Préau de ${o.manifest.id} : rejoue toute l’archive puis accepte les écritures`,
      ...(o.walDir ? [`restore_command = ${quote(restoreCommand(o.walDir))}`] : []),
      `recovery_target_action = 'promote'`,
      '# pour s’arrêter avant une erreur : recovery_target_time = \'2026-11-29 08:40:00+01\'',
      `archive_mode = off   # à rétablir vers une NOUVELLE archive une fois promu`,
      '',
    ].join('\n'),
  );
  return { problems: [] };
}
