import { createHmac, randomBytes } from 'node:crypto';
import {
  MediaEngineError,
  MediaListeners,
  type EngineLoad,
  type MediaConnection,
  type MediaEngine,
  type MediaEvent,
  type MediaRoomSpec,
  type MediaSignal,
  type ParticipantMedia,
  type RoomMediaStats,
} from '../media-engine.js';
import { JanusAdminClient, JanusClient, type JanusJsep, type JanusMessage } from './janus-client.js';
import { JanusError, VIDEOROOM, toMediaEngineError } from './janus-errors.js';
import { mayPublish, streamsOfOffer, subscriberChoice, type PublishedStream, type StreamKind, type SubscribedStreamChoice } from './janus-selection.js';

/**
 * The scale-out media path: the `MediaEngine` port on a Janus 1.x VideoRoom (Debian's `janus`),
 * over Janus' WebSocket API. One VideoRoom room per Préau room (string ids: Janus must run its
 * VideoRoom with `string_ids = true`), created and destroyed here with a secret derived from this
 * adapter's key. Per participant, two peer connections:
 * - `publish` (the client offers; Janus answers): a VideoRoom publisher; send rights are applied
 *   with `configure` `streams[].send` (Janus stops relaying a stream the participant may not send);
 * - `subscribe` (Janus offers; the client answers): one multistream VideoRoom subscriber holding
 *   every stream of every other publisher; the degradation ladder is applied per stream with
 *   `configure` (`send`, and `substream`/`temporal` for simulcast publishers), without renegotiating.
 *   It renegotiates (Janus offers again) only when publishers come and go.
 *
 * What Janus reports and what it does not: `transport` from `webrtcup`/`hangup`; `speaking` from
 * VideoRoom's `talking`/`stopped-talking` (the room is created with `audiolevel_event`, the client
 * must negotiate the ssrc-audio-level extension); `tracks` from the publisher's offer. `link` is
 * NOT emitted: Janus keeps its REMB/TWCC estimates to itself (only `slowlink` counts of lost
 * packets, no bandwidth), so room logic must rely on what the client reports. `stats` counts
 * participants, and the packets Janus sent to subscribers when the Admin API is given (`admin`);
 * drops, retransmissions and keyframe requests stay 0 (not measured); `load` gives the
 * Janus API round-trip p99 in place of an event-loop lag, and no CPU figure (Janus is another machine).
 */

export interface JanusMediaEngineOptions {
  /** `ws://host:port` of Janus' WebSocket transport. */
  url: string;
  /** Janus' `api_secret`, when set. */
  apiSecret?: string | undefined;
  /** VideoRoom's `admin_key` (needed to create rooms when set; it should be). */
  adminKey?: string | undefined;
  /** Key the rooms' secrets are derived from (HMAC per room): the same key finds its rooms again after a restart. */
  roomSecretKey?: string | undefined;
  /** Janus' Admin API (WebSocket, `admin_secret`): with it, `stats` counts forwarded packets per room. */
  admin?: { url: string; secret: string } | undefined;
  /** Rooms this Janus carries at most: the next `openRoom` rejects `full`. */
  maxRooms: number;
  requestTimeoutMs?: number;
  connectTimeoutMs?: number;
  keepaliveMs?: number;
}

export const JANUS_DEFAULTS = {
  requestTimeoutMs: 5_000,
  connectTimeoutMs: 3_000,
  /** Janus drops a session after `session_timeout` (60 s by default) without a keepalive. */
  keepaliveMs: 25_000,
  reconnectMinMs: 250,
  reconnectMaxMs: 5_000,
  /** Per-publisher bitrate cap Janus asks browsers for (REMB), normal and low-bandwidth rooms. */
  publisherBitrateBps: 1_200_000,
  lowBandwidthPublisherBitrateBps: 300_000,
  /** A keyframe asked of publishers at most this often (Janus' `fir_freq`, seconds). */
  firFreqS: 10,
  /** Audio level threshold (dBov, 0 loud … 127 silent) and packets for `talking`. */
  audioLevelAverage: 40,
  audioActivePackets: 50,
} as const;

