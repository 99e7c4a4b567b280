import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { compose, type ComposeOverrides, type Preau } from '../../src/compose.js';
import { defaultConfig, type Config } from '../../src/config/config.js';
import { ManualClock, parisWallTimeToUtcMs } from '../../src/platform/clock.js';
import { createLogger } from '../../src/platform/logger.js';
import type { Backend } from '../../src/storage/db.js';
import { freshStorage } from './backends.js';
import { FIXTURE_PASSWORD, seedFixture, type Fixture, type PersonKey } from './fixtures.js';

export interface TestPreau {
  preau: Preau;
  clock: ManualClock;
  fx: Fixture;
  /** A signed-in client for this fixture person (cookie + CSRF token). */
  as(key: PersonKey): Promise<Client>;
  anonymous: Client;
  close(): Promise<void>;
}

export interface Client {
  request(options: InjectOptions): Promise<LightMyRequestResponse>;
  csrf: string | undefined;
}

type EdgeOverrides = Pick<ComposeOverrides, 'admission' | 'rateLimits' | 'waitingRoom' | 'challenge' | 'realtime' | 'edgeRedis' | 'countryLookup' | 'mediaEngine' | 'classroom' | 'classroomRelay'>;

/** A Redis key prefix no other suite (nor engineer) uses: each test's shared state is its own. */
export const uniqueRedisPrefix = (): string => `test:${randomBytes(6).toString('hex')}:`;

/**
 * Scaled mode in one test: a second node over the same database (and clock and data directory) as
 * `t`, with its own edge, pub/sub and caches — give both nodes the same `redisUrl` and `redisPrefix`.
 */
export async function startPeerNode(t: TestPreau, configOverrides: Partial<Config>, edge: EdgeOverrides = {}): Promise<Preau> {
  return compose(
    { ...defaultConfig(), dataDir: t.preau.config.dataDir, publicUrl: 'http://preau.test', logLevel: 'silent', hashConcurrency: 1, mediaEngine: 'off', ...configOverrides },
    { storage: t.preau.storage, clock: t.clock, logger: createLogger('silent'), ...edge, admission: { lagSampleMs: 0, ...edge.admission } },
  );
}

export interface TwoNodes {
  a: TestPreau;
  b: Preau;
}

/**
 * Two nodes over one database and one Redis (a key prefix of the suite's own), started before the
 * suite's tests and closed after them. Call inside a `describe`; read `a` and `b` inside the tests.
 * `listen`: node A also listens on a free port (for WebSocket clients).
 */
export function twoNodesSharingRedis(redisUrl: string, edge: EdgeOverrides = {}, listen = false): TwoNodes {
  const nodes = {} as TwoNodes;
  beforeAll(async () => {
    const redis = { redisUrl, redisPrefix: uniqueRedisPrefix() };
    nodes.a = await startTestPreau('sqlite', redis, edge);
    if (listen) await nodes.a.preau.app.listen({ host: '127.0.0.1', port: 0 });
    nodes.b = await startPeerNode(nodes.a, redis, edge);
  });
  afterAll(async () => {
    await nodes.b?.close();
    await nodes.a?.close();
  });
  return nodes;
}

/** A full Préau on a fresh database with the fixture, reached with `inject` (no sockets). */
/** `edge`: settings of the edge's parts over the defaults (edge tests shrink or widen them). */
/** `sqliteFile`: the SQLite database in this file instead of memory (backup tests). */
export async function startTestPreau(backend: Backend, configOverrides: Partial<Config> = {}, edge: EdgeOverrides = {}, sqliteFile?: string): Promise<TestPreau> {
  const { storage, drop } = await freshStorage(backend, sqliteFile);
  // A school Monday at 7:45 in Paris: "today" has lessons.
  const clock = new ManualClock(parisWallTimeToUtcMs('2026-09-07', 7, 45));
  // Blobs (hand-ins, attachments) go to a directory of this suite's own, removed at close.
  const dataDir = mkdtempSync(path.join(tmpdir(), 'preau-test-'));
  const config: Config = { ...defaultConfig(), dataDir, databaseUrl: 'unused', publicUrl: 'http://preau.test', logLevel: 'silent', hashConcurrency: 2, mediaEngine: 'off', ...configOverrides };
  // The edge's reaction to event-loop lag is tested in src/edge; here a shared CI host's lag must not shed feature tests.
  const preau = await compose(config, { storage, clock, logger: createLogger('silent'), ...edge, admission: { lagSampleMs: 0, ...edge.admission } });
  const fx = await seedFixture(storage.db, clock);

  const client = (cookie: string | undefined, csrf: string | undefined): Client => ({
    csrf,
    request: (options) =>
      preau.app.inject({
        ...options,
        headers: {
          ...(cookie ? { cookie } : {}),
          ...(csrf && options.method && options.method !== 'GET' ? { 'x-csrf-token': csrf } : {}),
          ...(options.headers ?? {}),
        },
      }),
  });

  const sessions = new Map<PersonKey, Client>();
  return {
    preau,
    clock,
    fx,
    anonymous: client(undefined, undefined),
    async as(key) {
      const cached = sessions.get(key);
      if (cached) return cached;
      const res = await preau.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { login: fx.people[key].login, password: FIXTURE_PASSWORD, remember: true } });
      if (res.statusCode !== 200) throw new Error(`login ${key}: ${res.statusCode} ${res.body}`);
      const cookie = res.cookies.find((c) => c.name.endsWith('preau_session'))!;
      const c = client(`${cookie.name}=${cookie.value}`, res.json<{ csrfToken: string }>().csrfToken);
      sessions.set(key, c);
      return c;
    },
    async close() {
      await preau.close();
      await drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
