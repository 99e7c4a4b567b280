import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compose } from '../../src/compose.js';
import { defaultConfig } from '../../src/config/config.js';
import { openStorage, migrateToLatest } from '../../src/storage/db.js';
import { systemClock } from '../../src/platform/clock.js';
import { seedFixture } from '../../test/support/fixtures.js';
import pg from 'pg';
import { PG_URL, postgresAvailable } from '../../test/support/backends.js';
import { DrillUsageError, parseDrillArgs, runDrill, type DrillOptions } from './drill.js';
import { cleanTarget, prepareTarget } from './target.js';
import type { DrillReport } from './report.js';

/** `preau <argv>` as a real process (from source through tsx), bounded to 30 s. */
function run(argv: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...argv], { encoding: 'utf8', timeout: 30_000 }, (err, stdout, stderr) => {
      const status = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      if (err && status === null) reject(err);
      else resolve({ status, stdout, stderr });
    });
  });
}

function refusal(argv: string[]): DrillUsageError {
  try {
    parseDrillArgs(argv);
  } catch (err) {
    if (err instanceof DrillUsageError) return err;
    throw err;
  }
  throw new Error('accepté');
}

describe('preau drill: options', () => {
  it('has defaults sized for a 2-core machine, and help', () => {
    const o = parseDrillArgs([], new Date('2026-11-30T07:00:00Z')) as DrillOptions;
    expect(o).toMatchObject({ schools: 2, classes: 4, pupils: 25, durationS: 60, warmupS: 15, seed: 1, rememberedPercent: 80, keep: false });
    expect(path.basename(o.out)).toBe('exercice-2026-11-30-07-00-00');
    expect(parseDrillArgs(['--help'])).toBe('help');
    expect(parseDrillArgs(['--schools', '3', '--classes', '2', '--pupils', '10', '--duration', '30', '--seed', '9', '--remembered', '0', '--out', '/tmp/x'])).toMatchObject({ schools: 3, classes: 2, pupils: 10, durationS: 30, warmupS: 8, seed: 9, rememberedPercent: 0, out: '/tmp/x' });
  });

  it('refuses what it cannot honour, in French, with EX_USAGE', () => {
    expect(refusal(['--pupils', '0'])).toMatchObject({ exitCode: 64, message: '--pupils attend un entier de 1 à 40 (reçu « 0 »).' });
    expect(refusal(['--duration', '10000']).exitCode).toBe(64);
    expect(refusal(['--schools', 'deux']).exitCode).toBe(64);
    expect(refusal(['--inconnue']).message).toMatch(/^Option invalide/);
    expect(refusal(['--attack-flood', '100']).message).toBe('--attack-flood règle l’attaque : ajoutez --attack.');
    expect(refusal(['--attack', '--attack-flood', '0']).exitCode).toBe(64);
    expect(refusal(['--attack', '--attack-slow', '9000']).exitCode).toBe(64);
    expect(refusal(['--crisis', 'peut-être']).message).toBe('--crisis attend on ou off (reçu « peut-être »).');
    expect(refusal(['--fault', 'incendie']).message).toBe('--fault attend restart, primary, site (reçu « incendie »).');
    expect(refusal(['--fault-at', '08:30']).message).toBe('--fault-at règle la panne : ajoutez --fault restart, primary ou site.');
    expect(refusal(['--fault', 'restart', '--fault-at', '09:00']).exitCode).toBe(64);
    expect(refusal(['--fault', 'restart', '--fault-at', '8h30']).exitCode).toBe(64);
  });

  it('adds the attack (crisis mode on with it unless told otherwise) and the baseline when asked', () => {
    expect(parseDrillArgs([])).toMatchObject({ attack: null, crisis: false, compareBaseline: false });
    expect(parseDrillArgs(['--attack', '--compare-baseline'])).toMatchObject({
      attack: { floodRatePerS: 300, stuffingRatePerS: 30, stuffingAddresses: 3_000, slowHeaders: 400, slowReads: 100 }, crisis: true, compareBaseline: true,
    });
    expect(parseDrillArgs(['--attack', '--attack-flood', '50', '--attack-stuffing', '5', '--attack-slow', '40', '--crisis', 'off'])).toMatchObject({
      attack: { floodRatePerS: 50, stuffingRatePerS: 5, slowHeaders: 40, slowReads: 10 }, crisis: false,
    });
    expect(parseDrillArgs(['--crisis', 'on'])).toMatchObject({ attack: null, crisis: true, fault: null });
    expect(parseDrillArgs(['--fault', 'restart'])).toMatchObject({ fault: { kind: 'restart', at: '08:30' } });
    expect(parseDrillArgs(['--fault', 'restart', '--fault-at', '07:45'])).toMatchObject({ fault: { kind: 'restart', at: '07:45' } });
  });

  it('plays --fault primary and --fault site on the two sites (PostgreSQL), refuses what that morning does not play, and --clean alone', () => {
    expect(parseDrillArgs(['--fault', 'site'])).toMatchObject({ fault: { kind: 'site', at: '08:30' }, database: 'postgres', attack: null, compareBaseline: false });
    expect(parseDrillArgs(['--fault', 'primary', '--fault-at', '08:10', '--database', 'postgres'])).toMatchObject({ fault: { kind: 'primary', at: '08:10' }, database: 'postgres' });
    expect(refusal(['--fault', 'site', '--compare-baseline'])).toMatchObject({ exitCode: 64, message: expect.stringMatching(/^--fault site ne se joue pas avec --compare-baseline/) });
    expect(refusal(['--fault', 'primary', '--attack'])).toMatchObject({ exitCode: 64, message: expect.stringMatching(/^--fault primary ne se joue pas encore avec --attack/) });
    expect(refusal(['--fault', 'site', '--database', 'sqlite'])).toMatchObject({ exitCode: 64, message: expect.stringMatching(/PostgreSQL \(Patroni\)/) });
    expect(refusal(['--fault', 'site', '--fault-at', '09:00']).exitCode).toBe(64);
    expect(parseDrillArgs(['--clean'])).toEqual({ command: 'clean' });
    expect(refusal(['--clean', '--fault', 'site'])).toMatchObject({ exitCode: 64, message: '--clean s’utilise seul (reçu aussi --fault).' });
    expect(parseDrillArgs([])).toMatchObject({ database: 'sqlite' });
    expect(parseDrillArgs(['--database', 'postgres'])).toMatchObject({ database: 'postgres' });
    expect(refusal(['--database', 'mysql']).message).toContain('--database attend sqlite ou postgres');
    expect(refusal(['--database', 'postgres', '--target', 'http://127.0.0.1:1', '--roster', '/tmp/r', '--yes-i-own-this-target']).message).toContain('a sa propre base');
  });

  it('never sends load to a target without --yes-i-own-this-target, and refuses what cannot be played there', () => {
    const e = refusal(['--target', 'https://ent.example.org']);
    expect(e.exitCode).toBe(64);
    expect(e.message).toContain('sans --yes-i-own-this-target');
    const own = ['--yes-i-own-this-target'];
    expect(refusal(['--target', 'https://ent.example.org', ...own]).message).toContain('demande --roster');
    expect(refusal(['--target', 'ent.example.org', '--roster', 'r.json', ...own]).message).toContain('http(s)://');
    expect(refusal(['--target', 'https://ent.example.org/chemin', '--roster', 'r.json', ...own]).exitCode).toBe(64);
    expect(refusal(['--target', 'https://ent.example.org', '--roster', 'r.json', '--fault', 'restart', ...own]).message).toMatch(/^La panne et la référence/);
    expect(refusal(['--target', 'https://ent.example.org', '--roster', 'r.json', '--compare-baseline', ...own]).exitCode).toBe(64);
    expect(refusal(['--target', 'https://ent.example.org', '--roster', 'r.json', '--attack', ...own]).exitCode).toBe(78);
    expect(parseDrillArgs(['--target', 'http://127.0.0.1:3000/', '--roster', 'r.json', '--attack', ...own])).toMatchObject({ target: { origin: 'http://127.0.0.1:3000', rosterFile: path.resolve('r.json') } });
    expect(refusal(['--roster', 'r.json']).message).toMatch(/^--roster sert avec --target/);
    expect(refusal(['--prepare-target', '--roster', 'r.json']).message).toContain('ajoutez --yes-i-own-this-target');
    expect(refusal(['--clean-target', ...own]).message).toContain('demande --roster');
    expect(parseDrillArgs(['--prepare-target', '--roster', 'r.json', '--schools', '3', ...own])).toEqual({ command: 'prepare-target', rosterFile: path.resolve('r.json'), prepare: { rosterFile: path.resolve('r.json'), schools: 3, classes: 4, pupils: 25, seed: 1, activations: 4 } });
  });

  it('is the `preau drill` command (a real process)', async () => {
    // Both processes at once: each spends seconds starting tsx, mostly waiting.
    const [r, help] = await Promise.all([run(['drill', '--target', 'http://ent.example.org']), run(['help'])]);
    expect(r.status).toBe(64);
    expect(r.stderr).toContain('L’exercice n’envoie aucune charge vers « http://ent.example.org »');
    expect(help.stdout).toContain('drill [options]');
  });
});