/** A publisher that left between our decision and Janus' answer: nothing to do (its webrtcup or leave syncs again). */
function noSuchFeed(error: unknown): undefined {
  if (error instanceof JanusError && error.janusCode === VIDEOROOM.noSuchFeed) return undefined;
  throw error;
}

const PUBLISH = 'publish';
const SUBSCRIBE = 'subscribe';

interface SubscribedStream {
  mid: string;
  feed: string;
  feedMid: string;
}

interface Participant {
  id: string;
  media: ParticipantMedia;
  pubHandle: number | undefined;
  published: boolean;
  /** Janus has the publisher's media (webrtcup on `publish`): only then can others subscribe to it. */
  live: boolean;
  pubStreams: PublishedStream[];
  /** `mid → send` last applied to the publisher. */
  pubApplied: Map<string, boolean>;
  subHandle: number | undefined;
  subStreams: SubscribedStream[];
  /** `mid → choice` last applied to the subscriber. */
  subApplied: Map<string, string>;
  /** Janus offered on `subscribe` and the client has not answered yet: no other renegotiation meanwhile. */
  awaitingAnswer: boolean;
  /** Publishers changed while awaiting the answer: sync again after it. */
  subDirty: boolean;
  /** What the last `connections` signal told the client to attach to `publish`. */
  announcedSend: readonly ('audio' | 'camera' | 'screen')[];
  /** Last `transport` state reported: `connected` once a handle is up, `failed` when one of them hangs up. */
  transport: 'new' | 'connected' | 'failed';
  speaking: boolean;
  /** Operations on this participant run one after the other (Janus refuses overlapping renegotiations). */
  queue: Promise<void>;
  gone: boolean;
}

interface Room {
  spec: MediaRoomSpec;
  secret: string;
  participants: Map<string, Participant>;
  /** The Janus session was lost: the room is created again (if Janus lost it too) at the next join. */
  recreate: boolean;
}

interface HandleOwner {
  roomId: string;
  participantId: string;
  connection: typeof PUBLISH | typeof SUBSCRIBE;
}

export class JanusMediaEngine implements MediaEngine {
  readonly name = 'janus';
  private readonly client: JanusClient;
  private readonly rooms = new Map<string, Room>();
  private readonly handles = new Map<number, HandleOwner>();
  private readonly listeners = new MediaListeners();
  private controlHandle: Promise<number> | undefined;
  private readonly roomSecretKey: string;
  private readonly admin: JanusAdminClient | undefined;

  constructor(private readonly options: JanusMediaEngineOptions) {
    this.roomSecretKey = options.roomSecretKey ?? randomBytes(32).toString('base64url');
    this.client = new JanusClient({
      url: options.url,
      apiSecret: options.apiSecret,
      connectTimeoutMs: options.connectTimeoutMs ?? JANUS_DEFAULTS.connectTimeoutMs,
      requestTimeoutMs: options.requestTimeoutMs ?? JANUS_DEFAULTS.requestTimeoutMs,
      keepaliveMs: options.keepaliveMs ?? JANUS_DEFAULTS.keepaliveMs,
      reconnectMinMs: JANUS_DEFAULTS.reconnectMinMs,
      reconnectMaxMs: JANUS_DEFAULTS.reconnectMaxMs,
      onEvent: (m) => this.onJanusEvent(m),
      onSessionLost: () => this.onSessionLost(),
    });
    this.admin = options.admin
      ? new JanusAdminClient({
          url: options.admin.url, secret: options.admin.secret,
          connectTimeoutMs: options.connectTimeoutMs ?? JANUS_DEFAULTS.connectTimeoutMs,
          requestTimeoutMs: options.requestTimeoutMs ?? JANUS_DEFAULTS.requestTimeoutMs,
        })
      : undefined;
  }

