import { mkdirSync } from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql, type Migration, type MigrationProvider } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.js';
import * as m0001 from './migrations/0001_core.js';
import * as m0002 from './migrations/0002_aaf.js';

export type Backend = 'sqlite' | 'postgres';

/**
 * Every difference between the two backends lives here, as a capability,
 * never as `if (sqlite)` in a feature.
 */
export interface StorageCapabilities {
  backend: Backend;
  /** Largest number of bound parameters one statement may carry (SQLite: 32766, PostgreSQL: 65535). */
  maxBindParameters: number;
}

export interface Storage {
  db: Kysely<Database>;
  capabilities: StorageCapabilities;
  /** PostgreSQL schema this storage lives in, when not the default (isolated tests). */
  schema?: string;
  /** Cheap liveness probe of the database, for /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

const MIGRATIONS: Record<string, Migration> = {
  '0001_core': m0001,
  '0002_aaf': m0002,
};

const provider: MigrationProvider = { getMigrations: async () => MIGRATIONS };

export interface OpenOptions {
  /** PostgreSQL only: a schema to create and use (isolated tests). */
  pgSchema?: string;
  pgPoolMax?: number;
}

export async function openStorage(databaseUrl: string, options: OpenOptions = {}): Promise<Storage> {
  if (databaseUrl.startsWith('sqlite:')) return openSqlite(databaseUrl.slice('sqlite:'.length));
  return openPostgres(databaseUrl, options);
}

function openSqlite(file: string): Storage {
  if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const raw = new BetterSqlite3(file);
  // WAL: readers never wait for the writer; NORMAL sync is durable across process crashes
  // (a power cut may lose the last transactions, not corrupt the file).
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = NORMAL');
  raw.pragma('foreign_keys = ON');
  raw.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: raw }) });
  return {
    db,
    capabilities: { backend: 'sqlite', maxBindParameters: 32_766 },
    ping: async () => {
      raw.prepare('select 1').get();
    },
    close: () => db.destroy(),
  };
}

function openPostgres(url: string, options: OpenOptions): Storage {
  // bigint columns hold epoch-ms instants, well inside Number's exact range.
  pg.types.setTypeParser(20, (v) => Number(v));
  const pool = new pg.Pool({
    connectionString: url,
    max: options.pgPoolMax ?? 10,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    ...(options.pgSchema ? { options: `-c search_path=${options.pgSchema}` } : {}),
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    ...(options.pgSchema ? { schema: options.pgSchema } : {}),
    capabilities: { backend: 'postgres', maxBindParameters: 65_535 },
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: () => db.destroy(),
  };
}

/**
 * Applies pending migrations. `schema`: keep Kysely's bookkeeping tables in that PostgreSQL schema
 * (without it, the migrator looks for its lock table across schemas and concurrent test schemas collide).
 */
export async function migrateToLatest(db: Kysely<Database>, schema?: string): Promise<void> {
  const migrator = new Migrator({ db, provider, ...(schema ? { migrationTableSchema: schema } : {}) });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    throw new Error(`Migration ${failed?.migrationName ?? ''} a échoué : ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Splits rows so that one statement never exceeds the backend's bound-parameter limit. */
export function chunkForInsert<T>(rows: readonly T[], columnsPerRow: number, caps: StorageCapabilities): T[][] {
  const per = Math.max(1, Math.floor(caps.maxBindParameters / columnsPerRow) - 1);
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += per) out.push(rows.slice(i, i + per));
  return out;
}
