/**
 * The one contract every `MediaEngine` keeps, run against each engine by its own test file
 * (`src/media/embedded/embedded-engine.test.ts`; the Janus adapter runs it too). Real werift
 * clients (src/media/testing/synthetic-client.ts) exchange real SDP and real SRTP packets with the
 * engine on loopback; the assertions count packets — nothing of werift is mocked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaEngineError, type MediaEngine, type MediaEvent, type ParticipantMedia, type SendRights } from './media-engine.js';
import { SyntheticClient, VIDEO_360P, type SyntheticClientOptions } from './testing/synthetic-client.js';

export interface ContractOptions {
  /** Address the synthetic clients bind for ICE (loopback). */
  clientBindAddress?: string;
  /** Bound on each wait for media to show up (not a duration assertion: a ceiling before giving up). */
  waitMs?: number;
}

const rights = (r: Partial<SendRights>): SendRights => ({ audio: false, camera: false, screen: false, ...r });
const teacherMedia = (): ParticipantMedia => ({ role: 'teacher', send: rights({ audio: true, camera: true }), camerasOf: [], level: 'full' });
const pupilMedia = (send: Partial<SendRights> = {}, camerasOf: string[] = []): ParticipantMedia => ({ role: 'pupil', send: rights(send), camerasOf, level: 'full' });

