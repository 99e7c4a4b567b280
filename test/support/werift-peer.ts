import type { PeerConfig } from 'werift';
import { MediaStreamTrack, RTCPeerConnection, RtpHeader, RtpPacket, RTP_EXTENSION_URI, serializeAudioLevelIndication, useAudioLevelIndication } from 'werift';
import type { MediaEngine, MediaSignal } from '../../src/media/media-engine.js';

/**
 * A synthetic participant's browser for media-engine tests: werift peer connections driven by the
 * engine's signals exactly as the web client will drive them (the `connections` signal says which
 * connections to open and who offers on each), sending synthetic Opus/VP8 RTP on what it may send
 * and counting the RTP packets it receives, by kind. No media is encoded or decoded.
 */

/** 20 ms Opus frames, 30 fps video: the pace of a real sender. */
const AUDIO_PACKET_MS = 20;
const VIDEO_PACKET_MS = 33;

export interface PeerCounts {
  audio: number;
  video: number;
}

export class WeriftParticipant {
  readonly received: PeerCounts = { audio: 0, video: 0 };
  readonly errors: unknown[] = [];
  private readonly pcs = new Map<string, RTCPeerConnection>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly tracks: { audio?: MediaStreamTrack; video?: MediaStreamTrack } = {};
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly engine: MediaEngine,
    readonly roomId: string,
    readonly id: string,
    private readonly options: {
      sendAudio: boolean;
      sendVideo: boolean;
      /** The audio level each audio packet announces (ssrc-audio-level, dBov: 0 loud … 127 silence); none when absent. */
      audioLevelDbov?: () => number;
      /** ICE servers and policy (TURN tests: `iceTransportPolicy: 'relay'`); default: none, all candidates. */
      ice?: Pick<Partial<PeerConfig>, 'iceServers' | 'iceTransportPolicy' | 'turnTlsOptions'>;
    },
  ) {}

  /** Feeds a signal from the engine (call from `engine.onSignal`). Signals are handled in order. */
  receive(message: MediaSignal): void {
    this.chain = this.chain.then(() => this.handle(message)).catch((e: unknown) => {
      this.errors.push(e);
    });
  }

  /** The time all queued signals are handled. */
  settled(): Promise<void> {
    return this.chain;
  }

  /** On a connection the client offers on: a new offer with new ICE credentials (ICE restart). */
  async offerAgain(label: string, iceRestart: boolean): Promise<void> {
    const pc = this.pcs.get(label);
    if (!pc) throw new Error(`pas de connexion ${label}`);
    this.chain = this.chain.then(async () => {
      const offer = await pc.createOffer({ iceRestart });
      await pc.setLocalDescription(offer);
      await this.engine.signal(this.roomId, this.id, { kind: 'offer', connection: label, sdp: pc.localDescription!.sdp });
    });
    return this.chain;
  }

  /** Asks the engine for an ICE restart on a connection it offers on (its new offer is answered like any other). */
  restart(label: string): Promise<void> {
    return this.engine.signal(this.roomId, this.id, { kind: 'restart', connection: label });
  }

  connection(label: string): RTCPeerConnection | undefined {
    return this.pcs.get(label);
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    for (const pc of this.pcs.values()) await pc.close().catch(() => undefined);
    this.pcs.clear();
  }

  private async handle(message: MediaSignal): Promise<void> {
    switch (message.kind) {
      case 'connections':
        // Sent at join and again when send rights grow: attach what is new, then offer (again).
        for (const c of message.connections) {
          const pc = this.open(c.label);
          if (!c.clientOffers) continue;
          let added = false;
          if (c.send.includes('audio') && this.options.sendAudio && !this.tracks.audio) added = this.addSender(pc, 'audio');
          if (c.send.includes('camera') && this.options.sendVideo && !this.tracks.video) added = this.addSender(pc, 'video') || added;
          if (!added) continue;
          const offer = await pc.createOffer();
          await pc.setLocalDescription(offer);
          await this.engine.signal(this.roomId, this.id, { kind: 'offer', connection: c.label, sdp: pc.localDescription!.sdp });
        }
        return;
      case 'offer': {
        const pc = this.pcs.get(message.connection) ?? this.open(message.connection);
        await pc.setRemoteDescription({ type: 'offer', sdp: message.sdp });
        const answer = await pc.createAnswer();
        await pc.setLocalDescription(answer);
        await this.engine.signal(this.roomId, this.id, { kind: 'answer', connection: message.connection, sdp: pc.localDescription!.sdp });
        return;
      }
      case 'answer':
        await this.pcs.get(message.connection)?.setRemoteDescription({ type: 'answer', sdp: message.sdp });
        return;
      case 'candidate': {
        const pc = this.pcs.get(message.connection);
        if (!pc || message.candidate === '') return;
        await pc.addIceCandidate({ candidate: message.candidate, sdpMid: message.sdpMid ?? undefined, sdpMLineIndex: message.sdpMLineIndex ?? undefined });
        return;
      }
      case 'restart':
        return;
    }
  }

  private open(label: string): RTCPeerConnection {
    const existing = this.pcs.get(label);
    if (existing) return existing;
    // No STUN server (werift's default is a public one): loopback and host candidates only.
    const pc = new RTCPeerConnection({
      iceServers: [],
      bundlePolicy: 'max-bundle',
      ...this.options.ice,
      ...(this.options.audioLevelDbov ? { headerExtensions: { audio: [useAudioLevelIndication()], video: [] } } : {}),
    });
    pc.onIceCandidate.subscribe((candidate) => {
      if (!candidate) return;
      void this.engine
        .signal(this.roomId, this.id, { kind: 'candidate', connection: label, candidate: candidate.candidate, sdpMid: candidate.sdpMid ?? null, sdpMLineIndex: candidate.sdpMLineIndex ?? null })
        .catch((e: unknown) => this.errors.push(e));
    });
    pc.onTrack.subscribe((track) => {
      track.onReceiveRtp.subscribe(() => {
        if (track.kind === 'audio') this.received.audio++;
        else this.received.video++;
      });
    });
    this.pcs.set(label, pc);
    return pc;
  }

  private addSender(pc: RTCPeerConnection, kind: 'audio' | 'video'): true {
    const track = new MediaStreamTrack({ kind });
    this.tracks[kind] = track;
    pc.addTransceiver(track, { direction: 'sendonly' });
    let sequenceNumber = 0;
    let timestamp = 0;
    const timer = setInterval(
      () => {
        sequenceNumber = (sequenceNumber + 1) & 0xffff;
        timestamp = (timestamp + (kind === 'audio' ? 960 : 3000)) >>> 0;
        const header = new RtpHeader({ sequenceNumber, timestamp, marker: kind === 'video', payloadType: 96 });
        const levelId = kind === 'audio' && this.options.audioLevelDbov ? audioLevelExtensionId(pc.localDescription?.sdp) : undefined;
        if (levelId !== undefined) header.extensions = [{ id: levelId, payload: Buffer.from(serializeAudioLevelIndication(this.options.audioLevelDbov!())) }];
        track.writeRtp(new RtpPacket(header, kind === 'audio' ? OPUS_FRAME : vp8Frame(sequenceNumber === 1 || sequenceNumber % 60 === 0)));
      },
      kind === 'audio' ? AUDIO_PACKET_MS : VIDEO_PACKET_MS,
    );
    this.timers.push(timer);
    return true;
  }
}

/** An Opus TOC byte (SILK 20 ms, mono) and a few bytes: what a forwarding server sees of audio. */
const OPUS_FRAME = Buffer.from([0x78, 0x0b, 0xe4, 0xc1, 0x36, 0xec, 0xc5, 0x80, 0x1f, 0x46]);

/** A VP8 payload descriptor (start of partition) and a frame header; keyframes carry the start code and a 320×180 size. */
function vp8Frame(keyframe: boolean): Buffer {
  return keyframe
    ? Buffer.from([0x10, 0x50, 0x01, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xb4, 0x00, 0x00, 0x00, 0x00, 0x00])
    : Buffer.from([0x10, 0x51, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00]);
}

function audioLevelExtensionId(sdp: string | undefined): number | undefined {
  const m = new RegExp(`a=extmap:(\\d+)(?:/\\w+)? ${RTP_EXTENSION_URI.audioLevelIndication}`).exec(sdp ?? '');
  return m ? Number(m[1]) : undefined;
}
