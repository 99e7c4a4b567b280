/**
 * The server's side of backups: what is wrong with the backup configuration (said at start-up),
 * and the scheduled backups (embedded store, or PostgreSQL base backups: the same `preau backup`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, stat } from 'node:fs/promises';
import { setPriority } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { listBackups } from './retention.js';
import type { Config } from '../../src/config/config.js';
import type { Logger } from '../../src/platform/logger.js';

export type BackupSettings = Pick<Config, 'backupDir' | 'backupEveryMinutes' | 'backupKeep' | 'dataDir' | 'databaseUrl' | 'publicUrl' | 'departedRetentionDays' | 'backupWalDir' | 'pgBinDir'>;

/** The SQLite file of `sqlite:<file>`, or undefined for PostgreSQL. */
export function sqliteFileOf(databaseUrl: string): string | undefined {
  return databaseUrl.startsWith('sqlite:') ? databaseUrl.slice('sqlite:'.length) : undefined;
}

/** A deployment for real people: NODE_ENV=production, or served over https. */
export function isProduction(settings: Pick<Config, 'publicUrl'>, env: NodeJS.ProcessEnv): boolean {
  return env.NODE_ENV === 'production' || settings.publicUrl.startsWith('https:');
}

export const POSTGRES_BACKUPS = 'avec PostgreSQL, les sauvegardes sont l’archivage des journaux (archive_command) vers un second site et `preau backup` (pg_basebackup) avec PREAU_BACKUP_DIR et PREAU_BACKUP_WAL_DIR (voir docs/OPERATIONS.md, « Sauvegardes »)';

/** What the server knows of its PostgreSQL, when on PostgreSQL (each absent when it could not be read). */
export interface PostgresFacts {
  archiveMode?: string;
  /** `data_directory` (superusers and pg_read_all_settings only): compared with the backup folders when it is on this host. */
  dataDirectory?: string;
}

/**
 * What the operator must know about backups at start-up, in French, one sentence each (empty: all
 * is well). The backup folder is created if missing, so its device can be compared with the data's:
 * a backup on the data's disk burns with it.
 */
export async function backupWarnings(settings: BackupSettings, env: NodeJS.ProcessEnv, postgres: PostgresFacts = {}): Promise<string[]> {
  const sqliteFile = sqliteFileOf(settings.databaseUrl);
  if (!sqliteFile) return postgresWarnings(settings, env, postgres);
  if (!settings.backupDir) {
    return isProduction(settings, env) ? ['aucune sauvegarde configurée (PREAU_BACKUP_DIR) : un disque perdu, et toutes les données sont perdues ; voir docs/OPERATIONS.md, « Sauvegardes »'] : [];
  }
  const warnings = retentionWarnings(settings);
  const folder = await backupFolderWarning(settings.backupDir);
  if (folder) return [...warnings, folder];
  const same = await sameDiskWarning(settings.backupDir, path.dirname(path.resolve(sqliteFile)));
  return same ? [...warnings, same] : warnings;
}

/** Purged people must not live on in backups for longer than the purge allows (pupils are minors). */
function retentionWarnings(settings: BackupSettings): string[] {
  const keptDays = (settings.backupKeep * settings.backupEveryMinutes) / 1440;
  return keptDays > settings.departedRetentionDays
    ? [`les sauvegardes couvrent ${Math.ceil(keptDays)} jours (PREAU_BACKUP_KEEP × PREAU_BACKUP_EVERY_MINUTES), plus que la conservation après départ (${settings.departedRetentionDays} jours) : des personnes purgées y resteraient ; réduisez PREAU_BACKUP_KEEP`]
    : [];
}

async function backupFolderWarning(backupDir: string): Promise<string | undefined> {
  try {
    await mkdir(backupDir, { recursive: true, mode: 0o700 });
    return undefined;
  } catch (err) {
    return `dossier de sauvegarde ${backupDir} inaccessible (${(err as NodeJS.ErrnoException).code ?? String(err)}) : aucune sauvegarde ne sera faite`;
  }
}

/** `folder` on the device of `dataDir` (both must exist here; otherwise nothing can be said). */
async function sameDiskWarning(folder: string, dataDir: string, what = 'le dossier de sauvegarde'): Promise<string | undefined> {
  const data = await stat(dataDir).catch(() => undefined);
  const backups = await stat(folder).catch(() => undefined);
  if (!data || !backups || data.dev !== backups.dev) return undefined;
  return `${what} ${folder} est sur le même disque que les données (${dataDir}) : une panne ou un incendie emporterait les deux ; montez-y un disque d’un autre site`;
}

