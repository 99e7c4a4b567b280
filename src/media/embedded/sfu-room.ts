/**
 * One room of the embedded selective forwarding unit, on werift: one peer connection per
 * participant (`main`, the engine offers), three receive slots per participant (audio, camera,
 * screen: the first three m-lines, in that order) and one send slot per track forwarded to them.
 * RTP is forwarded without re-encoding (a header rewrite per subscriber: SSRC, payload type,
 * sequence number); werift's sender answers each subscriber's NACKs from its own bounded history
 * (`EMBEDDED_LIMITS.packetCachePerTrack`) and carries the transport-wide sequence for TWCC.
 *
 * Runs inside a worker thread (room-worker.ts) but has no worker dependency: it gets its peer
 * configuration and two callbacks, so it can run in-thread too.
 */
import {
  MediaStream,
  RTCPeerConnection,
  RTCRtpCodecParameters,
  PictureLossIndication,
  RtcpPayloadSpecificFeedback,
  RtcpRrPacket,
  RtcpSrPacket,
  RTP_EXTENSION_URI,
  useAbsSendTime,
  useAudioLevelIndication,
  useFIR,
  useNACK,
  usePLI,
  useREMB,
  useSdesMid,
  useTransportWideCC,
  useTWCC,
  type MediaStreamTrack,
  type PeerConfig,
  type RTCRtpTransceiver,
  type RtcpPacket,
  type RtpPacket,
} from 'werift';
import type { MediaEvent, MediaRoomSpec, MediaSignal, ParticipantMedia, RoomMediaStats } from '../media-engine.js';
import { flushTrailing, newKeyframeGate, requestKeyframe, type KeyframeGate } from './keyframe.js';
import { EMBEDDED_LIMITS } from './limits.js';
import { newSpeakingState, observeAudioLevel, type SpeakingState } from './speaking.js';
import { parseVp8, type Vp8Info } from './vp8.js';
import { noStunUnlessConfigured, resumeIceAfterRestart } from './werift-patches.js';

export type Source = 'audio' | 'camera' | 'screen';

interface RtcpRouter {
  routeRtcp: (packet: RtcpPacket) => void;
  ssrcTable: Record<number, { handleRtcpPacket(packet: RtcpPacket): void } | undefined>;
}

/**
 * werift 0.24 routes a picture-loss indication by its *sender* SSRC first, then by its media SSRC.
 * A browser that also publishes (a pupil's microphone on this connection) signs its PLIs with the
 * SSRC of its own outgoing track — which this connection knows as one of its receivers — so the
 * PLI about the teacher's camera went to that receiver and never reached the camera's sender here:
 * no keyframe was asked of the teacher, and the pupil's decoder never got a frame it could start
 * from. A PLI is about its media SSRC: route it there when this connection sends that SSRC.
 */
export function routePliByMediaSsrc(pc: RTCPeerConnection): void {
  const router = (pc as unknown as { router?: RtcpRouter }).router;
  if (!router || typeof router.routeRtcp !== 'function') return;
  const original = router.routeRtcp;
  router.routeRtcp = (packet: RtcpPacket) => {
    if (packet instanceof RtcpPayloadSpecificFeedback && packet.feedback instanceof PictureLossIndication) {
      const target = router.ssrcTable[packet.feedback.mediaSsrc];
      if (target) return target.handleRtcpPacket(packet);
    }
    return original(packet);
  };
}
export const SOURCES: readonly Source[] = ['audio', 'camera', 'screen'];
export const MAIN_CONNECTION = 'main';

/** Opus with in-band FEC and DTX (issue 8: audio first, robust on lossy links, quiet when silent). */
export const OPUS_FMTP = 'minptime=10;useinbandfec=1;usedtx=1';

export class RoomError extends Error {
  constructor(
    readonly code: 'participant_unknown' | 'full' | 'bad_signal',
    message: string,
  ) {
    super(message);
  }
}

