import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DrillUsageError, parseDrillArgs, runDrill, type DrillOptions } from './drill.js';
import type { DrillReport } from './report.js';

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
    expect(refusal(['--fault', 'site']).message).toMatch(/^--fault attend restart \(reçu « site »\) : arrêter la base primaire/);
    expect(refusal(['--fault-at', '08:30']).message).toBe('--fault-at règle la panne : ajoutez --fault restart.');
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

  it('never sends load to a target without --yes-i-own-this-target (64), and says a target is not playable yet (78)', () => {
    const e = refusal(['--target', 'https://ent.example.org']);
    expect(e.exitCode).toBe(64);
    expect(e.message).toContain('sans --yes-i-own-this-target');
    expect(refusal(['--target', 'http://127.0.0.1:3000', '--yes-i-own-this-target']).exitCode).toBe(78);
  });

  it('is the `preau drill` command (a real process)', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'drill', '--target', 'http://ent.example.org'], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(64);
    expect(r.stderr).toContain('L’exercice n’envoie aucune charge vers « http://ent.example.org »');
    const help = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'help'], { encoding: 'utf8', timeout: 30_000 });
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
      attack: { floodRatePerS: 40, stuffingRatePerS: 6, stuffingAddresses: 200, slowHeaders: 20, slowReads: 4 }, crisis: true, compareBaseline: true, fault: { kind: 'restart', at: '08:15' },
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