  async openRoom(spec: MediaRoomSpec): Promise<void> {
    const known = this.rooms.get(spec.roomId);
    if (known && !known.recreate) return;
    if (!known && this.rooms.size >= this.options.maxRooms) throw new MediaEngineError('full', `Janus : ${this.options.maxRooms} salles au plus`);
    const room: Room = known ?? { spec, secret: this.secretOf(spec.roomId), participants: new Map(), recreate: false };
    await this.createJanusRoom(room);
    this.rooms.set(spec.roomId, room);
  }

  async closeRoom(roomId: string): Promise<void> {
    const room = this.rooms.get(roomId);
    if (!room) return;
    this.rooms.delete(roomId);
    await Promise.all([...room.participants.keys()].map((id) => this.dropParticipant(room, id)));
    try {
      await this.client.message(await this.control(), { request: 'destroy', room: roomId, secret: room.secret });
    } catch (error) {
      if (!(error instanceof JanusError && error.janusCode === VIDEOROOM.noSuchRoom)) throw toMediaEngineError(error);
    }
  }

  async join(roomId: string, participantId: string, media: ParticipantMedia): Promise<void> {
    const room = this.roomOf(roomId);
    if (room.recreate) await this.createJanusRoom(room);
    if (room.participants.has(participantId)) await this.dropParticipant(room, participantId);
    if (room.participants.size >= room.spec.maxParticipants) throw new MediaEngineError('full', `salle ${roomId} : ${room.spec.maxParticipants} participants au plus`);
    const p: Participant = {
      id: participantId, media, pubHandle: undefined, published: false, live: false, pubStreams: [], pubApplied: new Map(),
      subHandle: undefined, subStreams: [], subApplied: new Map(), awaitingAnswer: false, subDirty: false,
      announcedSend: [], transport: 'new', speaking: false, queue: Promise.resolve(), gone: false,
    };
    room.participants.set(participantId, p);
    try {
      const handle = await this.client.attach();
      p.pubHandle = handle;
      this.handles.set(handle, { roomId, participantId, connection: PUBLISH });
      await this.joinAsPublisher(room, p, handle);
    } catch (error) {
      await this.dropParticipant(room, participantId);
      throw toMediaEngineError(error);
    }
    this.announceConnections(roomId, p);
    this.enqueue(p, () => this.syncSubscriptions(room, p));
  }

  /**
   * Tells the client which connections to hold and what to attach to `publish`. Sent at join, and
   * again when send rights grow beyond what was announced (the floor given to a pupil): the client
   * then adds the track and offers again on `publish` (a renegotiation Janus takes with `configure`).
   * Rights taken back are not announced: Janus stops relaying (`streams[].send`), the track may stay.
   */
  private announceConnections(roomId: string, p: Participant): void {
    const send = (['audio', 'camera', 'screen'] as const).filter((k) => p.media.send[k] || p.announcedSend.includes(k));
    p.announcedSend = send;
    const connections: MediaConnection[] = [
      { label: PUBLISH, clientOffers: true, send, receive: false },
      { label: SUBSCRIBE, clientOffers: false, send: [], receive: true },
    ];
    this.emitSignal(roomId, p.id, { kind: 'connections', connections });
  }

  async update(roomId: string, participantId: string, media: ParticipantMedia): Promise<void> {
    const room = this.roomOf(roomId);
    const p = this.participantOf(room, participantId);
    const roleChanged = p.media.role !== media.role;
    p.media = media;
    if ((['audio', 'camera', 'screen'] as const).some((k) => media.send[k] && !p.announcedSend.includes(k))) this.announceConnections(roomId, p);
    await this.run(p, async () => {
      await this.applyPublisherRights(p);
      await this.applySubscriberChoices(room, p);
    });
    if (roleChanged) for (const other of room.participants.values()) if (other !== p) this.enqueue(other, () => this.applySubscriberChoices(room, other));
  }

