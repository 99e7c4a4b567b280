/**
 * The media engine port: what the classe virtuelle's room logic (src/modules/classroom/) asks of
 * whatever moves audio and video. Room logic never depends on an engine: the embedded selective
 * forwarding unit (werift, in worker threads) and the Janus adapter (dedicated media servers) both
 * implement this, and one contract suite runs against each.
 *
 * Division of labour:
 * - room logic decides WHO may send WHAT and who should receive what, at what degradation level
 *   (floor, mute all, pupil cameras capped to the last active speakers, "audio seulement", the
 *   degradation policy fed by the link estimates and the load this engine reports);
 * - the engine applies it to media: it forwards packets without re-encoding, drops what a
 *   participant may not send, chooses layers per subscriber, answers NACKs, coalesces keyframe
 *   requests, and reports what it measures.
 *
 * Signalling is opaque to room logic: the browser's media stack and the engine exchange
 * `MediaSignal`s (SDP offers/answers, ICE candidates, ICE restarts) that room logic relays over the
 * realtime gateway after checking the sender is a participant of the room, the message's kind and
 * its size (`MEDIA_SIGNAL_MAX_BYTES`). Who offers is the engine's choice (an SFU usually offers to
 * subscribers when publishers come and go); both directions exist.
 */

/** An SDP is a few KiB; a bigger message is refused before it reaches an engine. */
export const MEDIA_SIGNAL_MAX_BYTES = 16 * 1024;

/**
 * A participant's browser may hold several peer connections (the embedded SFU uses one, `main`,
 * renegotiated as publishers come and go; Janus uses one to publish and one to subscribe). The
 * engine says which connections the client should hold and who offers on each (`connections`,
 * engine → client only); every other signal names its connection. Either side may offer on a
 * connection whose `clientOffers` says so; otherwise only the engine offers and the client answers.
 */
export type MediaSignal =
  | { kind: 'connections'; connections: readonly MediaConnection[] }
  | { kind: 'offer'; connection: string; sdp: string }
  | { kind: 'answer'; connection: string; sdp: string }
  /** One trickled ICE candidate (`candidate: ''` marks the end of candidates). */
  | { kind: 'candidate'; connection: string; candidate: string; sdpMid: string | null; sdpMLineIndex: number | null }
  /** Client → engine: the network changed or ICE failed on this connection; the engine answers with an offer carrying new ICE credentials (ICE restart). */
  | { kind: 'restart'; connection: string };

export interface MediaConnection {
  /** Opaque label chosen by the engine (`main`, `publish`, `subscribe`…); a short token [a-z0-9-]{1,32}. */
  label: string;
  /** True: the client creates the offer (with the tracks in `send`); false: the engine offers. */
  clientOffers: boolean;
  /** What the client should attach to this connection (what it may send there). */
  send: readonly ('audio' | 'camera' | 'screen')[];
  /** Whether media from others arrives on this connection. */
  receive: boolean;
}

/** What a participant's browser may send. A track the participant may not send is dropped by the engine (never forwarded). */
export interface SendRights {
  audio: boolean;
  camera: boolean;
  screen: boolean;
}

/**
 * The graceful-degradation ladder of issue 8, one step per rung, applied per subscriber (what this
 * participant RECEIVES). Room logic picks the rung (pure policy); the engine applies it:
 * - `full`: everything the room forwards (teacher camera at the best layer the link carries, pupil cameras, screen);
 * - `no-pupil-video`: pupil cameras are no longer forwarded to this subscriber;
 * - `teacher-low`: the teacher's camera at its lowest layer / frame rate;
 * - `screen-only`: no camera at all; the shared screen (slides) at a low frame rate;
 * - `audio-only`: audio only (always the last thing to go: audio is never degraded by choice).
 */
export const DEGRADE_LADDER = ['full', 'no-pupil-video', 'teacher-low', 'screen-only', 'audio-only'] as const;
export type DegradeLevel = (typeof DEGRADE_LADDER)[number];

/** What room logic wants for one participant now. Sent whole on every change (idempotent). */
export interface ParticipantMedia {
  /** `teacher` sources (camera, screen) are the main ones; `pupil` cameras are the capped extras. */
  role: 'teacher' | 'pupil';
  send: SendRights;
  /** Whose cameras this participant should receive besides the teachers' (the last active speakers, capped by room logic). */
  camerasOf: readonly string[];
  /** The rung of the ladder this participant receives at. */
  level: DegradeLevel;
}

export interface MediaRoomSpec {
  roomId: string;
  /** Participants expected at most (room logic's cap): the engine may refuse to open a room it cannot carry. */
  maxParticipants: number;
  /** Classes over 30 participants start in low-bandwidth mode: the engine starts subscribers at `teacher-low`. */
  lowBandwidth: boolean;
}

