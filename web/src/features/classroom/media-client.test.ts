import { describe, expect, it } from 'vitest';
import { MediaClient, parseStreamId, slotTracks, temporalModesToTry, withTemporalLayers, type MediaDeps, type MediaSignal, type PeerLike, type RemoteMedia, type Source } from './media-client.js';

/** A fake RTCPeerConnection: records what the client does; m-lines of a remote offer are given as kinds. */
interface FakeSender {
  track: unknown;
  replaceTrack(t: unknown): Promise<void>;
  /** One encoding once negotiated (as a browser's sender), none before. */
  encodings: { active: boolean; scalabilityMode?: string }[];
  getParameters(): { transactionId: string; encodings: { active: boolean; scalabilityMode?: string }[] };
  setParameters(p: { encodings: { active: boolean; scalabilityMode?: string }[] }): Promise<void>;
}
/** Modes the fake encoder refuses in setParameters (a browser whose codec cannot do them). */
const refusedModes = new Set<string>();

class FakePeer {
  transceivers: { kind: string; direction: string; sender: FakeSender; receiver: { track: { kind: string } } }[] = [];
  remoteDescription: { type: string; sdp: string } | null = null;
  localDescription: { type: string; sdp: string } | null = null;
  signalingState = 'stable';
  iceConnectionState = 'new';
  candidates: unknown[] = [];
  closed = false;
  offers: { iceRestart?: boolean }[] = [];
  onicecandidate: ((ev: { candidate: unknown }) => void) | null = null;
  oniceconnectionstatechange: (() => void) | null = null;
  ontrack: ((ev: { track: unknown; streams: unknown[] }) => void) | null = null;

  private add(kind: string, direction: string) {
    const sender: FakeSender = {
      track: null,
      async replaceTrack(x: unknown) {
        sender.track = x;
      },
      encodings: [],
      getParameters: () => ({ transactionId: 't', encodings: sender.encodings.map((e) => ({ ...e })) }),
      async setParameters(p) {
        const mode = p.encodings[0]?.scalabilityMode;
        if (mode && refusedModes.has(mode)) throw new DOMException(`${mode} non pris en charge`, 'OperationError');
        sender.encodings = p.encodings.map((e) => ({ ...e }));
      },
    };
    const t = { kind, direction, sender, receiver: { track: { kind } } };
    this.transceivers.push(t);
    return t;
  }
  /** What a browser does at setLocalDescription/setRemoteDescription completing a negotiation: senders get their encoding. */
  private negotiated() {
    for (const t of this.transceivers) if (t.sender.encodings.length === 0) t.sender.encodings = [{ active: true }];
  }
  addTransceiver(kind: string, init?: { direction?: string }) {
    return this.add(kind, init?.direction ?? 'sendrecv');
  }
  getTransceivers() {
    return this.transceivers;
  }
  async setRemoteDescription(d: { type: string; sdp: string }) {
    this.remoteDescription = d;
    if (d.type === 'offer') {
      // sdp: the m-line kinds, comma-separated (only new ones create transceivers).
      const kinds = d.sdp.split(',');
      for (let i = this.transceivers.length; i < kinds.length; i++) this.add(kinds[i]!, 'recvonly');
      this.signalingState = 'have-remote-offer';
    } else {
      this.signalingState = 'stable';
      this.negotiated();
    }
  }
  async setLocalDescription(d: { type: string; sdp: string }) {
    this.localDescription = d;
    this.signalingState = d.type === 'offer' ? 'have-local-offer' : 'stable';
    if (d.type === 'answer') this.negotiated();
  }
  async createOffer(o: { iceRestart?: boolean } = {}) {
    this.offers.push(o);
    return { type: 'offer', sdp: `offer${this.offers.length}` };
  }
  async createAnswer() {
    return { type: 'answer', sdp: 'answer' };
  }
  async addIceCandidate(c: unknown) {
    this.candidates.push(c);
  }
  close() {
    this.closed = true;
  }
  restartIce() {}
  setIce(state: string) {
    this.iceConnectionState = state;
    this.oniceconnectionstatechange?.();
  }
}