  async signal(roomId: string, participantId: string, message: MediaSignal): Promise<void> {
    const room = this.roomOf(roomId);
    const p = this.participantOf(room, participantId);
    if (message.kind === 'connections') throw new MediaEngineError('bad_signal', '« connections » va du moteur au client, pas l’inverse');
    if (message.connection !== PUBLISH && message.connection !== SUBSCRIBE) throw new MediaEngineError('bad_signal', `connexion inconnue « ${message.connection.slice(0, 32)} »`);
    switch (message.kind) {
      case 'offer': {
        if (message.connection !== PUBLISH) throw new MediaEngineError('bad_signal', 'seul le moteur propose sur « subscribe »');
        const streams = streamsOfOffer(message.sdp);
        if (!streams) throw new MediaEngineError('bad_signal', 'offre SDP illisible');
        return this.run(p, () => this.publish(room, p, message.sdp, streams));
      }
      case 'answer':
        if (message.connection !== SUBSCRIBE) throw new MediaEngineError('bad_signal', 'le moteur répond lui-même sur « publish »');
        if (!message.sdp.startsWith('v=0')) throw new MediaEngineError('bad_signal', 'réponse SDP illisible');
        return this.run(p, () => this.answerSubscription(room, p, message.sdp));
      case 'candidate': {
        const handle = message.connection === PUBLISH ? p.pubHandle : p.subHandle;
        if (handle === undefined) throw new MediaEngineError('bad_signal', `pas de connexion « ${message.connection} » en cours`);
        const candidate = message.candidate === '' ? { completed: true } : { candidate: message.candidate, sdpMid: message.sdpMid, sdpMLineIndex: message.sdpMLineIndex };
        return this.client.trickle(handle, candidate).catch((e: unknown) => {
          throw toMediaEngineError(e);
        });
      }
      case 'restart':
        // On `publish` the client offers: it restarts ICE by offering again with new credentials
        // (createOffer({ iceRestart: true })), which Janus takes as a renegotiation.
        if (message.connection === PUBLISH) throw new MediaEngineError('bad_signal', 'sur « publish », le client redémarre ICE par une nouvelle offre (iceRestart)');
        return this.run(p, () => this.restartSubscription(room, p));
    }
  }

  async leave(roomId: string, participantId: string): Promise<void> {
    const room = this.rooms.get(roomId);
    if (!room?.participants.has(participantId)) return;
    await this.dropParticipant(room, participantId);
    for (const other of room.participants.values()) this.enqueue(other, () => this.syncSubscriptions(room, other));
  }

  onSignal(listener: (roomId: string, participantId: string, message: MediaSignal) => void): () => void {
    return this.listeners.onSignal(listener);
  }

  onEvent(listener: (event: MediaEvent) => void): () => void {
    return this.listeners.onEvent(listener);
  }

  load(): EngineLoad {
    let participants = 0;
    for (const room of this.rooms.values()) participants += room.participants.size;
    // One Janus server seen as one worker; its API round trip stands for its lag; CPU is not visible from here.
    return { workers: [{ id: 0, rooms: this.rooms.size, participants, eventLoopLagP99Ms: this.client.apiRttP99Ms(), cpu: 0 }] };
  }

  async stats(roomId: string): Promise<RoomMediaStats> {
    const room = this.roomOf(roomId);
    let janusParticipants: number;
    try {
      const { data } = await this.client.message(await this.control(), { request: 'listparticipants', room: roomId });
      janusParticipants = Array.isArray(data.participants) ? data.participants.length : 0;
    } catch (error) {
      throw toMediaEngineError(error);
    }
    // Packet counters are not in the VideoRoom API; the Admin API has them per handle (when configured).
    // Only what Janus sent to subscribers is counted; drops, retransmissions and keyframe requests are not.
    let forwardedPackets = 0;
    const session = this.client.session;
    if (this.admin && session !== undefined) {
      for (const p of room.participants.values()) {
        if (p.subHandle === undefined) continue;
        const info = await this.admin.handleInfo(session, p.subHandle).catch((e: unknown) => {
          throw toMediaEngineError(e);
        });
        forwardedPackets += subscriberPacketsSent(info);
      }
    }
    return {
      roomId, participants: Math.max(room.participants.size, janusParticipants),
      forwardedPackets, droppedPackets: 0, retransmittedPackets: 0, keyframeRequestsReceived: 0, keyframeRequestsSent: 0,
    };
  }

