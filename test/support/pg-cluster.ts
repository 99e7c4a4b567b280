import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import { userInfo } from 'node:os';
import path from 'node:path';
import pg from 'pg';

/**
 * A throwaway PostgreSQL cluster of a test's own (initdb + pg_ctl on a free loopback port, socket
 * in its folder), for what the shared server must not be used for: archiving, base backups,
 * point-in-time recovery. Run as the `postgres` user when the tests run as root (PostgreSQL refuses root).
 */
export const PG_BIN = process.env.PREAU_TEST_PG_BIN ?? '/usr/lib/postgresql/15/bin';

export function pgBinariesAvailable(): boolean {
  const ok = existsSync(path.join(PG_BIN, 'initdb')) && existsSync(path.join(PG_BIN, 'pg_ctl')) && existsSync(path.join(PG_BIN, 'pg_basebackup'));
  if (!ok) {
    if (process.env.CI === 'true') throw new Error(`binaires PostgreSQL absents de ${PG_BIN} alors que CI=true (paquet Debian postgresql-15)`);
    console.warn(`\n!!! binaires PostgreSQL absents de ${PG_BIN} : les tests de sauvegarde PostgreSQL sont SAUTÉS (ils tournent en CI). !!!\n`);
  }
  return ok;
}

/** uid/gid to run PostgreSQL as: ourselves, or `postgres` when we are root. */
function runAs(): { uid: number; gid: number } | undefined {
  if (userInfo().uid !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export class PgCluster {
  private readonly user = runAs();
  constructor(
    readonly dataDir: string,
    readonly port: number,
  ) {}

  /** Runs a PostgreSQL binary as the cluster's user; throws with its output on failure. */
  run(binary: string, args: string[]): string {
    return execFileSync(path.join(PG_BIN, binary), args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000, ...(this.user ?? {}) });
  }

  /** A folder the cluster's user owns (data, archive, base backups). */
  ownedDir(dir: string): string {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (this.user) chownSync(dir, this.user.uid, this.user.gid);
    return dir;
  }

  start(): void {
    this.run('pg_ctl', ['-D', this.dataDir, '-l', path.join(this.dataDir, 'log.txt'), '-w', '-t', '60', '-o', `-p ${this.port} -k ${this.dataDir} -c listen_addresses=127.0.0.1`, 'start']);
  }

  /** `immediate`: the site is gone (no checkpoint, no clean shutdown). */
  stop(mode: 'fast' | 'immediate' = 'fast'): void {
    this.run('pg_ctl', ['-D', this.dataDir, '-w', '-t', '60', '-m', mode, 'stop']);
  }

  client(): pg.Client {
    return new pg.Client({ host: '127.0.0.1', port: this.port, user: 'postgres', database: 'postgres' });
  }

  async query<T extends pg.QueryResultRow>(text: string): Promise<T[]> {
    const c = this.client();
    await c.connect();
    try {
      return (await c.query<T>(text)).rows;
    } finally {
      await c.end();
    }
  }
}
