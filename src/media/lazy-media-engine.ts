import { MediaEngineError, MediaListeners, type EngineLoad, type MediaEngine, type MediaEvent, type MediaSignal, type ParticipantMedia, type MediaRoomSpec, type RoomMediaStats } from './media-engine.js';

/**
 * A media engine made on first need: the first room opened starts it (the embedded engine's worker
 * threads, a Janus session). A node that never hosts a class — most of them on most mornings, every
 * test and bench child — pays nothing for it. Listeners registered before it exists are attached
 * when it is made. Before that, calls about rooms answer as an engine without rooms would.
 */
export class LazyMediaEngine implements MediaEngine {
  private engine: MediaEngine | undefined;
  private closed = false;
  private readonly listeners = new MediaListeners();

  constructor(
    readonly name: string,
    private readonly make: () => MediaEngine,
  ) {}

  /** Whether the engine has been made (a room was opened on this node). */
  started(): boolean {
    return this.engine !== undefined;
  }

  private get(): MediaEngine {
    if (this.closed) throw new MediaEngineError('unavailable', 'moteur média arrêté');
    if (!this.engine) {
      const engine = this.make();
      engine.onSignal((roomId, participantId, message) => {
        this.listeners.signal(roomId, participantId, message);
      });
      engine.onEvent((event) => {
        this.listeners.event(event);
      });
      this.engine = engine;
    }
    return this.engine;
  }

  private existing(): MediaEngine {
    if (!this.engine || this.closed) throw new MediaEngineError('room_unknown', 'aucune salle sur ce moteur');
    return this.engine;
  }

  openRoom(spec: MediaRoomSpec): Promise<void> {
    try {
      return this.get().openRoom(spec);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  async closeRoom(roomId: string): Promise<void> {
    if (this.engine && !this.closed) await this.engine.closeRoom(roomId);
  }

  async join(roomId: string, participantId: string, media: ParticipantMedia): Promise<void> {
    await this.existing().join(roomId, participantId, media);
  }

  async update(roomId: string, participantId: string, media: ParticipantMedia): Promise<void> {
    await this.existing().update(roomId, participantId, media);
  }

  async signal(roomId: string, participantId: string, message: MediaSignal): Promise<void> {
    await this.existing().signal(roomId, participantId, message);
  }

  async leave(roomId: string, participantId: string): Promise<void> {
    if (this.engine && !this.closed) await this.engine.leave(roomId, participantId);
  }

  onSignal(listener: (roomId: string, participantId: string, message: MediaSignal) => void): () => void {
    return this.listeners.onSignal(listener);
  }

  onEvent(listener: (event: MediaEvent) => void): () => void {
    return this.listeners.onEvent(listener);
  }

  load(): EngineLoad {
    return this.engine && !this.closed ? this.engine.load() : { workers: [] };
  }

  async stats(roomId: string): Promise<RoomMediaStats> {
    return this.existing().stats(roomId);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.engine?.close();
  }
}
