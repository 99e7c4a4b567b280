import { describe, expect, it } from 'vitest';
import { mediaEngineContract } from '../media-engine.contract.js';
import { EmbeddedMediaEngine } from './embedded-engine.js';

/** Tests take ICE ports from the helper range of this suite, bound to loopback only. */
const testEngine = (workers = 1) =>
  new EmbeddedMediaEngine({ workers, icePortRange: [42_000, 42_499], iceAdditionalHostAddresses: ['127.0.0.1'], iceBindAddress: '127.0.0.1' });

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
