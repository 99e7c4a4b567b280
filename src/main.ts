/**
 * Composition root for the server: read the configuration, open the store, create the demo
 * school on an empty database, listen, and shut down gracefully.
 */
import { pathToFileURL } from 'node:url';
import { sql } from 'kysely';
import { compose } from './compose.js';
import { ConfigError, loadConfig, type Config } from './config/config.js';
import { forgetPendingLinksOf } from './modules/schools/index.js';
import { backupWarnings, scheduleBackups, type PostgresFacts } from '../tools/backup/schedule.js';

/** Purge of departed people and expired sessions: daily, first run a minute after boot. */
const PURGE_INTERVAL_MS = 24 * 3_600_000;
const PURGE_FIRST_DELAY_MS = 60_000;
/** Past the drain delay and the grace period, the process exits anyway (close() itself cuts connections at the grace period). */
const SHUTDOWN_MARGIN_MS = 5_000;
/** The suivi's CPE digests are checked this often (each school's is sent once a day, after its configured time). */
const DIGEST_CHECK_INTERVAL_MS = 5 * 60_000;

export async function serve(config: Config): Promise<void> {
  const preau = await compose(config);
  const { logger } = preau;
  // Said at every start: backups missing, or on the data's own disk, are found before the fire.
  const setting = (name: 'archive_mode' | 'data_directory') =>
    sql<{ v: string }>`select current_setting(${name}) as v`.execute(preau.storage.db).then((r) => r.rows[0]?.v, () => undefined);
  const postgres: PostgresFacts = {};
  if (preau.storage.capabilities.backend === 'postgres') {
    const archiveMode = await setting('archive_mode');
    if (archiveMode !== undefined) postgres.archiveMode = archiveMode;
    const dataDirectory = await setting('data_directory'); // superusers and pg_read_all_settings only
    if (dataDirectory !== undefined) postgres.dataDirectory = dataDirectory;
  }
  const warnings = await backupWarnings(config, process.env, postgres);
  for (const warning of warnings) logger.warn({ backupDir: config.backupDir }, `sauvegardes : ${warning}`);
  if (preau.edge) preau.edge.controls.operatorNotices = warnings.map((w) => `Sauvegardes : ${w}`);

  let demoLogins: { profile: string; login: string; password: string }[] = [];
  if (config.demo === 'auto') {
    const { ensureDemoSchool } = await import('./demo/demo-school.js');
    demoLogins = await ensureDemoSchool(preau);
  }

  await preau.app.listen({ host: config.host, port: config.port });
  const address = preau.app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = config.publicUrl.replace(/:\d+$/, `:${port}`);
  logger.info({ url, backend: preau.storage.capabilities.backend }, 'Préau est prêt');
  process.stdout.write(`\nPréau est prêt : ${url}\n`);
  if (demoLogins.length > 0) {
    process.stdout.write('\nComptes de démonstration (établissement fictif) :\n');
    for (const d of demoLogins) process.stdout.write(`  ${d.profile.padEnd(32)} identifiant : ${d.login.padEnd(24)} mot de passe : ${d.password}\n`);
    process.stdout.write('\n');
  }

  const purge = () =>
    preau.identity
      .purgeDeparted(config.departedRetentionDays, (j) => forgetPendingLinksOf(preau.storage.db, j))
      // First answers kept for retries are only useful 24 h (see http/idempotency.ts).
      .then(() => preau.idempotency.deleteExpired(preau.clock.nowMs()))
      .then(() => preau.notifications.purge(config.notificationRetentionDays))
      // The suivi's signals are kept for the school year.
      .then(() => preau.engagement.purge())
      .catch((err: unknown) => logger.error({ err }, 'la purge a échoué'));
  const backups = scheduleBackups(config, logger);

  const first = setTimeout(purge, PURGE_FIRST_DELAY_MS);
  const daily = setInterval(purge, PURGE_INTERVAL_MS);
  first.unref();
  daily.unref();
  const digests = setInterval(() => {
    preau.engagement.sendDueDigests().catch((err: unknown) => logger.error({ err }, 'suivi : le résumé quotidien du CPE a échoué'));
  }, DIGEST_CHECK_INTERVAL_MS);
  digests.unref();

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, drainDelayMs: config.drainDelayMs, graceMs: config.shutdownGraceMs }, 'arrêt : « pas prêt » d’abord, puis plus de nouvelles requêtes, fin de celles en cours');
    const force = setTimeout(() => {
      logger.warn('arrêt forcé après le délai de grâce');
      process.exit(1);
    }, config.drainDelayMs + config.shutdownGraceMs + SHUTDOWN_MARGIN_MS);
    force.unref();
    clearTimeout(first);
    clearInterval(daily);
    backups.stop();
    clearInterval(digests);
    preau.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'arrêt en erreur');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

// `node dist/src/main.js` (npm start) runs the server directly.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    await serve(loadConfig(process.env, process.argv.slice(2)));
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`Préau ne peut pas démarrer.\n${err.message}\nVoir : npm run preau -- help\n`);
      process.exit(78);
    }
    throw err;
  }
}
