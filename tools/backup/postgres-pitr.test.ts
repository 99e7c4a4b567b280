import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, PgCluster, pgBinariesAvailable } from '../../test/support/pg-cluster.js';

/**
 * The PostgreSQL backup path documented in docs/OPERATIONS.md (« Sauvegardes PostgreSQL »), on a
 * cluster of this test's own: WAL archived by `archive_command` to a second location, a base backup
 * by `pg_basebackup`, the primary lost, then a restore from the base backup + the archive to a
 * named point in time. Rows written after the base backup come back from the archive alone.
 */
const available = pgBinariesAvailable();

describe.skipIf(!available)('PostgreSQL: base backup + WAL archive, point-in-time restore', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'preau-pg-pitr-'));
  const clusters: PgCluster[] = [];
  afterAll(() => {
    for (const c of clusters) {
      try {
        c.stop('immediate');
      } catch {
        // already stopped
      }
    }
    rmSync(work, { recursive: true, force: true });
  });

  it('restores to a restore point: rows from before it are back (from the archive), rows after it are not', async () => {
    const primary = new PgCluster(path.join(work, 'site-a'), await freePort());
    clusters.push(primary);
    primary.ownedDir(work);
    const archive = primary.ownedDir(path.join(work, 'archive-site-b'));
    primary.run('initdb', ['-D', primary.dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
    appendFileSync(
      path.join(primary.dataDir, 'postgresql.conf'),
      [
        'wal_level = replica',
        'archive_mode = on',
        // Never overwrite a segment already archived (a second primary on the same archive would corrupt it).
        `archive_command = 'test ! -f ${archive}/%f && cp %p ${archive}/%f'`,
        'archive_timeout = 60',
        'max_wal_senders = 4',
        'shared_buffers = 16MB',
        'fsync = off', // a test cluster: speed over crash safety; archiving is unaffected
        // Its shared memory segments in its own folder, removed with it (an immediate stop leaves them behind).
        'dynamic_shared_memory_type = mmap',
        '',
      ].join('\n'),
    );
    primary.start();

    await primary.query('create table handins (id serial primary key, pupil text not null)');
    await primary.query(`insert into handins (pupil) select 'avant-base-' || g from generate_series(1, 100) g`);

    primary.run('pg_basebackup', ['-h', '127.0.0.1', '-p', String(primary.port), '-U', 'postgres', '-D', path.join(work, 'base'), '-c', 'fast', '-X', 'stream', '--no-sync']);
    primary.run('pg_verifybackup', [path.join(work, 'base')]);

    // After the base backup: only the archived WAL holds these.
    await primary.query(`insert into handins (pupil) select 'apres-base-' || g from generate_series(1, 50) g`);
    await primary.query(`select pg_create_restore_point('avant-erreur')`);
    await primary.query('delete from handins where id % 2 = 0'); // the mistake the restore undoes
    const { wal } = (await primary.query<{ wal: string }>('select pg_walfile_name(pg_switch_wal()) as wal'))[0]!;
    // Wait (bounded) until the segment holding the restore point is in the archive, whole: `cp` creates
    // the file before writing it, and the immediate stop below can cut the archiver mid-copy.
    const whole = () => existsSync(path.join(archive, wal)) && statSync(path.join(archive, wal)).size === 16 << 20;
    for (let i = 0; i < 100 && !whole(); i++) await new Promise((r) => setTimeout(r, 100));
    expect(readdirSync(archive)).toContain(wal);

    primary.stop('immediate'); // site A is gone

    const restored = new PgCluster(path.join(work, 'site-b'), await freePort());
    clusters.push(restored);
    execFileSync('cp', ['-a', path.join(work, 'base'), restored.dataDir]);
    writeFileSync(path.join(restored.dataDir, 'recovery.signal'), '');
    appendFileSync(
      path.join(restored.dataDir, 'postgresql.auto.conf'),
      [`restore_command = 'cp ${archive}/%f %p'`, `recovery_target_name = 'avant-erreur'`, `recovery_target_action = 'promote'`, 'archive_mode = off', ''].join('\n'),
    );
    restored.start();
    let inRecovery = true;
    for (let i = 0; i < 100 && inRecovery; i++) {
      inRecovery = (await restored.query<{ r: boolean }>('select pg_is_in_recovery() as r'))[0]!.r;
      if (inRecovery) await new Promise((r) => setTimeout(r, 100));
    }
    expect(inRecovery).toBe(false);
    const [counts] = await restored.query<{ total: string; after: string }>(`select count(*) as total, count(*) filter (where pupil like 'apres-base-%') as after from handins`);
    expect(counts).toEqual({ total: '150', after: '50' });
    // Promoted: it takes writes, like a new primary on site B.
    await restored.query(`insert into handins (pupil) values ('site-b')`);
    expect((await restored.query<{ n: string }>('select count(*) as n from handins'))[0]!.n).toBe('151');
    restored.stop();
  }, 180_000);
});