  async close(): Promise<void> {
    for (const roomId of [...this.rooms.keys()]) await this.closeRoom(roomId).catch(() => undefined);
    this.admin?.close();
    await this.client.close();
  }

  // --- rooms and participants ------------------------------------------------------------------

  private secretOf(roomId: string): string {
    return createHmac('sha256', this.roomSecretKey).update(roomId).digest('base64url');
  }

  private control(): Promise<number> {
    this.controlHandle ??= this.client.attach().catch((e: unknown) => {
      this.controlHandle = undefined;
      throw toMediaEngineError(e);
    });
    return this.controlHandle;
  }

  private async createJanusRoom(room: Room): Promise<void> {
    const { spec } = room;
    try {
      await this.client.message(await this.control(), {
        request: 'create', room: spec.roomId, secret: room.secret, ...(this.options.adminKey ? { admin_key: this.options.adminKey } : {}),
        description: `preau:${spec.roomId}`.slice(0, 128), is_private: true, publishers: spec.maxParticipants,
        bitrate: spec.lowBandwidth ? JANUS_DEFAULTS.lowBandwidthPublisherBitrateBps : JANUS_DEFAULTS.publisherBitrateBps,
        fir_freq: JANUS_DEFAULTS.firFreqS, audiocodec: 'opus', videocodec: 'vp8', opus_fec: true,
        audiolevel_event: true, audio_active_packets: JANUS_DEFAULTS.audioActivePackets, audio_level_average: JANUS_DEFAULTS.audioLevelAverage,
        notify_joining: false,
      });
    } catch (error) {
      // Already there (this adapter restarted, or the session was lost but not Janus): same id, same derived secret.
      if (!(error instanceof JanusError && error.janusCode === VIDEOROOM.roomExists)) throw toMediaEngineError(error);
    }
    room.recreate = false;
  }

  private async joinAsPublisher(room: Room, p: Participant, handle: number): Promise<void> {
    const body = { request: 'join', ptype: 'publisher', room: room.spec.roomId, id: p.id, display: p.id.slice(0, 64) };
    try {
      await this.client.message(handle, body);
    } catch (error) {
      // A publisher of that id is still in Janus (our session was lost and claimed by nobody): kick it once.
      if (!(error instanceof JanusError && error.janusCode === VIDEOROOM.idExists)) throw error;
      await this.client.message(await this.control(), { request: 'kick', room: room.spec.roomId, secret: room.secret, id: p.id });
      await this.client.message(handle, body);
    }
  }

  private async dropParticipant(room: Room, participantId: string): Promise<void> {
    const p = room.participants.get(participantId);
    if (!p) return;
    room.participants.delete(participantId);
    p.gone = true;
    for (const handle of [p.pubHandle, p.subHandle]) {
      if (handle === undefined) continue;
      this.handles.delete(handle);
      await this.client.detach(handle);
    }
  }

  private roomOf(roomId: string): Room {
    const room = this.rooms.get(roomId);
    if (!room) throw new MediaEngineError('room_unknown', `salle inconnue ${roomId}`);
    return room;
  }

  private participantOf(room: Room, participantId: string): Participant {
    const p = room.participants.get(participantId);
    if (!p) throw new MediaEngineError('participant_unknown', `participant inconnu ${participantId}`);
    return p;
  }

  /** Runs on the participant's queue and reports the outcome (mapped to the port's codes). */
  private run(p: Participant, task: () => Promise<void>): Promise<void> {
    const result = p.queue.then(async () => {
      if (p.gone) throw new MediaEngineError('participant_unknown', `participant parti ${p.id}`);
      await task();
    });
    p.queue = result.catch(() => undefined);
    return result.catch((e: unknown) => {
      throw toMediaEngineError(e);
    });
  }

  /** Background work on the participant's queue (publishers came or went): failures end as a `transport` event, never a throw. */
  private enqueue(p: Participant, task: () => Promise<void>): void {
    this.run(p, task).catch((error: unknown) => {
      if (p.gone) return;
      const roomId = [...this.rooms.values()].find((r) => r.participants.get(p.id) === p)?.spec.roomId;
      if (roomId !== undefined && toMediaEngineError(error).code === 'unavailable') this.emitEvent({ kind: 'transport', roomId, participantId: p.id, state: 'failed' });
    });
  }

