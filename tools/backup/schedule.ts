/**
 * The server's side of backups: what is wrong with the backup configuration (said at start-up),
 * and the scheduled backups of the embedded store.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, stat } from 'node:fs/promises';
import { setPriority } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { listBackups } from './retention.js';
import type { Config } from '../../src/config/config.js';
import type { Logger } from '../../src/platform/logger.js';

export type BackupSettings = Pick<Config, 'backupDir' | 'backupEveryMinutes' | 'backupKeep' | 'dataDir' | 'databaseUrl' | 'publicUrl' | 'departedRetentionDays'>;

/** The SQLite file of `sqlite:<file>`, or undefined for PostgreSQL. */
export function sqliteFileOf(databaseUrl: string): string | undefined {
  return databaseUrl.startsWith('sqlite:') ? databaseUrl.slice('sqlite:'.length) : undefined;
}

/** A deployment for real people: NODE_ENV=production, or served over https. */
export function isProduction(settings: Pick<Config, 'publicUrl'>, env: NodeJS.ProcessEnv): boolean {
  return env.NODE_ENV === 'production' || settings.publicUrl.startsWith('https:');
}

export const POSTGRES_BACKUPS = 'avec PostgreSQL, les sauvegardes sont l’archivage des journaux (archive_command) vers un second site et pg_basebackup (voir docs/OPERATIONS.md, « Sauvegardes »)';

/**
 * What the operator must know about backups at start-up, in French, one sentence each (empty: all
 * is well). The backup folder is created if missing, so its device can be compared with the data's:
 * a backup on the data's disk burns with it. `postgres.archiveMode`: the server's `archive_mode`, when on PostgreSQL.
 */
export async function backupWarnings(settings: BackupSettings, env: NodeJS.ProcessEnv, postgres: { archiveMode?: string } = {}): Promise<string[]> {
  const sqliteFile = sqliteFileOf(settings.databaseUrl);
  if (!sqliteFile) {
    const warnings: string[] = [];
    if (settings.backupDir) warnings.push(`PREAU_BACKUP_DIR ne sauvegarde que le stockage embarqué (SQLite) : ${POSTGRES_BACKUPS}`);
    if (postgres.archiveMode === 'off' && isProduction(settings, env)) warnings.push(`PostgreSQL n’archive pas ses journaux (archive_mode = off) : ${POSTGRES_BACKUPS}`);
    return warnings;
  }
  if (!settings.backupDir) {
    return isProduction(settings, env) ? ['aucune sauvegarde configurée (PREAU_BACKUP_DIR) : un disque perdu, et toutes les données sont perdues ; voir docs/OPERATIONS.md, « Sauvegardes »'] : [];
  }
  const warnings: string[] = [];
  // Purged people must not live on in backups for longer than the purge allows (pupils are minors).
  const keptDays = (settings.backupKeep * settings.backupEveryMinutes) / 1440;
  if (keptDays > settings.departedRetentionDays) {
    warnings.push(`les sauvegardes couvrent ${Math.ceil(keptDays)} jours (PREAU_BACKUP_KEEP × PREAU_BACKUP_EVERY_MINUTES), plus que la conservation après départ (${settings.departedRetentionDays} jours) : des personnes purgées y resteraient ; réduisez PREAU_BACKUP_KEEP`);
  }
  try {
    await mkdir(settings.backupDir, { recursive: true, mode: 0o700 });
  } catch (err) {
    return [...warnings, `dossier de sauvegarde ${settings.backupDir} inaccessible (${(err as NodeJS.ErrnoException).code ?? String(err)}) : aucune sauvegarde ne sera faite`];
  }
  const data = await stat(path.dirname(path.resolve(sqliteFile)));
  const backups = await stat(settings.backupDir);
  if (data.dev === backups.dev) {
    warnings.push(`le dossier de sauvegarde ${settings.backupDir} est sur le même disque que les données (${path.dirname(path.resolve(sqliteFile))}) : une panne ou un incendie emporterait les deux ; montez-y un disque d’un autre site`);
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
  const sqliteFile = sqliteFileOf(settings.databaseUrl);
  const backupDir = settings.backupDir;
  if (!sqliteFile || !backupDir) return { stop: () => undefined };
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
    const env = { ...process.env, PREAU_DATA_DIR: settings.dataDir, DATABASE_URL: settings.databaseUrl, PREAU_BACKUP_DIR: backupDir, PREAU_BACKUP_KEEP: String(settings.backupKeep) };
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
