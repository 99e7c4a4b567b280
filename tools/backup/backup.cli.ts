/**
 * `preau backup`, `preau restore <sauvegarde> [--into DIR] [--force]`,
 * `preau restore-drill <sauvegarde> [--scratch DIR]`. Exit codes: 0 done (drill: backup good),
 * 1 refused or failed (drill: backup bad), 2 wrong usage.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../../src/config/config.js';
import { BackupError, takeBackup } from './backup.js';
import { ManifestError } from './manifest.js';
import { terminalProgress } from './progress.js';
import { restoreBackup, restoreDrill, RestoreRefused, type DrillVerdict } from './restore.js';
import { listBackups } from './retention.js';
import { sqliteFileOf } from './schedule.js';
import { isPostgresPart, readManifest } from './manifest.js';
import { postgresRestoreDrill, preparePostgresRestore, takePostgresBackup } from './postgres.js';

export const BACKUP_USAGE =
  'usage : preau backup                              une sauvegarde maintenant dans PREAU_BACKUP_DIR (--backup-dir)\n' +
  '        preau restore <sauvegarde> [--into DIR] [--force]\n' +
  '                                                  restaure la base et les fichiers (dans le dossier des données, ou DIR) ;\n' +
  '                                                  PostgreSQL : --into DIR obligatoire, un dossier de données neuf à démarrer\n' +
  '        preau restore-drill <sauvegarde> [--scratch DIR]\n' +
  '                                                  restaure dans un dossier jetable et vérifie tout (code 0 : bonne, 1 : mauvaise)\n' +
  '  <sauvegarde> : le dossier d’une sauvegarde, son nom (preau-…) dans PREAU_BACKUP_DIR, ou « latest »\n';

interface Io {
  out: NodeJS.WriteStream;
  err: NodeJS.WritableStream;
}

/** The options a backup command owns (not configuration), and which take a value. */
export const BACKUP_OWN_FLAGS = ['--into', '--force', '--scratch'];

type Parsed = { positional: string[]; flags: Map<string, string | true> };

function parse(args: string[], allowed: Record<string, 'flag' | 'value'>): Parsed | string {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const kind = allowed[a];
    if (!kind) return `option inconnue ${a}`;
    if (kind === 'flag') flags.set(a, true);
    else {
      const v = args[i + 1];
      if (v === undefined || v.startsWith('--')) return `l’option ${a} attend un dossier`;
      flags.set(a, v);
      i++;
    }
  }
  return { positional, flags };
}

/** A backup given as a folder, as a name in the configured backup folder, or `latest` (the newest good one). */
async function resolveBackup(given: string, config: Config): Promise<string | undefined> {
  if ((await stat(given).catch(() => undefined))?.isDirectory()) return given;
  if (!config.backupDir || given.includes('/')) return undefined;
  if (given === 'latest') {
    const newest = (await listBackups(config.backupDir)).filter((b) => b.good).at(-1);
    return newest ? path.join(config.backupDir, newest.id) : undefined;
  }
  const candidate = path.join(config.backupDir, given);
  return (await stat(candidate).catch(() => undefined))?.isDirectory() ? candidate : undefined;
}

/** The one backup `restore` and `restore-drill` name (a folder, an id of the backup folder, or `latest`), or what is wrong with the arguments. */
async function backupNamed(positional: readonly string[], config: Config): Promise<string | { problem: string }> {
  const [given, extra] = positional;
  if (!given) return { problem: 'quelle sauvegarde ? donnez son dossier' };
  if (extra) return { problem: `argument inattendu « ${extra} »` };
  const found = await resolveBackup(given, config);
  return found ?? { problem: `sauvegarde introuvable : « ${given} »${config.backupDir ? ` (ni un dossier, ni une sauvegarde de ${config.backupDir})` : ''}` };
}