/** Codecs and header extensions every peer connection of the engine offers (same ids for all, so forwarded extensions keep their meaning). */
export function mediaPeerConfig(): Pick<PeerConfig, 'codecs' | 'headerExtensions'> {
  return {
    codecs: {
      audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48_000, channels: 2, parameters: OPUS_FMTP })],
      video: [new RTCRtpCodecParameters({ mimeType: 'video/VP8', clockRate: 90_000, rtcpFeedback: [useNACK(), usePLI(), useFIR(), useREMB(), useTWCC()] })],
    },
    headerExtensions: {
      audio: [useSdesMid(), useAudioLevelIndication()],
      video: [useSdesMid(), useAbsSendTime(), useTransportWideCC()],
    },
  };
}

interface Inbound {
  transceiver: RTCRtpTransceiver;
  track: MediaStreamTrack | undefined;
  /** SSRC of the packets last received on this slot (werift may not know it from the SDP). */
  ssrc: number | undefined;
  gate: KeyframeGate;
  trailingTimer: NodeJS.Timeout | undefined;
}

/** One track forwarded to one subscriber. */
interface Downstream {
  publisherId: string;
  source: Source;
  transceiver: RTCRtpTransceiver;
  /** Negotiated (the subscriber answered an offer holding it): packets may flow. */
  negotiated: boolean;
  /** Packets not forwarded to this subscriber so far (by choice): sequence numbers stay contiguous. */
  seqShift: number;
  started: boolean;
  /** Video: forward only from the next keyframe (after a gap by choice or a fresh start). */
  waitingKeyframe: boolean;
  /** Video: forwarding only the base temporal layer (changed only at frame starts). */
  baseLayerOnly: boolean;
  /** Last loss fraction this subscriber's receiver reports for this track (0..1). */
  loss: number;
}

interface Participant {
  id: string;
  media: ParticipantMedia;
  pc: RTCPeerConnection;
  inbound: Record<Source, Inbound>;
  downs: Map<string, Downstream>;
  spare: { audio: RTCRtpTransceiver[]; video: RTCRtpTransceiver[] };
  negotiating: boolean;
  pendingOffer: boolean;
  pendingRestart: boolean;
  closed: boolean;
  speaking: SpeakingState;
  tracksSent: string;
  lastLinkMs: number;
  /** A renegotiation asked for by a track coming or going, not yet started (several merge into one offer). */
  negotiationTimer: NodeJS.Timeout | undefined;
}

export interface RoomDeps {
  peerConfig: Partial<PeerConfig>;
  emitSignal(participantId: string, message: MediaSignal): void;
  emitEvent(event: MediaEvent): void;
  now(): number;
}

const downKey = (publisherId: string, source: Source) => `${source}~${publisherId}`;
const kindOf = (source: Source): 'audio' | 'video' => (source === 'audio' ? 'audio' : 'video');

export class SfuRoom {
  private readonly participants = new Map<string, Participant>();
  private readonly counters = { forwarded: 0, dropped: 0, keyframeRequestsReceived: 0, keyframeRequestsSent: 0 };
  /** Retransmissions by senders that are gone (participants who left). */
  private retransmittedGone = 0;
  private readonly linkTimer: NodeJS.Timeout;
  private closed = false;

  constructor(
    readonly spec: MediaRoomSpec,
    private readonly deps: RoomDeps,
  ) {
    this.linkTimer = setInterval(() => this.reportLinks(), EMBEDDED_LIMITS.linkEventIntervalMs);
    this.linkTimer.unref();
  }

  get size(): number {
    return this.participants.size;
  }

