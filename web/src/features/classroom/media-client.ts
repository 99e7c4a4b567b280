/**
 * The browser side of the media engine port (src/media/media-engine.ts), engine-agnostic: it follows
 * the engine's `connections` signal (one RTCPeerConnection per label, who offers, which local tracks
 * go there), answers or offers, trickles ICE candidates both ways, and restarts ICE when a
 * connection fails or drops, or when the browser comes back online. Everything browser-specific is
 * injected (`MediaDeps`), so its state handling is unit-tested with a fake peer connection.
 *
 * Send slots: on a connection the engine offers, the first m-lines of each kind are this client's
 * send slots, in the order audio, camera, screen (the embedded SFU's layout); on a connection the
 * client offers, it adds one transceiver per source in that order. A source the client may not send
 * (not in `send`) or does not want to (camera off) has no track on its slot (`replaceTrack(null)`:
 * no renegotiation). Remote tracks carry `<source>~<participantId>` as their stream id.
 */

export type Source = 'audio' | 'camera' | 'screen';
export const SOURCES: readonly Source[] = ['audio', 'camera', 'screen'];

export interface MediaConnection {
  label: string;
  clientOffers: boolean;
  send: readonly Source[];
  receive: boolean;
}
export type MediaSignal =
  | { kind: 'connections'; connections: readonly MediaConnection[] }
  | { kind: 'offer'; connection: string; sdp: string }
  | { kind: 'answer'; connection: string; sdp: string }
  | { kind: 'candidate'; connection: string; candidate: string; sdpMid: string | null; sdpMLineIndex: number | null }
  | { kind: 'restart'; connection: string };

/** What of RTCPeerConnection the client uses (a fake implements it in the unit test). */
export type PeerLike = Pick<
  RTCPeerConnection,
  | 'addTransceiver' | 'getTransceivers' | 'createOffer' | 'createAnswer' | 'setLocalDescription' | 'setRemoteDescription' | 'addIceCandidate' | 'close'
  | 'iceConnectionState' | 'signalingState' | 'remoteDescription' | 'restartIce'
> & {
  onicecandidate: ((ev: { candidate: RTCIceCandidate | null }) => void) | null;
  oniceconnectionstatechange: (() => void) | null;
  ontrack: ((ev: { track: MediaStreamTrack; streams: readonly MediaStream[] }) => void) | null;
};

export interface RemoteMedia {
  /** `<source>~<participantId>` (the stream id the engine gave). */
  key: string;
  source: Source;
  participantId: string;
  stream: MediaStream;
}

export interface MediaDeps {
  createPeer(): PeerLike;
  /** A local track of this source, or undefined (refused, no device). Called once per source until released. */
  getTrack(source: Source): Promise<MediaStreamTrack | undefined>;
  /** Sends a signal to the engine (over the realtime socket). */
  send(signal: MediaSignal): void;
  /** Remote media changed (a track came; the set is replaced whole). */
  onRemote(media: readonly RemoteMedia[]): void;
  /** A connection's ICE state changed (shown to the person as the connection state). */
  onState(label: string, state: RTCIceConnectionState): void;
  /** Logged, never thrown at the page. */
  onError?(err: unknown): void;
  /** The scalability modes this browser's VP8 encoder offers (`RTCRtpSender.getCapabilities('video')`); absent or empty: no layers asked. */
  vp8ScalabilityModes?(): readonly string[];
}

/** What the person wants to send now (besides what the engine allows). */
export interface Wants {
  /** The microphone is live (teachers always; others while they hold the floor). */
  audio: boolean;
  camera: boolean;
  screen: boolean;
}

interface Conn {
  spec: MediaConnection;
  pc: PeerLike;
  /** Signals handled one after another (SDP operations must not interleave). */
  queue: Promise<void>;
  /** Candidates that arrived before the remote description. */
  pending: RTCIceCandidateInit[];
  /** A restart was asked and its new offer/answer not yet applied (one request at a time). */
  restarting: boolean;
}

/** How a remote stream id reads: `<source>~<participantId>`; anything else is ignored. */
export function parseStreamId(id: string): { source: Source; participantId: string } | undefined {
  const i = id.indexOf('~');
  if (i <= 0) return undefined;
  const source = id.slice(0, i) as Source;
  const participantId = id.slice(i + 1);
  return SOURCES.includes(source) && participantId ? { source, participantId } : undefined;
}

