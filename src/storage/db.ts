import { mkdirSync } from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, PostgresAdapter, PostgresDialect, SqliteDialect, sql, type Migration, type MigrationProvider } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.js';
import * as m0001 from './migrations/0001_core.js';
import * as m0002 from './migrations/0002_aaf.js';
import * as m0003 from './migrations/0003_web.js';
import * as m0010 from './migrations/0010_timetable.js';
import * as m0011 from './migrations/0011_homework.js';
import * as m0012 from './migrations/0012_documents.js';
import * as m0020 from './migrations/0020_messaging.js';
import * as m0021 from './migrations/0021_liaison.js';
import * as m0022 from './migrations/0022_news.js';
import * as m0030 from './migrations/0030_notifications.js';
import * as m0040 from './migrations/0040_blob_store.js';
import * as m0041 from './migrations/0041_doc_upload_chunks.js';
import * as m0050 from './migrations/0050_engagement.js';
import * as m0060 from './migrations/0060_classroom.js';
import * as m0070 from './migrations/0070_write_probe.js';

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
  /**
   * Commits one small write (the row of `storage_write_probe`), for the automatic read-only watcher
   * (storage/health.ts): rejects when the database takes no writes, or after `timeoutMs`.
   */
  writeProbe(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

/** The write probe's one row: every node rewrites it (`probed_at`: the probing instant). */
const WRITE_PROBE_SQL = 'insert into storage_write_probe (id, probed_at) values ($1, $2) on conflict (id) do update set probed_at = excluded.probed_at';
const WRITE_PROBE_ID = 'probe';

const MIGRATIONS: Record<string, Migration> = {
  '0001_core': m0001,
  '0002_aaf': m0002,
  '0003_web': m0003,
  '0010_timetable': m0010,
  '0011_homework': m0011,
  '0012_documents': m0012,
  '0020_messaging': m0020,
  '0021_liaison': m0021,
  '0022_news': m0022,
  '0030_notifications': m0030,
  '0040_blob_store': m0040,
  '0041_doc_upload_chunks': m0041,
  '0050_engagement': m0050,
  '0060_classroom': m0060,
  '0070_write_probe': m0070,
};

/** The migrations this code knows, by name (the restore drill checks a backup's against them). */
export const MIGRATION_NAMES: readonly string[] = Object.keys(MIGRATIONS).sort();

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
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(raw) }) });
  return {
    db,
    capabilities: { backend: 'sqlite', maxBindParameters: 32_766 },
    ping: async () => {
      raw.prepare('select 1').get();
    },
    writeProbe: async () => {
      raw.prepare(WRITE_PROBE_SQL.replace('$1', '?').replace('$2', '?')).run(WRITE_PROBE_ID, Date.now());
    },
    close: () => db.destroy(),
  };
}

/** Distinct SQL texts kept prepared; the application issues a few hundred at most. */
const SQLITE_STATEMENT_CACHE_MAX = 1000;

/**
 * Kysely's SQLite driver prepares every statement anew; preparing costs more than running the hot
 * queries. Statements are reused by SQL text (parameters are bound per call). Safe because the
 * driver serialises queries on its single connection, so a statement is never used twice at once.
 */
function withStatementCache(raw: BetterSqlite3.Database): BetterSqlite3.Database {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return new Proxy(raw, {
    get(target, prop, receiver) {
      if (prop !== 'prepare') {
        const value = Reflect.get(target, prop, receiver) as unknown;
        // Native methods must be called on the real database object, not on the proxy.
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      }
      return (sqlText: string) => {
        let stmt = cache.get(sqlText);
        if (!stmt) {
          stmt = target.prepare(sqlText);
          if (cache.size >= SQLITE_STATEMENT_CACHE_MAX) cache.delete(cache.keys().next().value!);
          cache.set(sqlText, stmt);
        }
        return stmt;
      };
    },
  });
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
  // An idle pooled connection the server drops (a primary killed, HAProxy moving to a new one)
  // is reported here; without a listener it would end the process. The pool discards the
  // connection; the next query opens another, and the read-only watcher hears of failures from
  // requests and its probes.
  pool.on('error', () => undefined);
  // Same for a checked-out connection dropped between two queries (its query, if any, fails on its own).
  pool.on('connect', (client) => client.on('error', () => undefined));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    ...(options.pgSchema ? { schema: options.pgSchema } : {}),
    capabilities: { backend: 'postgres', maxBindParameters: 65_535 },
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    writeProbe: (timeoutMs) => postgresWriteProbe(url, options.pgSchema, timeoutMs),
    close: () => db.destroy(),
  };
}

/**
 * The write probe on a connection of its own (never one of the pool's: a probe hung on a dead
 * primary must not hold a pooled connection). No statement_timeout on purpose: a commit cancelled
 * while it waits for the synchronous standby is kept locally and reported as a success (with a
 * warning), which would call a primary writable that cannot reach its standby. The probe's timeout
 * is on the client side instead: its socket is destroyed.
 */
async function postgresWriteProbe(url: string, pgSchema: string | undefined, timeoutMs: number): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs, ...(pgSchema ? { options: `-c search_path=${pgSchema}` } : {}) });
  client.on('error', () => undefined);
  let timer: NodeJS.Timeout | undefined;
  const destroy = () => (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
  try {
    await Promise.race([
      (async () => {
        await client.connect();
        await client.query(WRITE_PROBE_SQL, [WRITE_PROBE_ID, Date.now()]);
      })(),
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`write probe: no commit after ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    await client.end();
  } catch (err) {
    destroy();
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Applies pending migrations. `schema`: keep Kysely's bookkeeping tables in that PostgreSQL schema
 * (without it, the migrator looks for its lock table across schemas and concurrent test schemas collide).
 */
export async function migrateToLatest(db: Kysely<Database>, schema?: string): Promise<void> {
  // Unordered: features land in parallel with numbers reserved per issue (0012 documents after 0021
  // liaison was applied on existing data directories); each migration only creates its own tables.
  const migrator = new Migrator({ db, provider, allowUnorderedMigrations: true, ...(schema ? { migrationTableSchema: schema } : {}) });
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

/** A unique-constraint violation, on either backend (SQLite: SQLITE_CONSTRAINT_UNIQUE / PRIMARYKEY; PostgreSQL: 23505). */
/** True when this Kysely (or transaction) runs on PostgreSQL (row locks and advisory locks exist there; SQLite serialises writers anyway). */
export function isPostgres(db: Kysely<Database>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

/**
 * Serialises transactions that take the same key until they end, on PostgreSQL (a transaction-scoped
 * advisory lock on a 64-bit hash of the key); nothing on SQLite, whose writers are serialised by the
 * database itself. For "replace the current X of this person" transactions whose unique constraint
 * would otherwise be hit by concurrent writers under READ COMMITTED.
 */
export async function lockForTransaction(tx: Kysely<Database>, key: string): Promise<void> {
  if (isPostgres(tx)) await sql`select pg_advisory_xact_lock(hashtextextended(${key}, 0))`.execute(tx);
}

export function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
