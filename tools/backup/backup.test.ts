import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPreau, type TestPreau } from '../../test/support/app.js';
import { JPEG_BYTES, multipart, PDF_BYTES } from '../../test/support/multipart.js';
import { MIGRATION_NAMES } from '../../src/storage/db.js';
import { describeDatabase, takeBackup, type BackupResult } from './backup.js';
import { DATABASE_FILE, MANIFEST_FILE, POOL_DIR, readManifest } from './manifest.js';
import { progressLine } from './progress.js';
import { restoreBackup, restoreDrill, RestoreRefused, verifyBackup } from './restore.js';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const poolFile = (backupDir: string, s: string) => path.join(backupDir, POOL_DIR, 'sha256', s.slice(0, 2), s.slice(2, 4), s);
const flipByte = (file: string, at: number) => {
  const bytes = readFileSync(file);
  bytes[at] = bytes[at]! ^ 0xff;
  writeFileSync(file, bytes);
};

describe('backup → restore → verify of the embedded store (SQLite + files)', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'preau-backup-test-'));
  const backupDir = path.join(work, 'hors-site');
  const liveDb = path.join(work, 'live', 'preau.sqlite');
  let t: TestPreau;
  let first: BackupResult;
  const essay = Buffer.concat([Buffer.from('%PDF-1.4\n'), randomBytes(200_000)]);

  beforeAll(async () => {
    t = await startTestPreau('sqlite', {}, {}, liveDb);
    const body = multipart([
      { name: 'text', value: 'Exercice 1 : 3/4' },
      { name: 'files', file: { fileName: 'photo.jpg', data: JPEG_BYTES, contentType: 'image/jpeg' } },
      { name: 'files', file: { fileName: 'exercices.pdf', data: PDF_BYTES } },
    ]);
    const res = await (await t.as('pupilA1')).request({ method: 'POST', url: '/api/v1/homework/hwMaths6A/handins', payload: body.payload, headers: body.headers });
    expect(res.statusCode, res.body).toBe(201);
    first = await takeBackup({ databaseFile: liveDb, blobsDir: path.join(t.preau.config.dataDir, 'blobs'), backupDir, keep: 10, nowMs: Date.UTC(2026, 10, 29, 8) });
  });
  afterAll(async () => {
    await t?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('writes a manifest: time, version, migration level, row counts, SHA-256 of the database and of every file', async () => {
    const m = await readManifest(first.path);
    expect(m).toEqual(first.manifest);
    expect(m.id).toBe('preau-2026-11-29T08-00-00-000Z');
    expect(m.createdAt).toBe('2026-11-29T08:00:00.000Z');
    expect(m.preauVersion).toMatch(/^\d+\.\d+\.\d+/);
    expect(m.migrations.applied).toEqual([...MIGRATION_NAMES]);
    expect(m.migrations.latest).toBe(MIGRATION_NAMES.at(-1));
    expect(m.database.sha256).toBe(sha(readFileSync(path.join(first.path, DATABASE_FILE))));
    expect(m.database.tables.handin_files).toBe(2);
    expect(m.database.tables.handins).toBe(1);
    // The counts are those of the copy, and the live database agrees (nothing written since).
    expect(m.database.tables).toEqual(describeDatabase(liveDb).tables);
    expect(m.blobs.map((b) => b.sha256).sort()).toEqual([sha(JPEG_BYTES), sha(PDF_BYTES)].sort());
    expect(m.blobs.find((b) => b.sha256 === sha(PDF_BYTES))?.sizeBytes).toBe(PDF_BYTES.length);
    expect(readFileSync(poolFile(backupDir, sha(JPEG_BYTES)))).toEqual(JPEG_BYTES);
    expect(first.blobsCopied).toBe(2);
    // Complete: no leftover of the writing, no -wal beside the copy.
    expect(readdirSync(backupDir).sort()).toEqual([POOL_DIR, m.id]);
    expect(readdirSync(first.path).sort()).toEqual([MANIFEST_FILE, DATABASE_FILE]);
    // Pupils' data: readable by the operator's account only.
    expect(statSync(backupDir).mode & 0o777).toBe(0o700);
    expect(statSync(first.path).mode & 0o777).toBe(0o700);
    expect(statSync(path.join(first.path, DATABASE_FILE)).mode & 0o777).toBe(0o600);
    expect(statSync(path.join(first.path, MANIFEST_FILE)).mode & 0o777).toBe(0o600);
  });

  it('copies only the files the off-site pool does not hold yet', async () => {
    const body = multipart([{ name: 'files', file: { fileName: 'rédaction.pdf', data: essay } }]);
    const res = await (await t.as('pupilA2')).request({ method: 'POST', url: '/api/v1/homework/hwMaths6A/handins', payload: body.payload, headers: body.headers });
    expect(res.statusCode, res.body).toBe(201);
    const second = await takeBackup({ databaseFile: liveDb, blobsDir: path.join(t.preau.config.dataDir, 'blobs'), backupDir, keep: 10, nowMs: Date.UTC(2026, 10, 29, 9) });
    expect(second.blobsCopied).toBe(1);
    expect(second.bytesCopied).toBe(essay.length);
    expect(second.manifest.blobs).toHaveLength(3);
    expect(second.manifest.database.tables.handins).toBe(2);
  });

  it('restores the database and the files into an empty directory, byte for byte, and they open', async () => {
    const into = path.join(work, 'restauré');
    const r = await restoreBackup({ backupPath: first.path, databaseFile: path.join(into, 'preau.sqlite'), blobsDir: path.join(into, 'blobs'), force: false });
    expect(r.setAside).toBeUndefined();
    expect(r.blobsRestored).toBe(2);
    expect(describeDatabase(path.join(into, 'preau.sqlite')).tables).toEqual(first.manifest.database.tables);
    const db = new BetterSqlite3(path.join(into, 'preau.sqlite'), { readonly: true });
    const files = db.prepare('select blob_sha256 from handin_files order by blob_sha256').pluck().all() as string[];
    db.close();
    expect(files).toEqual([sha(JPEG_BYTES), sha(PDF_BYTES)].sort());
    for (const s of files) expect(sha(readFileSync(path.join(into, 'blobs', 'sha256', s.slice(0, 2), s.slice(2, 4), s)))).toBe(s);
  });

  it('refuses to overwrite a data directory without --force; with it, keeps the old database aside', async () => {
    await expect(restoreBackup({ backupPath: first.path, databaseFile: liveDb, blobsDir: path.join(t.preau.config.dataDir, 'blobs'), force: false })).rejects.toThrow(/existe déjà.*--force/);
    const into = path.join(work, 'écrasé');
    const target = { databaseFile: path.join(into, 'preau.sqlite'), blobsDir: path.join(into, 'blobs') };
    await restoreBackup({ backupPath: first.path, ...target, force: false });
    const old = new BetterSqlite3(target.databaseFile);
    old.pragma('journal_mode = WAL');
    old.exec('create table traces (x); insert into traces values (1)');
    old.close();
    const r = await restoreBackup({ backupPath: first.path, ...target, force: true, nowMs: Date.UTC(2026, 10, 29, 10) });
    expect(r.setAside).toBe(`${target.databaseFile}.avant-restauration-2026-11-29T10-00-00-000Z`);
    expect(describeDatabase(r.setAside!).tables.traces).toBe(1);
    expect(describeDatabase(target.databaseFile).tables).toEqual(first.manifest.database.tables);
    // A journal left without its database is set aside too: replayed over the restored file, it would corrupt it.
    const leftover = path.join(work, 'journal-orphelin');
    const t2 = { databaseFile: path.join(leftover, 'preau.sqlite'), blobsDir: path.join(leftover, 'blobs') };
    mkdirSync(leftover);
    writeFileSync(`${t2.databaseFile}-wal`, randomBytes(4096));
    const r2 = await restoreBackup({ backupPath: first.path, ...t2, force: false, nowMs: Date.UTC(2026, 10, 29, 11) });
    expect(existsSync(`${t2.databaseFile}-wal`)).toBe(false);
    expect(existsSync(`${r2.setAside}-wal`)).toBe(true);
    expect(describeDatabase(t2.databaseFile).tables).toEqual(first.manifest.database.tables);
  });

  it('restore drill: a good backup passes every check', async () => {
    const verdict = await restoreDrill(first.path);
    expect(verdict.lines.filter((l) => l.startsWith('✗'))).toEqual([]);
    expect(verdict.ok).toBe(true);
    expect(verdict.lines.join('\n')).toMatch(/empreintes SHA-256 conformes : base \(\d+ octets\) et 2 fichier\(s\)/);
    expect(verdict.lines.join('\n')).toContain('nombres de lignes conformes au manifeste');
    expect(verdict.lines.join('\n')).toContain('chaque fichier référencé par la base est dans la sauvegarde');
    expect(verdict.lines.join('\n')).toContain(`schéma à jour (${MIGRATION_NAMES.at(-1)})`);
  });

  describe('a corrupted backup', () => {
    const copyOf = (name: string) => {
      // A backup of its own (own pool) to damage, leaving the others intact.
      const dir = path.join(work, name);
      const again = takeBackup({ databaseFile: liveDb, blobsDir: path.join(t.preau.config.dataDir, 'blobs'), backupDir: dir, keep: 1 });
      return again;
    };

    it('a flipped byte in a file: the drill fails naming the file, restore refuses and writes nothing', async () => {
      const b = await copyOf('abîmé-fichier');
      flipByte(poolFile(path.dirname(b.path), sha(essay)), 1000);
      const verdict = await restoreDrill(b.path);
      expect(verdict.ok).toBe(false);
      expect(verdict.lines.join('\n')).toContain(`fichier ${sha(essay)} : contenu différent de son empreinte (fichier altéré)`);
      const into = path.join(work, 'jamais');
      const err = await restoreBackup({ backupPath: b.path, databaseFile: path.join(into, 'preau.sqlite'), blobsDir: path.join(into, 'blobs'), force: false }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RestoreRefused);
      expect((err as RestoreRefused).problems).toHaveLength(1);
      expect(existsSync(into)).toBe(false);
    });

    it('a flipped byte in the database: the drill fails on its checksum', async () => {
      const b = await copyOf('abîmé-base');
      flipByte(path.join(b.path, DATABASE_FILE), 5000);
      const { problems } = await verifyBackup(b.path);
      expect(problems).toEqual(['base de données : empreinte SHA-256 différente de celle du manifeste (fichier altéré)']);
      const verdict = await restoreDrill(b.path);
      expect(verdict.ok).toBe(false);
      expect(verdict.lines[0]).toContain('✗ restauration refusée : la sauvegarde est altérée');
    });

    it('a missing file or a damaged manifest: the drill fails and says so', async () => {
      const b = await copyOf('abîmé-manque');
      rmSync(poolFile(path.dirname(b.path), sha(JPEG_BYTES)));
      const missing = await restoreDrill(b.path);
      expect(missing.ok).toBe(false);
      expect(missing.lines.join('\n')).toContain(`fichier ${sha(JPEG_BYTES)} absent de la réserve`);
      writeFileSync(path.join(b.path, MANIFEST_FILE), '{"format":1,');
      const broken = await restoreDrill(b.path);
      expect(broken.ok).toBe(false);
      expect(broken.lines[0]).toContain('n’est pas du JSON valide');
    });

    it('a backup whose database lost rows it lists: counts differ, the drill fails', async () => {
      const b = await copyOf('abîmé-lignes');
      // Rows deleted after the manifest was written, and the checksums forged to match: only the counts can tell.
      const file = path.join(b.path, DATABASE_FILE);
      const db = new BetterSqlite3(file);
      db.exec('delete from handin_files where rowid = (select min(rowid) from handin_files)');
      db.close();
      const manifest = JSON.parse(readFileSync(path.join(b.path, MANIFEST_FILE), 'utf8')) as { database: { sha256: string; sizeBytes: number } };
      manifest.database.sha256 = sha(readFileSync(file));
      manifest.database.sizeBytes = readFileSync(file).length;
      writeFileSync(path.join(b.path, MANIFEST_FILE), JSON.stringify(manifest));
      const verdict = await restoreDrill(b.path);
      expect(verdict.ok).toBe(false);
      expect(verdict.lines.join('\n')).toMatch(/nombres de lignes différents du manifeste : handin_files 2 au lieu de 3/);
    });
  });

  it('a file whose bytes no longer match its name at the source is left out and listed', async () => {
    const dataBlobs = path.join(t.preau.config.dataDir, 'blobs');
    const s = sha(PDF_BYTES);
    flipByte(path.join(dataBlobs, 'sha256', s.slice(0, 2), s.slice(2, 4), s), 3);
    const b = await takeBackup({ databaseFile: liveDb, blobsDir: dataBlobs, backupDir: path.join(work, 'source-abîmée'), keep: 1 });
    expect(b.manifest.corruptAtSource).toEqual([s]);
    expect(b.manifest.blobs.map((x) => x.sha256)).not.toContain(s);
    const verdict = await restoreDrill(b.path);
    expect(verdict.ok).toBe(false);
    expect(verdict.lines.join('\n')).toContain('fichier(s) référencé(s) par la base absent(s) de la sauvegarde');
    expect(verdict.lines.join('\n')).toContain(`corrompu(s) à la source, absents de la sauvegarde : ${s}`);
  });

  it('one backup at a time per backup folder', async () => {
    const dir = path.join(work, 'verrou');
    const opts = { databaseFile: liveDb, blobsDir: path.join(t.preau.config.dataDir, 'blobs'), backupDir: dir, keep: 3 };
    const results = await Promise.allSettled([takeBackup({ ...opts, nowMs: 1 }), takeBackup({ ...opts, nowMs: 2 })]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(String((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason)).toContain('une sauvegarde est déjà en cours');
    // A lock left by a process that is gone is taken over.
    writeFileSync(path.join(dir, '.lock'), `999999999@${(await import('node:os')).hostname()}`);
    await expect(takeBackup({ ...opts, nowMs: 3 })).resolves.toMatchObject({ id: 'preau-1970-01-01T00-00-00-003Z' });
  });
});

describe('a backup taken while writes go on', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'preau-backup-writes-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('is a consistent snapshot: every transaction is in it whole or not at all', async () => {
    const live = path.join(work, 'preau.sqlite');
    const db = new BetterSqlite3(live);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    // Each transaction adds two rows and moves the counter: a torn copy would break `total = count(*)`.
    db.exec('create table ledger (id integer primary key, pad blob); create table totals (k integer primary key, total integer); insert into totals values (1, 0)');
    const write = db.transaction((n: number) => {
      const ins = db.prepare('insert into ledger (pad) values (?)');
      for (let i = 0; i < n; i++) ins.run(randomBytes(900));
      db.prepare('update totals set total = total + ? where k = 1').run(n);
    });
    // About 7,000 pages: several steps of the online backup, so writes land between them.
    for (let i = 0; i < 2000; i++) write(12);
    let writes = 0;
    let writing = true;
    const writer = (async () => {
      while (writing) {
        write(2);
        writes++;
        await new Promise((r) => setImmediate(r));
      }
    })();
    const started = writes;
    const r = await takeBackup({ databaseFile: live, blobsDir: path.join(work, 'blobs'), backupDir: path.join(work, 'hors-site'), keep: 2 });
    const during = writes - started;
    writing = false;
    await writer;
    db.close();

    expect(during).toBeGreaterThan(0);
    // Writes between steps restarted the copy, which then finished in one step (the path that always ends).
    expect(r.restarts).toBeGreaterThan(0);
    const copy = new BetterSqlite3(path.join(r.path, DATABASE_FILE), { readonly: true });
    const count = copy.prepare('select count(*) from ledger').pluck().get() as number;
    const total = copy.prepare('select total from totals').pluck().get() as number;
    expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
    copy.close();
    expect(total).toBe(count);
    expect(count).toBeGreaterThanOrEqual(24_000);
    expect(r.manifest.database.tables.ledger).toBe(count);
    expect((await restoreDrill(r.path)).lines.filter((l) => l.startsWith('✗') && !l.includes('migration'))).toEqual([]);
  });
});

describe('the progress bar', () => {
  it('draws a bar with a percentage', () => {
    expect(progressLine('fichiers', 3, 10)).toBe(`  fichiers [${'█'.repeat(9)}${'░'.repeat(21)}] 30 %`);
    expect(progressLine('base de données', 0, 0)).toContain('100 %');
    expect(progressLine('x', 20, 10)).toContain('100 %');
  });
});
