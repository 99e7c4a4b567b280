/**
 * The crisis morning as a plan: who comes, when, from which address, how they sign in and what
 * they do. Pure and deterministic for a seed (the same roster and options give the same plan), and
 * bounded: one visit per person (two for teachers), at most MAX_ACTIONS actions each, every arrival
 * inside the drill's duration, at most `maxVisits` visits.
 *
 * The clock of the morning is compressed: the warm-up (`warmupS` real seconds) stands for
 * 07:30–08:00, the peak (`peakS` real seconds) for 08:00–08:45. Arrivals of pupils and parents rise
 * towards 08:30 and stay high until 08:45 (a triangular density whose mode is at 08:30).
 */
import { rng } from '../gen-aaf.js';
import type { DrillProfile, Roster, RosterPerson } from './roster.js';

export type Phase = 'warmup' | 'ramp' | 'peak';
export const PHASES: readonly Phase[] = ['warmup', 'ramp', 'peak'];
export const PHASE_LABELS: Readonly<Record<Phase, string>> = { warmup: '07:30 échauffement', ramp: '08:00 montée', peak: '08:30 pointe' };
export const PROFILE_LABELS: Readonly<Record<DrillProfile, string>> = { eleve: 'élèves', parent: 'parents', enseignant: 'enseignants' };

export type SignIn = 'remembered' | 'password' | 'activation';

export type Action =
  | { kind: 'today' }
  | { kind: 'mine' }
  | { kind: 'cahier'; pupilId?: string }
  | { kind: 'entry'; entryId: string }
  | { kind: 'attachment'; path: string }
  | { kind: 'handin'; entryId: string; bytes: number }
  | { kind: 'post'; classId: string; subjectId: string | null }
  /** Edits the work this visit posted last. */
  | { kind: 'edit' }
  | { kind: 'handins'; entryId: string }
  /** A parent writes to one of their child's teachers (the subject is unique to the visit). */
  | { kind: 'message'; toId: string };

/** Reads whose latency the pupils' goal is judged on. */
export const READ_KINDS: ReadonlySet<Action['kind']> = new Set(['today', 'mine', 'cahier', 'entry']);

export interface PlannedAction {
  action: Action;
  /** Pause before the action (a person reads, types, chooses a file). */
  thinkMs: number;
}

export interface Visit {
  index: number;
  login: string;
  profile: DrillProfile;
  /** Source address of the client, in 127.0.0.0/8: the server sees a real, distinct peer. */
  address: string;
  /** Arrival, in ms after the start of the warm-up. */
  atMs: number;
  phase: Phase;
  signIn: SignIn;
  activationCode: string | null;
  actions: PlannedAction[];
}

export interface ScenarioOptions {
  warmupS: number;
  peakS: number;
  seed: number;
  /** Share of pupils and parents whose phone remembers a session (the others type their password). */
  rememberedShare?: number;
  maxVisits?: number;
}

export interface Scenario {
  seed: number;
  warmupS: number;
  peakS: number;
  visits: Visit[];
}

export const MAX_ACTIONS = 8;
export const DEFAULT_MAX_VISITS = 20_000;
/** Share of parents who write to a teacher during their visit. */
export const MESSAGE_SHARE = 0.2;
const HANDIN_MIN_BYTES = 8 * 1024;
const HANDIN_MAX_BYTES = 64 * 1024;

/** The i-th client's address: 127.66.0.1, 127.66.0.2, … (250 per /24, never .0 nor .255). */
export function clientAddress(i: number): string {
  return `127.${66 + Math.floor(i / 62_500)}.${Math.floor(i / 250) % 250}.${1 + (i % 250)}`;
}

/** Which phase a moment of the drill (ms since the warm-up began) belongs to. */
export function phaseAt(tMs: number, s: { warmupS: number; peakS: number }): Phase {
  if (tMs < s.warmupS * 1000) return 'warmup';
  return tMs < (s.warmupS + (s.peakS * 2) / 3) * 1000 ? 'ramp' : 'peak';
}

/** Minutes after 07:30 on the simulated clock for a moment of the drill. */
export function simulatedMinutes(tMs: number, s: { warmupS: number; peakS: number }): number {
  const w = s.warmupS * 1000;
  if (tMs < w) return (tMs / w) * 30;
  return 30 + ((tMs - w) / (s.peakS * 1000)) * 45;
}

/** "08:12" for a moment of the drill. */
export function simulatedClock(tMs: number, s: { warmupS: number; peakS: number }): string {
  const total = 7 * 60 + 30 + Math.floor(simulatedMinutes(tMs, s));
  return `${String(Math.floor(total / 60)).padStart(2, '0')}:${String(total % 60).padStart(2, '0')}`;
}