export function mediaEngineContract(name: string, factory: () => Promise<MediaEngine>, options: ContractOptions = {}): void {
  const waitMs = options.waitMs ?? 20_000;
  const bind = options.clientBindAddress ?? '127.0.0.1';

  describe(`MediaEngine contract — ${name}`, () => {
    let engine: MediaEngine;
    const clients = new Map<string, SyntheticClient>();
    const events: MediaEvent[] = [];
    let roomSeq = 0;

    const until = async (what: string, cond: () => boolean | Promise<boolean>): Promise<void> => {
      const deadline = Date.now() + waitMs;
      while (!(await cond())) {
        if (Date.now() > deadline) {
          const seen = [...clients.entries()].map(([k, c]) => `${k}: ${[...c.received.values()].map((r) => `${r.streamId}=${r.packets}`).join(',')} pli=${JSON.stringify(c.pliReceived)} sig=${c.pc.signalingState} conn=${c.pc.connectionState}`);
          throw new Error(`attendu sans succès : ${what}\n${seen.join('\n')}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    };

    const newRoom = async (): Promise<string> => {
      roomSeq += 1;
      const roomId = `contract-${process.pid}-${roomSeq}`;
      await engine.openRoom({ roomId, maxParticipants: 31, lowBandwidth: false });
      return roomId;
    };

    const join = async (roomId: string, id: string, media: ParticipantMedia, send: SyntheticClientOptions['send'] = {}, speaking = false): Promise<SyntheticClient> => {
      const client = new SyntheticClient({ id, send, speaking, iceBindAddress: bind, iceAdditionalHostAddresses: [bind] });
      client.sendSignal = (message) => engine.signal(roomId, id, message);
      clients.set(`${roomId}/${id}`, client);
      await engine.join(roomId, id, media);
      return client;
    };

    beforeAll(async () => {
      engine = await factory();
      engine.onSignal((roomId, participantId, message) => {
        void clients.get(`${roomId}/${participantId}`)?.handle(message);
      });
      engine.onEvent((event) => events.push(event));
    });

    afterAll(async () => {
      await Promise.all([...clients.values()].map((c) => c.close()));
      await engine?.close();
    });

    it('forwards a publisher’s audio and video to a subscriber, and reports transport, tracks and speaking', async () => {
      const roomId = await newRoom();
      const teacher = await join(roomId, 'prof', teacherMedia(), { audio: true, camera: VIDEO_360P }, true);
      const pupil = await join(roomId, 'eleve', pupilMedia());
      await until('le professeur est connecté', () => events.some((e) => e.kind === 'transport' && e.roomId === roomId && e.participantId === 'prof' && e.state === 'connected'));
      teacher.startMedia();
      await until('l’audio et la vidéo du professeur arrivent à l’élève', () => pupil.packetsFrom('prof', 'audio') > 20 && pupil.packetsFrom('prof', 'camera') > 20);
      const stats = await engine.stats(roomId);
      expect(stats.participants).toBe(2);
      expect(stats.forwardedPackets).toBeGreaterThan(40);
      expect(pupil.received.get('camera~prof')?.keyframes ?? 0).toBeGreaterThan(0);
      await until('les pistes du professeur sont annoncées', () => events.some((e) => e.kind === 'tracks' && e.roomId === roomId && e.participantId === 'prof' && e.audio && e.camera));
      await until('le professeur est détecté comme parlant', () => events.some((e) => e.kind === 'speaking' && e.roomId === roomId && e.participantId === 'prof' && e.speaking));
      // The pupil sends nothing: it has no track to offer anyone.
      expect(teacher.received.size).toBe(0);
      await engine.closeRoom(roomId);
    });

    it('never forwards a track its sender may not send, and applies a change of rights', async () => {
      const roomId = await newRoom();
      const teacher = await join(roomId, 'prof', teacherMedia(), { audio: true, camera: VIDEO_360P });
      // The pupil's client sends audio although it has not been given the floor.
      const talker = await join(roomId, 'bavard', pupilMedia(), { audio: true });
      const listener = await join(roomId, 'ecoute', pupilMedia());
      await until('tout le monde est connecté', () => ['prof', 'bavard', 'ecoute'].every((id) => events.some((e) => e.kind === 'transport' && e.roomId === roomId && e.participantId === id && e.state === 'connected')));
      teacher.startMedia();
      talker.startMedia();
      await until('l’audio du professeur arrive (témoin)', () => listener.packetsFrom('prof', 'audio') > 50);
      expect(listener.packetsFrom('bavard', 'audio')).toBe(0);
      expect(teacher.packetsFrom('bavard', 'audio')).toBe(0);

      await engine.update(roomId, 'bavard', pupilMedia({ audio: true }));
      await until('la parole donnée, l’audio de l’élève arrive aux autres', () => listener.packetsFrom('bavard', 'audio') > 20 && teacher.packetsFrom('bavard', 'audio') > 20);

      await engine.update(roomId, 'bavard', pupilMedia());
      const teacherAudioAt = listener.packetsFrom('prof', 'audio');
      await until('l’audio du professeur continue (témoin)', () => listener.packetsFrom('prof', 'audio') > teacherAudioAt + 25);
      const afterTaken = listener.packetsFrom('bavard', 'audio');
      const teacherAudioThen = listener.packetsFrom('prof', 'audio');
      await until('le professeur continue d’arriver (témoin)', () => listener.packetsFrom('prof', 'audio') > teacherAudioThen + 25);
      expect(listener.packetsFrom('bavard', 'audio')).toBe(afterTaken);
      await engine.closeRoom(roomId);
    });

    it('lets a subscriber receive a pupil camera only when its camerasOf names it, and nothing but audio at audio-only', async () => {
      const roomId = await newRoom();
      const teacher = await join(roomId, 'prof', teacherMedia(), { audio: true, camera: VIDEO_360P });
      const cam = await join(roomId, 'camera', pupilMedia({ camera: true }), { camera: VIDEO_360P });
      const viewer = await join(roomId, 'voit', pupilMedia({}, ['camera']));
      const blind = await join(roomId, 'voitpas', pupilMedia());
      const audioOnly = await join(roomId, 'audio', { ...pupilMedia({}, ['camera']), level: 'audio-only' });
      await until('tout le monde est connecté', () => ['prof', 'camera', 'voit', 'voitpas', 'audio'].every((id) => events.some((e) => e.kind === 'transport' && e.roomId === roomId && e.participantId === id && e.state === 'connected')));
      teacher.startMedia();
      cam.startMedia();
      await until('la caméra de l’élève arrive à qui la demande', () => viewer.packetsFrom('camera', 'camera') > 20 && viewer.packetsFrom('prof', 'camera') > 20);
      await until('le professeur est entendu en audio seulement', () => audioOnly.packetsFrom('prof', 'audio') > 50 && blind.packetsFrom('prof', 'camera') > 20);
      expect(blind.packetsFrom('camera', 'camera')).toBe(0);
      expect(audioOnly.packetsFrom('prof', 'camera')).toBe(0);
      expect(audioOnly.packetsFrom('camera', 'camera')).toBe(0);
      await engine.closeRoom(roomId);
    });

    it('cleans up on leave and on close', async () => {
      const roomId = await newRoom();
      const teacher = await join(roomId, 'prof', teacherMedia(), { audio: true });
      const pupil = await join(roomId, 'eleve', pupilMedia());
      await until('le professeur est connecté', () => events.some((e) => e.kind === 'transport' && e.roomId === roomId && e.participantId === 'prof' && e.state === 'connected'));
      teacher.startMedia();
      await until('l’audio arrive', () => pupil.packetsFrom('prof', 'audio') > 20);
      await engine.leave(roomId, 'prof');
      expect((await engine.stats(roomId)).participants).toBe(1);
      await engine.leave(roomId, 'prof'); // idempotent
      await expect(engine.update(roomId, 'prof', teacherMedia())).rejects.toMatchObject({ code: 'participant_unknown' });
      const stopped = pupil.packetsFrom('prof', 'audio');
      await new Promise((r) => setTimeout(r, 300));
      expect(pupil.packetsFrom('prof', 'audio')).toBeLessThanOrEqual(stopped + 2);
      await engine.closeRoom(roomId);
      await engine.closeRoom(roomId); // idempotent
      await expect(engine.stats(roomId)).rejects.toBeInstanceOf(MediaEngineError);
      await expect(engine.join(roomId, 'eleve', pupilMedia())).rejects.toMatchObject({ code: 'room_unknown' });
    });

    it('refuses a bad SDP with bad_signal and keeps the room working', async () => {
      const roomId = await newRoom();
      const teacher = await join(roomId, 'prof', teacherMedia(), { audio: true });
      const pupil = await join(roomId, 'eleve', pupilMedia());
      await until('l’élève est connecté', () => events.some((e) => e.kind === 'transport' && e.roomId === roomId && e.participantId === 'eleve' && e.state === 'connected'));
      teacher.startMedia();
      await until('l’audio arrive', () => pupil.packetsFrom('prof', 'audio') > 20);
      const bad = [
        { kind: 'answer', connection: 'main', sdp: 'pas un SDP' },
        { kind: 'answer', connection: 'main', sdp: 'v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=garbage\r\n' },
        { kind: 'offer', connection: 'main', sdp: 'v=0\r\n' },
        { kind: 'answer', connection: 'inconnue', sdp: 'v=0\r\n' },
        { kind: 'candidate', connection: 'main', candidate: 'candidate:x y z', sdpMid: '0', sdpMLineIndex: 0 },
      ] as const;
      for (const message of bad) await expect(engine.signal(roomId, 'eleve', message)).rejects.toMatchObject({ code: 'bad_signal' });
      const before = pupil.packetsFrom('prof', 'audio');
      await until('l’audio continue après les signaux refusés', () => pupil.packetsFrom('prof', 'audio') > before + 25);
      await engine.closeRoom(roomId);
    });

    it('coalesces a keyframe-request storm to at most one per second reaching the publisher', async () => {
      const roomId = await newRoom();
      const teacher = await join(roomId, 'prof', teacherMedia(), { camera: VIDEO_360P });
      const subscribers = await Promise.all(['a', 'b', 'c'].map((id) => join(roomId, id, pupilMedia())));
      teacher.startMedia();
      await until('la vidéo arrive aux trois élèves', () => subscribers.every((s) => s.packetsFrom('prof', 'camera') > 20));
      // Let the join-time requests' window pass, then storm.
      await new Promise((r) => setTimeout(r, 1_100));
      const statsBefore = await engine.stats(roomId);
      const pliBefore = teacher.pliReceived.camera;
      const started = Date.now();
      await Promise.all(subscribers.map((s) => s.requestKeyframes(20)));
      const stormMs = Date.now() - started;
      await until('les demandes de la tempête sont reçues', async () => (await engine.stats(roomId)).keyframeRequestsReceived >= statsBefore.keyframeRequestsReceived + 60);
      // One right away, one trailing at the end of each window the storm spanned.
      await new Promise((r) => setTimeout(r, 1_200));
      const allowed = Math.ceil(stormMs / 1_000) + 2;
      const reached = teacher.pliReceived.camera - pliBefore;
      expect(reached).toBeGreaterThanOrEqual(1);
      expect(reached).toBeLessThanOrEqual(allowed);
      const stats = await engine.stats(roomId);
      expect(stats.keyframeRequestsSent - statsBefore.keyframeRequestsSent).toBeLessThanOrEqual(allowed);
      await engine.closeRoom(roomId);
    });

    it('answers a restart with a new offer carrying new ICE credentials', async () => {
      const roomId = await newRoom();
      const teacher = await join(roomId, 'prof', teacherMedia(), { audio: true });
      const pupil = await join(roomId, 'eleve', pupilMedia());
      await until('l’élève est connecté', () => events.some((e) => e.kind === 'transport' && e.roomId === roomId && e.participantId === 'eleve' && e.state === 'connected'));
      const ufrag = (sdp: string | undefined) => /a=ice-ufrag:(\S+)/.exec(sdp ?? '')?.[1];
      const before = ufrag(pupil.pc.remoteDescription?.sdp);
      expect(before).toBeDefined();
      await engine.signal(roomId, 'eleve', { kind: 'restart', connection: 'main' });
      await until('une nouvelle offre arrive avec de nouveaux identifiants ICE', () => {
        const now = ufrag(pupil.pc.remoteDescription?.sdp);
        return now !== undefined && now !== before;
      });
      expect(teacher.pc.signalingState).toBe('stable');
      await engine.closeRoom(roomId);
    });

    it('resumes media after an ICE restart, of a subscriber and of a publisher', async () => {
      const roomId = await newRoom();
      const teacher = await join(roomId, 'prof', teacherMedia(), { audio: true });
      const pupil = await join(roomId, 'eleve', pupilMedia());
      await until('tout le monde est connecté', () => ['prof', 'eleve'].every((id) => events.some((e) => e.kind === 'transport' && e.roomId === roomId && e.participantId === id && e.state === 'connected')));
      teacher.startMedia();
      await until('l’audio arrive', () => pupil.packetsFrom('prof', 'audio') > 20);
      const ufrag = (c: SyntheticClient) => /a=ice-ufrag:(\S+)/.exec(c.pc.remoteDescription?.sdp ?? '')?.[1];
      for (const [who, client] of [['eleve', pupil], ['prof', teacher]] as const) {
        const before = ufrag(client);
        await engine.signal(roomId, who, { kind: 'restart', connection: 'main' });
        await until(`la relance ICE de ${who} est négociée`, () => ufrag(client) !== before && client.pc.signalingState === 'stable');
        // Counted from the end of the negotiation: what arrives now went over the new ICE pair.
        const at = pupil.packetsFrom('prof', 'audio');
        await until(`l’audio reprend après la relance ICE de ${who}`, () => pupil.packetsFrom('prof', 'audio') > at + 50);
      }
      await engine.closeRoom(roomId);
    });
  });
}
