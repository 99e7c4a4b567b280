/**
 * The drill's own Préau, run as a child pinned to the server CPU (see bench/support/proc.ts):
 * composed as in production (system clock, SQLite file in WAL mode, the real edge with its default
 * rate limits, silent logs) in the directory it is given. Before it listens it prepares the
 * evening before: an académie generated as an AAF feed (tools/gen-aaf.ts) and imported through
 * the real importer, one known password for everyone (a few pupils get an activation code
 * instead: their first time), and for each school the demo's timetable and cahier de textes
 * (src/demo/), on a clock moved to a school day at 07:25. It writes the roster the load generator needs (`roster.json`) and prints
 * `{"type":"ready","port":…}`. SIGTERM closes it cleanly; the directory is left for the checker.
 *
 * `--edge off` is the baseline (the same Préau with its edge protections off); `--countries` a test
 * country table for 127.0.0.0/8 (bench/support/abroad.ts), and `--crisis on` switches crisis mode
 * on as the operator does on the morning of an attack.
 *
 *   node --import tsx tools/drill/drill-server.ts --dir DIR --schools N --classes N --pupils N --activations N --seed N
 *        [--edge on|off] [--crisis on|off] [--countries 127.64.0.0/13=FR,…] [--resume --port N]
 *        [--postgres-url URL --pg-schema S]   (PostgreSQL instead of the SQLite file; the drill creates and drops the schema)
 *        [--host IP --trusted-proxies IP,… --blob-store disk|database --redis-url URL]   (a node of the two-site
 *        layout: its namespace's address, the front HAProxy's PROXY protocol believed, files in the replicated
 *        database, the edge's state shared with the other node)
 *
 * `--resume` starts again on a directory already prepared (after the fault overlay killed the
 * first process): no preparation, the same moved clock (from roster.json), the same port.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { compose } from '../../src/compose.js';
import { migrateToLatest, openStorage, type Storage } from '../../src/storage/db.js';
import type { Config } from '../../src/config/config.js';
import { countryTable } from '../../bench/support/abroad.js';
import { childConfig, serveChild } from '../../bench/support/child-server.js';
import type { Clock } from '../../src/platform/clock.js';
import { prepareEvening } from './evening.js';
import { DRILL_PASSWORD, schoolMorningOffsetMs, type Roster } from './roster.js';

const { values } = parseArgs({
  options: {
    dir: { type: 'string' },
    schools: { type: 'string', default: '2' },
    classes: { type: 'string', default: '4' },
    pupils: { type: 'string', default: '25' },
    activations: { type: 'string', default: '4' },
    seed: { type: 'string', default: '1' },
    edge: { type: 'string', default: 'on' },
    crisis: { type: 'string', default: 'off' },
    countries: { type: 'string' },
    resume: { type: 'boolean', default: false },
    port: { type: 'string', default: '0' },
    // PostgreSQL instead of the SQLite file: this URL's database, in this schema (created by the drill; kept on a resume).
    'postgres-url': { type: 'string' },
    'pg-schema': { type: 'string' },
    // A node of the two-site layout (sites-morning.ts): where it listens, whose PROXY header it believes, where files go.
    host: { type: 'string', default: '127.0.0.1' },
    'trusted-proxies': { type: 'string' },
    'blob-store': { type: 'string' },
    'redis-url': { type: 'string' },
  },
});
if (!values.dir) throw new Error('--dir est obligatoire');
const dir = values.dir;
const classes = Number(values.classes);
const pupils = Number(values.pupils);

// The real edge with its default rate limits (the drill's clients each come from their own
// address), or none at all for the baseline.
const config: Config = {
  ...childConfig(dir),
  edge: values.edge === 'off' ? 'off' : 'on',
  ...(values['trusted-proxies'] ? { trustedProxies: values['trusted-proxies'].split(',') } : {}),
  ...(values['blob-store'] === 'database' ? { blobStore: 'database' as const } : {}),
  ...(values['redis-url'] ? { redisUrl: values['redis-url'] } : {}),
};
// A school morning whatever the day: the real clock, moved to 07:25 (Paris) of today or the next
// weekday — on a resume, the clock the first process had.
const clockOffsetMs = values.resume ? (JSON.parse(readFileSync(path.join(dir, 'roster.json'), 'utf8')) as Roster).clockOffsetMs : schoolMorningOffsetMs(Date.now());
const clock: Clock = { nowMs: () => Date.now() + clockOffsetMs };
let storage: Storage | undefined;
if (values['postgres-url']) {
  if (!values['pg-schema'] || !/^[a-z_][a-z0-9_]{0,62}$/.test(values['pg-schema'])) throw new Error('--postgres-url demande --pg-schema (un nom de schéma simple)');
  storage = await openStorage(values['postgres-url'], { pgSchema: values['pg-schema'] });
  await migrateToLatest(storage.db, values['pg-schema']);
}
const preau = await compose(config, { clock, ...(storage ? { storage } : {}), ...(values.countries ? { countryLookup: countryTable(values.countries) } : {}) });
if (values.crisis === 'on' && preau.edge) await preau.edge.controls.setCrisisMode(true);
// A storage given to compose is closed by its owner: here, after Préau has closed.
const closeStorage = async () => {
  await storage?.close();
};
if (values.resume) {
  await serveChild(preau, {}, closeStorage, Number(values.port), values.host);
} else {
  await prepare();
  // The directory stays: the drill checks the store once this process has stopped.
  await serveChild(preau, {}, closeStorage, Number(values.port), values.host);
}

/** The evening before (evening.ts), then the roster the load generator needs. */
async function prepare(): Promise<void> {
  const roster = await prepareEvening(preau, {
    feedDir: path.join(dir, 'aaf'), schools: Number(values.schools), classes, pupils, activations: Number(values.activations), seed: Number(values.seed), password: DRILL_PASSWORD, clockOffsetMs,
  });
  writeFileSync(path.join(dir, 'roster.json'), JSON.stringify(roster));
}
