import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/** `preau backup | restore | restore-drill` as an operator runs them: real processes, real exit codes. */
const CLI = ['--import', 'tsx', path.resolve('src/cli.ts')];
const work = mkdtempSync(path.join(tmpdir(), 'preau-backup-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function preau(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [...CLI, ...args], { encoding: 'utf8', env: { ...process.env, LOG_LEVEL: 'warn', PREAU_BACKUP_DIR: '', ...env }, timeout: 60_000 });
}

describe('preau backup, restore, restore-drill', () => {
  const data = path.join(work, 'data');
  const backups = path.join(work, 'hors-site');
  const text = 'une copie rendue';
  const s = createHash('sha256').update(text).digest('hex');

  it('backup: takes one now and says what it holds (exit 0)', () => {
    // A real database (an AAF import) and one file in the data directory's store.
    expect(preau(['import-aaf', path.resolve('samples/aaf/sample-2020'), '--data-dir', data]).status).toBe(0);
    const blob = path.join(data, 'blobs', 'sha256', s.slice(0, 2), s.slice(2, 4), s);
    mkdirSync(path.dirname(blob), { recursive: true });
    writeFileSync(blob, text);
    const r = preau(['backup', '--data-dir', data, '--backup-dir', backups]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Sauvegarde faite : .*hors-site\/preau-\d{4}-/);
    expect(r.stdout).toContain('fichiers : 1 (dont 1 nouveaux');
    expect(readdirSync(backups).filter((n) => n.startsWith('preau-'))).toHaveLength(1);
  });

  it('restore-drill: a good backup is BONNE (exit 0); a flipped byte makes it MAUVAISE (exit 1) with the reason', () => {
    const good = preau(['restore-drill', 'latest', '--backup-dir', backups]);
    expect(good.stderr).toBe('');
    expect(good.stdout).toContain('✓ nombres de lignes conformes au manifeste');
    expect(good.stdout).toContain('Verdict : BONNE');
    expect(good.status).toBe(0);

    const pooled = path.join(backups, 'blobs', 'sha256', s.slice(0, 2), s.slice(2, 4), s);
    const original = readFileSync(pooled);
    writeFileSync(pooled, Buffer.from(text.replace('une', 'Une')));
    const bad = preau(['restore-drill', 'latest', '--backup-dir', backups]);
    expect(bad.stdout).toContain(`fichier ${s} : contenu différent de son empreinte (fichier altéré)`);
    expect(bad.stdout).toContain('Verdict : MAUVAISE');
    expect(bad.status).toBe(1);
    writeFileSync(pooled, original);
  });

  it('restore: refuses a live data directory without --force (exit 1), restores with --into or --force (exit 0)', () => {
    const refused = preau(['restore', 'latest', '--data-dir', data, '--backup-dir', backups]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('existe déjà : une restauration ne remplace pas des données sans --force');

    const into = path.join(work, 'site-b');
    const r = preau(['restore', 'latest', '--into', into, '--backup-dir', backups]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`base : ${path.join(into, 'preau.sqlite')}`);
    expect(readFileSync(path.join(into, 'blobs', 'sha256', s.slice(0, 2), s.slice(2, 4), s), 'utf8')).toBe(text);

    const backupPath = path.join(backups, readdirSync(backups).find((n) => n.startsWith('preau-'))!);
    const forced = preau(['restore', backupPath, '--force', '--data-dir', data]);
    expect(forced.status).toBe(0);
    expect(forced.stdout).toContain('l’ancienne base est gardée');
    expect(readdirSync(data).some((n) => n.startsWith('preau.sqlite.avant-restauration-'))).toBe(true);
  });

  it('bad input: usage errors exit 2 and say what is wrong; nothing is written', () => {
    const cases: [string[], Record<string, string>, string][] = [
      [['backup', '--data-dir', data], {}, 'aucun dossier de sauvegarde : donnez PREAU_BACKUP_DIR ou --backup-dir'],
      [['backup', 'maintenant', '--data-dir', data, '--backup-dir', backups], {}, 'argument inattendu « maintenant »'],
      [['restore', '--data-dir', data], {}, 'quelle sauvegarde ? donnez son dossier'],
      [['restore', path.join(work, 'nulle-part'), '--data-dir', data], {}, 'sauvegarde introuvable'],
      [['restore', 'latest', '--into'], { PREAU_BACKUP_DIR: backups }, 'l’option --into attend un dossier'],
      [['restore-drill', 'latest', '--force'], { PREAU_BACKUP_DIR: backups }, 'option inconnue --force'],
      [['restore-drill', 'latest'], { PREAU_BACKUP_DIR: path.join(work, 'vide') }, 'sauvegarde introuvable : « latest »'],
      // A backup of the embedded store is not restored into PostgreSQL (the PostgreSQL commands: postgres-backup.test.ts).
      [['restore', 'latest', '--into', path.join(work, 'vide'), '--backup-dir', backups], { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nope' }, 'est une sauvegarde du stockage embarqué (SQLite) : restaurez-la avec DATABASE_URL=sqlite:…'],
    ];
    const before = readdirSync(backups).sort();
    for (const [args, env, message] of cases) {
      const r = preau(args, env);
      expect(r.stderr, args.join(' ')).toContain(message);
      expect(r.status, args.join(' ')).toBe(2);
    }
    expect(readdirSync(backups).sort()).toEqual(before);
    expect(existsSync(path.join(work, 'vide', 'preau.sqlite'))).toBe(false);
    // A bad value of a backup setting is a configuration error, like any other (exit 78).
    const config = preau(['backup', '--backup-keep', '0', '--data-dir', data]);
    expect(config.status).toBe(78);
    expect(config.stderr).toContain('l’option --backup-keep vaut « 0 » ; attendu : un entier de 1 à 1000');
  }, 180_000); // ten processes, each starting tsx

  it('serve warns at start-up when the backup folder is on the data’s disk', async () => {
    const child = spawn(process.execPath, [...CLI, 'serve', '--port', '0', '--data-dir', path.join(work, 'serve'), '--backup-dir', path.join(work, 'serve-backups'), '--demo', 'off', '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const seen = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no warning: ${out}`)), 45_000);
      const onData = (d: Buffer) => {
        out += d.toString();
        if (out.includes('sauvegardes : le dossier de sauvegarde')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
    });
    try {
      await seen;
      expect(out).toContain('est sur le même disque que les données');
    } finally {
      const exit = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exit;
    }
  });
});