  async join(participantId: string, media: ParticipantMedia): Promise<void> {
    const existing = this.participants.get(participantId);
    if (!existing && this.participants.size >= Math.min(this.spec.maxParticipants, EMBEDDED_LIMITS.participantsPerRoom)) {
      throw new RoomError('full', `salle ${this.spec.roomId} pleine`);
    }
    if (existing) await this.leave(participantId);
    const startMedia: ParticipantMedia = this.spec.lowBandwidth && media.level === 'full' ? { ...media, level: 'teacher-low' } : media;
    noStunUnlessConfigured();
    const pc = new RTCPeerConnection({ ...this.deps.peerConfig, ...mediaPeerConfig(), bundlePolicy: 'max-bundle' });
    routePliByMediaSsrc(pc);
    const inbound = {} as Record<Source, Inbound>;
    for (const source of SOURCES) {
      // sendrecv, not recvonly: a client that does not send answers `recvonly` and the m-line stays
      // live (werift writes `inactive` m-lines with port 0, which a browser takes as rejected).
      const transceiver = pc.addTransceiver(kindOf(source), { direction: 'sendrecv' });
      inbound[source] = { transceiver, track: undefined, ssrc: undefined, gate: newKeyframeGate(), trailingTimer: undefined };
    }
    const p: Participant = {
      id: participantId,
      media: startMedia,
      pc,
      inbound,
      downs: new Map(),
      spare: { audio: [], video: [] },
      negotiating: false,
      pendingOffer: false,
      pendingRestart: false,
      closed: false,
      speaking: newSpeakingState(this.deps.now()),
      tracksSent: '000',
      lastLinkMs: 0,
      negotiationTimer: undefined,
    };
    this.participants.set(participantId, p);
    for (const source of SOURCES) {
      inbound[source].transceiver.onTrack.subscribe((track) => this.onPublishedTrack(p, source, track));
    }
    pc.connectionStateChange.subscribe((state) => {
      if (p.closed) return;
      if (state === 'connected' || state === 'disconnected' || state === 'failed') {
        this.deps.emitEvent({ kind: 'transport', roomId: this.spec.roomId, participantId, state });
      }
    });
    // Everything already published in the room that this participant may receive.
    for (const other of this.participants.values()) {
      if (other === p) continue;
      for (const source of SOURCES) if (this.publishes(other, source)) this.addDownstream(p, other.id, source);
    }
    this.deps.emitSignal(participantId, {
      kind: 'connections',
      connections: [{ label: MAIN_CONNECTION, clientOffers: false, send: SOURCES.filter((s) => media.send[s]), receive: true }],
    });
    await this.negotiate(p, false);
  }

  async update(participantId: string, media: ParticipantMedia): Promise<void> {
    const p = this.get(participantId);
    const before = p.media;
    p.media = media;
    // As a publisher: rights given or taken add or remove this participant's tracks at everyone else.
    for (const source of SOURCES) {
      if (before.send[source] === media.send[source] || !p.inbound[source].track) continue;
      for (const sub of this.participants.values()) {
        if (sub === p) continue;
        if (media.send[source]) this.addDownstream(sub, p.id, source);
        else this.removeDownstream(sub, p.id, source);
        this.scheduleNegotiation(sub);
      }
    }
    this.emitTracks(p);
    if (SOURCES.some((s) => before.send[s] !== media.send[s])) {
      this.deps.emitSignal(p.id, {
        kind: 'connections',
        connections: [{ label: MAIN_CONNECTION, clientOffers: false, send: SOURCES.filter((s) => media.send[s]), receive: true }],
      });
    }
    // As a subscriber: the level and camerasOf act per packet (forwardTo); nothing to renegotiate.
  }

  async signal(participantId: string, message: MediaSignal): Promise<void> {
    const p = this.get(participantId);
    if (message.kind !== 'connections' && message.connection !== MAIN_CONNECTION) {
      throw new RoomError('bad_signal', `connexion inconnue : ${String(message.connection).slice(0, 40)}`);
    }
    switch (message.kind) {
      case 'answer': {
        if (p.pc.signalingState !== 'have-local-offer') throw new RoomError('bad_signal', 'réponse SDP sans offre en cours');
        if (!looksLikeSdp(message.sdp)) throw new RoomError('bad_signal', 'SDP illisible');
        try {
          await p.pc.setRemoteDescription({ type: 'answer', sdp: message.sdp });
        } catch (err) {
          throw new RoomError('bad_signal', `SDP refusé : ${errorText(err)}`);
        }
        // After an ICE restart werift would not check the new candidates itself (werift-patches.ts).
        resumeIceAfterRestart(p.pc);
        for (const d of p.downs.values()) {
          if (!d.negotiated && (d.transceiver.currentDirection === 'sendonly' || d.transceiver.currentDirection === 'sendrecv')) {
            d.negotiated = true;
            if (d.source !== 'audio') this.askKeyframe(d.publisherId, d.source, false);
          }
        }
        if (p.pendingOffer) {
          const restart = p.pendingRestart;
          p.pendingOffer = false;
          p.pendingRestart = false;
          await this.negotiate(p, restart);
        }
        return;
      }
      case 'candidate': {
        if (message.candidate === '') return;
        try {
          await p.pc.addIceCandidate({ candidate: message.candidate, sdpMid: message.sdpMid ?? undefined, sdpMLineIndex: message.sdpMLineIndex ?? undefined });
        } catch (err) {
          throw new RoomError('bad_signal', `candidat ICE refusé : ${errorText(err)}`);
        }
        return;
      }
      case 'restart':
        await this.negotiate(p, true);
        return;
      case 'offer':
        throw new RoomError('bad_signal', 'sur la connexion « main », seul le moteur fait des offres');
      case 'connections':
        throw new RoomError('bad_signal', '« connections » va du moteur au client seulement');
    }
  }

