import { mkdtempSync, rmSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compose, type Preau } from '../src/compose.js';
import { defaultConfig } from '../src/config/config.js';
import { ManualClock, parisWallTimeToUtcMs } from '../src/platform/clock.js';
import { createLogger } from '../src/platform/logger.js';
import { openStorage } from '../src/storage/db.js';
import { FIXTURE_PASSWORD, seedFixture, type Fixture } from './support/fixtures.js';
import { JPEG_BYTES, multipart } from './support/multipart.js';
import { freePort, PgCluster, pgBinariesAvailable } from './support/pg-cluster.js';

/**
 * Automatic read-only mode (storage/health.ts) on a PostgreSQL cluster of this test's own: the
 * database is made to refuse writes (`default_transaction_read_only`, as a standby would) and then
 * stopped; the node serves reads, refuses writes with `platform.read_only` and Retry-After, shows
 * the banner, says so in /readyz and its metrics, and recovers by itself when writes are taken again.
 */
const available = pgBinariesAvailable();

describe.skipIf(!available)('automatic read-only mode when the database takes no writes (PostgreSQL)', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'preau-pg-ro-'));
  let cluster: PgCluster;
  let preau: Preau;
  let fx: Fixture;
  let cookie = '';
  let csrf = '';
  const clock = new ManualClock(parisWallTimeToUtcMs('2026-09-07', 7, 45));

  beforeAll(async () => {
    cluster = new PgCluster(path.join(work, 'pg'), await freePort());
    cluster.ownedDir(work);
    cluster.run('initdb', ['-D', cluster.dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
    appendFileSync(path.join(cluster.dataDir, 'postgresql.conf'), ['shared_buffers = 16MB', 'fsync = off', 'dynamic_shared_memory_type = mmap', ''].join('\n'));
    cluster.start();
    const storage = await openStorage(`postgres://postgres@127.0.0.1:${cluster.port}/postgres`, { pgPoolMax: 4 });
    const dataDir = mkdtempSync(path.join(work, 'data-'));
    preau = await compose(
      { ...defaultConfig(), dataDir, databaseUrl: 'unused', publicUrl: 'http://preau.test', logLevel: 'silent', hashConcurrency: 2 },
      // Probes far apart: the test drives them (health.probe()) instead of waiting for the timer.
      { storage, clock, logger: createLogger('silent'), admission: { lagSampleMs: 0 }, databaseHealth: { probeEveryMs: 60_000, probeWhileReadOnlyEveryMs: 60_000, probeTimeoutMs: 2_000 } },
    );
    fx = await seedFixture(storage.db, clock);
    const login = await preau.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { login: fx.people.pupilA1.login, password: FIXTURE_PASSWORD, remember: true } });
    expect(login.statusCode).toBe(200);
    const c = login.cookies.find((k) => k.name.endsWith('preau_session'))!;
    cookie = `${c.name}=${c.value}`;
    csrf = login.json<{ csrfToken: string }>().csrfToken;
  }, 120_000);

  afterAll(async () => {
    await preau?.close();
    await preau?.storage.close();
    try {
      cluster?.stop('immediate');
    } catch {
      // already stopped
    }
    rmSync(work, { recursive: true, force: true });
  });

  const read = () => preau.app.inject({ method: 'GET', url: '/api/v1/me/today', headers: { cookie } });
  let n = 0;
  const handIn = () => {
    const { payload, headers } = multipart([{ name: 'files', file: { fileName: 'copie.jpg', data: JPEG_BYTES, contentType: 'image/jpeg' } }]);
    return preau.app.inject({ method: 'POST', url: `/api/v1/homework/${fx.homework.maths6A}/handins`, payload, headers: { ...headers, cookie, 'x-csrf-token': csrf, 'idempotency-key': `ro-test-${n++}` } });
  };
  const banner = async () => {
    clock.advance(10_000); // past the status cache
    return (await preau.app.inject({ method: 'GET', url: '/api/v1/status' })).json<{ readOnly: boolean }>().readOnly;
  };
  const readyz = async () => (await preau.app.inject({ method: 'GET', url: '/readyz' })).json<{ database?: string }>().database;
  const setReadOnly = async (on: boolean) => {
    await cluster.query(on ? 'alter system set default_transaction_read_only = on' : 'alter system reset default_transaction_read_only');
    await cluster.query('select pg_reload_conf()');
    await new Promise((r) => setTimeout(r, 300)); // backends apply the reload at their next command
  };

  it('writes normally while the database takes them', async () => {
    expect((await handIn()).statusCode).toBe(201);
    expect(await banner()).toBe(false);
    expect(await readyz()).toBe('writable');
  });

  it('a database that takes no writes: reads served, writes 503 platform.read_only with Retry-After, banner and /readyz say so, nothing written', async () => {
    const before = await preau.storage.db.selectFrom('handins').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    await setReadOnly(true);
    // The first write meets the database's refusal itself: already answered as read-only, never a 500.
    const first = await handIn();
    expect(first.statusCode).toBe(503);
    expect(first.json()).toMatchObject({ error: { id: 'platform.read_only' } });
    expect(Number(first.headers['retry-after'])).toBeGreaterThan(0);
    await preau.databaseHealth!.probe();
    expect(preau.databaseHealth!.readOnly()).toBe(true);
    const refused = await handIn();
    expect(refused.statusCode).toBe(503);
    expect(refused.json()).toMatchObject({ error: { id: 'platform.read_only' } });
    expect(refused.headers['retry-after']).toBeDefined();
    expect((await read()).statusCode).toBe(200);
    expect(await banner()).toBe(true);
    expect(await readyz()).toBe('read_only');
    expect((await preau.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1' })).body).toContain('preau_database_read_only 1');
    const after = await preau.storage.db.selectFrom('handins').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(before.n));
  });

  it('lifted by itself when writes are taken again: the next probe commits, writes go through, the banner clears', async () => {
    await setReadOnly(false);
    await preau.databaseHealth!.probe();
    expect(preau.databaseHealth!.readOnly()).toBe(false);
    expect((await handIn()).statusCode).toBe(201);
    expect(await banner()).toBe(false);
    expect(await readyz()).toBe('writable');
  });

  it('the database gone entirely: writes refused as read-only, reads answered 503 with a retry hint (never a 500), the banner kept from memory; back when it is', async () => {
    cluster.stop('immediate');
    await preau.databaseHealth!.probe();
    expect(preau.databaseHealth!.readOnly()).toBe(true);
    const refused = await handIn();
    expect(refused.statusCode).toBe(503);
    expect(refused.json()).toMatchObject({ error: { id: 'platform.read_only' } });
    const r = await read();
    expect(r.statusCode).toBe(503);
    expect(r.json()).toMatchObject({ error: { id: 'platform.database_unavailable' } });
    expect(r.headers['retry-after']).toBeDefined();
    expect(await banner()).toBe(true);
    cluster.start();
    await preau.databaseHealth!.probe();
    expect(preau.databaseHealth!.readOnly()).toBe(false);
    expect((await read()).statusCode).toBe(200);
    expect((await handIn()).statusCode).toBe(201);
  }, 60_000);
});
