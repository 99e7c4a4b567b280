import { randomBytes } from 'node:crypto';
import type net from 'node:net';
import { hostname } from 'node:os';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Preau } from '../src/compose.js';
import { FakeMediaEngine } from '../src/media/testing/fake-media-engine.js';
import { startPeerNode, startTestPreau, type TestPreau } from './support/app.js';
import { FIXTURE_PASSWORD, type PersonKey } from './support/fixtures.js';
import { startOwnRedis } from './support/redis.js';
import { connectAs, listenOnce, type LiveSocket } from './support/ws.js';

const redis = await startOwnRedis();

/**
 * The classe virtuelle on two Préau nodes sharing one database and one Redis (of this suite's own,
 * stopped at the end), each with its fake media engine: the teacher's socket on node A, which hosts
 * the room; pupils' sockets on node B, whose messages are relayed to A and A's answers back.
 */
describe.runIf(redis !== undefined)('a room hosted by one node, joined through another', () => {
  let a: TestPreau;
  let b: Preau;
  let baseA: string;
  let baseB: string;
  let roomId: string;
  const engineA = new FakeMediaEngine();
  const engineB = new FakeMediaEngine();
  const sockets: LiveSocket[] = [];

  beforeAll(async () => {
    // Distinct node ids (`host:port` of the configuration; the tests listen on free ports of their own).
    const shared = { redisUrl: redis!.url, redisPrefix: `rn:${randomBytes(4).toString('hex')}:`, classroomMaxParticipantsPerSchool: 2 };
    // A loaded CI host: the edge's Redis calls get more than the default 50 ms (the cap test reads shared counts through them).
    const edge = { realtime: { heartbeatMs: 60_000 }, edgeRedis: { timeoutMs: 1_000 }, classroomRelay: { answerTimeoutMs: 2_000 } };
    a = await startTestPreau('sqlite', { ...shared, port: 47501 }, { ...edge, mediaEngine: engineA });
    b = await startPeerNode(a, { ...shared, port: 47502 }, { ...edge, mediaEngine: engineB });
    baseA = await listenOnce(a);
    await b.app.listen({ host: '127.0.0.1', port: 0 });
    baseB = `127.0.0.1:${(b.app.server.address() as net.AddressInfo).port}`;
    await Promise.all([a.preau.classroomRelay!.ready, b.classroomRelay!.ready]);
  });
  afterAll(async () => {
    for (const s of sockets) s.ws.close();
    await b?.close();
    await a?.close();
    await redis?.stop();
  });

  const connect = async (base: string, who: PersonKey) => {
    const s = await connectAs(a, base, who);
    sockets.push(s);
    return s;
  };
  /** HTTP through a given node (the load balancer sent this request there). */
  const http = async (node: Preau, who: PersonKey) => {
    const res = await a.preau.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { login: a.fx.people[who].login, password: FIXTURE_PASSWORD } });
    const c = res.cookies.find((x) => x.name.endsWith('preau_session'))!;
    const headers = { cookie: `${c.name}=${c.value}`, 'x-csrf-token': res.json<{ csrfToken: string }>().csrfToken };
    return (o: InjectOptions) => node.app.inject({ ...o, headers: { ...headers, ...(o.headers ?? {}) } });
  };
  const ev = (name: string) => (m: Record<string, unknown>) => m.type === 'classroom' && m.event === name;
  const errorOf = (s: LiveSocket, ref: string) => s.next((m) => m.type === 'error' && m.ref === ref);

  let teacher: LiveSocket;
  let a1: LiveSocket;
  let a2: LiveSocket;

  it('pupils on node B join the room node A hosts: snapshot, media at A’s engine only', async () => {
    const asTeacher = await http(a.preau, 'teacherA');
    const created = await asTeacher({ method: 'POST', url: '/api/v1/classrooms', payload: { audience: { kind: 'class', id: 'class6A' }, title: 'Fractions' } });
    roomId = created.json().classroom.id as string;
    expect((await asTeacher({ method: 'POST', url: `/api/v1/classrooms/${roomId}/open`, payload: {} })).statusCode).toBe(200);
    teacher = await connect(baseA, 'teacherA');
    teacher.send({ type: 'classroom', roomId, op: 'join' });
    await teacher.next(ev('snapshot'));

    a1 = await connect(baseB, 'pupilA1');
    a2 = await connect(baseB, 'pupilA2');
    a1.send({ type: 'classroom', roomId, op: 'join' });
    a2.send({ type: 'classroom', roomId, op: 'join' });
    expect(await a1.next(ev('snapshot'))).toMatchObject({ roomId, you: { id: 'pupilA1', role: 'pupil' }, room: { status: 'open' } });
    await a2.next(ev('snapshot'));
    await teacher.next((m) => ev('people')(m) && (m.people as unknown[]).length === 3);
    await a.preau.classroomRuntime.settled(roomId);
    expect(engineA.lastMedia(roomId, 'pupilA1')).toMatchObject({ role: 'pupil' });
    expect(engineB.calls).toEqual([]);
    expect(b.classroomRuntime.isLive(roomId)).toBe(false);
  });

  it('hands, floor, chat and media signals go both ways through the relay', async () => {
    a1.send({ type: 'classroom', roomId, op: 'hand', raised: true });
    await teacher.next((m) => ev('people')(m) && JSON.stringify(m.hands) === '["pupilA1"]');
    teacher.send({ type: 'classroom', roomId, op: 'give-floor', participantId: 'pupilA1' });
    await a2.next((m) => ev('people')(m) && JSON.stringify(m.floor) === '["pupilA1"]');
    await a.preau.classroomRuntime.settled(roomId);
    expect(engineA.lastMedia(roomId, 'pupilA1')!.send.audio).toBe(true);
    // A pupil may not moderate, relayed or not.
    a2.send({ type: 'classroom', roomId, op: 'give-floor', participantId: 'pupilA2', ref: 'nope' });
    expect(await errorOf(a2, 'nope')).toMatchObject({ id: 'classroom.teacher_only' });

    a2.send({ type: 'classroom', roomId, op: 'chat', text: 'Je n’entends rien' });
    expect(await teacher.next(ev('chat'))).toMatchObject({ message: { from: 'pupilA2', text: 'Je n’entends rien' } });
    await a1.next(ev('chat'));

    engineA.emitSignal(roomId, 'pupilA1', { kind: 'offer', connection: 'main', sdp: 'v=0\r\n' });
    expect(await a1.next(ev('signal'))).toMatchObject({ roomId, signal: { kind: 'offer', connection: 'main' } });
    a1.send({ type: 'classroom', roomId, op: 'signal', signal: { kind: 'answer', connection: 'main', sdp: 'v=0\r\n' } });
    await expect.poll(() => engineA.calls.some((c) => c.op === 'signal' && c.participantId === 'pupilA1')).toBe(true);
  });

  it('a pupil of another class is refused by the host through the relay', async () => {
    const b1 = await connect(baseB, 'pupilB1');
    b1.send({ type: 'classroom', roomId, op: 'join', ref: 'b1' });
    expect(await errorOf(b1, 'b1')).toMatchObject({ id: 'classroom.not_found', message: 'Cette classe virtuelle est introuvable.' });
    b1.send({ type: 'classroom', roomId, op: 'chat', text: 'coucou', ref: 'b2' });
    expect(await errorOf(b1, 'b2')).toMatchObject({ id: 'classroom.not_joined' });
    expect(a.preau.classroomRuntime.state(roomId)!.participants.pupilB1).toBeUndefined();
  });

  it('the per-school participant cap counts both nodes’ rooms', async () => {
    // Node A holds two pupils of school A; a second room of the school, on node B, may take none (cap 2).
    const asTeacherB = await http(b, 'teacherB');
    const created = await asTeacherB({ method: 'POST', url: '/api/v1/classrooms', payload: { audience: { kind: 'class', id: 'class6B' } } });
    const room2 = created.json().classroom.id as string;
    expect((await asTeacherB({ method: 'POST', url: `/api/v1/classrooms/${room2}/open`, payload: {} })).statusCode).toBe(200);
    expect(b.classroomRuntime.isLive(room2)).toBe(true);
    // One room per socket, as on one node: pupil A1's socket on B is in room 1 (hosted by A).
    a1.send({ type: 'classroom', roomId: room2, op: 'join', ref: 'two' });
    expect(await errorOf(a1, 'two')).toMatchObject({ id: 'classroom.invalid_command' });
    await a.preau.classroomRuntime.shareSchoolCounts();
    await b.classroomRuntime.shareSchoolCounts();
    const b1 = await connect(baseB, 'pupilB1');
    b1.send({ type: 'classroom', roomId: room2, op: 'join', ref: 'cap' });
    expect(await errorOf(b1, 'cap')).toMatchObject({ id: 'classroom.school_full' });
  });

  it('a teacher’s lock through node B’s HTTP API is done on node A', async () => {
    const asTeacher = await http(b, 'teacherA');
    const res = await asTeacher({ method: 'PUT', url: `/api/v1/classrooms/${roomId}/lock`, payload: { locked: true } });
    expect(res.statusCode, res.body).toBe(200);
    await a2.next((m) => ev('room')(m) && m.locked === true);
    expect(a.preau.classroomRuntime.state(roomId)!.locked).toBe(true);
  });

  it('a leave and a closed socket on node B reach the host', async () => {
    a2.send({ type: 'classroom', roomId, op: 'leave' });
    await teacher.next((m) => ev('people')(m) && !(m.people as { id: string }[]).some((p) => p.id === 'pupilA2'));
    a1.ws.close();
    await teacher.next((m) => ev('people')(m) && (m.people as { id: string; away: boolean }[]).some((p) => p.id === 'pupilA1' && p.away));
  });

  it('a host node that vanished: sockets elsewhere in its room are asked to reconnect, and the rejoin re-hosts the room open', async () => {
    const room2 = await a.preau.storage.db.selectFrom('classroom_rooms').select(['id', 'host_node']).where('class_id', '=', 'class6B').executeTakeFirstOrThrow();
    expect(room2.host_node).toBe(`${hostname()}:47502`);
    // Pupil B1's socket is on node A, its room on node B.
    await a.preau.classroomRuntime.shareSchoolCounts();
    await b.classroomRuntime.shareSchoolCounts();
    const before = await connect(baseA, 'pupilB1');
    before.send({ type: 'classroom', roomId: room2.id, op: 'join' });
    await before.next(ev('snapshot'));
    // Node B goes silent without letting its room go (killed, not stopped).
    b.classroomRelay!.close();
    await a.preau.classroomRelay!.checkHosts();
    expect(await before.closed).toBe(1012);
    // The client reconnects (through the load balancer: node A here) and joins again: straight into the
    // room (it was open), hosted now by A, without a second click by the teacher.
    const after = await connect(baseA, 'pupilB1');
    after.send({ type: 'classroom', roomId: room2.id, op: 'join' });
    expect(await after.next(ev('snapshot'))).toMatchObject({ you: { id: 'pupilB1' }, room: { status: 'open' } });
    expect(a.preau.classroomRuntime.isLive(room2.id)).toBe(true);
    expect((await a.preau.storage.db.selectFrom('classroom_rooms').select('host_node').where('id', '=', room2.id).executeTakeFirstOrThrow()).host_node).toBe(`${hostname()}:47501`);
  });

  it('Redis stopped: a relayed join and a relayed teacher’s action are refused with a clear error, at once', async () => {
    const late = await connect(baseB, 'pupilA2');
    await redis!.stop();
    late.send({ type: 'classroom', roomId, op: 'join', ref: 'down' });
    expect(await errorOf(late, 'down')).toMatchObject({ id: 'classroom.host_unreachable', message: expect.stringContaining('injoignable') });
    const asTeacher = await http(b, 'teacherA');
    const res = await asTeacher({ method: 'PUT', url: `/api/v1/classrooms/${roomId}/lock`, payload: { locked: false } });
    expect([res.statusCode, res.json().error.id]).toEqual([503, 'classroom.host_unreachable']);
  });
});
