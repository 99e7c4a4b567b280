import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { defaultConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/platform/logger.js';
import { backupWarnings, POSTGRES_BACKUPS, scheduleBackups, type BackupSettings } from './schedule.js';

const work = mkdtempSync(path.join(tmpdir(), 'preau-backup-schedule-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const dataDir = path.join(work, 'data');
mkdirSync(dataDir, { recursive: true });
const settings = (o: Partial<BackupSettings> = {}): BackupSettings => ({ ...defaultConfig(), dataDir, databaseUrl: `sqlite:${path.join(dataDir, 'preau.sqlite')}`, publicUrl: 'http://127.0.0.1:3000', ...o });

/** A folder on another device than the data (tmpfs), when this machine has one. */
const otherDevice = existsSync('/dev/shm') && statSync('/dev/shm').dev !== statSync(work).dev ? '/dev/shm' : undefined;

describe('backup warnings at start-up', () => {
  it('a backup folder on the data’s own disk is named as such', async () => {
    const w = await backupWarnings(settings({ backupDir: path.join(work, 'même-disque') }), {});
    expect(w).toHaveLength(1);
    expect(w[0]).toContain('est sur le même disque que les données');
    // Created, so that the operator sees it exists and its device could be compared.
    expect(existsSync(path.join(work, 'même-disque'))).toBe(true);
  });

  it.skipIf(!otherDevice)('a backup folder on another device: no warning', async () => {
    const dir = mkdtempSync(path.join(otherDevice!, 'preau-backup-'));
    try {
      expect(await backupWarnings(settings({ backupDir: dir }), {})).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('backups kept longer than the purge of departed people: a warning (pupils are minors)', async () => {
    const dir = path.join(work, 'longues');
    expect(await backupWarnings(settings({ backupDir: dir, backupKeep: 92, backupEveryMinutes: 1440, departedRetentionDays: 92 }), {})).not.toContainEqual(expect.stringContaining('conservation après départ'));
    const w = await backupWarnings(settings({ backupDir: dir, backupKeep: 93, backupEveryMinutes: 1440, departedRetentionDays: 92 }), {});
    expect(w).toContainEqual('les sauvegardes couvrent 93 jours (PREAU_BACKUP_KEEP × PREAU_BACKUP_EVERY_MINUTES), plus que la conservation après départ (92 jours) : des personnes purgées y resteraient ; réduisez PREAU_BACKUP_KEEP');
  });

  it('no backup configured: a warning in production (NODE_ENV or https), none on a developer’s machine', async () => {
    expect(await backupWarnings(settings(), {})).toEqual([]);
    expect((await backupWarnings(settings(), { NODE_ENV: 'production' }))[0]).toContain('aucune sauvegarde configurée (PREAU_BACKUP_DIR)');
    expect((await backupWarnings(settings({ publicUrl: 'https://ent.example.fr' }), {}))[0]).toContain('aucune sauvegarde configurée');
  });

  it('PostgreSQL: no WAL archive in production is a warning, and no base backup planned; nothing on a developer’s machine (more in postgres-backup.test.ts)', async () => {
    const pgUrl = 'postgres://u@h/db';
    expect(await backupWarnings(settings({ databaseUrl: pgUrl }), { NODE_ENV: 'production' }, { archiveMode: 'off' })).toEqual([
      `PostgreSQL n’archive pas ses journaux (archive_mode = off) : ${POSTGRES_BACKUPS}`,
      `aucune sauvegarde de base planifiée (PREAU_BACKUP_DIR) : ${POSTGRES_BACKUPS}`,
    ]);
    expect(await backupWarnings(settings({ databaseUrl: pgUrl }), {}, { archiveMode: 'off' })).toEqual([]);
  });

  it('a backup folder that cannot be created is a warning, not a crash', async () => {
    // Under a regular file: no folder can be made there.
    const file = path.join(work, 'un-fichier');
    writeFileSync(file, '');
    const w = await backupWarnings(settings({ backupDir: path.join(file, 'sauvegardes') }), {});
    expect(w).toEqual([expect.stringMatching(/^dossier de sauvegarde .* inaccessible \(ENOTDIR\) : aucune sauvegarde ne sera faite$/)]);
  });
});

describe('scheduled backups', () => {
  afterEach(() => vi.useRealTimers());
  const realSetTimeout = globalThis.setTimeout;
  const sleep = (ms: number) => new Promise((r) => realSetTimeout(r, ms));
  const until = async (what: () => boolean) => {
    for (let i = 0; i < 1500 && !what(); i++) await sleep(20);
    expect(what()).toBe(true);
  };
  const backupsIn = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((n) => n.startsWith('preau-')) : []);

  it('a `preau backup` child process a minute after boot, then every interval; logged; a failure is logged and the next one runs', async () => {
    const db = new BetterSqlite3(path.join(dataDir, 'preau.sqlite'));
    db.exec('create table t (x); insert into t values (1)');
    db.close();
    const lines: string[] = [];
    const logger = createLogger('info', new Writable({ write: (chunk: Buffer, _e, cb) => (lines.push(chunk.toString()), cb()) }));
    const backupDir = path.join(work, 'planifiées');
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    const s = scheduleBackups(settings({ backupDir, backupEveryMinutes: 5, backupKeep: 3 }), logger);
    await until(() => vi.getTimerCount() > 0); // the first one is planned once the newest backup on disk is known
    vi.advanceTimersByTime(60_000 - 1);
    expect(backupsIn(backupDir)).toHaveLength(0);
    vi.advanceTimersByTime(1);
    await until(() => lines.some((l) => l.includes('sauvegarde faite')));
    // The child's own summary is in the log line.
    expect(lines.find((l) => l.includes('sauvegarde faite'))).toContain('Sauvegarde faite : ');
    expect(backupsIn(backupDir)).toHaveLength(1);

    rmSync(path.join(dataDir, 'preau.sqlite'));
    vi.advanceTimersByTime(5 * 60_000);
    await until(() => lines.some((l) => l.includes('la sauvegarde a échoué')));
    s.stop();
    vi.advanceTimersByTime(60 * 60_000);
    await sleep(200);
    expect(backupsIn(backupDir)).toHaveLength(1);
  }, 120_000);

  it('after a restart, the next backup is due one interval after the newest one on disk', async () => {
    const db = new BetterSqlite3(path.join(dataDir, 'preau.sqlite'));
    db.exec('create table if not exists t (x)');
    db.close();
    const backupDir = path.join(work, 'planifiées'); // holds the backup just taken above
    const lines: string[] = [];
    const logger = createLogger('info', new Writable({ write: (chunk: Buffer, _e, cb) => (lines.push(chunk.toString()), cb()) }));
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    const s = scheduleBackups(settings({ backupDir, backupEveryMinutes: 5, backupKeep: 3 }), logger);
    try {
      await until(() => vi.getTimerCount() > 0);
      vi.advanceTimersByTime(60_000);
      await sleep(300);
      expect(lines).toEqual([]);
      vi.advanceTimersByTime(4 * 60_000);
      await until(() => lines.some((l) => l.includes('sauvegarde faite')));
      expect(backupsIn(backupDir)).toHaveLength(2);
    } finally {
      s.stop();
    }
  }, 120_000);
});
