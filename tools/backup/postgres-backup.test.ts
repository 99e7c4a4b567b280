import { Writable } from 'node:stream';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { defaultConfig, loadConfig } from '../../src/config/config.js';
import { backupCommand } from './backup.cli.js';
import { MIGRATION_NAMES } from '../../src/storage/db.js';
import { PG_BIN, PgCluster, pgBinariesAvailable } from '../../test/support/pg-cluster.js';
import { takePostgresBackup, walFileName } from './postgres.js';
import { walToKeepFrom } from './retention.js';
import { backupWarnings, scheduleBackups, type BackupSettings } from './schedule.js';
import { createLogger } from '../../src/platform/logger.js';

/**
 * `preau backup | restore-drill | restore` with DATABASE_URL=postgres://… as an operator runs them
 * (real processes, real exit codes), on one throwaway cluster of this file's own (port 47311,
 * archiving to a folder of its own) shared by every test.
 */
const PORT = 47311;
const available = pgBinariesAvailable();
const work = mkdtempSync(path.join(tmpdir(), 'preau-pg-backup-'));
const cluster = new PgCluster(path.join(work, 'site-a'), PORT);
const archive = path.join(work, 'archive-site-b');
const backups = path.join(work, 'hors-site');
const url = `postgres://postgres@127.0.0.1:${PORT}/postgres`;
afterAll(() => rmSync(work, { recursive: true, force: true }));

const env = (more: Record<string, string> = {}) => ({ LOG_LEVEL: 'warn', DATABASE_URL: url, PREAU_BACKUP_DIR: backups, PREAU_BACKUP_WAL_DIR: archive, PREAU_PG_BIN_DIR: PG_BIN, ...more });

/** `preau <command>` in this process (no tsx start-up per case; the real child process is the schedule's, last): `preau <command> <args>` with env-only configuration. */
async function preau(args: string[], more: Record<string, string> = {}): Promise<{ status: number; stdout: string; stderr: string }> {
  const [command, ...rest] = args as ['backup' | 'restore' | 'restore-drill', ...string[]];
  let stdout = '';
  let stderr = '';
  const out = new Writable({ write: (c: Buffer, _e, cb) => ((stdout += c.toString()), cb()) }) as unknown as NodeJS.WriteStream;
  const err = new Writable({ write: (c: Buffer, _e, cb) => ((stderr += c.toString()), cb()) });
  const config = loadConfig(Object.fromEntries(Object.entries(env(more)).filter(([, v]) => v !== '')), []);
  const status = await backupCommand(command, rest, config, { out, err });
  return { status, stdout, stderr };
}

