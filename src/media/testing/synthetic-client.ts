/**
 * A synthetic WebRTC participant on werift, for the media engines' contract suite and the classroom
 * bench: it answers the engine's offers like a browser would (sending on the first three m-lines —
 * audio, camera, screen — what it was told it may send), sends Opus-sized audio packets every 20 ms
 * (with the audio-level header extension) and a VP8-like video stream (correct VP8 payload
 * descriptors with two temporal layers, periodic keyframes, a keyframe on each PLI it receives; the
 * payload bytes are filler — no encoder), and counts what it receives per track: packets, loss
 * (sequence gaps never filled), the first packet's arrival, keyframe requests it sends.
 */
import { MediaStreamTrack, PictureLossIndication, RTCPeerConnection, RtcpPayloadSpecificFeedback, RTP_EXTENSION_URI, RtpHeader, RtpPacket, type RTCRtpTransceiver } from 'werift';
import type { MediaSignal } from '../media-engine.js';
import { mediaPeerConfig, SOURCES, type Source } from '../embedded/sfu-room.js';
import { parseVp8, vp8Descriptor } from '../embedded/vp8.js';
import { noStunUnlessConfigured, resumeIceAfterRestart } from '../embedded/werift-patches.js';

export interface VideoProfile {
  bitrateBps: number;
  fps: number;
  keyframeIntervalMs: number;
  /** Average packet payload, bytes (an MTU-sized packet minus headers). */
  packetBytes: number;
}

/** 360p VP8 as a browser sends it to an SFU: ≈ 500 kbit/s at 30 frames/s, a keyframe every 3 s. */
export const VIDEO_360P: VideoProfile = { bitrateBps: 500_000, fps: 30, keyframeIntervalMs: 3_000, packetBytes: 1_100 };
/** A pupil's camera, capped lower by room logic's choices. */
export const VIDEO_PUPIL: VideoProfile = { bitrateBps: 200_000, fps: 15, keyframeIntervalMs: 3_000, packetBytes: 1_100 };
/** Opus at ≈ 32 kbit/s: 80 bytes of payload every 20 ms. */
export const AUDIO_PACKET_BYTES = 80;
export const AUDIO_PACKET_MS = 20;

export interface ReceivedTrack {
  /** `<source>~<participantId>` from the msid. */
  streamId: string;
  kind: 'audio' | 'video';
  packets: number;
  duplicates: number;
  firstExtSeq: number | undefined;
  highestExtSeq: number;
  keyframes: number;
  firstPacketAtMs: number | undefined;
  seen: Uint32Array;
}

export interface SyntheticClientOptions {
  id: string;
  /** What this client sends (when the engine's offer lets it). */
  send: { audio?: boolean; camera?: VideoProfile; screen?: VideoProfile };
  /** Talk (audio level loud) or stay silent (DTX-like: quiet level). */
  speaking?: boolean;
  iceAdditionalHostAddresses?: string[];
  iceBindAddress?: string;
  /** PLI on the first video packet of each track (a browser whose decoder waits for a keyframe). */
  pliOnFirstVideo?: boolean;
}

export class SyntheticClient {
  readonly pc: RTCPeerConnection;
  readonly received = new Map<string, ReceivedTrack>();
  /** Keyframe requests (PLI) this client received as a publisher, per source. */
  readonly pliReceived: Record<Source, number> = { audio: 0, camera: 0, screen: 0 };
  keyframeRequestsSent = 0;
  firstPacketAtMs: number | undefined;
  /**
   * When each step of this client's first connection happened (Date.now()), for the classroom
   * bench's join breakdown: first offer received, first answer accepted by the engine (its
   * `sendSignal` resolved), ICE connected, DTLS connected (connection state `connected`); the first
   * media packet is `firstPacketAtMs`.
   */
  readonly phases: { offerAtMs?: number; answerAcceptedAtMs?: number; iceConnectedAtMs?: number; dtlsConnectedAtMs?: number } = {};
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly sending = new Map<Source, RTCRtpTransceiver>();
  private readonly keyframeWanted: Record<Source, boolean> = { audio: false, camera: true, screen: true };
  private firstPacketWaiters: (() => void)[] = [];
  private closed = false;
  /** Where this client's signals go (room logic's relay in the real thing). */
  sendSignal: (message: MediaSignal) => Promise<void> = async () => undefined;

