#!/usr/bin/env node
/**
 * `preau <command>`: the command-line entry. `serve` (default) runs the server; the others
 * are operator tools that work on the same configured database.
 */
import { ConfigError, configHelp, loadConfig } from './config/config.js';
import { systemClock } from './platform/clock.js';
import { createLogger } from './platform/logger.js';
import { migrateToLatest, openStorage } from './storage/db.js';
import { IdentityRepository, purgeDeparted } from './modules/identity/index.js';
import { forgetPendingLinksOf } from './modules/schools/index.js';
import { DocumentsRepository, DocumentsService, TRASH_RETENTION_DAYS } from './modules/documents/index.js';
import { openBlobStore } from './storage/blobs/open-blob-store.js';
import { ORPHAN_BLOB_GRACE_MS, sweepOrphanBlobs } from './storage/blobs/orphan-sweep.js';
import { NotificationsRepository, purgeNotifications } from './modules/notifications/index.js';
import { purgeEngagement } from './modules/engagement/index.js';

const HELP = `Préau — espace numérique de travail

Utilisation : preau [commande] [options]

Commandes :
  serve                      démarre le serveur (par défaut)
  import-aaf <dossier|fichiers…> [--full]
                             importe un flux AAF (annuaire académique) ; --full : flux complet,
                             les personnes absentes sont marquées parties
  purge                      supprime les comptes partis depuis plus de la durée de conservation,
                             les corbeilles de documents anciennes, les envois de fichiers expirés,
                             les notifications plus anciennes que leur durée de conservation
                             et les fichiers que plus rien ne référence
  drill [options]            l’exercice du matin de crise sur un Préau à lui (voir : drill --help)
  backup                     une sauvegarde maintenant dans PREAU_BACKUP_DIR : base SQLite et fichiers,
                             ou avec PostgreSQL une sauvegarde de base (pg_basebackup ; archive PREAU_BACKUP_WAL_DIR)
  restore <sauvegarde> [--into DIR] [--force]
                             restaure une sauvegarde vérifiée (refuse d’écraser des données sans --force) ;
                             PostgreSQL : prépare un dossier de données neuf DIR et dit quoi faire
  restore-drill <sauvegarde> [--scratch DIR]
                             restaure dans un dossier jetable (PostgreSQL : un cluster jetable qui rejoue
                             l’archive), vérifie lignes, empreintes et migrations ;
                             code de sortie 0 si la sauvegarde est bonne, 1 sinon
  help                       affiche cette aide

Options (ou variables d’environnement) :
${configHelp()}
`;

/** Options of a subcommand that are not configuration (e.g. `--full`) are passed to it, not to the config. */
function splitArgs(args: string[], own: string[]): { own: string[]; config: string[] } {
  const out = { own: [] as string[], config: [] as string[] };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('--') || own.includes(a)) out.own.push(a);
    else {
      out.config.push(a);
      if (!a.includes('=') && i + 1 < args.length && !args[i + 1]!.startsWith('--')) out.config.push(args[++i]!);
    }
  }
  return out;
}

async function run(argv: string[]): Promise<number> {
  const [command = 'serve', ...rest] = argv[0]?.startsWith('--') ? ['serve', ...argv] : argv;
  // The drill has its own options and help (it starts its own Préau: no configuration here).
  if (command === 'drill') {
    const { drillCommand } = await import('../tools/drill/drill.js');
    return drillCommand(rest);
  }
  if (command === 'help' || command === '--help' || rest.includes('--help')) {
    process.stdout.write(HELP);
    return 0;
  }
  switch (command) {
    case 'serve': {
      const { serve } = await import('./main.js');
      await serve(loadConfig(process.env, rest));
      return -1; // keeps running
    }
    case 'import-aaf': {
      const args = splitArgs(rest, ['--full']);
      const config = loadConfig(process.env, args.config);
      const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
      const storage = await openStorage(config.databaseUrl);
      try {
        await migrateToLatest(storage.db);
        const { importAafCommand } = await import('./modules/schools/aaf/aaf.cli.js');
        return await importAafCommand(args.own, { storage, logger, clock: systemClock, out: process.stdout });
      } finally {
        await storage.close();
      }
    }
    case 'purge': {
      const config = loadConfig(process.env, rest);
      const storage = await openStorage(config.databaseUrl);
      try {
        await migrateToLatest(storage.db);
        const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
        const { purged, expiredSessions } = await purgeDeparted(new IdentityRepository(storage.db), systemClock, config.departedRetentionDays, logger, (j) => forgetPendingLinksOf(storage.db, j));
        const notifications = await purgeNotifications(new NotificationsRepository(storage.db, storage.capabilities), systemClock, config.notificationRetentionDays);
        process.stdout.write(`${purged} compte(s) parti(s) depuis plus de ${config.departedRetentionDays} jours supprimé(s) ; ${expiredSessions} session(s) expirée(s) supprimée(s) ; ${notifications} notification(s) de plus de ${config.notificationRetentionDays} jours supprimée(s).\n`);
        const signals = await purgeEngagement(storage, systemClock);
        process.stdout.write(`Suivi du décrochage : ${signals} ligne(s) de plus d’un an (année scolaire passée) supprimée(s).\n`);
        const blobs = openBlobStore(config.blobStore, config.dataDir, storage.db);
        const documents = new DocumentsService(new DocumentsRepository(storage.db), blobs, systemClock);
        const docs = await documents.purge();
        process.stdout.write(`Documents : ${docs.trashed} élément(s) en corbeille depuis plus de ${TRASH_RETENTION_DAYS} jours et ${docs.uploads} envoi(s) expiré(s) supprimé(s).\n`);
        // Last: what the purges above let go is now unreferenced (and old enough) and goes with the other orphans.
        const orphans = await sweepOrphanBlobs(storage.db, blobs, Date.now());
        process.stdout.write(`${orphans.deleted} fichier(s) orphelin(s) supprimé(s) (référencés par rien depuis plus de ${ORPHAN_BLOB_GRACE_MS / 3600_000} heures).\n`);
        return 0;
      } finally {
        await storage.close();
      }
    }
    case 'backup':
    case 'restore':
    case 'restore-drill': {
      const { BACKUP_OWN_FLAGS, backupCommand } = await import('../tools/backup/backup.cli.js');
      const args = splitArgs(rest, BACKUP_OWN_FLAGS);
      const config = loadConfig(process.env, args.config);
      return backupCommand(command, args.own, config, { out: process.stdout, err: process.stderr });
    }
    default:
      process.stderr.write(`Commande inconnue « ${command} ».\n\n${HELP}`);
      return 2;
  }
}

run(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ConfigError) {
      process.stderr.write(`Préau ne peut pas démarrer.\n${err.message}\nVoir : npm run preau -- help\n`);
      process.exitCode = 78; // EX_CONFIG
      return;
    }
    process.stderr.write(`Erreur : ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
