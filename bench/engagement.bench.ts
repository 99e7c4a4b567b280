/**
 * Suivi du décrochage (issue 9), two figures:
 *
 * (a) What recording the signals costs the hottest read: the session-resume bench's request
 *     (GET /api/v1/me/today with a remembered session) on a Préau child pinned to CPU 0 whose
 *     recording is switched on and off at run time (`--engagement-recording switchable`, a bench-only
 *     control over the fork channel): under one continuous load, the child itself plays windows of
 *     WINDOW_MS on / off / on-again, the order rotated each cycle, as many cycles as fill `durationS`
 *     (see support/recording-switch.ts and ab-rounds.ts), in `processes` children started one after
 *     the other. Ratio: req/s on ÷ req/s off (target ≥ 0.95), each child against itself, combined
 *     over children; beside it the same in requests per CPU second of the server. The on-again
 *     windows are the A/A control: beyond AA_TOLERANCE the run is invalid (an error, no verdict);
 *     within it, a ratio closer to the target than the control's own gap is "indécis". The edge is
 *     on but its lag shedder off (`--lag-shedder off`): on a loaded machine it answered 503 for the
 *     machine's sake, and this figure is the recorder's cost, not admission's.
 *
 * (b) Time to build the CPE's view of a school of 1,000 pupils (30 classes) with 10 school days of
 *     signals, on the embedded store (SQLite file, WAL) in this process, against a baseline that
 *     reads the same engagement rows with one plain indexed SELECT. Median of repeated builds.
 *     Judged: 200 ms ÷ the view's median (target ≥ 1, i.e. under 200 ms).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { ManualClock, addDays, parisWallTimeToUtcMs } from '../src/platform/clock.js';
import { silentNotifier } from '../src/platform/notify.js';
import { migrateToLatest, openStorage } from '../src/storage/db.js';
import { EngagementRepository, EngagementService } from '../src/modules/engagement/index.js';
import { SchoolsRepository, SchoolsService } from '../src/modules/schools/index.js';
import { TimetableRepository } from '../src/modules/timetable/index.js';
import { signIn } from './session-resume.bench.js';
import { judgeAb, type AbMeasure, type AbSide } from './support/ab-rounds.js';
import type { RecordingWindow } from './support/recording-switch.js';
import { benchNodeFlags, pinningMode, startServer, type BenchChild } from './support/proc.js';
import { PartialBenchError, type BenchResult } from './support/protocol.js';
import { num, step } from './support/report.js';
import { assertAllOk, combineLoads, runLoad, type LoadOutcome } from './support/run-load.js';

export const RECORDING_TARGET = 0.95;
export const CPE_VIEW_BUDGET_MS = 200;

export interface EngagementBenchOptions {
  durationS: number;
  warmupS: number;
  /** Not used by (a), whose cycles of windows fill durationS; kept for the runner's common options. */
  rounds: number;
  /** Préau children started one after the other, each measured against itself. */
  processes: number;
  connections: number;
  /** Pupils of the school in (b). */
  pupils: number;
  /** Builds of the view measured in (b). */
  builds: number;
}

/**
 * The A/A control (recording on against recording on, same process) may differ from 1 by this
 * much at most; beyond, the run says nothing about a 5 % overhead and is refused.
 */
export const AA_TOLERANCE = 0.03;

/** One window of recording on, off or on-again; short, so that the machine's drift falls on all three alike. */
export const WINDOW_MS = 250;


async function playWindows(child: BenchChild, cycles: number, warmupMs: number): Promise<RecordingWindow[]> {
  const done = child.next('engagement-windows', 60_000 + warmupMs + cycles * 3 * WINDOW_MS * 4);
  child.send({ type: 'engagement-windows', cycles, windowMs: WINDOW_MS, warmupMs });
  const m = await done;
  if (m.error) throw new Error(`le Préau du banc n’a pas joué ses fenêtres : ${m.error}`);
  return m.windows;
}

