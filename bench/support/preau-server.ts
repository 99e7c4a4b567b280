/**
 * A real Préau for the benches, run as a child pinned to the server CPU: composed as in
 * production (systemClock, SQLite FILE database in WAL mode, silent logs) on a fresh temporary
 * directory, seeded with the test fixture plus a realistic timetable and, on request, extra
 * users with real passwords. Prints `{"type":"ready","port":…}` once listening on 127.0.0.1.
 *
 *   node --import tsx bench/support/preau-server.ts [--dir DIR --seed on|off] [--trusted-proxies CIDR,…] [--bench-users N] [--hash-concurrency N] [--web-dir DIR] [--edge on|off] [--rate-limits unbounded|default]
 *     [--abroad-networks CIDR,…] [--crisis on|off] [--challenge-bits N] [--engagement-recording on|off|switchable] [--lag-shedder on|off] [--redis-url URL --redis-prefix P]
 *
 * Rate limits are `unbounded` by default here: the session and login benches load one account (or
 * one address) far beyond what one person does, to measure the cost of the path — the checks run,
 * they just never refuse. The edge bench asks for the real defaults.
 *
 * `--abroad-networks` is a bench seam: on loopback every address is unknown to the country
 * database, so crisis mode would see nobody abroad. With it, the composition gets a
 * CountryLookup that places those networks in a foreign country (and nothing else anywhere);
 * production composes the shipped database and never takes this path. `--crisis on` switches
 * crisis mode on through the EdgeControls API, as the operator's PUT /api/v1/admin/edge does.
 * `--challenge-bits` sets the proof-of-work difficulty (the operator's run-time setting).
 *
 * `--dir` puts the database and files in a given directory (kept at exit) instead of a fresh one:
 * several nodes share it (the nodes bench), and only the first seeds it (`--seed off` for the others).
 * `--trusted-proxies` as PREAU_TRUSTED_PROXIES (behind deploy/haproxy.cfg: PROXY protocol).
 *
 * `--engagement-recording switchable` composes with recording on and lets the parent switch it on
 * and off at run time: a BenchControl message over the fork channel (`startServer(…, { ipc: true })`)
 * makes the child play windows of a fraction of a second, on / off / on-again, under the parent's
 * load, answered on stdout with each window's requests and CPU (`engagement-windows`;
 * recording-switch.ts), so that the suivi bench compares recording on and off in the same process.
 * Off, each signal stops at the switch (as at `silentSignals`); the recorder's flush timer still runs
 * and finds nothing to write. It starts on. This switch exists only in this bench child: `preau
 * serve` never composes the wrapper and never has a fork channel.
 *
 * SIGTERM closes it cleanly (so that `--cpu-prof` profiles are written) and removes the directory.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import pg from 'pg';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { compose } from '../../src/compose.js';
import { migrateToLatest, openStorage, type Storage } from '../../src/storage/db.js';
import { loopbackCountries } from './abroad.js';
import type { Config } from '../../src/config/config.js';
import { parisDate, parisWallTimeToUtcMs, systemClock, addDays, parisMonday } from '../../src/platform/clock.js';
import type { Database } from '../../src/storage/schema.js';
import { seedFixture } from '../../test/support/fixtures.js';
import { benchLogin } from './bench-users.js';
import { childConfig, serveChild } from './child-server.js';
import { emit, type BenchControl } from './protocol.js';
import type { EngagementSignals } from '../../src/platform/engagement-signals.js';
import { RecordingSwitch } from './recording-switch.js';

const { values } = parseArgs({
  options: {
    'bench-users': { type: 'string', default: '0' },
    'hash-concurrency': { type: 'string' },
    'web-dir': { type: 'string' },
    edge: { type: 'string', default: 'on' },
    'rate-limits': { type: 'string', default: 'unbounded' },
    'abroad-networks': { type: 'string' },
    crisis: { type: 'string', default: 'off' },
    'challenge-bits': { type: 'string' },
    dir: { type: 'string' },
    seed: { type: 'string', default: 'on' },
    'trusted-proxies': { type: 'string' },
    'engagement-recording': { type: 'string', default: 'on' },
    // The edge's lag-driven shedder (on by default). Off where a bench compares a process with itself
    // and the machine's other work, not Préau, would trigger 503s (the suivi and A/A benches).
    'lag-shedder': { type: 'string', default: 'on' },
    // Scaled mode: the edge's state (and the pub/sub, presence) through this Redis, under this key prefix.
    'redis-url': { type: 'string' },
    'redis-prefix': { type: 'string', default: 'bench:' },
    // PostgreSQL instead of the SQLite file: a fresh schema of this URL's database, dropped at exit.
    'postgres-url': { type: 'string' },
  },
});
const UNBOUNDED = { ratePerS: 1e9, burst: 1e9 };
const benchUsers = Number(values['bench-users']);
const dir = values.dir ?? mkdtempSync(path.join(tmpdir(), 'preau-bench-'));

const config: Config = {
  ...childConfig(dir),
  ...(values['hash-concurrency'] ? { hashConcurrency: Number(values['hash-concurrency']) } : {}),
  ...(values['web-dir'] ? { webDir: values['web-dir'] } : {}),
  edge: values.edge === 'off' ? 'off' : 'on',
  engagementRecording: values['engagement-recording'] === 'off' ? 'off' : 'on',
  ...(values['redis-url'] ? { redisUrl: values['redis-url'], redisPrefix: values['redis-prefix'] } : {}),
  // Bench clients come from few loopback addresses: the connection cap per address is not what is measured.
  maxConnectionsPerAddress: 100_000,
  ...(values['trusted-proxies'] ? { trustedProxies: values['trusted-proxies'].split(',') } : {}),
};

// PostgreSQL: a schema of the bench's own (created, migrated, and dropped when this child stops).
const pgSchema = values['postgres-url'] ? `bench_${randomBytes(5).toString('hex')}` : undefined;
let pgStorage: Storage | undefined;
if (values['postgres-url'] && pgSchema) {
  const admin = new pg.Client({ connectionString: values['postgres-url'] });
  await admin.connect();
  await admin.query(`create schema ${pgSchema}`);
  await admin.end();
  pgStorage = await openStorage(values['postgres-url'], { pgSchema });
  await migrateToLatest(pgStorage.db, pgSchema);
}
async function dropPgSchema(): Promise<void> {
  if (!pgStorage || !values['postgres-url']) return;
  await pgStorage.close();
  const admin = new pg.Client({ connectionString: values['postgres-url'] });
  await admin.connect();
  await admin.query(`drop schema if exists ${pgSchema} cascade`);
  await admin.end();
}

// The suivi bench's run-time switch (see the header): every signal goes through it.
const switchable = values['engagement-recording'] === 'switchable';
const recording = new RecordingSwitch({
  nowMs: () => performance.now(),
  cpuMs: () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  },
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
});
if (switchable) {
  if (!process.send) throw new Error('--engagement-recording switchable demande un canal de contrôle (startServer(…, { ipc: true }))');
  process.on('message', (m: BenchControl) => {
    if (m.type === 'engagement-windows') {
      recording.runWindows(m.cycles, m.windowMs, m.warmupMs).then(
        (windows) => emit({ type: 'engagement-windows', windows }),
        (err: unknown) => emit({ type: 'engagement-windows', windows: [], error: err instanceof Error ? err.message : String(err) }),
      );
    }
  });
}

const preau = await compose(config, {
  ...(switchable ? { engagementSignals: (recorder: EngagementSignals) => recording.wrap(recorder) } : {}),
  ...(values['lag-shedder'] === 'off' ? { admission: { lagSampleMs: 0 } } : {}),
  ...(pgStorage ? { storage: pgStorage } : {}),
  ...(values['abroad-networks'] ? { countryLookup: loopbackCountries(values['abroad-networks']) } : {}),
  ...(values['challenge-bits'] ? { challenge: { bits: Number(values['challenge-bits']) } } : {}),
  ...(values['rate-limits'] === 'default'
    ? {}
    : {
        rateLimits: {
          address: { name: 'address', ...UNBOUNDED },
          network: { name: 'network', ...UNBOUNDED },
          account: { name: 'account', ...UNBOUNDED },
          school: { name: 'school', ...UNBOUNDED },
          auth_failures: { name: 'auth-failures', ...UNBOUNDED },
        },
      }),
});
if (values.crisis === 'on') {
  if (!preau.edge) throw new Error('--crisis on demande --edge on');
  await preau.edge.controls.setCrisisMode(true);
}
const db = preau.storage.db;
let seededSlots = 0;
if (values.seed !== 'off') seededSlots = await seed();
async function seed(): Promise<number> {
  await seedFixture(db, systemClock);

  // A real timetable: 7 more lessons a day for each class of school A, every school day from the
  // start of the school year (1 September) to the end of this week, and today whatever day it is.
  // So "today" reads what a pupil really sees, among the rows a table really holds by then (the
  // past weeks stay in the table). pupilA1 (6e A + Latin) has 9 lessons today: these 7, the
  // fixture's 8:30 maths and its 10:30 Latin.
  const SUBJECTS = [
    ['subjectFr', '020700', 'FRANCAIS'], ['subjectHg', '044900', 'HISTOIRE-GEOGRAPHIE'], ['subjectEn', '030201', 'ANGLAIS LV1'],
    ['subjectSvt', '062900', 'SCIENCES VIE & TERRE'], ['subjectEps', '100100', 'EDUCATION PHYSIQUE ET SPORTIVE'], ['subjectPc', '061800', 'PHYSIQUE-CHIMIE'],
    ['subjectArt', '080100', 'ARTS PLASTIQUES'],
  ] as const;
  await db.insertInto('subjects').values(SUBJECTS.map(([id, code, label]) => ({ id, code, label }))).execute();
  const HOURS: [number, number][] = [[9, 30], [11, 30], [13, 30], [14, 30], [15, 30], [16, 30], [17, 30]];
  const today = parisDate(systemClock.nowMs());
  const friday = addDays(parisMonday(systemClock.nowMs()), 4);
  const yearStart = `${Number(today.slice(0, 4)) - (Number(today.slice(5, 7)) < 9 ? 1 : 0)}-09-01`;
  const days = new Set([today]);
  for (let day = yearStart; day <= friday; day = addDays(day, 1)) {
    if (new Date(`${day}T12:00:00Z`).getUTCDay() % 6 !== 0) days.add(day);
  }
  const slots: Database['timetable_slots'][] = [];
  for (const day of days) {
    for (const [cls, teacher] of [['class6A', 'teacherA'], ['class6B', 'teacherB']] as const) {
      HOURS.forEach(([h, m], i) => {
        slots.push({
          id: `bench-${cls}-${day}-${i}`, school_id: 'schoolA', class_id: cls, group_id: null, teacher_id: teacher, subject_id: SUBJECTS[i % SUBJECTS.length]![0],
          starts_at: parisWallTimeToUtcMs(day, h, m), ends_at: parisWallTimeToUtcMs(day, h, m + 55), room: `S${100 + i}`,
          status: i === 3 ? 'modifie' : 'normal', note: i === 3 ? 'Salle changée' : null,
        });
      });
    }
  }
  for (let i = 0; i < slots.length; i += 500) await preau.timetable.insertSlots(slots.slice(i, i + 500));

  if (benchUsers > 0) {
    // One hash for all (computing hundreds of Argon2id would only slow the start); each user has it.
    const { password_hash } = await db.selectFrom('people').select('password_hash').where('id', '=', 'pupilA1').executeTakeFirstOrThrow();
    const now = systemClock.nowMs();
    const rows = Array.from({ length: benchUsers }, (_, i) => ({
      id: `bench-${i}`, aaf_jointure: `J-bench-${i}`, profile: 'eleve' as const, staff_function: null, login: benchLogin(i), first_name: `Élève${i}`, last_name: 'Banc',
      title: null, password_hash, status: 'active' as const, school_id: 'schoolA', mef_code: null, departed_at: null, created_at: now, updated_at: now,
    }));
    for (let i = 0; i < rows.length; i += 500) {
      const chunk = rows.slice(i, i + 500);
      await db.insertInto('people').values(chunk).execute();
      await db.insertInto('school_members').values(chunk.map((r) => ({ school_id: 'schoolA', person_id: r.id }))).execute();
      await db.insertInto('class_enrolments').values(chunk.map((r) => ({ class_id: 'class6B', person_id: r.id }))).execute();
    }
  }

  return slots.length + 3;
}

await serveChild(preau, { hashConcurrency: config.hashConcurrency, timetableSlots: seededSlots }, async () => {
  if (!values.dir) rmSync(dir, { recursive: true, force: true });
  await dropPgSchema();
});