describe('a small drill, for real', () => {
  const out = mkdtempSync(path.join(tmpdir(), 'preau-drill-test-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('plays every phase with ~150 people under attack, then the same morning without the edge: loses no acknowledged write, and writes a report with its charts', async () => {
    let printed = '';
    const sink = { isTTY: false, write: (s: string) => ((printed += s), true) } as unknown as NodeJS.WriteStream;
    const options: DrillOptions = {
      schools: 1, classes: 3, pupils: 20, durationS: 8, warmupS: 3, seed: 4, rememberedPercent: 80, out, keep: false, firstTime: 3, drainS: 15,
      attack: { floodRatePerS: 40, stuffingRatePerS: 6, stuffingAddresses: 200, slowHeaders: 20, slowReads: 4 }, crisis: true, compareBaseline: true, fault: { kind: 'restart', at: '08:15' }, target: null, database: 'sqlite',
    };
    const { report, jsonFile, htmlFile } = await runDrill(options, sink);

    const json = JSON.parse(readFileSync(jsonFile, 'utf8')) as DrillReport;
    expect(json).toEqual(report);
    expect(json.edge).toEqual({ on: true, crisis: true });
    expect(json.baseline!.edge).toEqual({ on: false, crisis: false });
    // Killed at 08:15 (a third of the 8 s peak after the 3 s warm-up), started again, and nothing acknowledged is missing.
    expect(json.fault).toMatchObject({ kind: 'restart', at: '08:15', atSec: 5 });
    expect(json.fault!.readyAfterMs).toBeGreaterThan(0);
    for (const run of [json, json.baseline!]) {
      // Nothing acknowledged is ever lost, with or without the edge, under attack.
      expect(run.verdicts.find((v) => v.id === 'nothing_lost')!.ok).toBe(true);
      expect(run.check.missing).toEqual([]);
      expect(run.check.duplicated).toEqual([]);
      expect(run.attack!.flood.sent).toBeGreaterThan(0);
      expect(run.attack!.stuffing.sent).toBeGreaterThan(0);
    }
    expect(json.population.pupils).toBe(60);
    expect(json.population.parents).toBeGreaterThan(50);
    expect(json.population.teachers).toBeGreaterThan(1);
    const verdict = (id: string) => json.verdicts.find((v) => v.id === id)!;
    expect(verdict('all_phases').ok).toBe(true);
    expect(verdict('attack_no_session').ok).toBe(true);
    expect(json.check.handins.acknowledged).toBeGreaterThan(0);
    expect(json.check.posts.acknowledged).toBeGreaterThan(0);
    expect(json.check.messages.acknowledged).toBeGreaterThan(0);
    for (const p of ['warmup', 'ramp', 'peak'] as const) expect(json.phases[p].ran).toBe(true);
    expect(json.signIns.activation).toBe(3);
    expect(json.signIns.password).toBeGreaterThan(0);
    expect(json.signIns.remembered).toBeGreaterThan(0);
    expect(json.pupilReads.n).toBeGreaterThan(0);
    expect(json.seconds.length).toBeGreaterThanOrEqual(options.warmupS + options.durationS);
    expect(json.server.some((s) => s.cpuPercent !== null && s.rssMb !== null && s.waitingRoom !== null)).toBe(true);
    expect(json.at830.sentence).toMatch(/^À 8 h 30/);
    // The attack starts with the ramp (08:00) and is on the drill's seconds.
    expect(json.attack!.startSec).toBe(options.warmupS);
    expect(json.attack!.seconds.length).toBeGreaterThan(0);
    expect(json.attack!.seconds.every((s) => s.sec >= options.warmupS)).toBe(true);
    // In crisis mode the guesses from abroad are challenged before any password is checked.
    expect(json.attack!.flood.outcomes.défié).toBeGreaterThan(0);
    // Each goal is judged against a stated threshold (slow connections watched 8 s: not judged).
    expect(json.verdicts.map((v) => [v.id, typeof v.ok, v.threshold.length > 0])).toEqual([
      ['nothing_lost', 'boolean', true], ['pupil_read_p95', 'boolean', true], ['success_rate', 'boolean', true], ['all_phases', 'boolean', true], ['attack_no_session', 'boolean', true],
    ]);

    const html = readFileSync(htmlFile, 'utf8');
    expect(html).toContain('<html lang="fr">');
    expect(html).toContain('Avec et sans protections de bordure');
    expect(html).toContain('Le même matin sans protections de bordure (référence)');
    // Per morning: six line charts (load, p95, p50, waiting room, CPU, memory), the attack's chart, and the refusals' bars when there were refusals.
    const refused = (r: DrillReport) => Object.keys(r.seconds.reduce((all, s) => ({ ...all, ...s.refusals }), {})).length > 0;
    expect((html.match(/<svg /g) ?? []).length).toBe(7 + (refused(json) ? 1 : 0) + 7 + (refused(json.baseline!) ? 1 : 0));
    expect(html).toContain('Refus et échecs par raison');
    expect(html).toContain('Charge offerte et servie');
    expect(html).toContain('Latence p95 par classe d’utilisateurs');
    expect(html).toContain('Salle d’attente');
    expect(html).toContain('Processeur du serveur');
    expect(html).toContain('Trafic de l’attaque par seconde');
    expect(html).toMatch(/<path d="M[\d.]+,[\d.]+ L/);
    // Self-contained: nothing loaded from anywhere.
    expect(html).not.toMatch(/\b(src|href)=|url\(|@import/);

    expect(printed).toContain('offert');
    expect(printed).toContain('p95 élèves');
    expect(printed).toContain('Exercice du matin — verdicts');
    expect(printed).toContain('SANS protections de bordure (référence)');
    expect(printed).toContain('Attaque, inondation');
    expect(printed).toContain('Panne : Préau tué (SIGKILL) à 08:15');
    expect(html).toContain('La panne (08:15)');
  }, 240_000);
});

describe.skipIf(!(await postgresAvailable()))('a small drill on PostgreSQL (--database postgres)', () => {
  const out = mkdtempSync(path.join(tmpdir(), 'preau-drill-pg-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('plays the morning on a fresh schema, kills and restarts Préau on it, checks every acknowledged write through the API, and drops the schema', async () => {
    let printed = '';
    const sink = { isTTY: false, write: (s: string) => ((printed += s), true) } as unknown as NodeJS.WriteStream;
    const schemasBefore = await drillSchemas();
    const options: DrillOptions = {
      schools: 1, classes: 2, pupils: 15, durationS: 6, warmupS: 3, seed: 7, rememberedPercent: 80, out, keep: false, firstTime: 2, drainS: 15,
      attack: null, crisis: false, compareBaseline: false, fault: { kind: 'restart', at: '08:15' }, target: null, database: 'postgres',
    };
    const { report } = await runDrill(options, sink);
    expect(report.options.database).toBe('postgres');
    expect(report.fault).toMatchObject({ kind: 'restart', at: '08:15' });
    expect(report.verdicts.find((v) => v.id === 'nothing_lost')!.ok).toBe(true);
    expect(report.check.missing).toEqual([]);
    expect(report.check.duplicated).toEqual([]);
    expect(report.check.handins.acknowledged).toBeGreaterThan(0);
    expect(report.check.posts.acknowledged).toBeGreaterThan(0);
    expect(printed).toContain('Préau sur PostgreSQL (schéma exercice_');
    expect(printed).toContain('sur PostgreSQL');
    // The schema it made is gone.
    expect(await drillSchemas()).toEqual(schemasBefore);
  }, 240_000);
});

async function drillSchemas(): Promise<string[]> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    return (await c.query<{ n: string }>("select schema_name as n from information_schema.schemata where schema_name like 'exercice\\_%' order by 1")).rows.map((r) => r.n);
  } finally {
    await c.end();
  }
}

