import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/** The `preau` command as an operator runs it: a real process, real exit codes. */
const CLI = ['--import', 'tsx', path.resolve('src/cli.ts')];
const work = mkdtempSync(path.join(tmpdir(), 'preau-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function preau(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [...CLI, ...args], { encoding: 'utf8', env: { ...process.env, LOG_LEVEL: 'warn', ...env }, timeout: 60_000 });
}

describe('preau CLI', () => {
  it('refuses to start on a bad configuration, saying what to fix (exit 78)', () => {
    const r = preau(['serve', '--port', 'abc'], { DATABASE_URL: 'mysql://nope' });
    expect(r.status).toBe(78);
    expect(r.stderr).toContain('Préau ne peut pas démarrer.');
    expect(r.stderr).toContain('l’option --port vaut « abc » ; attendu : un entier entre 0 et 65535');
    expect(r.stderr).toContain('la variable DATABASE_URL');
  });

  it('prints its help in French and rejects unknown commands', () => {
    const help = preau(['help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('import-aaf <dossier|fichiers…>');
    expect(help.stdout).toContain('PREAU_DATA_DIR');
    const unknown = preau(['frobnicate']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('Commande inconnue « frobnicate »');
  });

  it('imports an AAF feed into the configured database and prints a summary', () => {
    const r = preau(['import-aaf', path.resolve('samples/aaf/sample-2020'), '--data-dir', path.join(work, 'import')]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Élèves\s+1/);
    const again = preau(['import-aaf', path.resolve('samples/aaf/sample-2020/nope'), '--data-dir', path.join(work, 'import')]);
    expect(again.status).not.toBe(0);
  });

  it('purges: departed accounts, old documents trash, expired uploads, then unreferenced files past their grace period', () => {
    const dir = path.join(work, 'purge');
    // Bytes in the disk store's layout, as a refused upload leaves them.
    const stored = (text: string) => {
      const sha = createHash('sha256').update(text).digest('hex');
      const file = path.join(dir, 'blobs', 'sha256', sha.slice(0, 2), sha.slice(2, 4), sha);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, text);
      return file;
    };
    // An orphan older than the grace period, and a recent one (maybe an upload about to reference it).
    const file = stored('octets d’un envoi refusé');
    const aged = new Date(Date.now() - 2 * 86_400_000);
    utimesSync(file, aged, aged);
    const freshFile = stored('un envoi en cours');
    const r = preau(['purge', '--data-dir', dir]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Documents : 0 élément(s) en corbeille depuis plus de 30 jours et 0 envoi(s) expiré(s) supprimé(s).');
    expect(r.stdout).toContain('1 fichier(s) orphelin(s) supprimé(s) (référencés par rien depuis plus de 24 heures).');
    expect(r.stdout).toContain('Suivi du décrochage : 0 ligne(s) de plus d’un an (année scolaire passée) supprimée(s).');
    expect(existsSync(file)).toBe(false);
    expect(existsSync(freshFile)).toBe(true);
  });

  it('serves, answers /readyz, and stops cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, [...CLI, 'serve', '--port', '0', '--data-dir', path.join(work, 'serve'), '--demo', 'off', '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ready line: ${out}`)), 45_000);
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /Préau est prêt : (http:\/\/\S+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
    });
    const ready = await fetch(`${url}/readyz`);
    expect(await ready.json()).toEqual({ status: 'ready' });
    const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
  });
});