describe.skipIf(!available)('PostgreSQL backups with preau backup / restore-drill / restore', () => {
  beforeAll(async () => {
    cluster.ownedDir(work);
    cluster.ownedDir(archive);
    cluster.run('initdb', ['-D', cluster.dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
    appendFileSync(
      path.join(cluster.dataDir, 'postgresql.conf'),
      ['wal_level = replica', 'archive_mode = on', `archive_command = 'test ! -f ${archive}/%f && cp %p ${archive}/%f'`, 'max_wal_senders = 4', 'shared_buffers = 16MB', 'fsync = off', 'dynamic_shared_memory_type = mmap', ''].join('\n'),
    );
    cluster.start();
    await cluster.query(`create table handins (id serial primary key, pupil text not null, note numeric)`);
    await cluster.query(`insert into handins (pupil, note) select 'élève-' || g, g / 7.0 from generate_series(1, 500) g`);
    await cluster.query(`create table kysely_migration (name text primary key, timestamp text not null)`);
    await cluster.query(`insert into kysely_migration values ('${MIGRATION_NAMES[0]}', 'x')`);
  }, 120_000);
  afterAll(() => {
    try {
      cluster.stop('immediate');
    } catch {
      // not started
    }
  });

  it('backup while pupils write, then the drill restores it to the snapshot and finds every count and checksum (BONNE, exit 0)', async () => {
    // Writes all along the backup: the manifest's snapshot and the recovery target must still agree.
    let writing = true;
    const writer = (async () => {
      const c = cluster.client();
      await c.connect();
      let n = 0;
      while (writing) await c.query(`insert into handins (pupil) values ('pendant-${n++}')`);
      await c.end();
      return n;
    })();
    const r = await preau(['backup']);
    writing = false;
    expect(await writer).toBeGreaterThan(0);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Sauvegarde faite : .*hors-site\/preau-\d{4}-/);
    expect(r.stdout).toMatch(/tables de Préau \(postgres\.public\) : 2, [\d\s ]+ lignes, instantané au LSN [0-9A-F]+\/[0-9A-F]+/);
    const [id] = readdirSync(backups).filter((n) => n.startsWith('preau-'));
    expect(readdirSync(path.join(backups, id!)).sort()).toEqual(['backup_manifest', 'base.tar.gz', 'manifest.json', 'pg_wal.tar.gz']);

    const good = await preau(['restore-drill', 'latest']);
    expect(good.stderr).toBe('');
    expect(good.stdout).toContain('✓ pg_verifybackup');
    expect(good.stdout).toContain('✓ nombres de lignes conformes au manifeste (2 tables');
    expect(good.stdout).toContain('✓ empreintes du contenu de chaque table conformes au manifeste');
    expect(good.stdout).toContain('Verdict : BONNE');
    expect(good.status).toBe(0);
    // The scratch cluster is gone.
    expect(readdirSync(tmpdir()).filter((n) => n.startsWith('preau-exercice-pg-'))).toEqual([]);
  }, 180_000);

  it('a tampered manifest or a tampered file makes the drill MAUVAISE (exit 1), saying what is wrong', async () => {
    const [id] = readdirSync(backups).filter((n) => n.startsWith('preau-'));
    const manifestFile = path.join(backups, id!, 'manifest.json');
    const original = readFileSync(manifestFile, 'utf8');
    try {
      // One row more than the backup holds, and another table's checksum changed (same count, other values).
      const m = JSON.parse(original) as { database: { tables: Record<string, number>; checksums: Record<string, string> } };
      m.database.tables.handins! += 1;
      m.database.checksums.kysely_migration = '12345';
      writeFileSync(manifestFile, JSON.stringify(m));
      const bad = await preau(['restore-drill', 'latest']);
      expect(bad.stdout).toMatch(/✗ nombres de lignes différents du manifeste : handins \d+ au lieu de \d+\n/);
      expect(bad.stdout).toContain('✗ contenu différent du manifeste (mêmes nombres de lignes, autres valeurs) : kysely_migration\n');
      expect(bad.stdout).toContain('Verdict : MAUVAISE');
      expect(bad.status).toBe(1);

      // A flipped byte in the base backup: refused before any cluster starts.
      writeFileSync(manifestFile, original);
      const base = path.join(backups, id!, 'base.tar.gz');
      const bytes = readFileSync(base);
      bytes[bytes.length >> 1] = bytes[bytes.length >> 1]! ^ 0xff;
      writeFileSync(base, bytes);
      // The drill follows the backup, whatever DATABASE_URL says (a spare machine has none of its own).
    const flipped = await preau(['restore-drill', 'latest'], { DATABASE_URL: `sqlite:${path.join(work, 'sans-objet.sqlite')}` });
      expect(flipped.stdout).toContain('base.tar.gz : empreinte SHA-256 différente de celle du manifeste (fichier altéré)');
      expect(flipped.status).toBe(1);
      bytes[bytes.length >> 1] = bytes[bytes.length >> 1]! ^ 0xff;
      writeFileSync(base, bytes);
    } finally {
      writeFileSync(manifestFile, original);
    }
  }, 180_000);

  it('retention keeps PREAU_BACKUP_KEEP base backups and cleans the archive up to the oldest one kept', async () => {
    const [first] = readdirSync(backups).filter((n) => n.startsWith('preau-'));
    const firstStart = (JSON.parse(readFileSync(path.join(backups, first!, 'manifest.json'), 'utf8')) as { database: { startWal: string } }).database.startWal;
    expect(readdirSync(archive)).toContain(firstStart);
    const r = await preau(['backup'], { PREAU_BACKUP_KEEP: '1' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const kept = readdirSync(backups).filter((n) => n.startsWith('preau-'));
    expect(kept).toHaveLength(1);
    expect(kept[0]).not.toBe(first);
    const m = JSON.parse(readFileSync(path.join(backups, kept[0]!, 'manifest.json'), 'utf8')) as { database: { startWal: string } };
    const after = readdirSync(archive).filter((n) => /^[0-9A-F]{24}$/.test(n));
    expect(after).not.toContain(firstStart);
    expect(after.every((n) => n >= m.database.startWal)).toBe(true);
    expect(after).toContain(m.database.startWal);
    expect(r.stdout).toMatch(/1 ancienne\(s\) supprimée\(s\) .* [1-9]\d* fichier\(s\) de l’archive des journaux supprimé\(s\)/);
  }, 120_000);

  it('a write transaction that will not end: the snapshot gives up after its lock timeout, the writer is not harmed, no backup is left', async () => {
    const writer = cluster.client();
    await writer.connect();
    try {
      await writer.query('begin');
      await writer.query(`insert into handins (pupil) values ('longue-transaction')`);
      const before = readdirSync(backups).filter((n) => n.startsWith('preau-'));
      await expect(takePostgresBackup({ databaseUrl: url, backupDir: backups, walDir: archive, pgBinDir: PG_BIN, keep: 5, snapshotLockTimeoutMs: 200 })).rejects.toThrow(
        'les tables de Préau n’ont pas pu être figées en 200 ms (une longue transaction en cours ?) : réessayez',
      );
      expect(readdirSync(backups).filter((n) => n.startsWith('preau-'))).toEqual(before);
      await writer.query('commit');
    } finally {
      await writer.end();
    }
  }, 60_000);

  it('restore prepares a new data directory and says what to do; never over existing data, never without --into', async () => {
    const into = path.join(work, 'site-b-data');
    const r = await preau(['restore', 'latest', '--into', into]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`Dossier de données préparé : ${into}`);
    expect(r.stdout).toContain('pg_ctl -D');
    expect(existsSync(path.join(into, 'recovery.signal'))).toBe(true);
    expect(readFileSync(path.join(into, 'postgresql.auto.conf'), 'utf8')).toContain(`restore_command = 'cp ${archive}/%f %p'`);

    const again = await preau(['restore', 'latest', '--into', into]);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain('n’est pas vide');
    const noInto = await preau(['restore', 'latest']);
    expect(noInto.status).toBe(2);
    expect(noInto.stderr).toContain('avec PostgreSQL, donnez --into DIR');
    const force = await preau(['restore', 'latest', '--into', path.join(work, 'x'), '--force']);
    expect(force.status).toBe(2);
    expect(force.stderr).toContain('--force n’existe pas avec PostgreSQL');
  }, 120_000);

  it('bad input: missing tools, no WAL archive, the snapshot’s segment gone from the archive — exit 1 with the reason, nothing written', async () => {
    const count = () => readdirSync(backups).length;
    const n = count();
    const noTools = await preau(['backup'], { PREAU_PG_BIN_DIR: path.join(work, 'nulle-part') });
    expect(noTools.status).toBe(1);
    expect(noTools.stderr).toContain(`Sauvegarde impossible : outil(s) PostgreSQL introuvable(s) : ${path.join(work, 'nulle-part', 'pg_basebackup')}`);
    const noArchive = await preau(['backup'], { PREAU_BACKUP_WAL_DIR: '' });
    expect(noArchive.status).toBe(1);
    expect(noArchive.stderr).toContain('aucune archive des journaux : donnez PREAU_BACKUP_WAL_DIR');
    const multiHost = await preau(['backup'], { DATABASE_URL: `postgres://postgres@127.0.0.1:${PORT},127.0.0.2:${PORT}/postgres` });
    expect(multiHost.status).toBe(1);
    expect(multiHost.stderr).toContain('Sauvegarde impossible : DATABASE_URL n’est pas une URL postgres://utilisateur@hôte:port/base');
    const drillNoTools = await preau(['restore-drill', 'latest'], { PREAU_PG_BIN_DIR: path.join(work, 'nulle-part') });
    expect(drillNoTools.status).toBe(1);
    expect(drillNoTools.stderr).toContain('Exercice impossible : outil(s) PostgreSQL introuvable(s)');
    // The archive lost the snapshot's segment: the backup cannot be brought to its snapshot.
    const [id] = readdirSync(backups).filter((x) => x.startsWith('preau-'));
    const { snapshotWal } = (JSON.parse(readFileSync(path.join(backups, id!, 'manifest.json'), 'utf8')) as { database: { snapshotWal: string } }).database;
    renameSync(path.join(archive, snapshotWal), path.join(work, snapshotWal));
    try {
      const lost = await preau(['restore-drill', 'latest']);
      expect(lost.stdout).toContain(`✗ segment ${snapshotWal} absent de l’archive ${archive}`);
      writeFileSync(path.join(archive, snapshotWal), Buffer.alloc(393_216)); // what an interrupted `cp` leaves
      const partial = await preau(['restore-drill', 'latest']);
      expect(partial.stdout).toContain(`✗ segment ${snapshotWal} incomplet (393216 octets) de l’archive ${archive}`);
      rmSync(path.join(archive, snapshotWal));
      expect(lost.status).toBe(1);
    } finally {
      renameSync(path.join(work, snapshotWal), path.join(archive, snapshotWal));
    }
    expect(count()).toBe(n);
  }, 60_000);

  // Last: its retention cleans the shared archive up to its own backup (one archive, one backup folder).
  it('the server’s schedule takes PostgreSQL backups too (the same `preau backup` child, with the archive and tools passed on)', async () => {
    const lines: string[] = [];
    const logger = createLogger('info', new Writable({ write: (chunk: Buffer, _e, cb) => (lines.push(chunk.toString()), cb()) }));
    const backupDir = path.join(work, 'planifiées');
    const realSetTimeout = globalThis.setTimeout;
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    const s = scheduleBackups({ ...defaultConfig(), databaseUrl: url, publicUrl: 'http://127.0.0.1:3000', backupDir, backupWalDir: archive, pgBinDir: PG_BIN, backupEveryMinutes: 5, backupKeep: 3 }, logger);
    try {
      for (let i = 0; i < 500 && vi.getTimerCount() === 0; i++) await new Promise((r) => realSetTimeout(r, 20));
      vi.advanceTimersByTime(60_000);
      for (let i = 0; i < 3000 && !lines.some((l) => /sauvegarde faite|la sauvegarde a échoué/.test(l)); i++) await new Promise((r) => realSetTimeout(r, 20));
      const done = lines.find((l) => l.includes('sauvegarde faite'));
      expect(done, lines.join('\n')).toContain('instantané au LSN');
      expect(readdirSync(backupDir).filter((n) => n.startsWith('preau-'))).toHaveLength(1);
    } finally {
      s.stop();
      vi.useRealTimers();
    }
  }, 120_000);
});

describe('PostgreSQL backup pieces', () => {
  it('WAL file names: timeline, then the LSN’s segment (16 MiB and 1 GiB segments)', () => {
    expect(walFileName(1, '0/3000060', 16 << 20)).toBe('000000010000000000000003');
    expect(walFileName(2, '1/FF000000', 16 << 20)).toBe('0000000200000001000000FF');
    expect(walFileName(1, '5/40000000', 1 << 30)).toBe('000000010000000500000001');
  });

  it('the archive is kept from the oldest kept PostgreSQL backup, and not cleaned while a kept manifest is unreadable', () => {
    const pgManifest = (startWal: string) => ({ database: { engine: 'postgresql', startWal } }) as never;
    expect(walToKeepFrom([{ good: true, manifest: pgManifest('000000010000000000000004') }, { good: true, manifest: pgManifest('000000010000000000000009') }])).toBe('000000010000000000000004');
    expect(walToKeepFrom([{ good: false, manifest: pgManifest('000000010000000000000002') }, { good: true, manifest: pgManifest('000000010000000000000009') }])).toBe('000000010000000000000009');
    expect(walToKeepFrom([{ good: false, manifest: undefined }, { good: true, manifest: pgManifest('000000010000000000000009') }])).toBeUndefined();
  });

  it('start-up warnings: no WAL archive, missing tools, backup folders on the database’s disk', async () => {
    const dataDirectory = mkdtempSync(path.join(work, 'pgdata-'));
    const settings: BackupSettings = { ...defaultConfig(), databaseUrl: 'postgres://u@h/db', publicUrl: 'http://127.0.0.1:3000', backupDir: path.join(work, 'même-disque'), backupWalDir: path.join(work, 'wal-même-disque'), pgBinDir: PG_BIN };
    mkdirSync(settings.backupWalDir!, { recursive: true });
    const w = await backupWarnings(settings, {}, { archiveMode: 'on', dataDirectory });
    expect(w).toEqual([
      `le dossier de sauvegarde ${settings.backupDir} est sur le même disque que les données (${dataDirectory}) : une panne ou un incendie emporterait les deux ; montez-y un disque d’un autre site`,
      `l’archive des journaux ${settings.backupWalDir} est sur le même disque que les données (${dataDirectory}) : une panne ou un incendie emporterait les deux ; montez-y un disque d’un autre site`,
    ]);
    const w2 = await backupWarnings({ ...settings, backupWalDir: undefined, pgBinDir: path.join(work, 'nulle-part') }, {}, { archiveMode: 'off' });
    expect(w2).toEqual([
      expect.stringContaining('PostgreSQL n’archive pas ses journaux (archive_mode = off)'),
      expect.stringContaining('PREAU_BACKUP_WAL_DIR manquant'),
      expect.stringContaining(`outil(s) PostgreSQL introuvable(s) : ${path.join(work, 'nulle-part', 'pg_basebackup')}`),
    ]);
    expect(await backupWarnings({ ...settings, backupDir: undefined }, { NODE_ENV: 'production' }, { archiveMode: 'on' })).toEqual([expect.stringContaining('aucune sauvegarde de base planifiée (PREAU_BACKUP_DIR)')]);
  });
});
