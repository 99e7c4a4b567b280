import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { MediaEngineError, type MediaEngine, type MediaEvent, type MediaSignal } from '../../media/media-engine.js';
import type { Clock } from '../../platform/clock.js';
import { AppError, renderMessage, type ErrorId } from '../../platform/errors.js';
import type { Logger } from '../../platform/logger.js';
import { ceilingOf, decideLevel, pressureOf, type DegradationSettings, type NodePressure, type SubscriberDegradation } from './degradation.policy.js';
import type { SharedSchoolCounts } from './school-counts.js';
import { mediaOf, newRoom, reduce, snapshotOf, SYSTEM_ACTOR, type Attendance, type Command, type Effect, type Role, type RoomLimits, type RoomState } from './room.state.js';

/** What the runtime knows of a room besides its live state (from the database). */
export interface RoomMeta {
  roomId: string;
  schoolId: string;
  classId: string | null;
  groupId: string | null;
  /** Pupils of the class or group, teachers and invited: sizes the room (low-bandwidth above 30). */
  expectedParticipants: number;
}

/** Caps of this node; per-school participants are counted across nodes when they share their counts (`SharedSchoolCounts`), else on this node. */
export interface RuntimeCaps {
  maxRoomsPerNode: number;
  maxParticipantsPerNode: number;
  maxParticipantsPerSchool: number;
}

export interface RuntimeHooks {
  /** A participant left (or the room closed): persist their attendance. Must not throw (fails open). */
  onAttendance(meta: RoomMeta, participantId: string, attendance: Attendance, audioOnly: boolean): void;
  /** The live room closed: by its teacher, or because this node stops (`byShutdown`: the class may be opened again elsewhere). */
  onClosed(meta: RoomMeta, byShutdown: boolean): void;
  /** The ICE servers (TURN with time-limited credentials, src/media/turn.ts) to give this participant's browser with the snapshot; none when not configured. */
  iceServers?(participantId: string): readonly { urls: readonly string[]; username: string; credential: string }[];
}

/** How often rooms expire the places of those away past the grace, and subscribers' rungs follow the node's load. */
export const RUNTIME_TICK_MS = 2_000;

interface Live {
  meta: RoomMeta;
  state: RoomState;
  /** Participant → the socket they joined from (events and signals go to that tab only). */
  connections: Map<string, string>;
  /** What the engine was last told for each participant (updates are sent only on change). */
  lastMedia: Map<string, string>;
  degradation: Map<string, SubscriberDegradation>;
  links: Map<string, { bps: number; loss: number }>;
  /** Engine calls of this room, in order (a join before the updates that follow it). */
  engineQueue: Promise<void>;
}

/**
 * The classe virtuelle's rooms live on this node: their state in memory, changed only through the
 * pure reducer (room.state.ts); the effects it returns are applied here — events to participants'
 * sockets, media engine calls (in order per room), attendance out. The engine's signals are relayed
 * to the participant's socket; its events feed the reducer (speaking, tracks) and the degradation
 * policy (link estimates, load). One node hosts a room (see docs/CLASSE-VIRTUELLE.md).
 */
export class ClassroomRuntime {
  private readonly rooms = new Map<string, Live>();
  private readonly byConnection = new Map<string, string>();
  private readonly offs: (() => void)[] = [];
  private readonly lag: IntervalHistogram;
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;
  /** Other nodes' participants per school (at most a tick old); empty when not shared or Redis is away. */
  private othersBySchool: ReadonlyMap<string, number> = new Map();
  /** Schools this node last said it had participants in (a 0 is said once to clear them). */
  private reported = new Set<string>();
  private sharing: Promise<void> | undefined;