/** The moment of the drill (ms since the warm-up began) that stands for a simulated time "HH:MM" from 07:30 to 08:45; undefined otherwise. */
export function drillMsAt(hhmm: string, s: { warmupS: number; peakS: number }): number | undefined {
  const m = /^(\d{2}):(\d{2})$/.exec(hhmm);
  if (!m) return undefined;
  const after730 = Number(m[1]) * 60 + Number(m[2]) - (7 * 60 + 30);
  if (Number(m[2]) > 59 || after730 < 0 || after730 > 75) return undefined;
  return Math.round((after730 <= 30 ? (after730 / 30) * s.warmupS : s.warmupS + ((after730 - 30) / 45) * s.peakS) * 1000);
}

/** The real interval [from, to) in ms that stands for simulated 08:25–08:35: "8:30". */
export function window830(s: { warmupS: number; peakS: number }): { fromMs: number; toMs: number } {
  const at = (minutesAfter8: number) => (s.warmupS + (s.peakS * minutesAfter8) / 45) * 1000;
  return { fromMs: at(25), toMs: at(35) };
}

export function planScenario(roster: Roster, options: ScenarioOptions): Scenario {
  const random = rng(options.seed);
  const between = (lo: number, hi: number) => Math.round(lo + random() * (hi - lo));
  const remembered = options.rememberedShare ?? 0.8;
  const maxVisits = Math.min(options.maxVisits ?? DEFAULT_MAX_VISITS, DEFAULT_MAX_VISITS);
  const warmupMs = options.warmupS * 1000;
  const peakMs = options.peakS * 1000;
  const classes = new Map(roster.classes.map((c) => [c.id, c]));
  const teachersOf = new Map<string, string[]>();
  for (const p of roster.people) if (p.profile === 'enseignant') for (const c of p.classIds) teachersOf.set(c, [...(teachersOf.get(c) ?? []), p.id]);
  const think = () => between(300, 2_000);
  const visits: Visit[] = [];

  // Triangular arrival density over the peak, mode at 08:30 (2/3): inverse of its distribution.
  const mode = 2 / 3;
  const arrival = (): number => {
    const u = random();
    const x = u < mode ? Math.sqrt(u * mode) : 1 - Math.sqrt((1 - u) * (1 - mode));
    // Leave the last tenth for the visit to finish inside the peak.
    return warmupMs + Math.round(x * peakMs * 0.9);
  };
  const push = (p: RosterPerson, atMs: number, signIn: SignIn, actions: PlannedAction[]) => {
    if (visits.length >= maxVisits) return;
    visits.push({ index: visits.length, login: p.login, profile: p.profile, address: clientAddress(visits.length), atMs, phase: phaseAt(atMs, options), signIn, activationCode: signIn === 'activation' ? p.activationCode : null, actions: actions.slice(0, MAX_ACTIONS) });
  };
  const step = (action: Action): PlannedAction => ({ action, thinkMs: think() });

  for (const p of roster.people) {
    const handinClass = p.classIds.map((id) => classes.get(id)).find((c) => c?.handinEntryId);
    if (p.profile === 'enseignant') {
      // 07:30: posts work for one of their classes, then corrects it.
      const classId = p.classIds[Math.floor(random() * p.classIds.length)]!;
      push(p, between(0, Math.round(warmupMs * 0.7)), 'remembered', [step({ kind: 'today' }), step({ kind: 'post', classId, subjectId: p.subjectId }), step({ kind: 'edit' })]);
      // During the rush: opens their classes (the cahier, who handed in).
      const actions = [step({ kind: 'today' }), step({ kind: 'cahier' })];
      if (handinClass?.handinEntryId) actions.push(step({ kind: 'handins', entryId: handinClass.handinEntryId }));
      push(p, arrival(), 'remembered', actions);
      continue;
    }
    const signIn: SignIn = p.activationCode ? 'activation' : random() < remembered ? 'remembered' : 'password';
    const actions = [step({ kind: 'today' })];
    if (p.profile === 'parent') {
      actions.push(step({ kind: 'mine' }));
      if (p.childIds[0]) actions.push(step({ kind: 'cahier', pupilId: p.childIds[0] }));
      // One parent in five writes to a teacher ("Léa sera absente ce matin").
      const teachers = teachersOf.get(p.classIds[0] ?? '') ?? [];
      if (teachers.length > 0 && random() < MESSAGE_SHARE) actions.push(step({ kind: 'message', toId: teachers[Math.floor(random() * teachers.length)]! }));
    } else {
      if (random() < 0.5) actions.push(step({ kind: 'mine' }));
      actions.push(step({ kind: 'cahier' }));
      if (handinClass?.handinEntryId) {
        actions.push(step({ kind: 'entry', entryId: handinClass.handinEntryId }));
        if (handinClass.attachmentPath && random() < 0.6) actions.push(step({ kind: 'attachment', path: handinClass.attachmentPath }));
        if (random() < 0.5) actions.push(step({ kind: 'handin', entryId: handinClass.handinEntryId, bytes: between(HANDIN_MIN_BYTES, HANDIN_MAX_BYTES) }));
      }
    }
    push(p, arrival(), signIn, actions);
  }
  visits.sort((a, b) => a.atMs - b.atMs || a.index - b.index);
  return { seed: options.seed, warmupS: options.warmupS, peakS: options.peakS, visits };
}