/** Pure: which local source goes on which send slot, given the connection's `send` and what the person wants. */
export function slotTracks(send: readonly Source[], wants: Wants): Record<Source, boolean> {
  return { audio: send.includes('audio') && wants.audio, camera: send.includes('camera') && wants.camera, screen: send.includes('screen') && wants.screen };
}

/**
 * VP8 temporal layers asked of the camera and screen encoders, best first. With them the browser
 * marks each frame's temporal layer (the VP8 payload descriptor's TID), and the engine's
 * `teacher-low` and `screen-only` rungs forward only layer 0 (a quarter of the frames with L1T3,
 * half with L1T2) to a subscriber whose link is short, without re-encoding
 * (src/media/embedded/vp8.ts). Without them, those rungs forward the stream whole.
 */
export const TEMPORAL_MODES = ['L1T3', 'L1T2'] as const;
export type TemporalMode = (typeof TEMPORAL_MODES)[number];

/** Pure: the modes to try, best first, among those the encoder offers. */
export function temporalModesToTry(offered: readonly string[]): TemporalMode[] {
  return TEMPORAL_MODES.filter((m) => offered.includes(m));
}

/** Pure: the sender's parameters with `mode` on its (single) encoding; undefined when it has no encoding yet or already has that mode. */
export function withTemporalLayers(params: RTCRtpSendParameters, mode: TemporalMode): RTCRtpSendParameters | undefined {
  const first = params.encodings[0] as (RTCRtpEncodingParameters & { scalabilityMode?: string }) | undefined;
  if (!first || first.scalabilityMode === mode) return undefined;
  return { ...params, encodings: [{ ...first, scalabilityMode: mode } as RTCRtpEncodingParameters, ...params.encodings.slice(1)] };
}

export class MediaClient {
  private readonly conns = new Map<string, Conn>();
  private readonly tracks = new Map<Source, Promise<MediaStreamTrack | undefined>>();
  private readonly remote = new Map<string, RemoteMedia>();
  private wants: Wants = { audio: false, camera: false, screen: false };
  private closed = false;
  /** Video senders whose temporal layers were asked (once each, whatever the outcome). */
  private readonly layered = new WeakSet<RTCRtpSender>();

  constructor(private readonly deps: MediaDeps) {}

  labels(): string[] {
    return [...this.conns.keys()];
  }

