/**
 * The classroom bench's wire between its client child (synthetic werift participants, pinned on
 * the load CPU) and the engine host (the embedded media engine, pinned on the server CPU): JSON
 * over one WebSocket, standing in for room logic's relay over the realtime gateway.
 */
import type { EngineLoad, MediaSignal, ParticipantMedia, RoomMediaStats } from '../../src/media/media-engine.js';

export type ToHost =
  | { id: number; op: 'open'; roomId: string; maxParticipants: number }
  | { id: number; op: 'close'; roomId: string }
  | { id: number; op: 'join'; roomId: string; participantId: string; media: ParticipantMedia }
  | { id: number; op: 'signal'; roomId: string; participantId: string; message: MediaSignal }
  | { id: number; op: 'stats'; roomId: string }
  /** Starts a measurement window on the host (CPU, main-thread event-loop lag). */
  | { id: number; op: 'measure-start' }
  | { id: number; op: 'measure-end' };

export interface HostMeasure {
  wallMs: number;
  /** CPU of the whole host process (main thread and workers), ms. */
  cpuMs: number;
  /** Event-loop delay p99 of the host's main thread (where HTTP would run), ms. */
  mainLagP99Ms: number;
  load: EngineLoad;
}

export type FromHost =
  | { op: 'reply'; id: number; ok: true; stats?: RoomMediaStats; measure?: HostMeasure }
  | { op: 'reply'; id: number; ok: false; error: string }
  | { op: 'signal'; roomId: string; participantId: string; message: MediaSignal };

/**
 * One step of a pupil's join, measured at the synthetic client: `join` (the engine's join call
 * answered), `offer` (first offer received), `answer` (first answer accepted by the engine), `ice`
 * (ICE connected), `dtls` (DTLS connected: connection state `connected`), `rtp` (first media packet).
 * `step*` is the time since the previous step, `since*` the time since the join call, both over the
 * pupils who reached the step.
 */
export interface JoinPhase {
  name: 'join' | 'offer' | 'answer' | 'ice' | 'dtls' | 'rtp';
  reached: number;
  stepP50Ms: number;
  stepP95Ms: number;
  sinceJoinP50Ms: number;
  sinceJoinP95Ms: number;
}

export interface ClassPhase {
  pupils: number;
  pupilCameras: number;
  joinP50Ms: number;
  joinP95Ms: number;
  /** Pupils whose first packet never came within the phase. */
  joinFailures: number;
  /** What a failed joiner's peer connection looked like when the phase gave up on it. */
  joinFailureStates: string[];
  /** Where the join time goes, per step of each pupil's first connection (see `JoinPhase`). */
  joinPhases: JoinPhase[];
  /** The slowest joiners' timelines (ms since their join call, per step), slowest first. */
  slowestJoins: { id: string; ms: Record<string, number | undefined> }[];
  /** PLIs reaching the teacher's camera during the join burst, per second of burst. */
  keyframeRequestsToTeacherPerS: number;
  burstS: number;
  keyframeRequestsFromPupils: number;
  measureS: number;
  forwardedPerS: number;
  /** Forwarded packets/s over what the synthetic senders would make at their nominal pace (1 = the generator kept pace). */
  offeredShare: number;
  /** Forwarded packets per second divided by the engine's workers. */
  forwardedPerSPerWorker: number;
  serverCpu: number;
  mainLagP99Ms: number;
  workerLagP99Ms: number;
  workerBusy: number;
  lossPct: number;
  lossPackets: number;
  expectedPackets: number;
  stats: RoomMediaStats;
  serverCpuUsPerForwarded: number;
}

export interface AudioStep {
  pupils: number;
  /** Forwarded packets/s over what the teacher's 20 ms audio to every pupil makes (1 = the generator kept pace). */
  offeredShare: number;
  /** The client generator could not send at the nominal rate: the step says nothing of the engine's capacity. */
  generatorLate: boolean;
  lossPct: number;
  forwardedPerS: number;
  serverCpu: number;
  workerLagP99Ms: number;
  joinFailures: number;
  ok: boolean;
}

export interface RelayPhase {
  receivers: number;
  streams: number;
  measureS: number;
  forwardedPerS: number;
  serverCpu: number;
  serverCpuUsPerForwarded: number;
  lossPct: number;
}

export interface ClassroomResult {
  workers: number;
  classPhase: ClassPhase;
  audioSteps: AudioStep[];
  /** Absent with `--join-only`. */
  relay: RelayPhase | undefined;
  clientLagP99Ms: number;
}
