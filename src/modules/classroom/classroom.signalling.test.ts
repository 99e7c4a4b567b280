import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPreau, type TestPreau } from '../../../test/support/app.js';
import { connectAs, listenOnce, type LiveSocket } from '../../../test/support/ws.js';
import { FakeMediaEngine } from '../../media/testing/fake-media-engine.js';
import { INCOMING_MAX_BYTES } from '../../realtime/index.js';

/**
 * The classe virtuelle end to end over real WebSockets, with the fake media engine: teacher A and
 * pupils A1, A2 of 6e A, pupil B1 of 6e B. The lobby holds pupils until the teacher opens, a raised
 * hand reaches the teacher, the floor gives a pupil send rights at the engine, chat and a poll go
 * round, signals are relayed both ways, a pupil of another class is refused, bad messages are
 * refused without harm, and a dropped pupil rejoins with hand, floor and chat history.
 */
describe('classe virtuelle signalling over the realtime gateway', () => {
  let t: TestPreau;
  let base: string;
  let roomId: string;
  const engine = new FakeMediaEngine();
  const sockets: LiveSocket[] = [];
  beforeAll(async () => {
    t = await startTestPreau('sqlite', {}, { mediaEngine: engine, realtime: { heartbeatMs: 60_000 } });
    base = await listenOnce(t);
    const created = await (await t.as('teacherA')).request({ method: 'POST', url: '/api/v1/classrooms', payload: { audience: { kind: 'class', id: 'class6A' }, title: 'Fractions' } });
    roomId = created.json().classroom.id as string;
  });
  afterAll(async () => {
    for (const s of sockets) s.ws.close();
    await t?.close();
  });
  const connect = async (who: Parameters<typeof connectAs>[2]) => {
    const s = await connectAs(t, base, who);
    sockets.push(s);
    return s;
  };
  const ev = (name: string) => (m: Record<string, unknown>) => m.type === 'classroom' && m.event === name;
  const errorOf = (s: LiveSocket, ref: string) => s.next((m) => m.type === 'error' && m.ref === ref);

  let teacher: LiveSocket;
  let a1: LiveSocket;
  let a2: LiveSocket;

  it('the lobby holds a pupil who arrives before the teacher, and lets them in when the teacher opens', async () => {
    a1 = await connect('pupilA1');
    a1.send({ type: 'classroom', roomId, op: 'join' });
    expect(await a1.next(ev('waiting'))).toMatchObject({ roomId, reason: 'teacher' });
    // In the lobby, nothing of the room's life: no snapshot, no media.
    expect(engine.calls.filter((c) => c.op === 'join')).toEqual([]);
    a1.send({ type: 'classroom', roomId, op: 'hand', raised: true, ref: 'early' });
    expect(await errorOf(a1, 'early')).toMatchObject({ id: 'classroom.not_open' });

    teacher = await connect('teacherA');
    teacher.send({ type: 'classroom', roomId, op: 'join' });
    const snap = await teacher.next(ev('snapshot'));
    expect(snap).toMatchObject({ you: { id: 'teacherA', role: 'teacher' }, room: { status: 'waiting' }, lobby: [{ id: 'pupilA1', role: 'pupil' }] });
    // No TURN configured: no ICE servers (the browser uses host and server-reflexive candidates).
    expect(snap.iceServers).toEqual([]);
    a1.send({ type: 'classroom', roomId, op: 'open', ref: 'pupil-open' });
    expect(await errorOf(a1, 'pupil-open')).toMatchObject({ id: 'classroom.teacher_only' });
    teacher.send({ type: 'classroom', roomId, op: 'open' });
    const inside = await a1.next(ev('snapshot'));
    expect(inside).toMatchObject({ you: { id: 'pupilA1', role: 'pupil' }, room: { status: 'open' } });
    await t.preau.classroomRuntime.settled(roomId);
    expect(engine.lastMedia(roomId, 'pupilA1')).toMatchObject({ role: 'pupil', send: { audio: false, camera: false, screen: false } });
    expect(engine.lastMedia(roomId, 'teacherA')).toMatchObject({ role: 'teacher', send: { audio: true, camera: true, screen: true } });
  });

  it('a pupil of another class, and a socket that did not join, are refused', async () => {
    const b1 = await connect('pupilB1');
    b1.send({ type: 'classroom', roomId, op: 'join', ref: 'b1' });
    expect(await errorOf(b1, 'b1')).toMatchObject({ id: 'classroom.not_found', message: 'Cette classe virtuelle est introuvable.' });
    b1.send({ type: 'classroom', roomId, op: 'chat', text: 'coucou', ref: 'b2' });
    expect(await errorOf(b1, 'b2')).toMatchObject({ id: 'classroom.not_joined' });
    // Pupil A2's other socket (not the one that joins) may not act for them either.
    a2 = await connect('pupilA2');
    a2.send({ type: 'classroom', roomId, op: 'join' });
    await a2.next(ev('snapshot'));
    const a2other = await connect('pupilA2');
    a2other.send({ type: 'classroom', roomId, op: 'hand', raised: true, ref: 'other' });
    expect(await errorOf(a2other, 'other')).toMatchObject({ id: 'classroom.not_joined' });
    expect(t.preau.classroomRuntime.state(roomId)!.participants.pupilB1).toBeUndefined();
  });

  it('a raised hand reaches the teacher; the floor gives the pupil send rights at the engine', async () => {
    a1.send({ type: 'classroom', roomId, op: 'hand', raised: true });
    await teacher.next((m) => ev('people')(m) && JSON.stringify(m.hands) === '["pupilA1"]');
    a1.send({ type: 'classroom', roomId, op: 'give-floor', participantId: 'pupilA1', ref: 'self' });
    expect(await errorOf(a1, 'self')).toMatchObject({ id: 'classroom.teacher_only' });
    teacher.send({ type: 'classroom', roomId, op: 'give-floor', participantId: 'pupilA1' });
    await a2.next((m) => ev('people')(m) && JSON.stringify(m.floor) === '["pupilA1"]');
    await t.preau.classroomRuntime.settled(roomId);
    expect(engine.calls).toContainEqual({ op: 'update', roomId, participantId: 'pupilA1', media: expect.objectContaining({ send: { audio: true, camera: false, screen: false } }) });
    expect(engine.lastMedia(roomId, 'pupilA2')!.send.audio).toBe(false);
  });

  it('chat and a poll go round with live results', async () => {
    a2.send({ type: 'classroom', roomId, op: 'chat', text: 'Je n’entends rien' });
    expect(await teacher.next(ev('chat'))).toMatchObject({ message: { from: 'pupilA2', text: 'Je n’entends rien' } });
    await a1.next(ev('chat'));
    teacher.send({ type: 'classroom', roomId, op: 'poll-create', question: '1/2 + 1/4 ?', options: ['3/4', '2/6'], multiple: false });
    const poll = await a1.next(ev('poll'));
    const pollId = (poll.poll as { id: string }).id;
    a1.send({ type: 'classroom', roomId, op: 'poll-answer', pollId, choices: [0] });
    await teacher.next((m) => ev('poll')(m) && (m.poll as { answered: number }).answered === 1);
    a1.send({ type: 'classroom', roomId, op: 'poll-answer', pollId, choices: [1], ref: 'twice' });
    expect(await errorOf(a1, 'twice')).toMatchObject({ id: 'classroom.poll_answered' });
    teacher.send({ type: 'classroom', roomId, op: 'pupil-chat', enabled: false });
    await a2.next((m) => ev('room')(m) && m.pupilChat === false);
    a2.send({ type: 'classroom', roomId, op: 'chat', text: 'encore', ref: 'muted' });
    expect(await errorOf(a2, 'muted')).toMatchObject({ id: 'classroom.chat_disabled' });
  });

  it('media signals are relayed both ways, checked for shape and size; an SDP the engine refuses is an error, not a crash', async () => {
    engine.emitSignal(roomId, 'pupilA1', { kind: 'offer', connection: 'main', sdp: 'v=0\r\n' });
    expect(await a1.next(ev('signal'))).toMatchObject({ roomId, signal: { kind: 'offer', connection: 'main' } });
    expect(a2.messages.some(ev('signal'))).toBe(false);
    a1.send({ type: 'classroom', roomId, op: 'signal', signal: { kind: 'answer', connection: 'main', sdp: 'v=0\r\n' } });
    a1.send({ type: 'classroom', roomId, op: 'signal', signal: { kind: 'candidate', connection: 'main', candidate: 'candidate:1 1 udp 1 127.0.0.1 5000 typ host', sdpMid: '0', sdpMLineIndex: 0 } });
    a1.send({ type: 'classroom', roomId, op: 'signal', signal: { kind: 'restart', connection: 'main' } });
    await t.preau.classroomRuntime.settled(roomId);
    await new Promise((r) => setTimeout(r, 50));
    await t.preau.classroomRuntime.settled(roomId);
    expect(engine.calls.filter((c) => c.op === 'signal' && c.participantId === 'pupilA1').map((c) => c.op === 'signal' && c.message.kind)).toEqual(['answer', 'candidate', 'restart']);
    a2.send({ type: 'classroom', roomId, op: 'signal', signal: { kind: 'offer', connection: 'main', sdp: 'pas un SDP' } });
    expect(await a2.next((m) => m.type === 'error' && m.id === 'realtime.bad_message')).toBeDefined();
    const refusals: [unknown, string][] = [
      [{ type: 'classroom', roomId, op: 'signal', signal: { kind: 'connections', connections: [] }, ref: 's1' }, 'realtime.bad_message'],
      [{ type: 'classroom', roomId, op: 'signal', signal: { kind: 'offer', connection: 'MAIN!', sdp: 'v=0' }, ref: 's2' }, 'realtime.bad_message'],
      [{ type: 'classroom', roomId, op: 'teleport', ref: 's3' }, 'realtime.bad_message'],
      [{ type: 'classroom', roomId: '../x', op: 'leave', ref: 's4' }, 'realtime.bad_message'],
      [{ type: 'classroom', roomId, op: 'stroke', color: '#000000', width: 4, points: [1, 2, 3], ref: 's5' }, 'classroom.whiteboard_forbidden'],
    ];
    for (const [message, id] of refusals) {
      a2.send(message);
      expect(await errorOf(a2, (message as { ref: string }).ref)).toMatchObject({ id });
    }
    // Oversize: the socket is closed (1009); the room goes on, the pupil is away and may come back.
    const big = await connect('pupilA2');
    big.send({ type: 'classroom', roomId, op: 'chat', text: 'x'.repeat(INCOMING_MAX_BYTES) });
    expect(await big.closed).toBe(1009);
    expect(t.preau.classroomRuntime.state(roomId)!.status).toBe('open');
  });

  it('a pupil whose socket drops keeps hand, floor and the chat; a rejoin restores them', async () => {
    a1.ws.close();
    await a1.closed;
    await teacher.next((m) => ev('people')(m) && (m.people as { id: string; away: boolean }[]).some((p) => p.id === 'pupilA1' && p.away));
    await t.preau.classroomRuntime.settled(roomId);
    expect(engine.calls).toContainEqual({ op: 'leave', roomId, participantId: 'pupilA1' });
    const back = await connect('pupilA1');
    back.send({ type: 'classroom', roomId, op: 'join' });
    const snap = await back.next(ev('snapshot'));
    expect(snap.people).toMatchObject({ floor: ['pupilA1'] });
    expect((snap.chat as { text: string }[]).map((m) => m.text)).toEqual(['Je n’entends rien']);
    expect((snap.polls as { mine: number[] | null }[])[0]!.mine).toEqual([0]);
    await t.preau.classroomRuntime.settled(roomId);
    expect(engine.lastMedia(roomId, 'pupilA1')!.send.audio).toBe(true);
  });

  it('the engine’s link estimates degrade a subscriber at once (told on their socket, engine updated), other subscribers untouched', async () => {
    engine.emitEvent({ kind: 'link', roomId, participantId: 'pupilA2', downlinkBps: 90_000, loss: 0.01 });
    expect(await a2.next(ev('level'))).toMatchObject({ level: 'audio-only' });
    await t.preau.classroomRuntime.settled(roomId);
    expect(engine.lastMedia(roomId, 'pupilA2')!.level).toBe('audio-only');
    // The teacher's link said nothing: at most the node's own load moves them (never to audio only).
    expect(engine.lastMedia(roomId, 'teacherA')!.level).not.toBe('audio-only');
    // A good estimate right after does not bring video back at once (hysteresis).
    engine.emitEvent({ kind: 'link', roomId, participantId: 'pupilA2', downlinkBps: 10_000_000, loss: 0 });
    await t.preau.classroomRuntime.settled(roomId);
    expect(engine.lastMedia(roomId, 'pupilA2')!.level).toBe('audio-only');
    // Events of unknown rooms or people are ignored.
    engine.emitEvent({ kind: 'speaking', roomId: 'nope', participantId: 'x', speaking: true });
    engine.emitEvent({ kind: 'link', roomId, participantId: 'ghost', downlinkBps: 1, loss: 1 });
    expect(t.preau.classroomRuntime.state(roomId)!.participants.ghost).toBeUndefined();
  });

  it('a guest joins with the teacher’s link (and only with it); the school’s CPE looks in as a guest', async () => {
    const teacherHttp = await t.as('teacherA');
    await teacherHttp.request({ method: 'PUT', url: `/api/v1/classrooms/${roomId}/guests`, payload: { allowed: true } });
    const token = (await teacherHttp.request({ method: 'POST', url: `/api/v1/classrooms/${roomId}/guest-link`, payload: {} })).json().token as string;
    const guest = await connect('teacherOther');
    guest.send({ type: 'classroom', roomId, op: 'join', ref: 'nolink' });
    expect(await errorOf(guest, 'nolink')).toMatchObject({ id: 'classroom.not_found' });
    guest.send({ type: 'classroom', roomId, op: 'join', guestToken: token });
    expect(await guest.next(ev('snapshot'))).toMatchObject({ you: { id: 'teacherOther', role: 'guest' } });
    guest.send({ type: 'classroom', roomId, op: 'mute-all', ref: 'g1' });
    expect(await errorOf(guest, 'g1')).toMatchObject({ id: 'classroom.teacher_only' });
    const cpe = await connect('cpeA');
    cpe.send({ type: 'classroom', roomId, op: 'join' });
    expect(await cpe.next(ev('snapshot'))).toMatchObject({ you: { id: 'cpeA', role: 'guest' } });
    const parent = await connect('parentA1');
    parent.send({ type: 'classroom', roomId, op: 'join', guestToken: token, ref: 'p' });
    expect(await errorOf(parent, 'p')).toMatchObject({ id: 'classroom.not_found' });
  });

  it('the teacher closes: everyone is told, the engine room closes, attendance is written for the suivi', async () => {
    const r = await (await t.as('teacherA')).request({ method: 'POST', url: `/api/v1/classrooms/${roomId}/close` });
    expect(r.statusCode, r.body).toBe(200);
    await a2.next(ev('closed'));
    expect(engine.calls.at(-1)).toEqual({ op: 'closeRoom', roomId });
    const rows = await t.preau.storage.db.selectFrom('classroom_attendance').selectAll().where('room_id', '=', roomId).orderBy('person_id').execute();
    expect(rows.map((x) => [x.person_id, x.role])).toEqual([['cpeA', 'guest'], ['pupilA1', 'pupil'], ['pupilA2', 'pupil'], ['teacherA', 'teacher'], ['teacherOther', 'guest']]);
    const suivi = await t.preau.storage.db.selectFrom('engagement_attendance').selectAll().where('session_id', '=', roomId).orderBy('pupil_id').execute();
    expect(suivi.map((x) => x.pupil_id)).toEqual(['pupilA1', 'pupilA2']);
    const att = await (await t.as('cpeA')).request({ method: 'GET', url: `/api/v1/classrooms/${roomId}/attendance` });
    expect(att.json().attendance).toHaveLength(5);
  });
});