function harness(vp8ScalabilityModes?: readonly string[]) {
  const peers: FakePeer[] = [];
  const sent: MediaSignal[] = [];
  const asked: Source[] = [];
  const remote: (readonly RemoteMedia[])[] = [];
  const states: string[] = [];
  const errors: unknown[] = [];
  const deps: MediaDeps = {
    createPeer: () => {
      const p = new FakePeer();
      peers.push(p);
      return p as unknown as PeerLike;
    },
    getTrack: async (source) => {
      asked.push(source);
      return { kind: source === 'audio' ? 'audio' : 'video', id: source, stop() {}, readyState: 'live' } as unknown as MediaStreamTrack;
    },
    send: (s) => sent.push(s),
    onRemote: (list) => remote.push(list),
    onState: (_l, s) => states.push(s),
    onError: (e) => errors.push(e),
    ...(vp8ScalabilityModes ? { vp8ScalabilityModes: () => vp8ScalabilityModes } : {}),
  };
  return { client: new MediaClient(deps), peers, sent, asked, remote, states, errors };
}

const main = (send: Source[], clientOffers = false) => ({ kind: 'connections' as const, connections: [{ label: 'main', clientOffers, send, receive: true }] });
const trackId = (t: unknown) => (t as { id?: string } | null)?.id ?? null;