describe('the drill on a deployment (--prepare-target, --target, --clean-target)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'preau-drill-target-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('imports a namespaced académie beside the real one, plays against it, checks the writes through the API, and removes it without touching anyone real', async () => {
    // "The deployment": a store that already serves a real school (the fixture).
    const config = { ...defaultConfig(), host: '127.0.0.1', port: 0, dataDir: dir, databaseUrl: `sqlite:${path.join(dir, 'preau.sqlite')}`, publicUrl: 'http://127.0.0.1', logLevel: 'silent' as const, demo: 'off' as const };
    const storage = await openStorage(config.databaseUrl);
    await migrateToLatest(storage.db);
    await seedFixture(storage.db, systemClock);
    const realPeople = await storage.db.selectFrom('people').select(['id', 'password_hash', 'status', 'updated_at']).orderBy('id').execute();
    const realSchools = await storage.db.selectFrom('schools').select('id').orderBy('id').execute();
    await storage.close();

    const rosterFile = path.join(dir, 'exercice.json');
    const roster = await prepareTarget(config, { rosterFile, schools: 1, classes: 2, pupils: 12, activations: 2, seed: 5 });
    expect(statSync(rosterFile).mode & 0o777).toBe(0o600);
    expect(roster.password).not.toBe('Exercice-Matin-0830');
    expect(roster.schoolJointures).toEqual(['EXERCICE-PREAU-100000']);
    expect(roster.people.filter((p) => p.profile === 'eleve')).toHaveLength(24);
    const preau = await compose(config);
    let drillPeople = 0;
    try {
      const db = preau.storage.db;
      drillPeople = Number((await db.selectFrom('people').select((eb) => eb.fn.countAll().as('n')).where('aaf_jointure', 'like', 'EXERCICE-PREAU-%').executeTakeFirstOrThrow()).n);
      // The roster's pupils, parents and teachers, and the feed's staff (direction, CPE…).
      expect(drillPeople).toBeGreaterThan(roster.people.length);
      expect(await db.selectFrom('schools').select(['uai']).where('aaf_jointure', '=', 'EXERCICE-PREAU-100000').executeTakeFirstOrThrow()).toEqual({ uai: '9990000A' });
      // Nobody real was touched.
      const real = await db.selectFrom('people').select(['id', 'password_hash', 'status', 'updated_at']).where('id', 'in', realPeople.map((p) => p.id)).orderBy('id').execute();
      expect(real).toEqual(realPeople);

      await preau.app.listen({ host: '127.0.0.1', port: 0 });
      const origin = `http://127.0.0.1:${(preau.app.server.address() as { port: number }).port}`;
      const out = path.join(dir, 'rapport');
      const sink = { isTTY: false, write: () => true } as unknown as NodeJS.WriteStream;
      const options = parseDrillArgs(['--target', origin, '--roster', rosterFile, '--yes-i-own-this-target', '--duration', '6', '--warmup', '3', '--seed', '2', '--out', out]) as DrillOptions;
      const { report } = await runDrill({ ...options, drainS: 15 }, sink);
      expect(report.target).toBe(origin);
      expect(report.check.method).toBe('api');
      expect(report.verdicts.find((v) => v.id === 'nothing_lost')).toMatchObject({ ok: true });
      expect(report.check.posts.acknowledged).toBeGreaterThan(0);
      expect(report.check.handins.found + report.check.posts.found + report.check.messages.found).toBe(report.check.handins.acknowledged + report.check.posts.acknowledged + report.check.messages.acknowledged);
      expect(report.signIns.activation).toBe(2);
      expect(readFileSync(path.join(out, 'rapport.html'), 'utf8')).toContain('Vérifiées par l’API du déploiement');
    } finally {
      await preau.close();
    }

    const removed = await cleanTarget(config, rosterFile);
    expect(removed.schools).toBe(1);
    expect(removed.people).toBe(drillPeople);
    const after = await openStorage(config.databaseUrl);
    try {
      expect(await after.db.selectFrom('schools').select('id').orderBy('id').execute()).toEqual(realSchools);
      expect(await after.db.selectFrom('people').select(['id', 'password_hash', 'status', 'updated_at']).orderBy('id').execute()).toEqual(realPeople);
    } finally {
      await after.close();
    }

  }, 240_000);
});
