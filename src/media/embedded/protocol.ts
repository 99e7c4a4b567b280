/**
 * Messages between the engine (main thread) and its room workers: typed, and bounded in size
 * (`EMBEDDED_LIMITS.maxWorkerMessageBytes`) by the sender before posting.
 */
import type { MediaEvent, MediaRoomSpec, MediaSignal, ParticipantMedia, RoomMediaStats } from '../media-engine.js';

export interface WorkerOptions {
  workerId: number;
  /** UDP ports the worker's peer connections bind (each worker gets its own slice of the engine's range). */
  icePortRange: [number, number];
  /** Extra host candidates (loopback in tests and benches; werift skips loopback by default). */
  iceAdditionalHostAddresses: string[];
  /** Bind only this local address for ICE (127.0.0.1 in tests); undefined: every interface. */
  iceBindAddress: string | undefined;
  iceServers: { urls: string; username?: string; credential?: string }[];
}

export type WorkerRequest =
  | { op: 'openRoom'; spec: MediaRoomSpec }
  | { op: 'closeRoom'; roomId: string }
  | { op: 'join'; roomId: string; participantId: string; media: ParticipantMedia }
  | { op: 'update'; roomId: string; participantId: string; media: ParticipantMedia }
  | { op: 'signal'; roomId: string; participantId: string; message: MediaSignal }
  | { op: 'leave'; roomId: string; participantId: string }
  | { op: 'stats'; roomId: string };

export type ToWorker = { type: 'request'; id: number; request: WorkerRequest } | { type: 'shutdown' };

export type ErrorCode = 'room_unknown' | 'participant_unknown' | 'full' | 'bad_signal' | 'unavailable';

export type FromWorker =
  | { type: 'ready' }
  | { type: 'response'; id: number; ok: true; stats?: RoomMediaStats }
  | { type: 'response'; id: number; ok: false; code: ErrorCode; message: string }
  | { type: 'signal'; roomId: string; participantId: string; message: MediaSignal }
  | { type: 'event'; event: MediaEvent }
  | { type: 'load'; rooms: number; participants: number; eventLoopLagP99Ms: number; cpu: number }
  | { type: 'room-closed'; roomId: string };

/** Rough serialised size of a message (JSON length; structured clone is of the same order). */
export function messageBytes(message: unknown): number {
  return JSON.stringify(message).length;
}
