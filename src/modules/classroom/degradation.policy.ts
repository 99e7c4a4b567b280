import { DEGRADE_LADDER, type DegradeLevel, type EngineLoad } from '../../media/media-engine.js';

/**
 * The graceful-degradation policy, pure (LiveKit-style `decide(state, inputs) → state`): which rung
 * of the ladder (media-engine.ts: full → no-pupil-video → teacher-low → screen-only → audio-only)
 * one subscriber receives at. Inputs: the engine's estimate of their downlink and the loss they see,
 * the node's load (the engine's workers and the HTTP thread's event-loop lag), their own "audio
 * seulement" choice and the class size. Steps DOWN at once (as many rungs as the link needs), steps
 * UP one rung at a time after the link has carried the next rung with margin for `upHoldMs`
 * (hysteresis: a link hovering around a threshold does not flap). Server load only ever takes video
 * away (down to `screen-only`), never audio: video is what costs the server, and audio is the class.
 */
export interface DegradationSettings {
  /** Downlink (bits per second) each rung needs, best first; below the last, audio only. */
  neededBps: Record<Exclude<DegradeLevel, 'audio-only'>, number>;
  /** To step up, the link must carry the next rung's need times this (≥ 1): the hysteresis margin. */
  upMargin: number;
  /** ...continuously for this long, and this long after the last change. */
  upHoldMs: number;
  /** Loss (0..1) above which a subscriber drops one rung more than their bandwidth says (their link is struggling). */
  lossStepDown: number;
  /** Loss above which video is gone for them (audio-only): retransmissions would crowd out the audio. */
  lossAudioOnly: number;
  /** Node pressure: above these, no subscriber of this node receives better than `teacher-low`; above the second ones, better than `screen-only`. */
  lagHighMs: number;
  lagCriticalMs: number;
  cpuHigh: number;
  cpuCritical: number;
  /** Classes over this many participants never receive pupil cameras (`no-pupil-video` at best; they start at `teacher-low`: room.state.ts). */
  largeClassAbove: number;
}

export const DEFAULT_DEGRADATION_SETTINGS: DegradationSettings = {
  // Teacher 360p (~500 kb/s) + up to 4 pupil thumbnails (~150 kb/s each) + screen; then 360p alone; then the lowest layer (~150 kb/s); then slides at a low rate; audio (Opus ~32 kb/s) below.
  neededBps: { full: 1_300_000, 'no-pupil-video': 700_000, 'teacher-low': 250_000, 'screen-only': 120_000 },
  upMargin: 1.3,
  upHoldMs: 10_000,
  lossStepDown: 0.05,
  lossAudioOnly: 0.2,
  // The target for the HTTP thread is ≤ 20 ms p99: past 50 ms the node is short, past 150 ms it is in trouble.
  lagHighMs: 50,
  lagCriticalMs: 150,
  cpuHigh: 0.8,
  cpuCritical: 0.95,
  largeClassAbove: 30,
};

export interface SubscriberInputs {
  /** Latest estimate from the engine's `link` event; undefined before the first one. */
  downlinkBps: number | undefined;
  loss: number | undefined;
  audioOnlyChosen: boolean;
  participants: number;
}

/** The node's pressure, from the engine's load and this thread's own event-loop lag. */
export interface NodePressure {
  eventLoopLagP99Ms: number;
  /** The busiest engine worker's lag and CPU (0..1). */
  engineLagP99Ms: number;
  engineCpu: number;
}

export interface SubscriberDegradation {
  level: DegradeLevel;
  changedAtMs: number;
  /** Since when the inputs have allowed a higher rung (null: they do not). */
  upSinceMs: number | null;
}

const rank = (level: DegradeLevel): number => DEGRADE_LADDER.indexOf(level);
const atRank = (r: number): DegradeLevel => DEGRADE_LADDER[Math.max(0, Math.min(DEGRADE_LADDER.length - 1, r))]!;
const worse = (a: DegradeLevel, b: DegradeLevel): DegradeLevel => (rank(a) >= rank(b) ? a : b);

export function pressureOf(load: EngineLoad, eventLoopLagP99Ms: number): NodePressure {
  let engineLagP99Ms = 0;
  let engineCpu = 0;
  for (const w of load.workers) {
    engineLagP99Ms = Math.max(engineLagP99Ms, w.eventLoopLagP99Ms);
    engineCpu = Math.max(engineCpu, w.cpu);
  }
  return { eventLoopLagP99Ms, engineLagP99Ms, engineCpu };
}

/** The best rung the node's load allows (for every subscriber of the node). */
export function ceilingOf(settings: DegradationSettings, pressure: NodePressure): DegradeLevel {
  const lag = Math.max(pressure.eventLoopLagP99Ms, pressure.engineLagP99Ms);
  if (lag > settings.lagCriticalMs || pressure.engineCpu > settings.cpuCritical) return 'screen-only';
  if (lag > settings.lagHighMs || pressure.engineCpu > settings.cpuHigh) return 'teacher-low';
  return 'full';
}

/** The best rung this link carries, given a margin on the needs (1: as is). */
function linkLevel(settings: DegradationSettings, bps: number, loss: number, margin: number): DegradeLevel {
  if (loss > settings.lossAudioOnly) return 'audio-only';
  let level: DegradeLevel = 'audio-only';
  for (const l of DEGRADE_LADDER) {
    if (l === 'audio-only') break;
    if (bps >= settings.neededBps[l] * margin) {
      level = l;
      break;
    }
  }
  return loss > settings.lossStepDown ? atRank(rank(level) + 1) : level;
}

/** Pure: the rung for one subscriber now. */
export function decideLevel(settings: DegradationSettings, current: SubscriberDegradation, inputs: SubscriberInputs, pressure: NodePressure, nowMs: number): SubscriberDegradation {
  if (inputs.audioOnlyChosen) return current.level === 'audio-only' ? { ...current, upSinceMs: null } : { level: 'audio-only', changedAtMs: nowMs, upSinceMs: null };
  let ceiling = ceilingOf(settings, pressure);
  if (inputs.participants > settings.largeClassAbove) ceiling = worse(ceiling, 'no-pupil-video');
  const bps = inputs.downlinkBps;
  const loss = inputs.loss ?? 0;
  // Without an estimate yet, the link says nothing: keep the current rung (bounded by the ceiling).
  const now = bps === undefined ? current.level : linkLevel(settings, bps, loss, 1);
  const target = worse(now, ceiling);
  // Down: at once, as far as needed.
  if (rank(target) > rank(current.level)) return { level: target, changedAtMs: nowMs, upSinceMs: null };
  // Up: one rung, when the link carries it with margin, held long enough.
  const next = atRank(rank(current.level) - 1);
  const carriesNext = next !== current.level && rank(worse(bps === undefined ? current.level : linkLevel(settings, bps, loss, settings.upMargin), ceiling)) <= rank(next);
  if (!carriesNext) return current.upSinceMs === null ? current : { ...current, upSinceMs: null };
  const upSinceMs = current.upSinceMs ?? nowMs;
  if (nowMs - upSinceMs >= settings.upHoldMs && nowMs - current.changedAtMs >= settings.upHoldMs) return { level: next, changedAtMs: nowMs, upSinceMs: null };
  return current.upSinceMs === upSinceMs ? current : { ...current, upSinceMs };
}
