import { MediaEngineError, MediaListeners, type EngineLoad, type MediaEngine, type MediaEvent, type MediaRoomSpec, type MediaSignal, type ParticipantMedia, type RoomMediaStats } from '../media-engine.js';

export type FakeEngineCall =
  | { op: 'openRoom'; spec: MediaRoomSpec }
  | { op: 'closeRoom'; roomId: string }
  | { op: 'join' | 'update'; roomId: string; participantId: string; media: ParticipantMedia }
  | { op: 'signal'; roomId: string; participantId: string; message: MediaSignal }
  | { op: 'leave'; roomId: string; participantId: string };

/**
 * An in-memory MediaEngine for tests of room logic: moves no media, records every call, and lets the
 * test emit what a real engine would (signals for a participant's browser, link/speaking/transport
 * events) and set its load. Never for production (compose.ts refuses to open rooms without a real engine).
 */
export class FakeMediaEngine implements MediaEngine {
  readonly name = 'fake';
  readonly calls: FakeEngineCall[] = [];
  readonly rooms = new Map<string, Map<string, ParticipantMedia>>();
  private readonly listeners = new MediaListeners();
  currentLoad: EngineLoad = { workers: [{ id: 0, rooms: 0, participants: 0, eventLoopLagP99Ms: 1, cpu: 0.05 }] };
  /** Set to refuse the next openRoom/join with this code. */
  failNext: MediaEngineError['code'] | undefined;

  private refuse(): void {
    if (!this.failNext) return;
    const code = this.failNext;
    this.failNext = undefined;
    throw new MediaEngineError(code, `fake: ${code}`);
  }

  async openRoom(spec: MediaRoomSpec): Promise<void> {
    this.calls.push({ op: 'openRoom', spec });
    this.refuse();
    if (!this.rooms.has(spec.roomId)) this.rooms.set(spec.roomId, new Map());
  }
  async closeRoom(roomId: string): Promise<void> {
    this.calls.push({ op: 'closeRoom', roomId });
    this.rooms.delete(roomId);
  }
  async join(roomId: string, participantId: string, media: ParticipantMedia): Promise<void> {
    this.calls.push({ op: 'join', roomId, participantId, media });
    this.refuse();
    const room = this.rooms.get(roomId);
    if (!room) throw new MediaEngineError('room_unknown', roomId);
    room.set(participantId, media);
  }
  async update(roomId: string, participantId: string, media: ParticipantMedia): Promise<void> {
    this.calls.push({ op: 'update', roomId, participantId, media });
    const room = this.rooms.get(roomId);
    if (!room?.has(participantId)) throw new MediaEngineError('participant_unknown', participantId);
    room.set(participantId, media);
  }
  async signal(roomId: string, participantId: string, message: MediaSignal): Promise<void> {
    this.calls.push({ op: 'signal', roomId, participantId, message });
    if (!this.rooms.get(roomId)?.has(participantId)) throw new MediaEngineError('participant_unknown', participantId);
    if (message.kind === 'offer' && !message.sdp.startsWith('v=0')) throw new MediaEngineError('bad_signal', 'not an SDP');
  }
  async leave(roomId: string, participantId: string): Promise<void> {
    this.calls.push({ op: 'leave', roomId, participantId });
    this.rooms.get(roomId)?.delete(participantId);
  }
  onSignal(listener: (roomId: string, participantId: string, message: MediaSignal) => void): () => void {
    return this.listeners.onSignal(listener);
  }
  onEvent(listener: (event: MediaEvent) => void): () => void {
    return this.listeners.onEvent(listener);
  }
  load(): EngineLoad {
    return this.currentLoad;
  }
  async stats(roomId: string): Promise<RoomMediaStats> {
    const room = this.rooms.get(roomId);
    if (!room) throw new MediaEngineError('room_unknown', roomId);
    return { roomId, participants: room.size, forwardedPackets: 0, droppedPackets: 0, retransmittedPackets: 0, keyframeRequestsReceived: 0, keyframeRequestsSent: 0 };
  }
  async close(): Promise<void> {
    this.rooms.clear();
  }

  /** Test side: the engine sends this signal to a participant's browser. */
  emitSignal(roomId: string, participantId: string, message: MediaSignal): void {
    this.listeners.signal(roomId, participantId, message);
  }
  /** Test side: the engine reports a measurement. */
  emitEvent(event: MediaEvent): void {
    this.listeners.event(event);
  }
  /** The last media sent for a participant (join or update). */
  lastMedia(roomId: string, participantId: string): ParticipantMedia | undefined {
    return this.rooms.get(roomId)?.get(participantId);
  }
}
