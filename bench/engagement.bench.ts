/**
 * Suivi du décrochage (issue 9), two figures:
 *
 * (a) What recording the signals costs the hottest read: the session-resume bench's request
 *     (GET /api/v1/me/today with a remembered session) on two Préau children pinned to the same CPU,
 *     one with PREAU_ENGAGEMENT_RECORDING=on (every request updates the batched recorder), one with
 *     it off, loaded identically in alternating slices. Ratio: req/s on ÷ req/s off (target ≥ 0.95).
 *     A third child, recording off too, is the A/A control: when it differs from the first by more
 *     than AA_TOLERANCE, the run is invalid (an error, not a ratio).
 *
 * (b) Time to build the CPE's view of a school of 1,000 pupils (30 classes) with 10 school days of
 *     signals, on the embedded store (SQLite file, WAL) in this process, against a baseline that
 *     reads the same engagement rows with one plain indexed SELECT. Median of repeated builds.
 *     Judged: 200 ms ÷ the view's median (target ≥ 1, i.e. under 200 ms).
 */
import { mkdtempSync, rmSync } from 'node:fs';
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
import { pinningMode, startServer } from './support/proc.js';
import type { BenchResult } from './support/protocol.js';
import { num, step } from './support/report.js';
import { assertAllOk, combineLoads, roundRatios, runLoad, type LoadOutcome } from './support/run-load.js';

export const RECORDING_TARGET = 0.95;
export const CPE_VIEW_BUDGET_MS = 200;

export interface EngagementBenchOptions {
  durationS: number;
  warmupS: number;
  rounds: number;
  connections: number;
  /** Pupils of the school in (b). */
  pupils: number;
  /** Builds of the view measured in (b). */
  builds: number;
}

/** Two identically configured Préau children may differ by more than this (A/A control): then no ratio between them means anything. */
export const AA_TOLERANCE = 0.1;

async function recordingOverhead(o: EngagementBenchOptions): Promise<BenchResult> {
  const sliceS = Math.max(1, Math.ceil(o.durationS / o.rounds));
  // Three children on CPU 0: recording off, on, and a second "off" as an A/A control — two Préau
  // processes with the same settings have been seen to settle at throughputs 2× apart (STATUS).
  const sides = [
    { label: 'suivi off', flag: 'off' },
    { label: 'suivi on ', flag: 'on' },
    { label: 'témoin off', flag: 'off' },
  ] as const;
  const servers: Awaited<ReturnType<typeof startServer>>[] = [];
  const slices: LoadOutcome[][] = [[], [], []];
  try {
    for (const side of sides) {
      step(`Préau, ${side.label.trim()} (CPU 0)`);
      servers.push(await startServer('preau-server.ts', ['--engagement-recording', side.flag]));
    }
    const cookies = await Promise.all(servers.map((s) => signIn(`http://127.0.0.1:${s.ready.port}`, 'pupila1')));
    for (let r = 0; r < o.rounds; r++) {
      // Each round in another order, so that no side is always measured first.
      for (let k = 0; k < sides.length; k++) {
        const i = (k + r) % sides.length;
        const s = servers[i]!;
        const res = await runLoad(`${sides[i]!.label} [${r + 1}/${o.rounds}]`, {
          url: `http://127.0.0.1:${s.ready.port}/api/v1/me/today`, method: 'GET', connections: o.connections, warmupS: r === 0 ? o.warmupS : 0, durationS: sliceS, headers: { cookie: cookies[i]! },
        }, s.child.process.pid);
        assertAllOk(`Préau ${sides[i]!.label.trim()}`, res);
        slices[i]!.push(res);
      }
    }
  } finally {
    await Promise.all(servers.map((s) => s.child.stop()));
  }
  const [base, mine, control] = slices.map((x) => combineLoads(x)) as [LoadOutcome, LoadOutcome, LoadOutcome];
  const spread = roundRatios(slices[1]!.map((s) => s.requestsPerSecond), slices[0]!.map((s) => s.requestsPerSecond));
  const ratio = mine.requestsPerSecond / base.requestsPerSecond;
  const aa = control.requestsPerSecond / base.requestsPerSecond;
  console.log(`    suivi on   ${num(mine.requestsPerSecond)} req/s   p50 ${num(mine.latencyP50Ms, 2)} ms`);
  console.log(`    suivi off  ${num(base.requestsPerSecond)} req/s   p50 ${num(base.latencyP50Ms, 2)} ms`);
  console.log(`    témoin off ${num(control.requestsPerSecond)} req/s   (contrôle A/A : ${num(aa, 3)})`);
  console.log(`    ratio      ${num(ratio, 3)} (objectif ≥ ${RECORDING_TARGET}) ; par tranche : ${spread.perRound.map((x) => num(x, 3)).join(' · ')}`);
  if (Math.abs(aa - 1) > AA_TOLERANCE) {
    throw new Error(`mesure invalide : deux Préau identiques (suivi off) diffèrent de ${num(aa, 3)} (tolérance ±${AA_TOLERANCE}) ; le ratio ${num(ratio, 3)} ne dit rien — relancer, ou chercher la cause (docs/STATUS.md)`);
  }
  return {
    name: 'engagement-recording', title: 'Suivi : reprise de session, enregistrement on/off', unit: 'req/s', preau: mine.requestsPerSecond, baseline: base.requestsPerSecond,
    baselineLabel: 'Préau sans enregistrement', ratio, target: RECORDING_TARGET,
    details: { ratioPerRound: spread.perRound.map((x) => x.toFixed(3)).join(' '), aaControl: aa.toFixed(3), connections: o.connections, sliceS, rounds: o.rounds, pinning: pinningMode(), node: process.version },
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
  const overhead = await recordingOverhead(o);
  return [overhead, view];
}
