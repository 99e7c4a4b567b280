import net from 'node:net';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openStorage, migrateToLatest, type Storage, type Backend } from '../../src/storage/db.js';

/**
 * The backend matrix of the contract suites. SQLite always runs. PostgreSQL runs when it
 * answers at 127.0.0.1:5432; outside CI an unreachable server is skipped with a loud
 * message, in CI (`CI=true`) it is a failure.
 */
export const PG_URL = process.env.PREAU_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

function reachable(host: string, port: number, timeoutMs = 1500): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

let pgAvailable: Promise<boolean> | undefined;
export function postgresAvailable(): Promise<boolean> {
  pgAvailable ??= (async () => {
    const url = new URL(PG_URL);
    const ok = await reachable(url.hostname, Number(url.port || 5432));
    if (!ok) {
      if (process.env.CI === 'true') throw new Error(`PostgreSQL injoignable à ${url.host} alors que CI=true : les tests PostgreSQL doivent tourner en CI.`);
      console.warn(`\n!!! PostgreSQL injoignable à ${url.host} : les tests PostgreSQL sont SAUTÉS (ils tournent en CI). !!!\n`);
    }
    return ok;
  })();
  return pgAvailable;
}

export const BACKENDS: Backend[] = ['sqlite', 'postgres'];

export interface TestStorage {
  storage: Storage;
  drop(): Promise<void>;
}

/**
 * A fresh, migrated, isolated database: a new in-memory SQLite (or the file `sqliteFile`, for tests
 * that need the database on disk, like backups), or a new PostgreSQL schema.
 */
export async function freshStorage(backend: Backend, sqliteFile?: string): Promise<TestStorage> {
  if (backend === 'sqlite') {
    const storage = await openStorage(`sqlite:${sqliteFile ?? ':memory:'}`);
    await migrateToLatest(storage.db);
    return { storage, drop: () => storage.close() };
  }
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  const storage = await openStorage(PG_URL, { pgSchema: schema, pgPoolMax: 4 });
  await migrateToLatest(storage.db, schema);
  return {
    storage,
    drop: async () => {
      await storage.close();
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`drop schema ${schema} cascade`);
      await c.end();
    },
  };
}

/** The backends to run a contract suite on now: SQLite, and PostgreSQL when reachable (always in CI). */
export async function activeBackends(): Promise<Backend[]> {
  return (await postgresAvailable()) ? BACKENDS : ['sqlite'];
}
