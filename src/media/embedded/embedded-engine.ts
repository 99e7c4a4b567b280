/**
 * The embedded media engine: `MediaEngine` on a pool of worker threads, each carrying whole rooms
 * of the werift SFU (sfu-room.ts), so a busy room never stalls the HTTP event loop. A room goes to
 * the least loaded worker (fewest participants, then fewest rooms). A worker that dies takes its
 * rooms down cleanly — every participant gets `transport failed`, room logic may reopen — and is
 * replaced (at most `maxWorkerRespawnsInARow` times without a successful start: no crash loop).
 */
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import {
  MediaEngineError,
  MediaListeners,
  type EngineLoad,
  type MediaEngine,
  type MediaEvent,
  type MediaRoomSpec,
  type MediaSignal,
  type ParticipantMedia,
  type RoomMediaStats,
} from '../media-engine.js';
import { DEFAULT_ICE_PORT_RANGE, EMBEDDED_LIMITS } from './limits.js';
import { messageBytes, type ErrorCode, type FromWorker, type ToWorker, type WorkerOptions, type WorkerRequest } from './protocol.js';

export interface EmbeddedEngineOptions {
  /** Worker threads; default cores − 1, at least 1. */
  workers?: number;
  /** UDP ports for ICE, split evenly between workers. */
  icePortRange?: readonly [number, number];
  /** Extra host candidates (loopback for tests and benches). */
  iceAdditionalHostAddresses?: string[];
  /** Bind ICE sockets to this address only (127.0.0.1 in tests). */
  iceBindAddress?: string;
  iceServers?: { urls: string; username?: string; credential?: string }[];
}

interface Pending {
  resolve(stats: RoomMediaStats | undefined): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

interface Slot {
  id: number;
  worker: Worker;
  ready: Promise<void>;
  pending: Map<number, Pending>;
  rooms: Set<string>;
  load: { rooms: number; participants: number; eventLoopLagP99Ms: number; cpu: number };
  respawnsInARow: number;
  stopping: boolean;
}

export function defaultWorkerCount(): number {
  return Math.max(1, Math.min(EMBEDDED_LIMITS.maxWorkers, availableParallelism() - 1));
}

/** How a worker thread is started: the compiled .js in production, the .ts source through tsx in tests and benches. */
function spawnWorker(workerData: WorkerOptions): Worker {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    const entry = new URL('./room-worker.ts', here).href;
    // The ESM entry of tsx's API (require.resolve finds its CommonJS twin beside it).
    const tsx = pathToFileURL(createRequire(here).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
    const code = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
    return new Worker(code, { eval: true, workerData });
  }
  return new Worker(new URL('./room-worker.js', here), { workerData });
}

export class EmbeddedMediaEngine implements MediaEngine {
  readonly name = 'embedded';
  private readonly slots: Slot[] = [];
  private readonly roomSlot = new Map<string, Slot>();
  private readonly roomParticipants = new Map<string, Set<string>>();
  private readonly listeners = new MediaListeners();
  private nextRequestId = 1;
  private closed = false;
  private readonly portRanges: [number, number][];

  constructor(private readonly options: EmbeddedEngineOptions = {}) {
    const count = Math.max(1, Math.min(EMBEDDED_LIMITS.maxWorkers, options.workers ?? defaultWorkerCount()));
    const [min, max] = options.icePortRange ?? DEFAULT_ICE_PORT_RANGE;
    const width = Math.floor((max - min + 1) / count);
    if (width < 2) throw new Error(`plage de ports ICE ${min}-${max} trop étroite pour ${count} workers`);
    this.portRanges = Array.from({ length: count }, (_, i) => [min + i * width, min + (i + 1) * width - 1] as [number, number]);
    for (let i = 0; i < count; i += 1) this.slots.push(this.startSlot(i, 0));
  }

