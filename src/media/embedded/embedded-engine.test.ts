import { describe, expect, it } from 'vitest';
import type { ParticipantMedia } from '../media-engine.js';
import { mediaEngineContract } from '../media-engine.contract.js';
import { SyntheticClient, VIDEO_360P } from '../testing/synthetic-client.js';
import { EmbeddedMediaEngine } from './embedded-engine.js';

/** Tests take ICE ports from the helper range of this suite (PREAU_MEDIA_ICE_PORTS moves it, for runs side by side), bound to loopback only. */
const ports = /^(\d+)-(\d+)$/.exec(process.env.PREAU_MEDIA_ICE_PORTS ?? '');
const icePortRange: [number, number] = ports ? [Number(ports[1]), Number(ports[2])] : [42_000, 42_499];
const testEngine = (workers = 1) => new EmbeddedMediaEngine({ workers, icePortRange, iceAdditionalHostAddresses: ['127.0.0.1'], iceBindAddress: '127.0.0.1' });

mediaEngineContract('embedded (werift, worker threads)', async () => {
  const engine = testEngine();
  await engine.ready();
  return engine;
});

describe('embedded engine — worker pool', () => {
  it('takes a dead worker’s rooms down (participants get transport failed) and replaces the worker', async () => {
    const engine = testEngine(1);
    try {
      await engine.ready();
      await engine.openRoom({ roomId: 'r1', maxParticipants: 30, lowBandwidth: false });
      await engine.join('r1', 'p1', { role: 'pupil', send: { audio: false, camera: false, screen: false }, camerasOf: [], level: 'full' });
      const failed: string[] = [];
      engine.onEvent((e) => {
        if (e.kind === 'transport' && e.state === 'failed') failed.push(`${e.roomId}/${e.participantId}`);
      });
      await engine.workerOf('r1')!.terminate();
      expect(failed).toEqual(['r1/p1']);
      await expect(engine.stats('r1')).rejects.toMatchObject({ code: 'room_unknown' });
      await engine.ready();
      await engine.openRoom({ roomId: 'r2', maxParticipants: 30, lowBandwidth: false });
      expect((await engine.stats('r2')).participants).toBe(0);
      expect(engine.load().workers).toHaveLength(1);
    } finally {
      await engine.close();
    }
  });
});

describe('embedded engine — the ladder on real packets', () => {
  it('forwards only the base temporal layer of the teacher’s camera at teacher-low, and everything at full', async () => {
    const engine = testEngine(1);
    const clients = new Map<string, SyntheticClient>();
    try {
      await engine.ready();
      engine.onSignal((_room, id, message) => void clients.get(id)?.handle(message));
      await engine.openRoom({ roomId: 'ladder', maxParticipants: 5, lowBandwidth: false });
      const join = async (id: string, media: ParticipantMedia, send: ConstructorParameters<typeof SyntheticClient>[0]['send']) => {
        const c = new SyntheticClient({ id, send, iceBindAddress: '127.0.0.1' });
        c.sendSignal = (m) => engine.signal('ladder', id, m);
        clients.set(id, c);
        await engine.join('ladder', id, media);
        return c;
      };
      const pupil = (level: ParticipantMedia['level']): ParticipantMedia => ({ role: 'pupil', send: { audio: false, camera: false, screen: false }, camerasOf: [], level });
      const teacher = await join('prof', { role: 'teacher', send: { audio: false, camera: true, screen: false }, camerasOf: [], level: 'full' }, { camera: VIDEO_360P });
      const full = await join('plein', pupil('full'), {});
      const low = await join('bas', pupil('teacher-low'), {});
      const deadline = Date.now() + 20_000;
      while (teacher.pc.connectionState !== 'connected' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      teacher.startMedia();
      while ((full.packetsFrom('prof', 'camera') < 300 || low.packetsFrom('prof', 'camera') === 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const [f, l] = [full.packetsFrom('prof', 'camera'), low.packetsFrom('prof', 'camera')];
      expect(f).toBeGreaterThanOrEqual(300);
      // Frames alternate layers 0 and 1: the base layer is about half the packets (keyframes are all base).
      expect(l).toBeGreaterThan(0);
      expect(l).toBeLessThan(f * 0.75);
      // What was dropped by choice is not a gap to the subscriber: no loss at teacher-low.
      expect(low.loss().lost).toBe(0);
    } finally {
      await Promise.all([...clients.values()].map((c) => c.close()));
      await engine.close();
    }
  });
});
