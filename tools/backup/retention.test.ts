import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { takeBackup } from './backup.js';
import { MANIFEST_FILE, POOL_DIR } from './manifest.js';
import { applyRetention, decideRetention, listBackups, type BackupEntry } from './retention.js';

const e = (id: string, good = true): BackupEntry => ({ id, good });

describe('decideRetention (which backups go)', () => {
  // Ids sort in time order: b1 is the oldest.
  const cases: [string, BackupEntry[], number, string[]][] = [
    ['nothing beyond the limit', [e('b1'), e('b2')], 2, []],
    ['the oldest beyond the limit', [e('b1'), e('b2'), e('b3'), e('b4')], 2, ['b2', 'b1']],
    ['keep 1 keeps the newest', [e('b1'), e('b2'), e('b3')], 1, ['b2', 'b1']],
    ['the only good one stays, however many bad ones are newer', [e('b1'), e('b2', false), e('b3', false), e('b4', false)], 1, []],
    ['bad ones go once enough good ones are newer', [e('b1', false), e('b2'), e('b3', false), e('b4')], 1, ['b3', 'b2', 'b1']],
    ['a bad one between kept good ones stays', [e('b1'), e('b2', false), e('b3')], 2, []],
    ['nothing at all', [], 3, []],
    ['only bad ones: none deleted', [e('b1', false), e('b2', false)], 1, []],
    ['input order does not matter', [e('b3'), e('b1'), e('b2')], 1, ['b2', 'b1']],
  ];
  it.each(cases)('%s', (_name, entries, keep, expected) => {
    expect(decideRetention(entries, keep)).toEqual(expected);
  });
  it('refuses a limit below one', () => {
    expect(() => decideRetention([e('b1')], 0)).toThrow(RangeError);
  });
});

describe('retention on disk', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'preau-retention-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const dataDir = path.join(work, 'data');
  const backupDir = path.join(work, 'hors-site');
  const dbFile = path.join(dataDir, 'preau.sqlite');
  const put = (text: string) => {
    const s = createHash('sha256').update(text).digest('hex');
    const f = path.join(dataDir, 'blobs', 'sha256', s.slice(0, 2), s.slice(2, 4), s);
    mkdirSync(path.dirname(f), { recursive: true });
    writeFileSync(f, text);
    return { sha: s, file: f, pooled: path.join(backupDir, POOL_DIR, 'sha256', s.slice(0, 2), s.slice(2, 4), s) };
  };
  const hour = (h: number) => Date.UTC(2026, 10, 29, h);

  it('deletes the oldest backups beyond the limit, leftovers of interrupted ones, and files no kept backup lists', async () => {
    mkdirSync(dataDir, { recursive: true });
    const db = new BetterSqlite3(dbFile);
    db.exec('create table t (x)');
    db.close();
    const opts = { databaseFile: dbFile, blobsDir: path.join(dataDir, 'blobs'), backupDir, keep: 2 };
    const old = put('un fichier supprimé depuis');
    await takeBackup({ ...opts, nowMs: hour(1) });
    rmSync(old.file);
    const kept = put('un fichier toujours là');
    await takeBackup({ ...opts, nowMs: hour(2) });
    // An interrupted backup leaves a partial folder.
    mkdirSync(path.join(backupDir, '.partial-preau-2026-11-29T02-30-00-000Z'));
    expect(existsSync(old.pooled)).toBe(true);
    const third = await takeBackup({ ...opts, nowMs: hour(3) });
    expect(third.retention.deleted).toEqual(['preau-2026-11-29T01-00-00-000Z']);
    expect(third.retention.poolFilesDeleted).toBe(1);
    expect(readdirSync(backupDir).filter((n) => !n.startsWith('.')).sort()).toEqual([POOL_DIR, 'preau-2026-11-29T02-00-00-000Z', 'preau-2026-11-29T03-00-00-000Z']);
    expect(readdirSync(backupDir).filter((n) => n.startsWith('.partial'))).toEqual([]);
    expect(existsSync(old.pooled)).toBe(false);
    expect(existsSync(kept.pooled)).toBe(true);
  });

  it('never deletes the only good backup when the newer ones are damaged', async () => {
    const opts = { databaseFile: dbFile, blobsDir: path.join(dataDir, 'blobs'), backupDir, keep: 3 };
    await takeBackup({ ...opts, nowMs: hour(4) });
    expect((await takeBackup({ ...opts, nowMs: hour(5) })).retention.deleted).toEqual(['preau-2026-11-29T02-00-00-000Z']);
    // The two newest damaged after the fact (a disk, a person): their manifests no longer read.
    for (const id of ['preau-2026-11-29T04-00-00-000Z', 'preau-2026-11-29T05-00-00-000Z']) writeFileSync(path.join(backupDir, id, MANIFEST_FILE), 'abîmé');
    expect((await listBackups(backupDir)).map((b) => [b.id, b.good])).toEqual([
      ['preau-2026-11-29T03-00-00-000Z', true],
      ['preau-2026-11-29T04-00-00-000Z', false],
      ['preau-2026-11-29T05-00-00-000Z', false],
    ]);
    // With a limit of one, the one good backup (the oldest) stays, and so do the files it may need.
    expect(await applyRetention(backupDir, 1)).toEqual({ deleted: [], poolFilesDeleted: 0, walFilesDeleted: 0 });
    // A new good backup: now the damaged ones and the older good one go.
    const fresh = await takeBackup({ ...opts, keep: 1, nowMs: hour(6) });
    expect(fresh.retention.deleted).toEqual(['preau-2026-11-29T05-00-00-000Z', 'preau-2026-11-29T04-00-00-000Z', 'preau-2026-11-29T03-00-00-000Z']);
    expect((await listBackups(backupDir)).map((b) => b.id)).toEqual(['preau-2026-11-29T06-00-00-000Z']);
  });
});