  constructor(
    private readonly engine: MediaEngine | undefined,
    private readonly send: (connectionId: string, message: string) => boolean,
    private readonly limits: RoomLimits,
    private readonly degradation: DegradationSettings,
    private readonly caps: RuntimeCaps,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly hooks: RuntimeHooks,
    /** Several nodes: per-school counts shared (Redis); without, each node counts its own. */
    private readonly schoolCounts?: SharedSchoolCounts,
  ) {
    this.lag = monitorEventLoopDelay({ resolution: 20 });
    if (engine) {
      this.offs.push(engine.onSignal((roomId, participantId, signal) => this.relay(roomId, participantId, signal)));
      this.offs.push(engine.onEvent((event) => this.onEngineEvent(event)));
    }
  }

  start(): void {
    this.lag.enable();
    this.timer ??= setInterval(() => this.tick(), RUNTIME_TICK_MS);
    this.timer.unref();
  }

  get available(): boolean {
    return this.engine !== undefined;
  }

  isLive(roomId: string): boolean {
    return this.rooms.has(roomId);
  }

  liveRooms(): number {
    return this.rooms.size;
  }

  /** Participants (teachers apart, as in the caps) of this node's live rooms, or of one school's. */
  participants(filter?: { schoolId: string }): number {
    let n = 0;
    for (const live of this.rooms.values()) {
      if (filter && live.meta.schoolId !== filter.schoolId) continue;
      for (const p of Object.values(live.state.participants)) if (p.role !== 'teacher' && p.role !== 'co_teacher') n++;
    }
    return n;
  }

  /** The room this socket joined on this node, if any. */
  roomOf(connectionId: string): string | undefined {
    return this.byConnection.get(connectionId);
  }

  /** The live state (tests, the teacher's views). */
  state(roomId: string): RoomState | undefined {
    return this.rooms.get(roomId)?.state;
  }

  /** Makes the room live on this node (its media open), waiting for its teacher. Idempotent. */
  async ensure(meta: RoomMeta): Promise<void> {
    if (this.rooms.has(meta.roomId)) return;
    if (!this.engine) throw new AppError('classroom.media_unavailable', { retryAfterSeconds: 60 });
    if (this.rooms.size >= this.caps.maxRoomsPerNode) throw new AppError('classroom.node_full', { params: { max: this.caps.maxRoomsPerNode }, retryAfterSeconds: 120 });
    // A node already short when the room opens starts it in low-bandwidth mode, as a large class (new rooms degrade too).
    const state = newRoom(meta.roomId, this.limits, meta.expectedParticipants, ceilingOf(this.degradation, this.pressure()) !== 'full');
    try {
      await this.engine.openRoom({ roomId: meta.roomId, maxParticipants: this.limits.maxParticipants + 8, lowBandwidth: state.lowBandwidth });
    } catch (err) {
      throw this.engineError(err);
    }
    if (this.rooms.has(meta.roomId)) return;
    this.rooms.set(meta.roomId, { meta, state, connections: new Map(), lastMedia: new Map(), degradation: new Map(), links: new Map(), engineQueue: Promise.resolve() });
  }