  // --- publishing ------------------------------------------------------------------------------

  private async publish(room: Room, p: Participant, sdp: string, streams: PublishedStream[]): Promise<void> {
    if (p.pubHandle === undefined) throw new MediaEngineError('participant_unknown', `participant sans connexion ${p.id}`);
    const jsep: JanusJsep = { type: 'offer', sdp };
    const { jsep: answer } = await this.client.message(p.pubHandle, p.published ? { request: 'configure' } : { request: 'publish', display: p.id.slice(0, 64) }, jsep);
    if (!answer || answer.type !== 'answer') throw new MediaEngineError('bad_signal', 'Janus n’a pas répondu à cette offre');
    const firstTime = !p.published;
    p.published = true;
    p.pubStreams = streams;
    p.pubApplied.clear();
    this.emitSignal(room.spec.roomId, p.id, { kind: 'answer', connection: PUBLISH, sdp: answer.sdp });
    // Send rights right after the answer: until then (one round trip) Janus may relay what was offered.
    await this.applyPublisherRights(p);
    this.emitEvent({
      kind: 'tracks', roomId: room.spec.roomId, participantId: p.id,
      audio: streams.some((s) => s.kind === 'audio'), camera: streams.some((s) => s.kind === 'camera'), screen: streams.some((s) => s.kind === 'screen'),
    });
    // A renegotiation (new or fewer tracks) changes what the others subscribe to; the first offer
    // waits for the media to be up (Janus refuses subscriptions to a publisher without media).
    if (!firstTime && p.live) this.syncOthers(room, p);
  }

  private syncOthers(room: Room, p: Participant): void {
    for (const other of room.participants.values()) if (other !== p) this.enqueue(other, () => this.syncSubscriptions(room, other));
  }

  private async applyPublisherRights(p: Participant): Promise<void> {
    if (!p.published || p.pubHandle === undefined) return;
    const changes = p.pubStreams
      .map((s) => ({ mid: s.mid, send: mayPublish(p.media.send, s.kind) }))
      .filter((s) => p.pubApplied.get(s.mid) !== s.send);
    if (changes.length === 0) return;
    await this.client.message(p.pubHandle, { request: 'configure', streams: changes });
    for (const c of changes) p.pubApplied.set(c.mid, c.send);
  }

  // --- subscribing -----------------------------------------------------------------------------

  /** Brings this participant's subscription in line with who publishes in the room now. */
  private async syncSubscriptions(room: Room, p: Participant): Promise<void> {
    if (p.awaitingAnswer) {
      p.subDirty = true;
      return;
    }
    p.subDirty = false;
    const wanted = new Set([...room.participants.values()].filter((o) => o !== p && o.published && o.live && o.pubStreams.length > 0).map((o) => o.id));
    const have = new Set(p.subStreams.map((s) => s.feed));
    const add = [...wanted].filter((id) => !have.has(id));
    const remove = [...have].filter((id) => !wanted.has(id));
    if (p.subHandle === undefined) {
      if (add.length === 0) return;
      const handle = await this.client.attach();
      p.subHandle = handle;
      this.handles.set(handle, { roomId: room.spec.roomId, participantId: p.id, connection: SUBSCRIBE });
      const result = await this.client.message(handle, { request: 'join', ptype: 'subscriber', room: room.spec.roomId, streams: add.map((feed) => ({ feed })) }).catch(noSuchFeed);
      if (result) this.takeSubscriberUpdate(room, p, result.data, result.jsep);
      else {
        // That publisher left meanwhile: no subscription yet (the next publisher's webrtcup syncs again).
        this.handles.delete(handle);
        p.subHandle = undefined;
        await this.client.detach(handle);
      }
    } else {
      if (remove.length > 0) {
        const result = await this.client
          .message(p.subHandle, { request: 'unsubscribe', streams: remove.map((feed) => ({ feed })) })
          .catch(noSuchFeed); // Janus removed them already
        if (result) this.takeSubscriberUpdate(room, p, result.data, result.jsep);
      }
      if (add.length > 0 && !p.awaitingAnswer) {
        const result = await this.client.message(p.subHandle, { request: 'subscribe', streams: add.map((feed) => ({ feed })) }).catch(noSuchFeed);
        if (result) this.takeSubscriberUpdate(room, p, result.data, result.jsep);
      } else if (add.length > 0) p.subDirty = true;
    }
    await this.applySubscriberChoices(room, p);
  }