const loadAverage = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

/** Rate of a window (requests per second of wall time), or of CPU (requests per CPU second). */
const perSecond = (n: number, ms: number) => (ms > 0 ? (n * 1000) / ms : 0);

async function recordingOverhead(o: EngagementBenchOptions): Promise<BenchResult> {
  // Cycles of three windows filling the measured duration, per child.
  const cycles = Math.max(2, Math.round((o.durationS * 1000) / (3 * WINDOW_MS)));
  const rates: AbMeasure[] = [];
  const cpu: AbMeasure[] = [];
  const all: LoadOutcome[] = [];
  const sums: Record<AbSide, { requests: number; wallMs: number; cpuMs: number }> = { on: { requests: 0, wallMs: 0, cpuMs: 0 }, off: { requests: 0, wallMs: 0, cpuMs: 0 }, control: { requests: 0, wallMs: 0, cpuMs: 0 } };
  step(`${o.processes} Préau lancés l’un après l’autre (CPU 0, drapeaux V8 ${benchNodeFlags().join(' ') || 'par défaut'}) ; dans chacun, sous une charge continue de ${o.connections} connexions, ${cycles} cycles de fenêtres de ${WINDOW_MS} ms suivi on / off / témoin on en ordre tournant, après ${o.warmupS} s d’échauffement`);
  for (let p = 0; p < o.processes; p++) {
    step(`Préau n°${p + 1}/${o.processes} : suivi commutable (charge ${loadAverage()})`);
    const server = await startServer('preau-server.ts', ['--engagement-recording', 'switchable', '--lag-shedder', 'off'], [], { ipc: true });
    try {
      const cookie = await signIn(`http://127.0.0.1:${server.ready.port}`, 'pupila1');
      // The child starts its windows once traffic flows; the load lasts well past their end (timers run late on a loaded machine).
      // One continuous load (its warm-up is the child's: a separate warm-up run would leave a gap without traffic).
      const windowsDone = playWindows(server.child, cycles, o.warmupS * 1000);
      const spanS = Math.ceil(o.warmupS + (cycles * 3 * WINDOW_MS) / 1000);
      const load = runLoad(`n°${p + 1} fenêtres on/off/témoin`, {
        url: `http://127.0.0.1:${server.ready.port}/api/v1/me/today`, method: 'GET', connections: o.connections, warmupS: 0, durationS: spanS * 2 + 5, headers: { cookie },
      }, server.child.process.pid);
      const [windows, res] = await Promise.all([windowsDone, load]);
      assertAllOk(`Préau n°${p + 1}`, res);
      all.push(res);
      for (const w of windows) {
        rates.push({ process: p, cycle: w.cycle, side: w.side, value: perSecond(w.requests, w.wallMs) });
        cpu.push({ process: p, cycle: w.cycle, side: w.side, value: perSecond(w.requests, w.cpuMs) });
        sums[w.side].requests += w.requests;
        sums[w.side].wallMs += w.wallMs;
        sums[w.side].cpuMs += w.cpuMs;
      }
      const mine = judgeAb(rates.filter((r) => r.process === p), RECORDING_TARGET, AA_TOLERANCE);
      const mineCpu = judgeAb(cpu.filter((r) => r.process === p), RECORDING_TARGET, AA_TOLERANCE);
      console.log(`    n°${p + 1} : ${windows.length} fenêtres, ${num(res.requestsPerSecond)} req/s en tout · ratio on/off ${num(mine.ratio, 3)} (A/A ${num(mine.aa, 3)}) · par CPU ${num(mineCpu.ratio, 3)} (A/A ${num(mineCpu.aa, 3)})`);
    } finally {
      await server.child.stop();
    }
  }
  const judged = judgeAb(rates, RECORDING_TARGET, AA_TOLERANCE);
  // Requests per CPU second: the same comparison, less moved by the machine's other work.
  const cpuJudged = judgeAb(cpu, RECORDING_TARGET, AA_TOLERANCE);
  const rate = (side: AbSide) => perSecond(sums[side].requests, sums[side].wallMs);
  const usPerRequest = (side: AbSide) => (sums[side].requests > 0 ? (sums[side].cpuMs * 1000) / sums[side].requests : 0);
  const load = combineLoads(all);
  console.log(`    suivi on   ${num(rate('on'))} req/s · ${num(usPerRequest('on'), 1)} µs CPU/req`);
  console.log(`    suivi off  ${num(rate('off'))} req/s · ${num(usPerRequest('off'), 1)} µs CPU/req`);
  console.log(`    témoin on  ${num(rate('control'))} req/s · ${num(usPerRequest('control'), 1)} µs CPU/req   (p50 de toute la charge ${num(load.latencyP50Ms, 2)} ms)`);
  console.log(`    ratio      ${num(judged.ratio, 3)} (objectif ≥ ${RECORDING_TARGET}) · contrôle A/A ${num(judged.aa, 3)} (tolérance ±${AA_TOLERANCE}) · par Préau ${judged.perProcess.map((x) => `${num(x.ratio, 3)} (A/A ${num(x.aa, 3)})`).join(' · ')}`);
  console.log(`    par CPU    ratio ${num(cpuJudged.ratio, 3)} · contrôle A/A ${num(cpuJudged.aa, 3)} (requêtes par seconde de CPU du serveur) · ${cpuJudged.verdict}`);
  console.log(`    verdict    ${judged.verdict} : ${judged.reason} ; charge de la machine ${loadAverage()}`);
  if (judged.verdict === 'invalide') {
    throw new Error(`mesure invalide en req/s : ${judged.reason} — relancer sur une machine plus calme (docs/STATUS.md) ; par CPU : ${cpuJudged.verdict}, ${cpuJudged.reason}`);
  }
  return {
    name: 'engagement-recording', title: 'Suivi : reprise de session, enregistrement on/off', unit: 'req/s', preau: rate('on'), baseline: rate('off'),
    baselineLabel: 'même Préau, enregistrement coupé', ratio: judged.ratio, target: RECORDING_TARGET, verdict: judged.verdict, cpuRatio: cpuJudged.ratio,
    details: {
      verdict: judged.verdict, reason: judged.reason, aaControl: judged.aa.toFixed(3), aaTolerance: AA_TOLERANCE,
      ratioPerProcess: judged.perProcess.map((x) => x.ratio.toFixed(3)).join(' '), aaPerProcess: judged.perProcess.map((x) => x.aa.toFixed(3)).join(' '),
      cpuVerdict: cpuJudged.verdict, cpuAaControl: cpuJudged.aa.toFixed(3), cpuUsPerRequestOn: usPerRequest('on'), cpuUsPerRequestOff: usPerRequest('off'),
      processes: o.processes, cycles, windowMs: WINDOW_MS, connections: o.connections, v8Flags: benchNodeFlags().join(' '), loadAverageAtEnd: loadAverage(), pinning: pinningMode(), node: process.version,
    },
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function cpeView(o: EngagementBenchOptions): Promise<BenchResult> {
  const dir = mkdtempSync(path.join(tmpdir(), 'preau-bench-engagement-'));
  const storage = await openStorage(`sqlite:${path.join(dir, 'preau.sqlite')}`);
  try {
    await migrateToLatest(storage.db);
    const db = storage.db;
    // Thursday 17 September 2026, 18:00: two school weeks of signals behind.
    const clock = new ManualClock(parisWallTimeToUtcMs('2026-09-17', 18));
    const now = clock.nowMs();
    step(`école de ${o.pupils} élèves (30 classes), 10 jours d’école de signaux, travaux et classes virtuelles, SQLite (fichier, WAL)`);
    await db.insertInto('schools').values({ id: 'S', uai: '0750000X', aaf_jointure: null, name: 'Collège du banc', kind: 'COLLEGE', academie: 'PARIS', created_at: now, updated_at: now }).execute();
    await db.insertInto('school_calendars').values({ school_id: 'S', year_start: '2026-09-01', year_end: '2027-07-03', week_a_monday: '2026-09-07', updated_at: now }).execute();
    const person = (id: string, profile: 'eleve' | 'parent' | 'personnel') => ({
      id, aaf_jointure: null, profile, staff_function: profile === 'personnel' ? ('cpe' as const) : null, login: id, first_name: id, last_name: 'Banc', title: null, password_hash: null,
      status: 'active' as const, school_id: profile === 'parent' ? null : 'S', mef_code: null, departed_at: null, created_at: now, updated_at: now, preferred_lang: null,
    });
    const classes = Array.from({ length: 30 }, (_, i) => ({ id: `C${i}`, school_id: 'S', code: `C${i}`, name: `Classe ${i}`, mef_code: null, created_at: now }));
    await db.insertInto('classes').values(classes).execute();
    const pupils = Array.from({ length: o.pupils }, (_, i) => person(`P${i}`, 'eleve'));
    const parents = pupils.map((_, i) => person(`R${i}`, 'parent'));
    for (let i = 0; i < pupils.length; i += 400) {
      const chunk = pupils.slice(i, i + 400);
      await db.insertInto('people').values([...chunk, ...parents.slice(i, i + 400)]).execute();
      await db.insertInto('school_members').values(chunk.map((p) => ({ school_id: 'S', person_id: p.id }))).execute();
      await db.insertInto('class_enrolments').values(chunk.map((p, j) => ({ class_id: `C${(i + j) % 30}`, person_id: p.id }))).execute();
      await db.insertInto('guardianships').values(chunk.map((p, j) => ({ parent_id: `R${i + j}`, child_id: p.id, legal_guardian: 1, relation: null }))).execute();
    }
    await db.insertInto('people').values(person('cpe', 'personnel')).execute();
    await db.insertInto('school_members').values({ school_id: 'S', person_id: 'cpe' }).execute();
    // 10 school days (3 to 17 September, weekdays), 9 pupils in 10 seen each day; a work due each day per class; a virtual class every other day.
    const days: string[] = [];
    for (let d = '2026-09-04'; d <= '2026-09-17'; d = addDays(d, 1)) if (![0, 6].includes(new Date(`${d}T12:00:00Z`).getUTCDay())) days.push(d);
    const rows = [];
    for (const [k, d] of days.entries()) for (let i = 0; i < o.pupils; i++) if ((i + k) % 10 !== 0) {
      const t = parisWallTimeToUtcMs(d, 9);
      rows.push({ person_id: `P${i}`, day: d, first_seen_at: t, last_seen_at: t + 3_600_000, works_done: 1, handins_on_time: 1, handins_late: 0, messages_read: 1, liaisons_signed: 0 });
    }
    for (let i = 0; i < rows.length; i += 3000) await db.insertInto('engagement_days').values(rows.slice(i, i + 3000)).execute();
    const works = classes.flatMap((c) => days.slice(-4).map((d) => ({
      id: `W-${c.id}-${d}`, school_id: 'S', teacher_id: null, class_id: c.id, group_id: null, subject_id: null, kind: 'travail', title: 'Exercices', body_html: '', links: '[]', on_date: d,
      due_at: parisWallTimeToUtcMs(d, 8), estimated_minutes: null, online_handin: 1, publish_at: now - 30 * 86_400_000, copied_from: null, created_at: now, updated_at: now, deleted_at: null,
    })));
    await db.insertInto('homework_entries').values(works).execute();
    const handins = works.flatMap((w) => pupils.filter((_, i) => `C${i % 30}` === w.class_id && i % 7 !== 0).map((p) => ({
      id: `H-${w.id}-${p.id}`, entry_id: w.id, pupil_id: p.id, idempotency_key: `k-${w.id}`, text: 'x', text_sha256: null, submitted_at: w.due_at! - 3_600_000, late: 0, superseded_at: null,
    })));
    for (let i = 0; i < handins.length; i += 1000) await db.insertInto('handins').values(handins.slice(i, i + 1000)).execute();
    const service = new EngagementService(new EngagementRepository(db, storage.capabilities), new SchoolsService(new SchoolsRepository(db), clock), new TimetableRepository(db, storage.capabilities), clock, silentNotifier);
    for (const c of classes) for (const d of days.filter((_, k) => k % 2 === 0)) {
      await service.recordClassSession({ sessionId: `V-${c.id}-${d}`, schoolId: 'S', classId: c.id, groupId: null, startsAt: parisWallTimeToUtcMs(d, 10) });
    }
    // Most pupils attend (4 in 5), audio only one time in 3.
    const sessions = await db.selectFrom('engagement_class_sessions').select(['id', 'class_id', 'starts_at']).execute();
    const attendance = sessions.flatMap((sess) => pupils.filter((_, i) => `C${i % 30}` === sess.class_id && i % 5 !== 0).map((p, j) => ({
      session_id: sess.id, pupil_id: p.id, joined_at: sess.starts_at + 60_000, minutes: 45, audio_only: j % 3 === 0 ? 1 : 0,
    })));
    for (let i = 0; i < attendance.length; i += 1000) await db.insertInto('engagement_attendance').values(attendance.slice(i, i + 1000)).execute();
    const cpe = await new SchoolsService(new SchoolsRepository(db), clock).scopeOf('cpe');

    // Warm-up, then alternate view and baseline builds.
    const first = await service.schoolView(cpe, 'S');
    const repo = new EngagementRepository(db, storage.capabilities);
    const viewMs: number[] = [];
    const selectMs: number[] = [];
    let selected = 0;
    for (let i = 0; i < o.builds; i++) {
      let t = performance.now();
      await service.schoolView(cpe, 'S');
      viewMs.push(performance.now() - t);
      t = performance.now();
      selected = (await repo.daysOfSchool('S', days[0]!, days.at(-1)!)).length;
      selectMs.push(performance.now() - t);
    }
    const view = median(viewMs);
    const select = median(selectMs);
    console.log(`    vue CPE   médiane ${num(view, 1)} ms sur ${o.builds} constructions (${first.pupils} élèves, ${first.ofConcern.length} à suivre, ${first.trend.length} jours de tendance)`);
    console.log(`    SELECT    médiane ${num(select, 1)} ms (${selected} lignes personne-jour, même index)`);
    console.log(`    budget    ${CPE_VIEW_BUDGET_MS} ms ÷ ${num(view, 1)} ms = ${num(CPE_VIEW_BUDGET_MS / view, 2)} (objectif ≥ 1) ; vue ÷ SELECT = ${num(view / select, 1)}`);
    return {
      name: 'engagement-cpe-view', title: 'Suivi : vue CPE (budget 200 ms ÷ médiane)', unit: 'ms', preau: view, baseline: select, baselineLabel: 'SELECT indexé des mêmes lignes',
      ratio: CPE_VIEW_BUDGET_MS / view, target: 1,
      details: { pupils: o.pupils, builds: o.builds, rows: selected, viewOverSelect: view / select, viewMaxMs: Math.max(...viewMs), cpu: cpus()[0]?.model ?? 'inconnu', node: process.version },
    };
  } finally {
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runEngagementBench(o: EngagementBenchOptions): Promise<BenchResult[]> {
  const view = await cpeView(o);
  try {
    return [await recordingOverhead(o), view];
  } catch (err) {
    // An invalid overhead run does not take the CPE view's figure with it.
    throw new PartialBenchError(err instanceof Error ? err.message : String(err), [view]);
  }
}