  /** A person joins (or rejoins) from one socket, with the role the policy gave them. */
  join(roomId: string, personId: string, connectionId: string, role: Role, name: string): void {
    const live = this.rooms.get(roomId);
    if (!live) throw new AppError('classroom.not_found');
    const known = live.state.participants[personId] !== undefined;
    if (!known && role !== 'teacher' && role !== 'co_teacher') {
      if (this.participants() >= this.caps.maxParticipantsPerNode) throw new AppError('classroom.node_full', { params: { max: this.caps.maxParticipantsPerNode }, retryAfterSeconds: 60 });
      // Across nodes: this node's count now, the others' as of the last exchange (≤ one tick old: joins on two nodes within it may pass the cap by a few).
      if (this.participants({ schoolId: live.meta.schoolId }) + (this.othersBySchool.get(live.meta.schoolId) ?? 0) >= this.caps.maxParticipantsPerSchool) {
        throw new AppError('classroom.school_full', { params: { max: this.caps.maxParticipantsPerSchool }, retryAfterSeconds: 60 });
      }
    }
    const previous = this.byConnection.get(connectionId);
    if (previous && previous !== roomId) throw new AppError('classroom.invalid_command', { params: { reason: 'une seule classe virtuelle par connexion' } });
    const now = this.clock.nowMs();
    // Bind before applying: the snapshot and the waiting notice go to this socket.
    const formerConnection = live.connections.get(personId);
    live.connections.set(personId, connectionId);
    this.byConnection.set(connectionId, roomId);
    const ok = this.apply(live, { op: 'join', role, name }, personId);
    if (!ok.ok) {
      if (formerConnection) live.connections.set(personId, formerConnection);
      else live.connections.delete(personId);
      this.byConnection.delete(connectionId);
      throw new AppError(ok.error, ok.params ? { params: ok.params } : {});
    }
    if (formerConnection && formerConnection !== connectionId) this.byConnection.delete(formerConnection);
    // The policy starts from the rung the room gave them (low-bandwidth rooms: teacher-low), and steps up from there only slowly.
    const level = live.state.participants[personId]?.level;
    if (level && !live.degradation.has(personId)) live.degradation.set(personId, { level, changedAtMs: now, upSinceMs: null });
  }

  /** A command from a participant's socket (the one they joined from). */
  command(roomId: string, personId: string, connectionId: string, command: Command): void {
    const live = this.bound(roomId, personId, connectionId);
    const r = this.apply(live, command, personId);
    if (!r.ok) throw new AppError(r.error, r.params ? { params: r.params } : {});
  }

  /** A command the server gives (open, lock, close from the HTTP API). */
  system(roomId: string, command: Command): void {
    const live = this.rooms.get(roomId);
    if (!live) return;
    const r = this.apply(live, command, SYSTEM_ACTOR);
    if (!r.ok) throw new AppError(r.error, r.params ? { params: r.params } : {});
  }

  /** A media signal from a participant's browser to the engine (checked: in the room, from their socket). */
  signal(roomId: string, personId: string, connectionId: string, signal: MediaSignal): void {
    const live = this.bound(roomId, personId, connectionId);
    if (live.state.participants[personId]?.presence !== 'in' || !this.engine) throw new AppError('classroom.not_joined');
    const engine = this.engine;
    this.queue(live, async () => {
      try {
        await engine.signal(roomId, personId, signal);
      } catch (err) {
        const id: ErrorId = err instanceof MediaEngineError && err.code === 'bad_signal' ? 'realtime.bad_message' : 'classroom.not_joined';
        this.sendTo(connectionId, { type: 'error', id, message: renderMessage(id, 'fr') });
      }
    });
  }

  /** A socket closed: the participant bound to it keeps their place for the grace period. */
  disconnected(connectionId: string): void {
    const roomId = this.byConnection.get(connectionId);
    if (!roomId) return;
    this.byConnection.delete(connectionId);
    const live = this.rooms.get(roomId);
    if (!live) return;
    for (const [personId, conn] of live.connections) {
      if (conn !== connectionId) continue;
      live.connections.delete(personId);
      this.apply(live, { op: 'disconnect' }, personId);
    }
  }

  /** The live room this socket joined as this person; `classroom.not_joined` otherwise. */
  bound(roomId: string, personId: string, connectionId: string): Live {
    const live = this.rooms.get(roomId);
    if (!live || live.connections.get(personId) !== connectionId) throw new AppError('classroom.not_joined');
    return live;
  }

  private apply(live: Live, command: Command, actorId: string): ReturnType<typeof reduce> {
    const r = reduce(live.state, command, actorId, this.clock.nowMs());
    if (!r.ok) return r;
    live.state = r.state;
    for (const effect of r.effects) {
      try {
        this.effect(live, effect);
      } catch (err) {
        this.logger.error({ err, roomId: live.meta.roomId, effect: effect.kind }, 'classe virtuelle : effet non appliqué');
      }
    }
    return r;
  }