  constructor(readonly options: SyntheticClientOptions) {
    noStunUnlessConfigured();
    this.pc = new RTCPeerConnection({
      ...mediaPeerConfig(),
      bundlePolicy: 'max-bundle',
      iceAdditionalHostAddresses: options.iceAdditionalHostAddresses ?? ['127.0.0.1'],
      iceUseIpv6: false,
      iceServers: [],
      iceInterfaceAddresses: options.iceBindAddress ? { udp4: options.iceBindAddress } : undefined,
    });
    this.pc.onTransceiverAdded.subscribe((t) => this.watchTransceiver(t));
    this.pc.onRemoteTransceiverAdded.subscribe((t) => this.watchTransceiver(t));
    this.pc.iceConnectionStateChange.subscribe((state) => {
      // Only `connected`: werift 0.24 also reports `completed` when its gathering ends, before any check.
      if (state === 'connected' && this.phases.iceConnectedAtMs === undefined) this.phases.iceConnectedAtMs = Date.now();
    });
    this.pc.connectionStateChange.subscribe((state) => {
      if (state === 'connected' && this.phases.dtlsConnectedAtMs === undefined) this.phases.dtlsConnectedAtMs = Date.now();
    });
  }

  get id(): string {
    return this.options.id;
  }

  /** A signal from the engine. */
  handle(message: MediaSignal): Promise<void> {
    // One signal at a time, in order, like a browser's signalling queue.
    const next = this.queue.then(() => this.apply(message));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private queue: Promise<void> = Promise.resolve();

  private async apply(message: MediaSignal): Promise<void> {
    if (this.closed) return;
    if (message.kind !== 'offer') return;
    this.phases.offerAtMs ??= Date.now();
    await this.pc.setRemoteDescription({ type: 'offer', sdp: message.sdp });
    const transceivers = this.pc.getTransceivers();
    SOURCES.forEach((source, i) => {
      const t = transceivers[i];
      const wants = source === 'audio' ? this.options.send.audio === true : this.options.send[source] !== undefined;
      if (!t || this.sending.has(source)) return;
      if (!wants) {
        t.setDirection('recvonly');
        return;
      }
      t.setDirection('sendrecv');
      void t.sender.replaceTrack(new MediaStreamTrack({ kind: t.kind }));
      const onPli = () => {
        this.pliReceived[source] += 1;
        this.keyframeWanted[source] = true;
      };
      t.sender.onPictureLossIndication.subscribe(onPli);
      // werift (0.24) routes a PLI by its *sender* SSRC first: on a sendrecv m-line that is the
      // engine's own sender, known here as a receiver, so the PLI lands on our receiver. A browser
      // routes by media SSRC; this catches it where werift puts it.
      t.receiver.onRtcp.subscribe((packet) => {
        if (packet instanceof RtcpPayloadSpecificFeedback && packet.feedback instanceof PictureLossIndication && packet.feedback.mediaSsrc === t.sender.ssrc) onPli();
      });
      this.sending.set(source, t);
    });
    const answer = await this.pc.createAnswer();
    await this.pc.setLocalDescription(answer);
    // An answer to an ICE-restarting offer: werift 0.24 would not run the new checks itself.
    resumeIceAfterRestart(this.pc);
    const sdp = this.pc.localDescription?.sdp;
    if (sdp) {
      await this.sendSignal({ kind: 'answer', connection: message.connection, sdp });
      this.phases.answerAcceptedAtMs ??= Date.now();
    }
  }

  /** Starts the media this client was asked to send (on the slots the engine offered). */
  startMedia(): void {
    if (this.options.send.audio) this.startAudio();
    for (const source of ['camera', 'screen'] as const) {
      const profile = this.options.send[source];
      if (profile) this.startVideo(source, profile);
    }
  }

  /** Resolves at the first media packet received (any track). */
  firstPacket(): Promise<void> {
    if (this.firstPacketAtMs !== undefined) return Promise.resolve();
    return new Promise((resolve) => this.firstPacketWaiters.push(resolve));
  }

  /** Sends `count` keyframe requests for every video track received (a storm, for tests). */
  async requestKeyframes(count: number): Promise<void> {
    // The first three m-lines are this client's own send slots; what follows is received.
    for (const t of this.pc.getTransceivers().slice(SOURCES.length)) {
      const ssrc = t.receiver.tracks[0]?.ssrc;
      if (t.kind !== 'video' || ssrc === undefined) continue;
      for (let i = 0; i < count; i += 1) {
        this.keyframeRequestsSent += 1;
        await t.receiver.sendRtcpPLI(ssrc);
      }
    }
  }

  /** Packets received from tracks whose stream id starts with `<source>~<participantId>`. */
  packetsFrom(participantId: string, source: Source): number {
    return this.received.get(`${source}~${participantId}`)?.packets ?? 0;
  }

  /** Loss over every received track: packets never received in the sequence span seen (0..1). */
  loss(): { expected: number; received: number; lost: number } {
    let expected = 0;
    let received = 0;
    for (const r of this.received.values()) {
      if (r.firstExtSeq === undefined) continue;
      expected += r.highestExtSeq - r.firstExtSeq + 1;
      received += r.packets - r.duplicates;
    }
    return { expected, received, lost: Math.max(0, expected - received) };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    await this.pc.close().catch(() => undefined);
  }

  private readonly watched = new WeakSet<RTCRtpTransceiver>();

  private watchTransceiver(t: RTCRtpTransceiver): void {
    if (this.watched.has(t)) return;
    this.watched.add(t);
    t.onTrack.subscribe((track) => {
      const streamId = t.receiver.remoteStreamId ?? track.streamId ?? `?${t.mid ?? ''}`;
      track.onReceiveRtp.subscribe((rtp) => this.onRtp(t, streamId, track, rtp));
    });
  }

  private onRtp(t: RTCRtpTransceiver, streamIdAtTrack: string, track: MediaStreamTrack, rtp: RtpPacket): void {
    const now = Date.now();
    const streamId = t.receiver.remoteStreamId ?? streamIdAtTrack;
    let r = this.received.get(streamId);
    if (!r) {
      r = { streamId, kind: t.kind === 'audio' ? 'audio' : 'video', packets: 0, duplicates: 0, firstExtSeq: undefined, highestExtSeq: 0, keyframes: 0, firstPacketAtMs: undefined, seen: new Uint32Array(2048) };
      this.received.set(streamId, r);
    }
    const seq = rtp.header.sequenceNumber;
    let ext: number;
    if (r.firstExtSeq === undefined) {
      ext = seq + 65_536;
      r.firstExtSeq = ext;
      r.highestExtSeq = ext;
      r.firstPacketAtMs = now;
      if (t.kind === 'video' && this.options.pliOnFirstVideo && track.ssrc !== undefined) {
        this.keyframeRequestsSent += 1;
        void t.receiver.sendRtcpPLI(track.ssrc);
      }
    } else {
      const cycle = r.highestExtSeq & ~0xffff;
      ext = cycle | seq;
      if (ext - r.highestExtSeq > 32_768) ext -= 65_536;
      else if (r.highestExtSeq - ext > 32_768) ext += 65_536;
      if (ext > r.highestExtSeq) r.highestExtSeq = ext;
    }
    const slot = ext % r.seen.length;
    if (r.seen[slot] === ext + 1) r.duplicates += 1;
    r.seen[slot] = ext + 1;
    r.packets += 1;
    if (t.kind === 'video' && parseVp8(rtp.payload)?.keyframe) r.keyframes += 1;
    if (this.firstPacketAtMs === undefined) {
      this.firstPacketAtMs = now;
      for (const w of this.firstPacketWaiters.splice(0)) w();
    }
  }

  private startAudio(): void {
    const t = this.sending.get('audio');
    if (!t) return;
    const levelId = extensionId(this.pc, RTP_EXTENSION_URI.audioLevelIndication);
    let seq = randomUint16();
    let ts = randomUint32();
    const payload = Buffer.alloc(AUDIO_PACKET_BYTES, 0x5a);
    this.timers.push(
      setInterval(() => {
        const level = this.options.speaking ? 20 : 110;
        const header = new RtpHeader({ sequenceNumber: seq, timestamp: ts, marker: false, payloadType: 111, extension: levelId !== undefined, extensions: levelId !== undefined ? [{ id: levelId, payload: Buffer.from([0x80 | level]) }] : [] });
        seq = (seq + 1) & 0xffff;
        ts = (ts + 960) >>> 0;
        void t.sender.sendRtp(new RtpPacket(header, payload)).catch(() => undefined);
      }, AUDIO_PACKET_MS),
    );
  }

  private startVideo(source: 'camera' | 'screen', profile: VideoProfile): void {
    const t = this.sending.get(source);
    if (!t) return;
    let seq = randomUint16();
    let ts = randomUint32();
    let pictureId = 0;
    let tl0 = 0;
    let lastKeyframeMs = 0;
    const frameBytes = profile.bitrateBps / 8 / profile.fps;
    this.timers.push(
      setInterval(() => {
        const now = Date.now();
        const keyframe = this.keyframeWanted[source] || now - lastKeyframeMs >= profile.keyframeIntervalMs;
        if (keyframe) {
          this.keyframeWanted[source] = false;
          lastKeyframeMs = now;
          pictureId = 0; // a keyframe restarts the temporal pattern at layer 0
        }
        const tid = pictureId % 2;
        if (tid === 0) tl0 = (tl0 + 1) & 0xff;
        const bytes = Math.round(keyframe ? frameBytes * 4 : frameBytes);
        const packets = Math.max(1, Math.ceil(bytes / profile.packetBytes));
        for (let i = 0; i < packets; i += 1) {
          const descriptor = vp8Descriptor({ frameStart: i === 0, pictureId: pictureId & 0x7fff, tid, layerSync: tid > 0, tl0PicIdx: tl0 });
          const body = Buffer.alloc(Math.min(profile.packetBytes, bytes - i * profile.packetBytes), 0x33);
          // VP8 payload header (first packet): P bit 0 on a keyframe, 1 otherwise.
          if (i === 0) body[0] = keyframe ? 0x10 : 0x11;
          const header = new RtpHeader({ sequenceNumber: seq, timestamp: ts, marker: i === packets - 1, payloadType: 96 });
          seq = (seq + 1) & 0xffff;
          void t.sender.sendRtp(new RtpPacket(header, Buffer.concat([descriptor, body]))).catch(() => undefined);
        }
        pictureId += 1;
        ts = (ts + Math.round(90_000 / profile.fps)) >>> 0;
      }, Math.round(1000 / profile.fps)),
    );
  }
}

function extensionId(pc: RTCPeerConnection, uri: string): number | undefined {
  for (const [id, u] of Object.entries(pc.extIdUriMap)) if (u === uri) return Number(id);
  return undefined;
}

const randomUint16 = () => Math.floor(Math.random() * 0x10000);
const randomUint32 = () => Math.floor(Math.random() * 0x1_0000_0000) >>> 0;