  /** Resolves when every worker has started (tests and benches; requests wait for their worker anyway). */
  async ready(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.ready));
  }

  async openRoom(spec: MediaRoomSpec): Promise<void> {
    this.assertOpen();
    if (this.roomSlot.has(spec.roomId)) return;
    const slot = this.leastLoaded();
    if (!slot) throw new MediaEngineError('full', 'le moteur média porte déjà son maximum de salles');
    this.roomSlot.set(spec.roomId, slot);
    slot.rooms.add(spec.roomId);
    this.roomParticipants.set(spec.roomId, new Set());
    try {
      await this.request(slot, { op: 'openRoom', spec });
    } catch (err) {
      this.forgetRoom(spec.roomId);
      throw err;
    }
  }

  async closeRoom(roomId: string): Promise<void> {
    const slot = this.roomSlot.get(roomId);
    if (!slot) return;
    this.forgetRoom(roomId);
    await this.request(slot, { op: 'closeRoom', roomId }).catch(() => undefined);
  }

  async join(roomId: string, participantId: string, media: ParticipantMedia): Promise<void> {
    await this.request(this.slotOf(roomId), { op: 'join', roomId, participantId, media });
    this.roomParticipants.get(roomId)?.add(participantId);
  }

  async update(roomId: string, participantId: string, media: ParticipantMedia): Promise<void> {
    await this.request(this.slotOf(roomId), { op: 'update', roomId, participantId, media });
  }

  async signal(roomId: string, participantId: string, message: MediaSignal): Promise<void> {
    await this.request(this.slotOf(roomId), { op: 'signal', roomId, participantId, message });
  }

  async leave(roomId: string, participantId: string): Promise<void> {
    const slot = this.roomSlot.get(roomId);
    if (!slot) return;
    this.roomParticipants.get(roomId)?.delete(participantId);
    await this.request(slot, { op: 'leave', roomId, participantId });
  }

  onSignal(listener: (roomId: string, participantId: string, message: MediaSignal) => void): () => void {
    return this.listeners.onSignal(listener);
  }

  onEvent(listener: (event: MediaEvent) => void): () => void {
    return this.listeners.onEvent(listener);
  }

  load(): EngineLoad {
    return { workers: this.slots.map((s) => ({ id: s.id, ...s.load, rooms: s.rooms.size })) };
  }

  async stats(roomId: string): Promise<RoomMediaStats> {
    const stats = await this.request(this.slotOf(roomId), { op: 'stats', roomId });
    if (!stats) throw new MediaEngineError('unavailable', 'statistiques absentes');
    return stats;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(
      this.slots.map(async (slot) => {
        slot.stopping = true;
        const exited = new Promise<void>((resolve) => slot.worker.once('exit', () => resolve()));
        slot.worker.postMessage({ type: 'shutdown' } satisfies ToWorker);
        const timer = setTimeout(() => void slot.worker.terminate(), EMBEDDED_LIMITS.workerRequestTimeoutMs);
        await exited;
        clearTimeout(timer);
      }),
    );
    this.roomSlot.clear();
    this.roomParticipants.clear();
  }

  /** Test seam: the worker carrying a room (to kill it and watch the pool recover). */
  workerOf(roomId: string): Worker | undefined {
    return this.roomSlot.get(roomId)?.worker;
  }

  private assertOpen(): void {
    if (this.closed) throw new MediaEngineError('unavailable', 'moteur média arrêté');
  }

  private slotOf(roomId: string): Slot {
    this.assertOpen();
    const slot = this.roomSlot.get(roomId);
    if (!slot) throw new MediaEngineError('room_unknown', `salle ${roomId} inconnue du moteur média`);
    return slot;
  }

  private leastLoaded(): Slot | undefined {
    let best: Slot | undefined;
    for (const s of this.slots) {
      if (s.rooms.size >= EMBEDDED_LIMITS.roomsPerWorker) continue;
      const participants = (x: Slot) => [...x.rooms].reduce((n, r) => n + (this.roomParticipants.get(r)?.size ?? 0), 0);
      if (!best || participants(s) < participants(best) || (participants(s) === participants(best) && s.rooms.size < best.rooms.size)) best = s;
    }
    return best;
  }

  private forgetRoom(roomId: string): void {
    this.roomSlot.get(roomId)?.rooms.delete(roomId);
    this.roomSlot.delete(roomId);
    this.roomParticipants.delete(roomId);
  }

  private request(slot: Slot, request: WorkerRequest): Promise<RoomMediaStats | undefined> {
    const id = this.nextRequestId++;
    const message: ToWorker = { type: 'request', id, request };
    if (messageBytes(message) > EMBEDDED_LIMITS.maxWorkerMessageBytes) return Promise.reject(new MediaEngineError('bad_signal', 'message trop grand pour le moteur média'));
    if (slot.pending.size >= EMBEDDED_LIMITS.maxPendingRequestsPerWorker) return Promise.reject(new MediaEngineError('unavailable', 'moteur média surchargé'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        slot.pending.delete(id);
        reject(new MediaEngineError('unavailable', `le worker média ${slot.id} n’a pas répondu`));
      }, EMBEDDED_LIMITS.workerRequestTimeoutMs);
      slot.pending.set(id, { resolve, reject, timer });
      slot.worker.postMessage(message);
    });
  }

  private startSlot(id: number, respawnsInARow: number): Slot {
    const [min, max] = this.portRanges[id]!;
    const worker = spawnWorker({
      workerId: id,
      icePortRange: [min, max],
      iceAdditionalHostAddresses: this.options.iceAdditionalHostAddresses ?? [],
      iceBindAddress: this.options.iceBindAddress,
      iceServers: this.options.iceServers ?? [],
    });
    let markReady: () => void = () => undefined;
    let failStart: (err: Error) => void = () => undefined;
    const ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      failStart = reject;
    });
    ready.catch(() => undefined);
    const slot: Slot = {
      id,
      worker,
      ready,
      pending: new Map(),
      rooms: new Set(),
      load: { rooms: 0, participants: 0, eventLoopLagP99Ms: 0, cpu: 0 },
      respawnsInARow,
      stopping: false,
    };
    worker.on('message', (m: FromWorker) => this.onWorkerMessage(slot, m, markReady));
    worker.on('error', (err) => console.error(`worker média ${id} en erreur :`, err));
    worker.on('exit', () => {
      failStart(new MediaEngineError('unavailable', `le worker média ${id} s’est arrêté avant d’être prêt`));
      this.onWorkerExit(slot);
    });
    return slot;
  }

  private onWorkerMessage(slot: Slot, m: FromWorker, markReady: () => void): void {
    switch (m.type) {
      case 'ready':
        slot.respawnsInARow = 0;
        markReady();
        return;
      case 'response': {
        const p = slot.pending.get(m.id);
        if (!p) return;
        slot.pending.delete(m.id);
        clearTimeout(p.timer);
        if (m.ok) p.resolve(m.stats);
        else p.reject(new MediaEngineError(m.code satisfies ErrorCode, m.message));
        return;
      }
      case 'signal':
        this.listeners.signal(m.roomId, m.participantId, m.message);
        return;
      case 'event':
        this.listeners.event(m.event);
        return;
      case 'load':
        slot.load = { rooms: m.rooms, participants: m.participants, eventLoopLagP99Ms: m.eventLoopLagP99Ms, cpu: m.cpu };
        return;
      case 'room-closed':
        this.forgetRoom(m.roomId);
        return;
    }
  }

  /** A worker gone: its rooms are down (participants get `transport failed`), its requests fail, and a new worker takes its place. */
  private onWorkerExit(slot: Slot): void {
    for (const p of slot.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new MediaEngineError('unavailable', `le worker média ${slot.id} s’est arrêté`));
    }
    slot.pending.clear();
    if (slot.stopping || this.closed) return;
    for (const roomId of [...slot.rooms]) {
      const participants = [...(this.roomParticipants.get(roomId) ?? [])];
      this.forgetRoom(roomId);
      for (const participantId of participants) {
        const event: MediaEvent = { kind: 'transport', roomId, participantId, state: 'failed' };
        this.listeners.event(event);
      }
    }
    const index = this.slots.indexOf(slot);
    if (index < 0 || slot.respawnsInARow >= EMBEDDED_LIMITS.maxWorkerRespawnsInARow) {
      console.error(`worker média ${slot.id} : trop de redémarrages d’affilée, il n’est plus remplacé`);
      if (index >= 0) this.slots.splice(index, 1);
      return;
    }
    this.slots[index] = this.startSlot(slot.id, slot.respawnsInARow + 1);
  }
}