export async function backupCommand(command: 'backup' | 'restore' | 'restore-drill', args: string[], config: Config, io: Io): Promise<number> {
  const usage = (problem: string) => {
    io.err.write(`${problem}\n${BACKUP_USAGE}`);
    return 2;
  };
  const parsed = parse(args, command === 'restore' ? { '--into': 'value', '--force': 'flag' } : command === 'restore-drill' ? { '--scratch': 'value' } : {});
  if (typeof parsed === 'string') return usage(parsed);
  const databaseFile = sqliteFileOf(config.databaseUrl);
  if (!databaseFile) return postgresCommand(command, parsed, config, io, usage);
  const progress = terminalProgress(io.out);

  try {
    if (command === 'backup') {
      if (parsed.positional.length > 0) return usage(`argument inattendu « ${parsed.positional[0]} »`);
      if (!config.backupDir) return usage('aucun dossier de sauvegarde : donnez PREAU_BACKUP_DIR ou --backup-dir');
      const r = await takeBackup({ databaseFile, blobsDir: path.join(config.dataDir, 'blobs'), backupDir: config.backupDir, keep: config.backupKeep, progress });
      const total = Object.values(r.manifest.database.tables).reduce((a, b) => a + b, 0);
      io.out.write(
        `Sauvegarde faite : ${r.path}\n` +
          `  base : ${r.manifest.database.sizeBytes.toLocaleString('fr-FR')} octets, ${total.toLocaleString('fr-FR')} lignes, migration ${r.manifest.migrations.latest ?? 'aucune'}\n` +
          `  fichiers : ${r.manifest.blobs.length} (dont ${r.blobsCopied} nouveaux, ${r.bytesCopied.toLocaleString('fr-FR')} octets copiés)\n` +
          `  conservation : ${config.backupKeep} sauvegarde(s) ; ${r.retention.deleted.length} ancienne(s) supprimée(s)${r.retention.deleted.length ? ` (${r.retention.deleted.join(', ')})` : ''}\n`,
      );
      if (r.manifest.corruptAtSource.length > 0) {
        io.err.write(`Attention : ${r.manifest.corruptAtSource.length} fichier(s) des données ne correspondent plus à leur empreinte et ne sont pas dans la sauvegarde :\n${r.manifest.corruptAtSource.map((s) => `  ${s}\n`).join('')}`);
        return 1;
      }
      return 0;
    }

    const backupPath = await backupNamed(parsed.positional, config);
    if (typeof backupPath !== 'string') return usage(backupPath.problem);

    if (command === 'restore') {
      const into = parsed.flags.get('--into');
      const target = typeof into === 'string' ? { databaseFile: path.join(into, 'preau.sqlite'), blobsDir: path.join(into, 'blobs') } : { databaseFile, blobsDir: path.join(config.dataDir, 'blobs') };
      const r = await restoreBackup({ backupPath, ...target, force: parsed.flags.has('--force'), progress });
      io.out.write(
        `Restauration faite depuis ${backupPath} (du ${r.manifest.createdAt}, Préau ${r.manifest.preauVersion}) :\n` +
          `  base : ${target.databaseFile}\n  fichiers : ${r.manifest.blobs.length} dans ${target.blobsDir} (${r.blobsRestored} copiés)\n` +
          (r.setAside ? `  l’ancienne base est gardée : ${r.setAside}\n` : '') +
          'Au démarrage, Préau applique les migrations manquantes. Vérifiez avec : preau restore-drill <sauvegarde>\n',
      );
      return 0;
    }

    // The drill follows the backup, not DATABASE_URL: a PostgreSQL backup is drilled from any machine.
    const drilled = await readManifest(backupPath).catch(() => undefined);
    if (drilled && isPostgresPart(drilled.database)) return postgresCommand(command, parsed, config, io, usage);
    const scratch = parsed.flags.get('--scratch');
    io.out.write(`Exercice de restauration de ${backupPath}\n`);
    return report(await restoreDrill(backupPath, { ...(typeof scratch === 'string' ? { scratchParent: scratch } : {}), progress }), io);
  } catch (err) {
    if (err instanceof RestoreRefused) {
      io.err.write(`Restauration refusée : ${err.message}\n${err.problems.map((p) => `  ${p}\n`).join('')}`);
      return 1;
    }
    if (err instanceof BackupError || err instanceof ManifestError) {
      io.err.write(`${command === 'backup' ? 'Sauvegarde impossible' : 'Sauvegarde illisible'} : ${err.message}\n`);
      return 1;
    }
    throw err;
  } finally {
    progress.end();
  }
}

/** The drill's verdict, one line per check, and its exit code. */
function report(verdict: DrillVerdict, io: Io): number {
  io.out.write(`${verdict.lines.map((l) => `  ${l}`).join('\n')}\n`);
  io.out.write(verdict.ok ? 'Verdict : BONNE — cette sauvegarde se restaure et elle est complète.\n' : 'Verdict : MAUVAISE — cette sauvegarde ne permet pas une restauration fiable (voir ci-dessus).\n');
  return verdict.ok ? 0 : 1;
}

/**
 * The same three commands with DATABASE_URL=postgres://…: a base backup + the snapshot's manifest,
 * a drill on a scratch cluster, and a restore that prepares a data directory (see postgres.ts).
 */