describe('the media client (engine-agnostic, fake peer connection)', () => {
  it('engine offers: answers, puts the microphone on the audio slot and the camera on the first video slot, trickles both ways', async () => {
    const h = harness();
    await h.client.setWants({ audio: true, camera: true, screen: false });
    await h.client.handle(main(['audio', 'camera', 'screen']));
    expect(h.peers).toHaveLength(1);
    // A candidate before the offer waits for the remote description.
    await h.client.handle({ kind: 'candidate', connection: 'main', candidate: 'candidate:1 1 udp 1 127.0.0.1 5000 typ host', sdpMid: '0', sdpMLineIndex: 0 });
    expect(h.peers[0]!.candidates).toHaveLength(0);
    await h.client.handle({ kind: 'offer', connection: 'main', sdp: 'audio,video,video,video' });
    expect(h.peers[0]!.candidates).toHaveLength(1);
    expect(h.sent.filter((s) => s.kind === 'answer')).toEqual([{ kind: 'answer', connection: 'main', sdp: 'answer' }]);
    const [a, cam, screen, forwarded] = h.peers[0]!.transceivers;
    expect([trackId(a!.sender.track), trackId(cam!.sender.track), trackId(screen!.sender.track), trackId(forwarded!.sender.track)]).toEqual(['audio', 'camera', null, null]);
    expect(a!.direction).toBe('sendrecv');
    expect(forwarded!.direction).toBe('recvonly');
    h.peers[0]!.onicecandidate?.({ candidate: { candidate: 'c1', sdpMid: '0', sdpMLineIndex: 0 } });
    h.peers[0]!.onicecandidate?.({ candidate: null });
    expect(h.sent.filter((s) => s.kind === 'candidate')).toEqual([
      { kind: 'candidate', connection: 'main', candidate: 'c1', sdpMid: '0', sdpMLineIndex: 0 },
      { kind: 'candidate', connection: 'main', candidate: '', sdpMid: null, sdpMLineIndex: null },
    ]);
    expect(h.errors).toEqual([]);
  });

  it('sends nothing the engine does not allow; the floor given later puts the microphone on without renegotiating', async () => {
    const h = harness();
    await h.client.setWants({ audio: false, camera: false, screen: false });
    await h.client.handle(main([]));
    await h.client.handle({ kind: 'offer', connection: 'main', sdp: 'audio,video,video' });
    expect(h.asked).toEqual([]);
    expect(h.peers[0]!.transceivers.every((t) => t.sender.track === null)).toBe(true);
    await h.client.setWants({ audio: true, camera: false, screen: false });
    // Wanted but not allowed yet: still nothing asked of the devices.
    expect(h.asked).toEqual([]);
    await h.client.handle(main(['audio']));
    expect(h.asked).toEqual(['audio']);
    expect(trackId(h.peers[0]!.transceivers[0]!.sender.track)).toBe('audio');
    expect(h.peers).toHaveLength(1);
    expect(h.sent.filter((s) => s.kind === 'answer')).toHaveLength(1);
    // Floor taken back: the microphone leaves the slot.
    await h.client.setWants({ audio: false, camera: false, screen: false });
    expect(h.peers[0]!.transceivers[0]!.sender.track).toBeNull();
  });

  it('closed (the room ended, or its host stopped): ignores signals; reopened: follows the new host’s connections with the same wishes', async () => {
    const h = harness();
    await h.client.setWants({ audio: true, camera: false, screen: false });
    await h.client.handle(main(['audio']));
    await h.client.handle({ kind: 'offer', connection: 'main', sdp: 'audio,video,video' });
    h.client.close();
    expect(h.peers[0]!.closed).toBe(true);
    expect(h.remote.at(-1)).toEqual([]);
    await h.client.handle(main(['audio']));
    expect(h.peers).toHaveLength(1);
    h.client.reopen();
    await h.client.handle(main(['audio']));
    await h.client.handle({ kind: 'offer', connection: 'main', sdp: 'audio,video,video' });
    expect(h.peers).toHaveLength(2);
    expect(trackId(h.peers[1]!.transceivers[0]!.sender.track)).toBe('audio');
    expect(h.sent.filter((s) => s.kind === 'answer')).toHaveLength(2);
  });

  it('restarts ICE once per failure (engine offers: asks the engine), and on coming back online', async () => {
    const h = harness();
    await h.client.handle(main([]));
    await h.client.handle({ kind: 'offer', connection: 'main', sdp: 'audio,video,video' });
    const pc = h.peers[0]!;
    pc.setIce('connected');
    pc.setIce('disconnected');
    pc.setIce('failed');
    expect(h.sent.filter((s) => s.kind === 'restart')).toEqual([{ kind: 'restart', connection: 'main' }]);
    expect(h.states).toEqual(['connected', 'disconnected', 'failed']);
    // The engine's new offer completes the restart; the next failure asks again.
    await h.client.handle({ kind: 'offer', connection: 'main', sdp: 'audio,video,video' });
    pc.setIce('failed');
    expect(h.sent.filter((s) => s.kind === 'restart')).toHaveLength(2);
    await h.client.handle({ kind: 'offer', connection: 'main', sdp: 'audio,video,video' });
    h.client.restartAll();
    expect(h.sent.filter((s) => s.kind === 'restart')).toHaveLength(3);
  });

  it('client offers (a publish connection): adds its sources, offers, takes the answer, restarts with an ICE-restart offer', async () => {
    const h = harness();
    await h.client.setWants({ audio: true, camera: true, screen: false });
    await h.client.handle({ kind: 'connections', connections: [{ label: 'publish', clientOffers: true, send: ['audio', 'camera'], receive: false }] });
    const pc = h.peers[0]!;
    expect(pc.transceivers.map((t) => [t.kind, t.direction, trackId(t.sender.track)])).toEqual([['audio', 'sendonly', 'audio'], ['video', 'sendonly', 'camera']]);
    expect(h.sent).toEqual([{ kind: 'offer', connection: 'publish', sdp: 'offer1' }]);
    await h.client.handle({ kind: 'answer', connection: 'publish', sdp: 'a' });
    expect(pc.signalingState).toBe('stable');
    pc.setIce('failed');
    await Promise.resolve();
    await new Promise((r) => setTimeout(r, 0));
    expect(pc.offers.at(-1)).toEqual({ iceRestart: true });
    expect(h.sent.at(-1)).toEqual({ kind: 'offer', connection: 'publish', sdp: 'offer2' });
  });

  it('shows remote tracks by the stream id the engine gives; a connection no longer listed is closed with its media', async () => {
    const h = harness();
    await h.client.handle({ kind: 'connections', connections: [{ label: 'main', clientOffers: false, send: [], receive: true }, { label: 'extra', clientOffers: false, send: [], receive: true }] });
    const stream = { id: 'camera~teacherA', getTracks: () => [] } as unknown as MediaStream;
    h.peers[1]!.ontrack?.({ track: { kind: 'video', addEventListener() {} }, streams: [stream] });
    h.peers[1]!.ontrack?.({ track: { kind: 'audio', addEventListener() {} }, streams: [{ id: 'not-ours' }] });
    expect(h.remote.at(-1)!.map((m) => [m.source, m.participantId])).toEqual([['camera', 'teacherA']]);
    await h.client.handle(main([]));
    expect(h.peers[1]!.closed).toBe(true);
    expect(h.peers[0]!.closed).toBe(false);
    expect(h.remote.at(-1)).toEqual([]);
    // Signals for an unknown connection are ignored.
    await h.client.handle({ kind: 'offer', connection: 'extra', sdp: 'audio' });
    expect(h.errors).toEqual([]);
  });

  it('asks the camera and screen encoders for VP8 temporal layers (L1T3) once negotiated, never the microphone, once per sender', async () => {
    const h = harness(['L1T1', 'L1T2', 'L1T3']);
    await h.client.setWants({ audio: true, camera: true, screen: false });
    await h.client.handle(main(['audio', 'camera', 'screen']));
    await h.client.handle({ kind: 'offer', connection: 'main', sdp: 'audio,video,video,video' });
    const [a, cam, screen, forwarded] = h.peers[0]!.transceivers;
    expect(cam!.sender.encodings).toEqual([{ active: true, scalabilityMode: 'L1T3' }]);
    // The screen slot too (screen-only thins it the same way), though nothing is shared yet: the mode stays across replaceTrack.
    expect(screen!.sender.encodings).toEqual([{ active: true, scalabilityMode: 'L1T3' }]);
    expect(a!.sender.encodings).toEqual([{ active: true }]);
    expect(forwarded!.sender.encodings).toEqual([{ active: true }]);
    // A renegotiation (the engine adds a forwarded track) does not ask again.
    cam!.sender.encodings = [{ active: true, scalabilityMode: 'L1T1' }];
    await h.client.handle({ kind: 'offer', connection: 'main', sdp: 'audio,video,video,video,video' });
    expect(cam!.sender.encodings[0]!.scalabilityMode).toBe('L1T1');
    expect(h.errors).toEqual([]);
  });

  it('falls back to L1T2 when L1T3 is refused or not offered, and to the stream as it is when neither works', async () => {
    try {
      refusedModes.add('L1T3');
      const refused = harness(['L1T2', 'L1T3']);
      await refused.client.handle(main(['audio', 'camera']));
      await refused.client.handle({ kind: 'offer', connection: 'main', sdp: 'audio,video,video' });
      expect(refused.peers[0]!.transceivers[1]!.sender.encodings).toEqual([{ active: true, scalabilityMode: 'L1T2' }]);
      // The refusal is logged (onError), never thrown at the connection: the answer went.
      expect(refused.errors.length).toBeGreaterThan(0);
      expect(refused.sent.filter((s) => s.kind === 'answer')).toHaveLength(1);

      const onlyT2 = harness(['L1T1', 'L1T2']);
      await onlyT2.client.handle(main(['audio', 'camera']));
      await onlyT2.client.handle({ kind: 'offer', connection: 'main', sdp: 'audio,video,video' });
      expect(onlyT2.peers[0]!.transceivers[1]!.sender.encodings).toEqual([{ active: true, scalabilityMode: 'L1T2' }]);

      refusedModes.add('L1T2');
      const neither = harness(['L1T2', 'L1T3']);
      await neither.client.handle(main(['audio', 'camera']));
      await neither.client.handle({ kind: 'offer', connection: 'main', sdp: 'audio,video,video' });
      expect(neither.peers[0]!.transceivers[1]!.sender.encodings).toEqual([{ active: true }]);
      expect(neither.sent.filter((s) => s.kind === 'answer')).toHaveLength(1);
    } finally {
      refusedModes.clear();
    }
    // A browser without scalability modes: nothing asked.
    const none = harness([]);
    await none.client.handle(main(['audio', 'camera']));
    await none.client.handle({ kind: 'offer', connection: 'main', sdp: 'audio,video,video' });
    expect(none.peers[0]!.transceivers[1]!.sender.encodings).toEqual([{ active: true }]);
    expect(none.errors).toEqual([]);
  });

  it('client offers: the camera slot gets its layers once the answer is taken', async () => {
    const h = harness(['L1T3']);
    await h.client.setWants({ audio: true, camera: true, screen: false });
    await h.client.handle({ kind: 'connections', connections: [{ label: 'publish', clientOffers: true, send: ['audio', 'camera'], receive: false }] });
    const cam = h.peers[0]!.transceivers[1]!;
    expect(cam.sender.encodings).toEqual([]);
    await h.client.handle({ kind: 'answer', connection: 'publish', sdp: 'a' });
    expect(cam.sender.encodings).toEqual([{ active: true, scalabilityMode: 'L1T3' }]);
  });

  it('pure pieces: stream ids and which slots carry a track', () => {
    expect(parseStreamId('screen~p-1~x')).toEqual({ source: 'screen', participantId: 'p-1~x' });
    expect(parseStreamId('video~p')).toBeUndefined();
    expect(parseStreamId('~p')).toBeUndefined();
    expect(slotTracks(['audio', 'screen'], { audio: true, camera: true, screen: false })).toEqual({ audio: true, camera: false, screen: false });
    expect(temporalModesToTry(['L1T1', 'L1T3', 'L1T2', 'L3T3'])).toEqual(['L1T3', 'L1T2']);
    expect(temporalModesToTry([])).toEqual([]);
    const params = { transactionId: 'x', encodings: [{ active: true, maxBitrate: 500_000 }], codecs: [], headerExtensions: [], rtcp: {} } as unknown as RTCRtpSendParameters;
    expect(withTemporalLayers(params, 'L1T3')!.encodings).toEqual([{ active: true, maxBitrate: 500_000, scalabilityMode: 'L1T3' }]);
    expect(withTemporalLayers({ ...params, encodings: [] }, 'L1T3')).toBeUndefined();
  });
});