  /** A subscriber event (`attached`, `updated`): its streams, and Janus' offer to relay. */
  private takeSubscriberUpdate(room: Room, p: Participant, data: Record<string, unknown>, jsep: JanusJsep | undefined): void {
    if (Array.isArray(data.streams)) {
      const streams: SubscribedStream[] = [];
      for (const s of data.streams as Record<string, unknown>[]) {
        if (s.active === false || typeof s.mid !== 'string' || s.feed_id === undefined || typeof s.feed_mid !== 'string') continue;
        streams.push({ mid: s.mid, feed: String(s.feed_id), feedMid: s.feed_mid });
      }
      p.subStreams = streams;
      for (const mid of [...p.subApplied.keys()]) if (!streams.some((s) => s.mid === mid)) p.subApplied.delete(mid);
    }
    if (jsep?.type === 'offer') {
      p.awaitingAnswer = true;
      this.emitSignal(room.spec.roomId, p.id, { kind: 'offer', connection: SUBSCRIBE, sdp: jsep.sdp });
    }
  }

  private async answerSubscription(room: Room, p: Participant, sdp: string): Promise<void> {
    if (p.subHandle === undefined || !p.awaitingAnswer) throw new MediaEngineError('bad_signal', 'aucune offre en attente sur « subscribe »');
    await this.client.message(p.subHandle, { request: 'start' }, { type: 'answer', sdp });
    p.awaitingAnswer = false;
    if (p.subDirty) await this.syncSubscriptions(room, p);
    else await this.applySubscriberChoices(room, p);
  }

  private async restartSubscription(room: Room, p: Participant): Promise<void> {
    if (p.subHandle === undefined) throw new MediaEngineError('bad_signal', 'pas de connexion « subscribe » en cours');
    const result = await this.client.message(p.subHandle, { request: 'configure', restart: true });
    this.takeSubscriberUpdate(room, p, result.data, result.jsep);
  }

  /** The ladder and `camerasOf` as per-stream `configure` of the subscriber (no renegotiation). */
  private async applySubscriberChoices(room: Room, p: Participant): Promise<void> {
    if (p.subHandle === undefined || p.subStreams.length === 0) return;
    const changes: (SubscribedStreamChoice & { mid: string })[] = [];
    for (const s of p.subStreams) {
      const publisher = room.participants.get(s.feed);
      const kind: StreamKind | undefined = publisher?.pubStreams.find((ps) => ps.mid === s.feedMid)?.kind;
      if (!publisher || !kind) continue;
      const choice = subscriberChoice({ level: p.media.level, camerasOf: p.media.camerasOf }, { id: publisher.id, role: publisher.media.role }, kind);
      const key = JSON.stringify(choice);
      if (p.subApplied.get(s.mid) === key) continue;
      changes.push({ mid: s.mid, ...choice });
      p.subApplied.set(s.mid, key);
    }
    if (changes.length === 0) return;
    try {
      await this.client.message(p.subHandle, { request: 'configure', streams: changes });
    } catch (error) {
      for (const c of changes) p.subApplied.delete(c.mid);
      throw error;
    }
  }

  // --- Janus' own events -----------------------------------------------------------------------