async function postgresCommand(command: 'backup' | 'restore' | 'restore-drill', parsed: Parsed, config: Config, io: Io, usage: (problem: string) => number): Promise<number> {
  const progress = terminalProgress(io.out);
  const tools = { pgBinDir: config.pgBinDir, walDir: config.backupWalDir };
  try {
    if (command === 'backup') {
      if (parsed.positional.length > 0) return usage(`argument inattendu « ${parsed.positional[0]} »`);
      if (!config.backupDir) return usage('aucun dossier de sauvegarde : donnez PREAU_BACKUP_DIR ou --backup-dir');
      const r = await takePostgresBackup({ databaseUrl: config.databaseUrl, backupDir: config.backupDir, keep: config.backupKeep, progress, ...tools });
      const d = r.manifest.database;
      const total = Object.values(d.tables).reduce((a, b) => a + b, 0);
      io.out.write(
        `Sauvegarde faite : ${r.path}\n` +
          `  PostgreSQL ${d.serverVersion} : sauvegarde de base ${r.bytes.toLocaleString('fr-FR')} octets (compressée), à partir du segment ${d.startWal}\n` +
          `  tables de Préau (${d.database}.${d.schema}) : ${Object.keys(d.tables).length}, ${total.toLocaleString('fr-FR')} lignes, instantané au LSN ${d.snapshotLsn} (segment ${d.snapshotWal} archivé), migration ${r.manifest.migrations.latest ?? 'aucune'}\n` +
          `  conservation : ${config.backupKeep} sauvegarde(s) ; ${r.retention.deleted.length} ancienne(s) supprimée(s)${r.retention.deleted.length ? ` (${r.retention.deleted.join(', ')})` : ''} ; ${r.retention.walFilesDeleted} fichier(s) de l’archive des journaux supprimé(s)\n`,
      );
      return 0;
    }
    const backupPath = await backupNamed(parsed.positional, config);
    if (typeof backupPath !== 'string') return usage(backupPath.problem);
    const manifest = await readManifest(backupPath);
    if (!isPostgresPart(manifest.database) && command === 'restore-drill') {
      const scratch = parsed.flags.get('--scratch');
      io.out.write(`Exercice de restauration de ${backupPath}\n`);
      return report(await restoreDrill(backupPath, { ...(typeof scratch === 'string' ? { scratchParent: scratch } : {}), progress }), io);
    }
    if (!isPostgresPart(manifest.database)) return usage(`${backupPath} est une sauvegarde du stockage embarqué (SQLite) : restaurez-la avec DATABASE_URL=sqlite:…`);

    if (command === 'restore') {
      if (parsed.flags.has('--force')) return usage('--force n’existe pas avec PostgreSQL : Préau ne remplace jamais les données d’un cluster ; donnez --into DIR (un dossier neuf) et suivez les étapes affichées');
      const into = parsed.flags.get('--into');
      if (typeof into !== 'string') return usage('avec PostgreSQL, donnez --into DIR : un dossier de données neuf, que vous démarrerez');
      const { problems } = await preparePostgresRestore({ backupPath, manifest, into, progress, ...tools });
      if (problems.length > 0) {
        io.err.write(`Restauration refusée :\n${problems.map((p) => `  ${p}\n`).join('')}`);
        return 1;
      }
      io.out.write(
        `Dossier de données préparé : ${into} (sauvegarde du ${manifest.createdAt}, PostgreSQL ${manifest.database.serverVersion}), vérifié par pg_verifybackup.\n` +
          'À faire, dans l’ordre :\n' +
          `  1. arrêter l’ancien cluster s’il tourne encore (ou Patroni) ; n’y rien démarrer par-dessus\n` +
          `  2. chown -R postgres:postgres ${into} ; chmod 700 ${into}\n` +
          (tools.walDir ? `  3. l’archive ${tools.walDir} doit être lisible par postgres à ce chemin (restore_command dans postgresql.auto.conf)\n` : '  3. ajoutez restore_command = \'cp /chemin/de/l/archive/%f %p\' dans postgresql.auto.conf (sans archive, la restauration s’arrête à la fin de la sauvegarde de base)\n') +
          '  4. pour s’arrêter avant une erreur : recovery_target_time dans postgresql.auto.conf (sinon toute l’archive est rejouée)\n' +
          `  5. pg_ctl -D ${into} start (ou pointer le service dessus) : PostgreSQL rejoue l’archive puis accepte les écritures\n` +
          '  6. rétablir archive_mode/archive_command vers une NOUVELLE archive, faire aussitôt une sauvegarde (preau backup) et un exercice (preau restore-drill latest)\n',
      );
      return 0;
    }

    const scratch = parsed.flags.get('--scratch');
    io.out.write(`Exercice de restauration de ${backupPath} (PostgreSQL)\n`);
    return report(await postgresRestoreDrill(backupPath, manifest, { ...tools, ...(typeof scratch === 'string' ? { scratchParent: scratch } : {}), progress }), io);
  } catch (err) {
    if (err instanceof BackupError || err instanceof ManifestError) {
      io.err.write(`${command === 'backup' ? 'Sauvegarde impossible' : command === 'restore' ? 'Restauration impossible' : 'Exercice impossible'} : ${err.message}\n`);
      return 1;
    }
    throw err;
  } finally {
    progress.end();
  }
}