  private effect(live: Live, e: Effect): void {
    const { roomId } = live.meta;
    const engine = this.engine;
    switch (e.kind) {
      case 'event': {
        const message = JSON.stringify({ type: 'classroom', roomId, ...e.event });
        const to = e.audience.to === 'one' ? [e.audience.id] : Object.values(live.state.participants).filter((p) => p.presence === 'in' && (e.audience.to === 'all' || p.role === 'teacher' || p.role === 'co_teacher')).map((p) => p.id);
        for (const id of to) {
          const conn = live.connections.get(id);
          if (conn) this.send(conn, message);
        }
        return;
      }
      case 'snapshot': {
        const conn = live.connections.get(e.participantId);
        const snapshot = snapshotOf(live.state, e.participantId);
        if (conn && snapshot) this.sendTo(conn, { type: 'classroom', roomId, ...snapshot, iceServers: this.hooks.iceServers?.(e.participantId) ?? [] });
        return;
      }
      case 'media-join': {
        const media = mediaOf(live.state, e.participantId);
        if (!media || !engine) return;
        live.lastMedia.set(e.participantId, JSON.stringify(media));
        const id = e.participantId;
        this.queue(live, async () => {
          try {
            await engine.join(roomId, id, media);
          } catch (err) {
            live.lastMedia.delete(id);
            const appError = this.engineError(err);
            const conn = live.connections.get(id);
            if (conn) this.sendTo(conn, { type: 'error', id: appError.id, message: renderMessage(appError.id, 'fr', appError.options.params) });
          }
        });
        return;
      }
      case 'media-leave': {
        live.lastMedia.delete(e.participantId);
        if (engine) this.queue(live, () => engine.leave(roomId, e.participantId));
        return;
      }
      case 'media-sync': {
        if (!engine) return;
        for (const id of live.lastMedia.keys()) {
          const media = mediaOf(live.state, id);
          if (!media) continue;
          const json = JSON.stringify(media);
          if (live.lastMedia.get(id) === json) continue;
          live.lastMedia.set(id, json);
          this.queue(live, () => engine.update(roomId, id, media));
        }
        return;
      }
      case 'attendance':
        this.hooks.onAttendance(live.meta, e.participantId, e.attendance, e.audioOnly);
        return;
      case 'room-closed': {
        this.rooms.delete(roomId);
        for (const conn of live.connections.values()) this.byConnection.delete(conn);
        if (engine) this.queue(live, () => engine.closeRoom(roomId));
        this.hooks.onClosed(live.meta, this.stopping);
        return;
      }
    }
  }

  /** Engine calls of one room run in order; a failure is logged and never stops the ones after it. */
  private queue(live: Live, call: () => Promise<void>): void {
    live.engineQueue = live.engineQueue.then(call).catch((err: unknown) => this.logger.warn({ err, roomId: live.meta.roomId }, 'classe virtuelle : appel au moteur média en échec'));
  }

  private sendTo(connectionId: string, message: object): void {
    this.send(connectionId, JSON.stringify(message));
  }

  private engineError(err: unknown): AppError {
    if (err instanceof AppError) return err;
    if (err instanceof MediaEngineError && err.code === 'full') return new AppError('classroom.node_full', { params: { max: this.caps.maxParticipantsPerNode }, retryAfterSeconds: 60 });
    this.logger.warn({ err }, 'classe virtuelle : moteur média indisponible');
    return new AppError('classroom.media_unavailable', { retryAfterSeconds: 30 });
  }

  /** The engine's signals go to the participant's socket, wrapped for the client. */
  private relay(roomId: string, participantId: string, signal: MediaSignal): void {
    const conn = this.rooms.get(roomId)?.connections.get(participantId);
    if (conn) this.sendTo(conn, { type: 'classroom', roomId, event: 'signal', signal });
  }

