import { Observable } from '../../app/store.js';
import { onRealtimeMessage, onRealtimeOpen, realtimeOpen, realtimeSend, reconnectRealtimeNow } from '../notifications/live.js';
import { MediaClient, TEMPORAL_MODES, type MediaSignal, type PeerLike, type RemoteMedia, type Source } from './media-client.js';
import { applyEvent, emptyRoom, isTeacherRole, maySpeak, type RoomEventMessage, type RoomView } from './room.model.js';

/**
 * One room as this tab lives it: the shared realtime socket (notifications/live.ts: one socket per
 * tab), the room's view (room.model.ts), and the media (media-client.ts). On every (re)connection of
 * the socket it sends `join` again: within the server's grace the snapshot restores role, hand,
 * floor, board and chat. The browser coming back online reconnects at once and restarts ICE.
 */
export interface SessionError {
  id: string;
  message: string;
}

let refs = 0;

export class RoomSession {
  readonly view = new Observable<RoomView>(emptyRoom());
  readonly remote = new Observable<readonly RemoteMedia[]>([]);
  readonly mediaState = new Observable<RTCIceConnectionState | undefined>(undefined);
  readonly lastError = new Observable<SessionError | undefined>(undefined);
  readonly screenSharing = new Observable<boolean>(false);
  private readonly media: MediaClient;
  private readonly stops: (() => void)[] = [];
  private readonly myRefs = new Set<string>();
  private iceServers: RTCIceServer[] = [];

  constructor(readonly roomId: string, private readonly guestToken?: string) {
    this.media = new MediaClient({
      // TURN (with this participant's own credentials) from the snapshot; none configured: host and server-reflexive candidates only.
      createPeer: () => new RTCPeerConnection({ iceServers: this.iceServers }) as unknown as PeerLike,
      getTrack: (source) => localTrack(source, () => this.screenEnded()),
      send: (signal) => this.send('signal', { signal }),
      onRemote: (list) => this.remote.set(list),
      onState: (_label, state) => this.mediaState.set(state),
      onError: (err) => console.warn('classe virtuelle (média)', err),
      vp8ScalabilityModes,
    });
  }

  start(): void {
    this.stops.push(onRealtimeMessage((msg) => this.onMessage(msg as Record<string, unknown>)));
    this.stops.push(onRealtimeOpen(() => this.join()));
    const online = () => {
      reconnectRealtimeNow();
      this.media.restartAll();
    };
    addEventListener('online', online);
    this.stops.push(() => removeEventListener('online', online));
    if (realtimeOpen.get()) this.join();
    else reconnectRealtimeNow();
  }

  stop(): void {
    this.send('leave', {});
    for (const s of this.stops.splice(0)) s();
    this.media.close();
  }

  /** Sends an op of the protocol; false when the socket is down (the person sees the connection state). */
  send(op: string, fields: Record<string, unknown>): boolean {
    const ref = `cr${(++refs).toString(36)}`;
    this.myRefs.add(ref);
    if (this.myRefs.size > 200) this.myRefs.delete(this.myRefs.values().next().value!);
    return realtimeSend({ type: 'classroom', roomId: this.roomId, op, ref, ...fields });
  }

  private join(): void {
    this.send('join', this.guestToken ? { guestToken: this.guestToken } : {});
  }

  async setWants(wants: { camera: boolean; screen: boolean }): Promise<void> {
    this.screenSharing.set(wants.screen);
    await this.media.setWants({ audio: maySpeak(this.view.get()), ...wants });
  }

  /** The server's poll events carry counts, not who answered what: my answer is kept here (a refusal comes back as an error). */
  answerPoll(pollId: string, choices: number[]): void {
    if (this.send('poll-answer', { pollId, choices })) this.view.update((v) => ({ ...v, polls: v.polls.map((p) => (p.id === pollId ? { ...p, mine: choices } : p)) }));
  }

  private wants = { camera: false, screen: false };
  toggleCamera(on: boolean): void {
    this.wants = { ...this.wants, camera: on };
    this.send('camera', { enabled: on });
    void this.setWants(this.wants);
  }
  toggleScreen(on: boolean): void {
    this.wants = { ...this.wants, screen: on };
    void this.setWants(this.wants);
  }
  private screenEnded(): void {
    this.toggleScreen(false);
  }

  private onMessage(msg: Record<string, unknown>): void {
    if (msg.type === 'error' && typeof msg.ref === 'string' && this.myRefs.has(msg.ref)) {
      this.lastError.set({ id: String(msg.id), message: String(msg.message ?? '') });
      return;
    }
    if (msg.type !== 'classroom' || msg.roomId !== this.roomId || typeof msg.event !== 'string') return;
    if (msg.event === 'signal') {
      void this.media.handle(msg.signal as MediaSignal);
      return;
    }
    if (msg.event === 'snapshot' && Array.isArray(msg.iceServers)) this.iceServers = msg.iceServers as RTCIceServer[];
    const before = this.view.get();
    const after = applyEvent(before, msg as RoomEventMessage);
    this.view.set(after);
    // The room is back (reopened, or re-hosted on another node after its host stopped): media again, without a reload.
    if (msg.event === 'snapshot' && after.phase === 'in') this.media.reopen();
    if (msg.event === 'snapshot' && before.phase !== 'in' && after.you && isTeacherRole(after.you.role) && !after.you.camera && !this.wants.camera) {
      // A teacher's camera is on by default (pupils turn theirs on themselves).
      this.toggleCamera(true);
    } else if (msg.event === 'snapshot' && after.you) this.wants = { ...this.wants, camera: after.you.camera };
    if (maySpeak(before) !== maySpeak(after) || msg.event === 'snapshot') void this.setWants(this.wants);
    if (after.phase === 'closed' || after.phase === 'refused') this.media.close();
  }
}

/** The browser's devices: microphone (echo cancellation, noise suppression), a 360p camera, the screen (teachers). */
async function localTrack(source: Source, onScreenEnded: () => void): Promise<MediaStreamTrack | undefined> {
  if (source === 'audio') return (await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true } })).getAudioTracks()[0];
  if (source === 'camera') return (await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 24 } } })).getVideoTracks()[0];
  const track = (await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 5 } }, audio: false })).getVideoTracks()[0];
  track?.addEventListener('ended', onScreenEnded);
  return track;
}

/**
 * What this browser's VP8 encoder offers as scalability modes. Chromium (156) lists none in
 * `getCapabilities` yet takes L1T3 in `setParameters` (and refuses an unknown mode with
 * InvalidModificationError): when the list is absent, every temporal mode is tried, best first.
 */
function vp8ScalabilityModes(): readonly string[] {
  const codecs = (typeof RTCRtpSender.getCapabilities === 'function' ? RTCRtpSender.getCapabilities('video')?.codecs : undefined) ?? [];
  const vp8 = codecs.filter((c) => c.mimeType.toLowerCase() === 'video/vp8') as (RTCRtpCodec & { scalabilityModes?: readonly string[] })[];
  if (vp8.length === 0) return [];
  return vp8.some((c) => c.scalabilityModes) ? vp8.flatMap((c) => c.scalabilityModes ?? []) : TEMPORAL_MODES;
}
