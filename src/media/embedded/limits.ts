/**
 * Every bound of the embedded SFU, named in one place (sizes, counts, times). The engine refuses
 * (`full`, `bad_signal`, `unavailable`) rather than growing past one of these.
 */
export const EMBEDDED_LIMITS = {
  /** Rooms one worker thread carries; the pool refuses `full` when every worker holds this many. */
  roomsPerWorker: 50,
  /** Participants in one room whatever the room's own cap says (a class of 30 plus co-teachers, guests and reconnections). */
  participantsPerRoom: 120,
  /** Worker threads at most (the pool default is cores − 1, at least 1). */
  maxWorkers: 32,
  /** RTP packets kept per forwarded track for retransmission on NACK: werift's own per-sender history (its RTP_HISTORY_SIZE, not settable from here; stated so the bound is written down). */
  packetCachePerTrack: 128,
  /** One message between the main thread and a worker, serialised; bigger is refused before it is posted. */
  maxWorkerMessageBytes: 64 * 1024,
  /** Requests waiting for a worker's answer at once; beyond, `unavailable`. */
  maxPendingRequestsPerWorker: 1_000,
  /** A worker that does not answer a request within this is treated as stalled for that request (`unavailable`). */
  workerRequestTimeoutMs: 10_000,
  /** Keyframe requests (PLI/FIR) reaching one publisher track: at most one per this interval, however many subscribers ask. */
  keyframeIntervalMs: 1_000,
  /** Tracks coming or going within this window are carried by one renegotiation per subscriber. */
  renegotiationDebounceMs: 100,
  /** Link estimates (`link` events) per subscriber at most once per this interval. */
  linkEventIntervalMs: 1_000,
  /** Worker load (event-loop lag p99, CPU) is reported to the main thread this often. */
  loadReportIntervalMs: 1_000,
  /** Sources of one participant a room forwards (audio, camera, screen). */
  sourcesPerParticipant: 3,
  /** A replaced worker's respawns in a row without a successful start before the pool stops respawning (no crash loop). */
  maxWorkerRespawnsInARow: 5,
} as const;

/** ICE for the engine's peer connections: UDP ports bound for media (the firewall opens this range). */
export const DEFAULT_ICE_PORT_RANGE: readonly [number, number] = [42_000, 42_999];