describe('classe virtuelle: TURN credentials with the snapshot', () => {
  it('gives each participant time-limited TURN credentials of their own when TURN is configured', async () => {
    const secret = 'un-secret-partage-avec-coturn-de-plus-de-32-caracteres';
    const t = await startTestPreau('sqlite', { turnUrls: ['turns:turn.ent.example:443?transport=tcp'], turnSecret: secret, turnTtlSeconds: 3_600 }, { mediaEngine: new FakeMediaEngine() });
    const sockets: LiveSocket[] = [];
    try {
      const base = await listenOnce(t);
      const roomId = (await (await t.as('teacherA')).request({ method: 'POST', url: '/api/v1/classrooms', payload: { audience: { kind: 'class', id: 'class6A' } } })).json().classroom.id as string;
      const snapOf = async (who: 'teacherA' | 'pupilA1') => {
        const s = await connectAs(t, base, who);
        sockets.push(s);
        s.send({ type: 'classroom', roomId, op: 'join' });
        return s.next((m) => m.type === 'classroom' && m.event === 'snapshot');
      };
      const teacherSnap = await snapOf('teacherA');
      sockets[0]!.send({ type: 'classroom', roomId, op: 'open' });
      const pupilSnap = await snapOf('pupilA1');
      const [teacherIce, pupilIce] = [teacherSnap.iceServers, pupilSnap.iceServers] as { urls: string[]; username: string; credential: string }[][];
      expect(teacherIce).toEqual([{ urls: ['turns:turn.ent.example:443?transport=tcp'], username: expect.stringMatching(/^\d+:/), credential: expect.any(String) }]);
      // Each their own, and never the person's id in clear.
      expect(pupilIce![0]!.username).not.toBe(teacherIce![0]!.username);
      expect(pupilIce![0]!.username).not.toContain('pupilA1');
      const expiry = Number(teacherIce![0]!.username.split(':')[0]) * 1000;
      expect(expiry).toBeGreaterThan(t.clock.nowMs());
      expect(expiry).toBeLessThanOrEqual(t.clock.nowMs() + 3_600_000 + 1000);
    } finally {
      for (const s of sockets) s.ws.close();
      await t.close();
    }
  });
});
