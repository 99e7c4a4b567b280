import { describe, expect, it } from 'vitest';
import { startTestPreau } from '../../test/support/app.js';
import { LazyMediaEngine } from './lazy-media-engine.js';
import { MediaEngineError, type MediaEvent } from './media-engine.js';
import { FakeMediaEngine } from './testing/fake-media-engine.js';

describe('LazyMediaEngine', () => {
  it('makes its engine on the first room only, and hands it the listeners registered before', async () => {
    let made = 0;
    const inner = new FakeMediaEngine();
    const lazy = new LazyMediaEngine('fake', () => {
      made++;
      return inner;
    });
    const events: MediaEvent[] = [];
    const signals: string[] = [];
    lazy.onEvent((e) => events.push(e));
    lazy.onSignal((roomId, participantId) => signals.push(`${roomId}/${participantId}`));
    // Nothing made for what an engine without rooms answers.
    expect(lazy.load()).toEqual({ workers: [] });
    await lazy.closeRoom('r');
    await lazy.leave('r', 'p');
    await expect(lazy.join('r', 'p', { role: 'pupil', send: { audio: false, camera: false, screen: false }, camerasOf: [], level: 'full' })).rejects.toMatchObject({ code: 'room_unknown' });
    await expect(lazy.stats('r')).rejects.toBeInstanceOf(MediaEngineError);
    expect(made).toBe(0);
    expect(lazy.started()).toBe(false);

    await lazy.openRoom({ roomId: 'r', maxParticipants: 30, lowBandwidth: false });
    await lazy.openRoom({ roomId: 'r2', maxParticipants: 30, lowBandwidth: false });
    expect(made).toBe(1);
    expect(inner.calls.map((c) => c.op)).toEqual(['openRoom', 'openRoom']);
    inner.emitEvent({ kind: 'speaking', roomId: 'r', participantId: 'p', speaking: true });
    inner.emitSignal('r', 'p', { kind: 'restart', connection: 'main' });
    expect(events).toHaveLength(1);
    expect(signals).toEqual(['r/p']);

    await lazy.close();
    await expect(lazy.openRoom({ roomId: 'r3', maxParticipants: 30, lowBandwidth: false })).rejects.toMatchObject({ code: 'unavailable' });
  });

  it('in a composed Préau: no engine until a class is opened, then the embedded engine, closed with the node', async () => {
    const t = await startTestPreau('sqlite', { mediaEngine: 'embedded', mediaWorkers: 1, mediaIcePorts: [45_600, 45_699] });
    try {
      const engine = t.preau.classroomRuntime['engine'] as LazyMediaEngine;
      expect(engine).toBeInstanceOf(LazyMediaEngine);
      expect(engine.started()).toBe(false);
      const teacher = await t.as('teacherA');
      const id = (await teacher.request({ method: 'POST', url: '/api/v1/classrooms', payload: { audience: { kind: 'class', id: 'class6A' } } })).json().classroom.id as string;
      const opened = await teacher.request({ method: 'POST', url: `/api/v1/classrooms/${id}/open` });
      expect(opened.statusCode, opened.body).toBe(200);
      expect(engine.started()).toBe(true);
      expect(engine.load().workers).toHaveLength(1);
    } finally {
      await t.close();
    }
  });
});
