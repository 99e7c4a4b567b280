import { describe, expect, it } from 'vitest';
import { FakeMediaEngine } from '../../media/testing/fake-media-engine.js';
import { ManualClock } from '../../platform/clock.js';
import { AppError } from '../../platform/errors.js';
import { createLogger } from '../../platform/logger.js';
import { DEFAULT_DEGRADATION_SETTINGS } from './degradation.policy.js';
import { ClassroomRuntime, type RoomMeta, type RuntimeCaps } from './room.runtime.js';
import { DEFAULT_ROOM_LIMITS } from './room.state.js';

const CAPS: RuntimeCaps = { maxRoomsPerNode: 2, maxParticipantsPerNode: 3, maxParticipantsPerSchool: 2 };
const meta = (roomId: string, schoolId = 'schoolA'): RoomMeta => ({ roomId, schoolId, classId: 'c', groupId: null, expectedParticipants: 25 });

function runtime(engine: FakeMediaEngine | undefined, caps = CAPS) {
  const clock = new ManualClock(1_000_000);
  const sent: { conn: string; message: Record<string, unknown> }[] = [];
  const attendance: string[] = [];
  const closed: string[] = [];
  const r = new ClassroomRuntime(
    engine, (conn, message) => (sent.push({ conn, message: JSON.parse(message) as Record<string, unknown> }), true), DEFAULT_ROOM_LIMITS, DEFAULT_DEGRADATION_SETTINGS, caps, clock, createLogger('silent'),
    { onAttendance: (m, id, a) => attendance.push(`${m.roomId}/${id}/${a.seconds}`), onClosed: (m, byShutdown) => closed.push(`${m.roomId}/${byShutdown}`) },
  );
  return { r, clock, sent, attendance, closed };
}

const errorId = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (err) {
    return err instanceof AppError ? err.id : String(err);
  }
  return undefined;
};

describe('classroom runtime (one node, fake engine)', () => {
  it('without an engine no room goes live: media_unavailable', async () => {
    const { r } = runtime(undefined);
    await expect(r.ensure(meta('r1'))).rejects.toMatchObject({ id: 'classroom.media_unavailable' });
    expect(r.liveRooms()).toBe(0);
  });

  it('caps rooms and participants per node and participants per school, teachers always in; the engine’s "full" is the node’s', async () => {
    const engine = new FakeMediaEngine();
    const { r } = runtime(engine);
    await r.ensure(meta('r1'));
    await r.ensure(meta('r1'));
    await r.ensure(meta('r2', 'schoolB'));
    await expect(r.ensure(meta('r3'))).rejects.toMatchObject({ id: 'classroom.node_full', options: { params: { max: 2 } } });
    r.join('r1', 't', 'ct', 'teacher', 'Prof');
    r.system('r1', { op: 'open' });
    r.join('r1', 'p1', 'c1', 'pupil', 'Un');
    r.join('r1', 'p2', 'c2', 'pupil', 'Deux');
    expect(errorId(() => r.join('r1', 'p3', 'c3', 'pupil', 'Trois'))).toBe('classroom.school_full');
    r.join('r2', 'q1', 'd1', 'pupil', 'Autre école');
    expect(errorId(() => r.join('r2', 'q2', 'd2', 'pupil', 'Encore'))).toBe('classroom.node_full');
    // A teacher is never held out by a cap; a participant already in may come back.
    r.join('r2', 't2', 'dt', 'teacher', 'Prof B');
    r.join('r1', 'p1', 'c1bis', 'pupil', 'Un');
    // A refused join left nothing behind.
    expect(r.state('r1')!.participants.p3).toBeUndefined();
    const { r: other } = runtime(engine, { ...CAPS, maxRoomsPerNode: 10 });
    engine.failNext = 'full';
    await expect(other.ensure(meta('r9'))).rejects.toMatchObject({ id: 'classroom.node_full' });
  });

  it('a node already short when a room opens starts it in low-bandwidth mode (new rooms degrade too), and steps up only after the hold', async () => {
    const engine = new FakeMediaEngine();
    engine.currentLoad = { workers: [{ id: 0, rooms: 3, participants: 90, eventLoopLagP99Ms: 400, cpu: 0.99 }] };
    const { r, clock } = runtime(engine);
    await r.ensure(meta('r1'));
    expect(engine.calls[0]).toMatchObject({ op: 'openRoom', spec: { lowBandwidth: true } });
    r.join('r1', 't', 'ct', 'teacher', 'Prof');
    await r.settled('r1');
    expect(engine.lastMedia('r1', 't')!.level).toBe('teacher-low');
    engine.currentLoad = { workers: [{ id: 0, rooms: 3, participants: 90, eventLoopLagP99Ms: 2, cpu: 0.1 }] };
    engine.emitEvent({ kind: 'link', roomId: 'r1', participantId: 't', downlinkBps: 20_000_000, loss: 0 });
    r.tick();
    expect(r.state('r1')!.participants.t!.level).toBe('teacher-low');
    clock.advance(DEFAULT_DEGRADATION_SETTINGS.upHoldMs);
    r.tick();
    await r.settled('r1');
    expect(engine.lastMedia('r1', 't')!.level).toBe('no-pupil-video');
  });

  it('a socket acts only for the person who joined from it, in that one room', async () => {
    const engine = new FakeMediaEngine();
    const { r } = runtime(engine);
    await r.ensure(meta('r1'));
    await r.ensure(meta('r2'));
    r.join('r1', 't', 'ct', 'teacher', 'Prof');
    expect(errorId(() => r.command('r1', 't', 'other-socket', { op: 'mute-all' }))).toBe('classroom.not_joined');
    expect(errorId(() => r.command('r1', 'p1', 'ct', { op: 'mute-all' }))).toBe('classroom.not_joined');
    expect(errorId(() => r.join('r2', 't', 'ct', 'teacher', 'Prof'))).toBe('classroom.invalid_command');
    expect(errorId(() => r.signal('r2', 't', 'ct', { kind: 'restart', connection: 'main' }))).toBe('classroom.not_joined');
  });

  it('a dropped participant is away, then gone when the grace ends (attendance out); the engine is told in order', async () => {
    const engine = new FakeMediaEngine();
    const { r, clock, attendance, closed, sent } = runtime(engine);
    await r.ensure(meta('r1'));
    r.join('r1', 't', 'ct', 'teacher', 'Prof');
    r.system('r1', { op: 'open' });
    r.join('r1', 'p1', 'c1', 'pupil', 'Un');
    clock.advance(30_000);
    r.disconnected('c1');
    // The old socket's id no longer acts; the teacher is told p1 is away.
    expect(sent.filter((s) => s.conn === 'ct' && s.message.event === 'people').at(-1)!.message.people).toContainEqual(expect.objectContaining({ id: 'p1', away: true }));
    clock.advance(DEFAULT_ROOM_LIMITS.reconnectGraceMs - 1);
    r.tick();
    expect(r.state('r1')!.participants.p1).toBeDefined();
    clock.advance(1);
    r.tick();
    expect(r.state('r1')!.participants.p1).toBeUndefined();
    expect(attendance).toEqual(['r1/p1/30']);
    await r.settled('r1');
    expect(engine.calls.filter((c) => 'participantId' in c && c.participantId === 'p1').map((c) => c.op)).toEqual(['join', 'leave']);
    await r.close();
    expect(closed).toEqual(['r1/true']);
    expect(attendance).toContain(`r1/t/${30 + DEFAULT_ROOM_LIMITS.reconnectGraceMs / 1000}`);
  });
});