/** What the engine measures and tells room logic (room logic turns estimates into degradation levels). */
export type MediaEvent =
  /** A participant's transport is up (first media can flow) or lost (ICE failed/disconnected: the client may restart ICE within the reconnection window). */
  | { kind: 'transport'; roomId: string; participantId: string; state: 'connected' | 'disconnected' | 'failed' }
  /** The bandwidth estimate towards a subscriber (bits per second) and the loss it sees (0..1), every second or so. */
  | { kind: 'link'; roomId: string; participantId: string; downlinkBps: number; loss: number }
  /** The audio level of a sender changed enough to matter (active-speaker detection; `speaking` with hysteresis). */
  | { kind: 'speaking'; roomId: string; participantId: string; speaking: boolean }
  /** Tracks a participant publishes, as the engine sees them (for the room's view of who has a camera on). */
  | { kind: 'tracks'; roomId: string; participantId: string; audio: boolean; camera: boolean; screen: boolean };

/** The engine's own load, per worker (room logic degrades rooms before audio suffers). */
export interface EngineLoad {
  workers: { id: number; rooms: number; participants: number; eventLoopLagP99Ms: number; cpu: number }[];
}

/** Counters of one room (bench and the teacher's "qualité" panel). */
export interface RoomMediaStats {
  roomId: string;
  participants: number;
  forwardedPackets: number;
  /** Packets the engine received but could not forward in time (queue full, worker late): loss caused by the server. */
  droppedPackets: number;
  retransmittedPackets: number;
  /** Keyframe requests (PLI/FIR) received from subscribers, and those that reached publishers after coalescing. */
  keyframeRequestsReceived: number;
  keyframeRequestsSent: number;
}

/** Thrown (or rejected) with one of these codes; room logic maps them to the error catalogue. */
export class MediaEngineError extends Error {
  constructor(
    readonly code: 'room_unknown' | 'participant_unknown' | 'full' | 'bad_signal' | 'unavailable',
    message: string,
  ) {
    super(message);
    this.name = 'MediaEngineError';
  }
}

export interface MediaEngine {
  /** `embedded` (werift SFU) or `janus`; shown to operators. */
  readonly name: string;
  /** Opens a room's media; idempotent. Rejects `full` when this engine carries no more rooms. */
  openRoom(spec: MediaRoomSpec): Promise<void>;
  /** Closes a room: every participant's media stops. Idempotent. */
  closeRoom(roomId: string): Promise<void>;
  /** Adds a participant (their media starts with the first signals). Rejects `full`, `room_unknown`. A second join of the same id replaces the first (reconnection with a new page). */
  join(roomId: string, participantId: string, media: ParticipantMedia): Promise<void>;
  /** What this participant may send and receives now (floor given/taken, mute all, cameras, degradation). Idempotent. */
  update(roomId: string, participantId: string, media: ParticipantMedia): Promise<void>;
  /** A signal from this participant's browser, already checked for kind and size by room logic. Rejects `bad_signal` on an SDP the engine cannot take (never crashes the room). */
  signal(roomId: string, participantId: string, message: MediaSignal): Promise<void>;
  leave(roomId: string, participantId: string): Promise<void>;
  /** Signals for a participant's browser (relayed by room logic over the realtime gateway). Returns an unsubscribe. */
  onSignal(listener: (roomId: string, participantId: string, message: MediaSignal) => void): () => void;
  /** Measurements (transport state, link estimates, speaking, tracks). Returns an unsubscribe. */
  onEvent(listener: (event: MediaEvent) => void): () => void;
  load(): EngineLoad;
  stats(roomId: string): Promise<RoomMediaStats>;
  /** Stops every room and worker. */
  close(): Promise<void>;
}

/** The listeners every engine keeps for `onSignal` and `onEvent`, and how it calls them. */
export class MediaListeners {
  private readonly signals = new Set<(roomId: string, participantId: string, message: MediaSignal) => void>();
  private readonly events = new Set<(event: MediaEvent) => void>();

  onSignal(listener: (roomId: string, participantId: string, message: MediaSignal) => void): () => void {
    this.signals.add(listener);
    return () => this.signals.delete(listener);
  }

  onEvent(listener: (event: MediaEvent) => void): () => void {
    this.events.add(listener);
    return () => this.events.delete(listener);
  }

  signal(roomId: string, participantId: string, message: MediaSignal): void {
    for (const l of this.signals) l(roomId, participantId, message);
  }

  event(event: MediaEvent): void {
    for (const l of this.events) l(event);
  }
}