  private onEngineEvent(event: MediaEvent): void {
    const live = this.rooms.get(event.roomId);
    if (!live) return;
    switch (event.kind) {
      case 'speaking':
        this.apply(live, { op: 'speaking', participantId: event.participantId, speaking: event.speaking }, 'engine');
        return;
      case 'tracks':
        this.apply(live, { op: 'tracks', participantId: event.participantId, camera: event.camera, screen: event.screen }, 'engine');
        return;
      case 'link':
        live.links.set(event.participantId, { bps: event.downlinkBps, loss: event.loss });
        this.degrade(live, event.participantId, this.pressure(), this.clock.nowMs());
        return;
      case 'transport':
        // ICE restarts are the engine's and the client's business (over `restart` signals); a lost socket is what ends a place.
        return;
    }
  }

  private pressure(): NodePressure {
    const lagP99Ms = this.lag.count > 0 ? this.lag.percentile(99) / 1e6 : 0;
    return pressureOf(this.engine?.load() ?? { workers: [] }, lagP99Ms);
  }

  private degrade(live: Live, participantId: string, pressure: NodePressure, now: number): void {
    const p = live.state.participants[participantId];
    const current = live.degradation.get(participantId);
    if (!p || !current) return;
    const link = live.links.get(participantId);
    const next = decideLevel(
      this.degradation, current,
      { downlinkBps: link?.bps, loss: link?.loss, audioOnlyChosen: p.audioOnly, participants: Math.max(live.meta.expectedParticipants, Object.keys(live.state.participants).length) },
      pressure, now,
    );
    live.degradation.set(participantId, next);
    if (next.level !== p.level) this.apply(live, { op: 'level', participantId, level: next.level }, 'engine');
  }

  /**
   * Says this node's participants per school and learns the other nodes' (every tick; public for
   * tests). Fails open: when the shared store does not answer, the cap counts this node alone.
   */
  shareSchoolCounts(): Promise<void> {
    const shared = this.schoolCounts;
    if (!shared) return Promise.resolve();
    this.sharing ??= (async () => {
      const counts = new Map<string, number>();
      for (const id of this.reported) counts.set(id, 0);
      for (const live of this.rooms.values()) counts.set(live.meta.schoolId, this.participants({ schoolId: live.meta.schoolId }));
      const others = await shared.exchange(counts).catch(() => undefined);
      this.othersBySchool = others ?? new Map();
      if (others) this.reported = new Set([...counts].filter(([, n]) => n > 0).map(([id]) => id));
    })().finally(() => {
      this.sharing = undefined;
    });
    return this.sharing;
  }

  /** Every RUNTIME_TICK_MS: expired places end, rungs follow the node's load (public for tests). */
  tick(): void {
    void this.shareSchoolCounts();
    const now = this.clock.nowMs();
    const pressure = this.pressure();
    this.lag.reset();
    for (const live of [...this.rooms.values()]) {
      try {
        this.apply(live, { op: 'expire' }, 'engine');
        for (const id of Object.keys(live.state.participants)) this.degrade(live, id, pressure, now);
      } catch (err) {
        this.logger.error({ err, roomId: live.meta.roomId }, 'classe virtuelle : tour de contrôle en échec');
      }
    }
  }

  /** Stops the tick; live rooms' media are closed (their attendance so far is written by the closes). */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.stopping = true;
    this.lag.disable();
    for (const roomId of [...this.rooms.keys()]) {
      try {
        this.system(roomId, { op: 'close' });
      } catch (err) {
        this.logger.warn({ err, roomId }, 'classe virtuelle : fermeture à l’arrêt en échec');
      }
    }
    for (const off of this.offs) off();
  }

  /** Waits for the engine calls queued so far (tests). */
  async settled(roomId: string): Promise<void> {
    await this.rooms.get(roomId)?.engineQueue;
  }
}
