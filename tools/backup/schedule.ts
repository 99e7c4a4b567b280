/**
 * The server's side of backups: what is wrong with the backup configuration (said at start-up),
 * and the scheduled backups of the embedded store.
 */
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../../src/config/config.js';
import type { Logger } from '../../src/platform/logger.js';
import { takeBackup } from './backup.js';

export type BackupSettings = Pick<Config, 'backupDir' | 'backupEveryMinutes' | 'backupKeep' | 'dataDir' | 'databaseUrl' | 'publicUrl'>;

/** The SQLite file of `sqlite:<file>`, or undefined for PostgreSQL. */
export function sqliteFileOf(databaseUrl: string): string | undefined {
  return databaseUrl.startsWith('sqlite:') ? databaseUrl.slice('sqlite:'.length) : undefined;
}

/** A deployment for real people: NODE_ENV=production, or served over https. */
export function isProduction(settings: Pick<Config, 'publicUrl'>, env: NodeJS.ProcessEnv): boolean {
  return env.NODE_ENV === 'production' || settings.publicUrl.startsWith('https:');
}

/**
 * What the operator must know about backups at start-up, in French, one sentence each (empty: all
 * is well). The backup folder is created if missing, so its device can be compared with the data's:
 * a backup on the data's disk burns with it.
 */
export async function backupWarnings(settings: BackupSettings, env: NodeJS.ProcessEnv): Promise<string[]> {
  const sqliteFile = sqliteFileOf(settings.databaseUrl);
  if (!sqliteFile) {
    return settings.backupDir
      ? ['PREAU_BACKUP_DIR ne sauvegarde que le stockage embarqué (SQLite) : avec PostgreSQL, les sauvegardes sont celles de pgBackRest (voir docs/OPERATIONS.md, « Sauvegardes »)']
      : [];
  }
  if (!settings.backupDir) {
    return isProduction(settings, env) ? ['aucune sauvegarde configurée (PREAU_BACKUP_DIR) : un disque perdu, et toutes les données sont perdues ; voir docs/OPERATIONS.md, « Sauvegardes »'] : [];
  }
  try {
    await mkdir(settings.backupDir, { recursive: true });
  } catch (err) {
    return [`dossier de sauvegarde ${settings.backupDir} inaccessible (${(err as NodeJS.ErrnoException).code ?? String(err)}) : aucune sauvegarde ne sera faite`];
  }
  const data = await stat(path.dirname(path.resolve(sqliteFile)));
  const backups = await stat(settings.backupDir);
  if (data.dev === backups.dev) {
    return [`le dossier de sauvegarde ${settings.backupDir} est sur le même disque que les données (${path.dirname(path.resolve(sqliteFile))}) : une panne ou un incendie emporterait les deux ; montez-y un disque d’un autre site`];
  }
  return [];
}

/**
 * Backups every `backupEveryMinutes`, the first one that long after boot. One at a time (a backup
 * still running when the next is due skips it); a failure is logged and the next one tries again.
 */
export function scheduleBackups(settings: BackupSettings, logger: Logger): { stop(): void } {
  const sqliteFile = sqliteFileOf(settings.databaseUrl);
  const backupDir = settings.backupDir;
  if (!sqliteFile || !backupDir) return { stop: () => undefined };
  let running = false;
  const run = () => {
    if (running) {
      logger.warn('sauvegarde précédente encore en cours : celle-ci est sautée');
      return;
    }
    running = true;
    takeBackup({ databaseFile: sqliteFile, blobsDir: path.join(settings.dataDir, 'blobs'), backupDir, keep: settings.backupKeep })
      .then((r) => {
        const log = { backup: r.path, blobs: r.manifest.blobs.length, blobsCopied: r.blobsCopied, bytesCopied: r.bytesCopied, restarts: r.restarts, deleted: r.retention.deleted, durationMs: r.manifest.durationMs };
        if (r.manifest.corruptAtSource.length > 0) logger.error({ ...log, corruptAtSource: r.manifest.corruptAtSource }, 'sauvegarde faite, mais des fichiers sont corrompus dans les données et n’y sont pas');
        else logger.info(log, 'sauvegarde faite');
      })
      .catch((err: unknown) => logger.error({ err, backupDir }, 'la sauvegarde a échoué'))
      .finally(() => {
        running = false;
      });
  };
  const timer = setInterval(run, settings.backupEveryMinutes * 60_000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