  async leave(participantId: string): Promise<void> {
    const p = this.participants.get(participantId);
    if (!p) return;
    p.closed = true;
    clearTimeout(p.negotiationTimer);
    this.participants.delete(participantId);
    for (const source of SOURCES) clearTimeout(p.inbound[source].trailingTimer);
    for (const d of p.downs.values()) this.retransmittedGone += retransmitted(d);
    for (const sub of this.participants.values()) {
      let changed = false;
      for (const source of SOURCES) changed = this.removeDownstream(sub, p.id, source) || changed;
      if (changed) this.scheduleNegotiation(sub);
    }
    await p.pc.close().catch(() => undefined);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.linkTimer);
    await Promise.all([...this.participants.keys()].map((id) => this.leave(id)));
  }

  stats(): RoomMediaStats {
    let retransmittedPackets = this.retransmittedGone;
    for (const p of this.participants.values()) for (const d of p.downs.values()) retransmittedPackets += retransmitted(d);
    return {
      roomId: this.spec.roomId,
      participants: this.participants.size,
      forwardedPackets: this.counters.forwarded,
      droppedPackets: this.counters.dropped,
      retransmittedPackets,
      keyframeRequestsReceived: this.counters.keyframeRequestsReceived,
      keyframeRequestsSent: this.counters.keyframeRequestsSent,
    };
  }

  private get(participantId: string): Participant {
    const p = this.participants.get(participantId);
    if (!p) throw new RoomError('participant_unknown', `participant inconnu dans la salle ${this.spec.roomId}`);
    return p;
  }

  private publishes(p: Participant, source: Source): boolean {
    return p.inbound[source].track !== undefined && p.media.send[source];
  }

  private onPublishedTrack(p: Participant, source: Source, track: MediaStreamTrack): void {
    if (p.closed) return;
    const inbound = p.inbound[source];
    const first = inbound.track === undefined;
    inbound.track = track;
    track.onReceiveRtp.subscribe((rtp, extensions) => this.onRtp(p, source, rtp, extensions));
    if (first && p.media.send[source]) {
      for (const sub of this.participants.values()) {
        if (sub === p) continue;
        this.addDownstream(sub, p.id, source);
        this.scheduleNegotiation(sub);
      }
    }
    this.emitTracks(p);
  }

  private emitTracks(p: Participant): void {
    const tracks = { audio: this.publishes(p, 'audio'), camera: this.publishes(p, 'camera'), screen: this.publishes(p, 'screen') };
    const key = `${+tracks.audio}${+tracks.camera}${+tracks.screen}`;
    if (key === p.tracksSent) return;
    p.tracksSent = key;
    this.deps.emitEvent({ kind: 'tracks', roomId: this.spec.roomId, participantId: p.id, ...tracks });
  }

  private addDownstream(sub: Participant, publisherId: string, source: Source): void {
    const key = downKey(publisherId, source);
    if (sub.downs.has(key)) return;
    const kind = kindOf(source);
    const reused = sub.spare[kind].pop();
    // A slot freed by a publisher who left is reused (it stays `sendonly`, silent meanwhile: werift
    // would write an `inactive` m-line with port 0, a rejected m-line for a browser).
    const transceiver = reused ?? sub.pc.addTransceiver(kind, { direction: 'sendonly' });
    // The client learns whose track this is from the msid: stream id `<source>~<participantId>`.
    transceiver.sender.setStreams([new MediaStream({ id: key })]);
    sub.downs.set(key, { publisherId, source, transceiver, negotiated: false, seqShift: 0, started: false, waitingKeyframe: source !== 'audio', baseLayerOnly: false, loss: 0 });
    transceiver.sender.onPictureLossIndication.subscribe(() => {
      this.counters.keyframeRequestsReceived += 1;
      this.askKeyframe(publisherId, source, true);
    });
    transceiver.sender.onRtcp.subscribe((packet) => this.onSubscriberRtcp(sub, key, packet));
  }

  /** Returns whether a downstream was removed (then the subscriber must renegotiate). */
  private removeDownstream(sub: Participant, publisherId: string, source: Source): boolean {
    const key = downKey(publisherId, source);
    const d = sub.downs.get(key);
    if (!d) return false;
    sub.downs.delete(key);
    this.retransmittedGone += retransmitted(d);
    sub.spare[kindOf(source)].push(d.transceiver);
    return true;
  }

  /**
   * Publishers coming and going renegotiate every subscriber: when several tracks appear together
   * (a class arriving, four cameras switched on) one offer carries them all.
   */
  private scheduleNegotiation(p: Participant): void {
    if (p.negotiationTimer || p.closed) return;
    p.negotiationTimer = setTimeout(() => {
      p.negotiationTimer = undefined;
      this.negotiate(p, false).catch(() => undefined);
    }, EMBEDDED_LIMITS.renegotiationDebounceMs);
    p.negotiationTimer.unref();
  }

  private async negotiate(p: Participant, iceRestart: boolean): Promise<void> {
    if (p.closed || this.closed) return;
    if (p.negotiating || p.pc.signalingState !== 'stable') {
      p.pendingOffer = true;
      p.pendingRestart ||= iceRestart;
      return;
    }
    p.negotiating = true;
    try {
      const offer = await p.pc.createOffer({ iceRestart });
      await p.pc.setLocalDescription(offer);
      const sdp = p.pc.localDescription?.sdp;
      if (sdp && !p.closed) this.deps.emitSignal(p.id, { kind: 'offer', connection: MAIN_CONNECTION, sdp });
    } finally {
      p.negotiating = false;
    }
  }

  private onRtp(pub: Participant, source: Source, rtp: RtpPacket, extensions: Record<string, unknown> | undefined): void {
    if (pub.closed || this.closed) return;
    pub.inbound[source].ssrc = rtp.header.ssrc;
    // A track this participant may not send is never forwarded (floor taken, mute all, camera not allowed).
    if (!pub.media.send[source]) return;
    let vp8: Vp8Info | undefined;
    if (source === 'audio') {
      const level = extensions?.[RTP_EXTENSION_URI.audioLevelIndication] as { level?: number } | undefined;
      if (level && typeof level.level === 'number') {
        const changed = observeAudioLevel(pub.speaking, level.level, this.deps.now());
        if (changed !== undefined) this.deps.emitEvent({ kind: 'speaking', roomId: this.spec.roomId, participantId: pub.id, speaking: changed });
      }
    } else {
      vp8 = parseVp8(rtp.payload);
    }
    const key = downKey(pub.id, source);
    for (const sub of this.participants.values()) {
      if (sub === pub) continue;
      const d = sub.downs.get(key);
      if (d?.negotiated) this.forwardTo(sub, pub, d, rtp, vp8);
    }
  }

  private forwardTo(sub: Participant, pub: Participant, d: Downstream, rtp: RtpPacket, vp8: Vp8Info | undefined): void {
    const mode = wanted(sub.media, pub, d.source);
    if (mode === 'none') {
      d.seqShift += 1;
      if (d.source !== 'audio') d.waitingKeyframe = true;
      return;
    }
    if (d.source !== 'audio') {
      if (d.waitingKeyframe) {
        if (!vp8?.keyframe) {
          d.seqShift += 1;
          return;
        }
        d.waitingKeyframe = false;
      }
      // Temporal layers: switch only at a frame start; drop upper layers in `base` mode. A stream
      // without temporal layers (no TID) cannot be thinned without breaking decoding: it goes whole.
      if (vp8?.frameStart) d.baseLayerOnly = mode === 'base';
      if (d.baseLayerOnly && vp8?.tid !== undefined && vp8.tid > 0) {
        d.seqShift += 1;
        return;
      }
    }
    const out = rtp.clone();
    out.header.sequenceNumber = (rtp.header.sequenceNumber - d.seqShift) & 0xffff;
    const sender = d.transceiver.sender;
    if (!d.started) {
      d.started = true;
      sender.replaceRTP({ sequenceNumber: out.header.sequenceNumber, timestamp: out.header.timestamp });
    }
    this.counters.forwarded += 1;
    sender.sendRtp(out).catch(() => {
      this.counters.dropped += 1;
    });
  }

  /** A keyframe wanted from a publisher's track: coalesced to one per interval (`keyframeIntervalMs`). */
  private askKeyframe(publisherId: string, source: Source, _fromSubscriber: boolean): void {
    const pub = this.participants.get(publisherId);
    if (!pub || source === 'audio') return;
    const inbound = pub.inbound[source];
    const now = this.deps.now();
    const decision = requestKeyframe(inbound.gate, now, EMBEDDED_LIMITS.keyframeIntervalMs);
    if (decision.send) {
      this.sendPli(pub, source);
      return;
    }
    if (decision.retryInMs !== undefined && !inbound.trailingTimer) {
      inbound.trailingTimer = setTimeout(() => {
        inbound.trailingTimer = undefined;
        if (!pub.closed && flushTrailing(inbound.gate, this.deps.now(), EMBEDDED_LIMITS.keyframeIntervalMs)) this.sendPli(pub, source);
      }, decision.retryInMs);
      inbound.trailingTimer.unref();
    }
  }

  private sendPli(pub: Participant, source: Source): void {
    const inbound = pub.inbound[source];
    const ssrc = inbound.ssrc ?? inbound.track?.ssrc;
    if (ssrc === undefined) return;
    this.counters.keyframeRequestsSent += 1;
    inbound.transceiver.receiver.sendRtcpPLI(ssrc).catch(() => undefined);
  }

  private onSubscriberRtcp(sub: Participant, key: string, packet: RtcpPacket): void {
    const d = sub.downs.get(key);
    if (!d) return;
    if (packet instanceof RtcpRrPacket || packet instanceof RtcpSrPacket) {
      for (const report of packet.reports) if (report.ssrc === d.transceiver.sender.ssrc) d.loss = report.fractionLost / 256;
    }
  }

  /**
   * `link` per subscriber: the transport-wide congestion control estimate (TWCC feedback, werift's
   * sender-side estimator) when the subscriber sends it, else its REMB; loss from its receiver reports.
   */
  private reportLinks(): void {
    for (const sub of this.participants.values()) {
      let twcc = 0;
      let remb = 0;
      let loss = 0;
      for (const d of sub.downs.values()) {
        const sender = d.transceiver.sender;
        twcc = Math.max(twcc, sender.senderBWE.availableBitrate);
        remb = Math.max(remb, Number(sender.receiverEstimatedMaxBitrate));
        loss = Math.max(loss, d.loss);
      }
      const downlinkBps = twcc > 0 ? twcc : remb;
      if (downlinkBps <= 0 && loss === 0) continue;
      this.deps.emitEvent({ kind: 'link', roomId: this.spec.roomId, participantId: sub.id, downlinkBps, loss });
    }
  }
}

/** What a subscriber receives of a publisher's source at its rung of the ladder. */
export function wanted(sub: ParticipantMedia, pub: { id: string; media: ParticipantMedia }, source: Source): 'all' | 'base' | 'none' {
  if (source === 'audio') return 'all'; // audio is never degraded by choice
  const level = sub.level;
  if (level === 'audio-only') return 'none';
  if (source === 'screen') return level === 'screen-only' ? 'base' : 'all';
  if (level === 'screen-only') return 'none';
  if (pub.media.role === 'teacher') return level === 'teacher-low' ? 'base' : 'all';
  return level === 'full' && sub.camerasOf.includes(pub.id) ? 'all' : 'none';
}

function retransmitted(d: Downstream): number {
  // werift counts retransmissions per sender (private field, read for the room's stats).
  return (d.transceiver.sender as unknown as { retransmittedPacketsSent?: number }).retransmittedPacketsSent ?? 0;
}

function looksLikeSdp(sdp: unknown): sdp is string {
  return typeof sdp === 'string' && sdp.startsWith('v=0') && sdp.includes('\nm=');
}

function errorText(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).slice(0, 200);
}