async function postgresWarnings(settings: BackupSettings, env: NodeJS.ProcessEnv, postgres: PostgresFacts): Promise<string[]> {
  const warnings: string[] = [];
  if (postgres.archiveMode === 'off' && (isProduction(settings, env) || settings.backupDir)) warnings.push(`PostgreSQL n’archive pas ses journaux (archive_mode = off) : ${POSTGRES_BACKUPS}`);
  if (!settings.backupDir) {
    if (isProduction(settings, env)) warnings.push(`aucune sauvegarde de base planifiée (PREAU_BACKUP_DIR) : ${POSTGRES_BACKUPS}`);
    return warnings;
  }
  warnings.push(...retentionWarnings(settings));
  if (!settings.backupWalDir) warnings.push('PREAU_BACKUP_WAL_DIR manquant (le dossier de l’archive des journaux) : les sauvegardes PostgreSQL planifiées échoueront tant qu’il manque');
  const { BACKUP_TOOLS, missingPgTools } = await import('./postgres.js');
  const missing = await missingPgTools(settings.pgBinDir, BACKUP_TOOLS);
  if (missing.length > 0) warnings.push(`outil(s) PostgreSQL introuvable(s) : ${missing.join(', ')} (paquet Debian postgresql-15, ou PREAU_PG_BIN_DIR) : aucune sauvegarde ne sera faite`);
  const folder = await backupFolderWarning(settings.backupDir);
  if (folder) return [...warnings, folder];
  if (postgres.dataDirectory) {
    for (const [dir, what] of [[settings.backupDir, 'le dossier de sauvegarde'], [settings.backupWalDir, 'l’archive des journaux']] as const) {
      const same = dir ? await sameDiskWarning(dir, postgres.dataDirectory, what) : undefined;
      if (same) warnings.push(same);
    }
  }
  return warnings;
}

/** `preau backup` of this installation: the compiled CLI next to this file, or the TypeScript one under tsx. */
function backupCommandLine(): { file: string; execArgv: string[] } {
  const here = fileURLToPath(import.meta.url);
  const typescript = here.endsWith('.ts');
  return { file: path.join(path.dirname(here), '..', '..', 'src', typescript ? 'cli.ts' : 'cli.js'), execArgv: typescript ? ['--import', 'tsx'] : [] };
}

/** Lower CPU priority of the backup process: the pupils' requests come first. */
const BACKUP_NICENESS = 10;

/**
 * Backups every `backupEveryMinutes` (the first one that long after the newest backup on disk), each by `preau backup` in
 * a child process of lower priority: a copy restarted by writes finishes in one long step, which
 * must not hold the server's event loop. One at a time (a backup still running when the next is due
 * skips it; one running longer than the interval is stopped, and its leftovers are cleaned by the
 * next); a failure is logged and the next one tries again.
 */
export function scheduleBackups(settings: BackupSettings, logger: Logger): { stop(): void } {
  const backupDir = settings.backupDir;
  if (!backupDir) return { stop: () => undefined };
  const { file, execArgv } = backupCommandLine();
  const intervalMs = settings.backupEveryMinutes * 60_000;
  let child: ChildProcess | undefined;
  const run = () => {
    if (child) {
      logger.warn({ backupDir }, 'sauvegarde précédente encore en cours : celle-ci est sautée');
      return;
    }
    const startedMs = Date.now();
    // The settings go explicitly: the server may have had them as flags, the child sees only this.
    const env = {
      ...process.env,
      PREAU_DATA_DIR: settings.dataDir,
      DATABASE_URL: settings.databaseUrl,
      PREAU_BACKUP_DIR: backupDir,
      PREAU_BACKUP_KEEP: String(settings.backupKeep),
      PREAU_PG_BIN_DIR: settings.pgBinDir,
      ...(settings.backupWalDir ? { PREAU_BACKUP_WAL_DIR: settings.backupWalDir } : {}),
    };
    const proc = spawn(process.execPath, [...execArgv, file, 'backup'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    if (proc.pid) {
      try {
        setPriority(proc.pid, BACKUP_NICENESS);
      } catch {
        // not allowed here: the backup runs at normal priority
      }
    }
    let out = '';
    let err = '';
    proc.stdout.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-4000)));
    proc.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    const limit = setTimeout(() => proc.kill('SIGTERM'), intervalMs);
    limit.unref();
    proc.once('close', (code, signal) => {
      clearTimeout(limit);
      child = undefined;
      const log = { backupDir, durationMs: Date.now() - startedMs, exitCode: code, signal, output: out.trim(), errors: err.trim() || undefined };
      if (code === 0) logger.info(log, 'sauvegarde faite');
      else logger.error(log, 'la sauvegarde a échoué');
    });
    proc.once('error', (e) => logger.error({ err: e, backupDir }, 'la sauvegarde n’a pas pu démarrer'));
  };
  let stopped = false;
  let interval: NodeJS.Timeout | undefined;
  // The schedule outlives restarts: the first backup is due one interval after the newest one on
  // disk (a server restarted every half hour still backs up every hour), and never sooner than a
  // minute after boot.
  let firstTimer: NodeJS.Timeout | undefined;
  void newestBackupMs(backupDir).then((newestMs) => {
    if (stopped) return;
    const dueInMs = newestMs === undefined ? FIRST_BACKUP_MIN_DELAY_MS : newestMs + intervalMs - Date.now();
    firstTimer = setTimeout(
      () => {
        run();
        if (!stopped) (interval = setInterval(run, intervalMs)).unref();
      },
      Math.min(intervalMs, Math.max(FIRST_BACKUP_MIN_DELAY_MS, dueInMs)),
    );
    firstTimer.unref();
  });
  return {
    stop: () => {
      stopped = true;
      clearTimeout(firstTimer);
      clearInterval(interval);
      child?.kill('SIGTERM');
    },
  };
}

/** The first backup after boot waits at least this long (the server settles, the demo is created). */
const FIRST_BACKUP_MIN_DELAY_MS = 60_000;

async function newestBackupMs(backupDir: string): Promise<number | undefined> {
  const newest = (await listBackups(backupDir)).filter((b) => b.good).at(-1);
  const at = newest?.manifest ? Date.parse(newest.manifest.createdAt) : Number.NaN;
  return Number.isFinite(at) ? at : undefined;
}