  /** A signal from the engine. Never throws: a failure is reported to `onError` and leaves the other connections alone. */
  handle(signal: MediaSignal): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (signal.kind === 'connections') return this.follow(signal.connections);
    const conn = this.conns.get(signal.connection);
    if (!conn) return Promise.resolve();
    return this.enqueue(conn, () => this.apply(conn, signal));
  }

  /** What the person wants to send changed (floor given or taken, camera toggled, screen shared). */
  async setWants(wants: Wants): Promise<void> {
    this.wants = wants;
    if (!wants.screen) this.release('screen');
    if (!wants.camera) this.release('camera');
    await Promise.all([...this.conns.values()].map((c) => this.enqueue(c, () => this.attach(c))));
  }

  /** ICE restart of every connection (the browser came back online, the network changed). */
  restartAll(): void {
    for (const conn of this.conns.values()) this.restart(conn);
  }

  /**
   * After `close()` (the room closed, or its host node stopped): takes signals again. The engine
   * that hosts the room next sends its `connections` afresh; the person's wishes are kept.
   */
  reopen(): void {
    this.closed = false;
  }

  close(): void {
    this.closed = true;
    for (const conn of this.conns.values()) conn.pc.close();
    this.conns.clear();
    for (const source of SOURCES) this.release(source);
    this.remote.clear();
    this.deps.onRemote([]);
  }

  private enqueue(conn: Conn, step: () => Promise<void>): Promise<void> {
    conn.queue = conn.queue.then(step).catch((err: unknown) => this.deps.onError?.(err));
    return conn.queue;
  }

  private async follow(list: readonly MediaConnection[]): Promise<void> {
    const wanted = new Set(list.map((c) => c.label));
    for (const [label, conn] of this.conns) {
      if (wanted.has(label)) continue;
      conn.pc.close();
      this.conns.delete(label);
      this.dropRemoteOf(label);
    }
    const steps: Promise<void>[] = [];
    for (const spec of list) {
      const existing = this.conns.get(spec.label);
      if (existing) {
        existing.spec = spec;
        steps.push(this.enqueue(existing, () => this.attach(existing)));
        continue;
      }
      const conn = this.open(spec);
      if (spec.clientOffers) steps.push(this.enqueue(conn, () => this.offer(conn, false)));
    }
    await Promise.all(steps);
  }

  private open(spec: MediaConnection): Conn {
    const pc = this.deps.createPeer();
    const conn: Conn = { spec, pc, queue: Promise.resolve(), pending: [], restarting: false };
    this.conns.set(spec.label, conn);
    pc.onicecandidate = (ev) => {
      if (this.conns.get(spec.label) !== conn) return;
      const c = ev.candidate;
      this.deps.send(c ? { kind: 'candidate', connection: spec.label, candidate: c.candidate, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex } : { kind: 'candidate', connection: spec.label, candidate: '', sdpMid: null, sdpMLineIndex: null });
    };
    pc.oniceconnectionstatechange = () => {
      if (this.conns.get(spec.label) !== conn) return;
      const state = pc.iceConnectionState;
      this.deps.onState(spec.label, state);
      if (state === 'failed' || state === 'disconnected') this.restart(conn);
      if (state === 'connected' || state === 'completed') conn.restarting = false;
    };
    pc.ontrack = (ev) => {
      const stream = ev.streams[0];
      const parsed = stream && parseStreamId(stream.id);
      if (!stream || !parsed) return;
      const key = `${parsed.source}~${parsed.participantId}`;
      this.remote.set(key, { key, ...parsed, stream });
      (this.remoteLabel ??= new Map()).set(key, spec.label);
      ev.track.addEventListener?.('ended', () => {
        if (this.remote.get(key)?.stream === stream && stream.getTracks().every((t) => t.readyState === 'ended')) {
          this.remote.delete(key);
          this.deps.onRemote([...this.remote.values()]);
        }
      });
      this.deps.onRemote([...this.remote.values()]);
    };
    return conn;
  }

  private remoteLabel: Map<string, string> | undefined;
  private dropRemoteOf(label: string): void {
    for (const [key, l] of this.remoteLabel ?? []) {
      if (l !== label) continue;
      this.remote.delete(key);
      this.remoteLabel!.delete(key);
    }
    this.deps.onRemote([...this.remote.values()]);
  }

  private restart(conn: Conn): void {
    if (conn.restarting || this.closed) return;
    conn.restarting = true;
    if (conn.spec.clientOffers) void this.enqueue(conn, () => this.offer(conn, true));
    else this.deps.send({ kind: 'restart', connection: conn.spec.label });
  }

  private async apply(conn: Conn, signal: Exclude<MediaSignal, { kind: 'connections' }>): Promise<void> {
    const { pc } = conn;
    switch (signal.kind) {
      case 'offer': {
        await pc.setRemoteDescription({ type: 'offer', sdp: signal.sdp });
        await this.flushCandidates(conn);
        await this.attach(conn);
        const answer = await pc.createAnswer();
        await pc.setLocalDescription(answer);
        this.deps.send({ kind: 'answer', connection: conn.spec.label, sdp: answer.sdp ?? '' });
        conn.restarting = false;
        await this.layer(conn);
        return;
      }
      case 'answer':
        if (pc.signalingState !== 'have-local-offer') return;
        await pc.setRemoteDescription({ type: 'answer', sdp: signal.sdp });
        await this.flushCandidates(conn);
        conn.restarting = false;
        await this.layer(conn);
        return;
      case 'candidate': {
        const init: RTCIceCandidateInit = { candidate: signal.candidate, sdpMid: signal.sdpMid, sdpMLineIndex: signal.sdpMLineIndex };
        if (!pc.remoteDescription) conn.pending.push(init);
        else if (signal.candidate !== '') await pc.addIceCandidate(init);
        return;
      }
      case 'restart':
        // The engine asks this client (the offerer on this connection) for an ICE restart.
        if (conn.spec.clientOffers) await this.offer(conn, true);
        return;
    }
  }

  private async flushCandidates(conn: Conn): Promise<void> {
    const list = conn.pending.splice(0);
    for (const c of list) if (c.candidate) await conn.pc.addIceCandidate(c);
  }

  private async offer(conn: Conn, iceRestart: boolean): Promise<void> {
    await this.attach(conn);
    const offer = await conn.pc.createOffer(iceRestart ? { iceRestart: true } : {});
    await conn.pc.setLocalDescription(offer);
    this.deps.send({ kind: 'offer', connection: conn.spec.label, sdp: offer.sdp ?? '' });
  }

  /** The send slots of a connection: audio, camera, screen (the first transceivers of each kind, in that order). */
  private slots(conn: Conn): Partial<Record<Source, RTCRtpTransceiver>> {
    const { pc } = conn;
    let all = pc.getTransceivers();
    if (conn.spec.clientOffers && all.length === 0) {
      for (const source of SOURCES) if (conn.spec.send.includes(source)) pc.addTransceiver(source === 'audio' ? 'audio' : 'video', { direction: conn.spec.receive ? 'sendrecv' : 'sendonly' });
      all = pc.getTransceivers();
    }
    const audio = all.filter((t) => kindOfTransceiver(t) === 'audio');
    const video = all.filter((t) => kindOfTransceiver(t) === 'video');
    if (conn.spec.clientOffers) {
      const out: Partial<Record<Source, RTCRtpTransceiver>> = {};
      let v = 0;
      for (const source of SOURCES) {
        if (!conn.spec.send.includes(source)) continue;
        out[source] = source === 'audio' ? audio[0] : video[v++];
      }
      return out;
    }
    // The engine offers: its first audio m-line and first two video m-lines are this client's send slots.
    return { audio: audio[0], camera: video[0], screen: video[1] };
  }

  /** Puts (or takes off) each local track on its slot; asks for a device only when it is to be sent. */
  private async attach(conn: Conn): Promise<void> {
    if (!conn.pc.remoteDescription && !conn.spec.clientOffers) return;
    const slots = this.slots(conn);
    const on = slotTracks(conn.spec.send, this.wants);
    for (const source of SOURCES) {
      const slot = slots[source];
      if (!slot) continue;
      const track = on[source] ? await this.track(source) : undefined;
      if (!conn.spec.clientOffers && slot.direction !== 'sendrecv' && slot.direction !== 'sendonly') slot.direction = 'sendrecv';
      if (slot.sender.track !== (track ?? null)) await slot.sender.replaceTrack(track ?? null);
    }
  }

  /**
   * Asks the camera and screen slots' encoders for temporal layers, once negotiated (a sender has
   * its encoding then): L1T3, else L1T2 when the encoder refuses or lacks L1T3, else nothing (the
   * stream goes as before). Never fails the connection.
   */
  private async layer(conn: Conn): Promise<void> {
    const modes = temporalModesToTry(this.deps.vp8ScalabilityModes?.() ?? []);
    if (modes.length === 0) return;
    const slots = this.slots(conn);
    for (const source of ['camera', 'screen'] as const) {
      const sender = slots[source]?.sender;
      if (!sender || this.layered.has(sender) || typeof sender.getParameters !== 'function') continue;
      for (const mode of modes) {
        const next = withTemporalLayers(sender.getParameters(), mode);
        if (!next) {
          // No encoding yet: asked again after the next negotiation. Already there: done.
          if (sender.getParameters().encodings.length > 0) this.layered.add(sender);
          break;
        }
        try {
          await sender.setParameters(next);
          this.layered.add(sender);
          break;
        } catch (err) {
          // This mode refused (encoder, codec): the next one, or the stream as it is.
          this.deps.onError?.(err);
          if (mode === modes[modes.length - 1]) this.layered.add(sender);
        }
      }
    }
  }

  private track(source: Source): Promise<MediaStreamTrack | undefined> {
    let t = this.tracks.get(source);
    if (!t) {
      t = this.deps.getTrack(source).catch((err: unknown) => {
        this.deps.onError?.(err);
        this.tracks.delete(source);
        return undefined;
      });
      this.tracks.set(source, t);
    }
    return t;
  }

  private release(source: Source): void {
    const t = this.tracks.get(source);
    this.tracks.delete(source);
    void t?.then((track) => track?.stop());
  }
}

function kindOfTransceiver(t: RTCRtpTransceiver): string | undefined {
  return t.receiver.track?.kind ?? t.sender.track?.kind;
}