  private onJanusEvent(m: JanusMessage): void {
    const owner = m.sender !== undefined ? this.handles.get(m.sender) : undefined;
    if (!owner) return;
    const room = this.rooms.get(owner.roomId);
    const p = room?.participants.get(owner.participantId);
    if (!room || !p) return;
    switch (m.janus) {
      case 'webrtcup':
        // Up again after a failure (a new publish, a fresh subscription) is reported too.
        if (p.transport !== 'connected') {
          p.transport = 'connected';
          this.emitEvent({ kind: 'transport', roomId: owner.roomId, participantId: p.id, state: 'connected' });
        }
        if (owner.connection === PUBLISH && !p.live) {
          p.live = true;
          this.syncOthers(room, p);
        }
        return;
      case 'hangup':
        // One of the two connections is gone: the participant's media is (partly) lost until it is up again.
        p.transport = 'failed';
        this.emitEvent({ kind: 'transport', roomId: owner.roomId, participantId: p.id, state: 'failed' });
        if (owner.connection === PUBLISH) {
          // Janus unpublished them: the others' subscriptions lose those streams (Janus renegotiates them).
          p.published = false;
          p.live = false;
          p.pubStreams = [];
          p.pubApplied.clear();
        } else {
          // The subscriber's peer connection is gone: a fresh subscription (a new offer) on next sync.
          const old = p.subHandle;
          p.subHandle = undefined;
          p.subStreams = [];
          p.subApplied.clear();
          p.awaitingAnswer = false;
          if (old !== undefined) {
            this.handles.delete(old);
            void this.client.detach(old);
          }
          this.enqueue(p, () => this.syncSubscriptions(room, p));
        }
        return;
      case 'trickle': {
        const c = m.candidate;
        if (!c) return;
        this.emitSignal(owner.roomId, p.id, c.completed
          ? { kind: 'candidate', connection: owner.connection, candidate: '', sdpMid: null, sdpMLineIndex: null }
          : { kind: 'candidate', connection: owner.connection, candidate: c.candidate ?? '', sdpMid: c.sdpMid ?? null, sdpMLineIndex: c.sdpMLineIndex ?? null });
        return;
      }
      case 'event': {
        const data = m.plugindata?.data;
        if (!data) return;
        const what = data.videoroom;
        if (owner.connection === SUBSCRIBE && (what === 'updated' || m.jsep)) {
          // Janus renegotiates on its own when a publisher leaves or unpublishes.
          this.takeSubscriberUpdate(room, p, data, m.jsep);
          return;
        }
        if ((what === 'talking' || what === 'stopped-talking') && data.id !== undefined) {
          const speaker = room.participants.get(String(data.id));
          const speaking = what === 'talking';
          if (speaker && speaker.speaking !== speaking) {
            speaker.speaking = speaking;
            this.emitEvent({ kind: 'speaking', roomId: owner.roomId, participantId: speaker.id, speaking });
          }
        }
        return;
      }
      default:
        // slowlink, media (no media for no_media_timer): not mapped. A browser that goes away without a
        // DTLS alert is reported (hangup) only when Janus' ICE gives up on it: more than 15 s in tests.
        return;
    }
  }

  /** Every handle is gone: every participant's media with them. Room logic rejoins them (a longer cut). */
  private onSessionLost(): void {
    this.controlHandle = undefined;
    this.handles.clear();
    for (const room of this.rooms.values()) {
      room.recreate = true;
      for (const p of room.participants.values()) {
        p.gone = true;
        this.emitEvent({ kind: 'transport', roomId: room.spec.roomId, participantId: p.id, state: 'failed' });
      }
      room.participants.clear();
    }
  }

  private emitSignal(roomId: string, participantId: string, message: MediaSignal): void {
    this.listeners.signal(roomId, participantId, message);
  }

  private emitEvent(event: MediaEvent): void {
    this.listeners.event(event);
  }
}

/** Packets Janus sent on a subscriber handle, summed over its media (Admin API `handle_info`: `webrtc.media[mid].stats.out.packets`). */
export function subscriberPacketsSent(info: Record<string, unknown>): number {
  const media = (info.webrtc as { media?: Record<string, { stats?: { out?: { packets?: unknown } } }> } | undefined)?.media ?? {};
  let packets = 0;
  for (const m of Object.values(media)) {
    const sent = m.stats?.out?.packets;
    if (typeof sent === 'number') packets += sent;
  }
  return packets;
}
