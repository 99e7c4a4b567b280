import { describe, expect, it } from 'vitest';
import { DEFAULT_GATEWAY_LIMITS } from '../../realtime/index.js';
import { DEFAULT_ROOM_LIMITS, WHITEBOARD_SIZE, mediaOf, newRoom, reduce, snapshotOf, type Command, type Effect, type RoomState } from './room.state.js';

const T0 = 1_000_000;

/** Deep-freezes a state: a reducer that mutated it would throw (strict mode). */
function frozen<T>(x: T): T {
  if (x && typeof x === 'object' && !Object.isFrozen(x)) {
    Object.freeze(x);
    for (const v of Object.values(x)) frozen(v);
  }
  return x;
}

function apply(state: RoomState, actor: string, command: Command, now = T0): { state: RoomState; effects: Effect[] } {
  const r = reduce(frozen(state), command, actor, now);
  if (!r.ok) throw new Error(`${command.op} by ${actor}: ${r.error} ${JSON.stringify(r.params ?? {})}`);
  return r;
}

/** The error id of a refused command; asserts the state is the very same object and unchanged. */
function refused(state: RoomState, actor: string, command: Command, now = T0): string {
  const before = JSON.stringify(frozen(state));
  const r = reduce(state, command, actor, now);
  expect(r.ok, `${command.op} by ${actor} should be refused`).toBe(false);
  expect(JSON.stringify(state)).toBe(before);
  return r.ok ? '' : r.error;
}

/** A room with the teacher in, opened, and pupils p1..pn in. */
function openRoom(pupils = 2, limits = {}): RoomState {
  let s = newRoom('room1', { ...DEFAULT_ROOM_LIMITS, ...limits }, pupils + 1);
  s = apply(s, 't', { op: 'join', role: 'teacher', name: 'Mme Prof' }).state;
  s = apply(s, 't', { op: 'open' }).state;
  for (let i = 1; i <= pupils; i++) s = apply(s, `p${i}`, { op: 'join', role: 'pupil', name: `Élève ${i}` }).state;
  return s;
}

const events = (effects: Effect[], name: string) => effects.filter((e): e is Extract<Effect, { kind: 'event' }> => e.kind === 'event' && e.event.event === name);

describe('room state: lobby and roles', () => {
  it('pupils who arrive before the teacher wait (told why), and are let in when the teacher opens', () => {
    let s = newRoom('r', DEFAULT_ROOM_LIMITS, 3);
    const early = apply(s, 'p1', { op: 'join', role: 'pupil', name: 'Lou' });
    expect(early.effects).toContainEqual({ kind: 'event', audience: { to: 'one', id: 'p1' }, event: { event: 'waiting', reason: 'teacher' } });
    expect(early.effects.some((e) => e.kind === 'media-join')).toBe(false);
    s = early.state;
    expect(s.lobby).toEqual(['p1']);
    // A pupil in the lobby may do nothing in the room yet.
    expect(refused(s, 'p1', { op: 'chat', text: 'allo ?' })).toBe('classroom.not_open');
    s = apply(s, 't', { op: 'join', role: 'teacher', name: 'Prof' }).state;
    expect(s.participants.t!.presence).toBe('in');
    expect(refused(s, 'p1', { op: 'open' })).toBe('classroom.not_open');
    const opened = apply(s, 't', { op: 'open' });
    expect(opened.state.status).toBe('open');
    expect(opened.state.lobby).toEqual([]);
    expect(opened.state.participants.p1!.presence).toBe('in');
    expect(opened.effects).toContainEqual({ kind: 'snapshot', participantId: 'p1' });
    expect(opened.effects).toContainEqual({ kind: 'media-join', participantId: 'p1' });
  });

  it('only a teacher opens, locks, admits; a locked room holds newcomers for admission one by one', () => {
    let s = openRoom(1);
    expect(refused(s, 'p1', { op: 'lock', locked: true })).toBe('classroom.teacher_only');
    expect(refused(s, 'p1', { op: 'close' })).toBe('classroom.teacher_only');
    s = apply(s, 't', { op: 'lock', locked: true }).state;
    const late = apply(s, 'p2', { op: 'join', role: 'pupil', name: 'Retard' });
    expect(late.effects).toContainEqual({ kind: 'event', audience: { to: 'one', id: 'p2' }, event: { event: 'waiting', reason: 'admission' } });
    expect(events(late.effects, 'lobby')[0]!.audience).toEqual({ to: 'teachers' });
    s = apply(late.state, 'p3', { op: 'join', role: 'pupil', name: 'Autre' }).state;
    expect(s.lobby).toEqual(['p2', 'p3']);
    expect(refused(s, 't', { op: 'admit', participantId: 'p1' })).toBe('classroom.unknown_participant');
    s = apply(s, 't', { op: 'admit', participantId: 'p3' }).state;
    expect(s.lobby).toEqual(['p2']);
    expect(s.participants.p3!.presence).toBe('in');
    const refusal = apply(s, 't', { op: 'refuse', participantId: 'p2' });
    expect(refusal.effects).toContainEqual({ kind: 'event', audience: { to: 'one', id: 'p2' }, event: { event: 'refused' } });
    expect(refusal.state.participants.p2).toBeUndefined();
    // Unlocking lets the lobby in at once.
    s = apply(refusal.state, 'p4', { op: 'join', role: 'pupil', name: 'Quatre' }).state;
    s = apply(s, 't', { op: 'lock', locked: false }).state;
    expect(s.participants.p4!.presence).toBe('in');
  });

  it('caps the room (teachers always get in) with a catalogue error', () => {
    let s = openRoom(2, { maxParticipants: 2 });
    expect(refused(s, 'p3', { op: 'join', role: 'pupil', name: 'Trop' })).toBe('classroom.room_full');
    s = apply(s, 'co', { op: 'join', role: 'co_teacher', name: 'Co' }).state;
    expect(s.participants.co!.presence).toBe('in');
    const r = reduce(s, { op: 'join', role: 'guest', name: 'Invité' }, 'g', T0);
    expect(r).toMatchObject({ ok: false, error: 'classroom.room_full', params: { max: 2 } });
  });

  it('a closed room ends everyone’s place (attendance out) and takes no one', () => {
    const s = openRoom(2);
    const closed = apply(s, 't', { op: 'close' }, T0 + 90_000);
    expect(closed.state.status).toBe('closed');
    expect(Object.keys(closed.state.participants)).toEqual([]);
    const att = closed.effects.filter((e) => e.kind === 'attendance');
    expect(att.map((e) => e.kind === 'attendance' && [e.participantId, e.attendance.seconds])).toEqual([['t', 90], ['p1', 90], ['p2', 90]]);
    expect(closed.effects.at(-1)).toEqual({ kind: 'room-closed' });
    expect(refused(closed.state, 'p1', { op: 'join', role: 'pupil', name: 'x' })).toBe('classroom.closed');
  });
});

describe('room state: hands, floor, mute all, cameras', () => {
  it('hands are ordered; giving the floor lowers the hand and gives send rights; taking it back and mute all remove them', () => {
    let s = openRoom(3);
    s = apply(s, 'p2', { op: 'hand', raised: true }).state;
    s = apply(s, 'p1', { op: 'hand', raised: true }).state;
    expect(s.hands).toEqual(['p2', 'p1']);
    expect(refused(s, 't', { op: 'hand', raised: true })).toBe('classroom.invalid_command');
    expect(refused(s, 'p1', { op: 'give-floor', participantId: 'p1' })).toBe('classroom.teacher_only');
    expect(mediaOf(s, 'p1')!.send).toEqual({ audio: false, camera: false, screen: false });
    expect(mediaOf(s, 't')!.send).toEqual({ audio: true, camera: true, screen: true });
    const given = apply(s, 't', { op: 'give-floor', participantId: 'p1' });
    s = given.state;
    expect(given.effects).toContainEqual({ kind: 'media-sync' });
    expect(s.hands).toEqual(['p2']);
    expect(s.floor).toEqual(['p1']);
    expect(mediaOf(s, 'p1')!.send.audio).toBe(true);
    expect(refused(s, 't', { op: 'give-floor', participantId: 'nobody' })).toBe('classroom.unknown_participant');
    s = apply(s, 't', { op: 'take-floor', participantId: 'p1' }).state;
    expect(mediaOf(s, 'p1')!.send.audio).toBe(false);
    s = apply(s, 't', { op: 'give-floor', participantId: 'p2' }).state;
    s = apply(s, 't', { op: 'give-floor', participantId: 'p3' }).state;
    s = apply(s, 't', { op: 'mute-all' }).state;
    expect(s.floor).toEqual([]);
    expect(s.hands).toEqual([]);
  });

  it('bounds the floor', () => {
    let s = openRoom(3, { maxFloor: 2 });
    s = apply(s, 't', { op: 'give-floor', participantId: 'p1' }).state;
    s = apply(s, 't', { op: 'give-floor', participantId: 'p2' }).state;
    expect(refused(s, 't', { op: 'give-floor', participantId: 'p3' })).toBe('classroom.too_many');
  });

  it('pupil cameras: only with the floor and the camera on, the last active speakers first, capped', () => {
    let s = openRoom(4, { maxPupilCameras: 2, maxFloor: 4 });
    for (const p of ['p1', 'p2', 'p3', 'p4']) {
      s = apply(s, p, { op: 'camera', enabled: true }).state;
      if (p !== 'p4') s = apply(s, 't', { op: 'give-floor', participantId: p }).state;
    }
    s = apply(s, 'engine', { op: 'speaking', participantId: 'p3', speaking: true }).state;
    s = apply(s, 'engine', { op: 'speaking', participantId: 'p4', speaking: true }).state;
    s = apply(s, 'engine', { op: 'speaking', participantId: 'p2', speaking: true }).state;
    // p4 has no floor: not shown; p2 spoke last, then p3.
    expect(mediaOf(s, 't')!.camerasOf).toEqual(['p2', 'p3']);
    expect(mediaOf(s, 'p2')!.camerasOf).toEqual(['p3']);
    expect(mediaOf(s, 'p4')!.send.camera).toBe(false);
    expect(mediaOf(s, 'p1')!.send.camera).toBe(true);
    // A speaking event of someone unknown changes nothing.
    expect(apply(s, 'engine', { op: 'speaking', participantId: 'ghost', speaking: true }).state).toBe(s);
  });

  it('"audio seulement" is the participant’s own choice and always wins over the policy’s level', () => {
    let s = openRoom(1);
    s = apply(s, 'p1', { op: 'audio-only', enabled: true }).state;
    expect(mediaOf(s, 'p1')!.level).toBe('audio-only');
    s = apply(s, 'engine', { op: 'level', participantId: 'p1', level: 'full' }).state;
    expect(mediaOf(s, 'p1')!.level).toBe('audio-only');
    s = apply(s, 'p1', { op: 'audio-only', enabled: false }).state;
    expect(mediaOf(s, 'p1')!.level).toBe('full');
  });

  it('a class over 30 starts in low-bandwidth mode', () => {
    let s = newRoom('big', { ...DEFAULT_ROOM_LIMITS, maxParticipants: 40 }, 35);
    expect(s.lowBandwidth).toBe(true);
    s = apply(s, 't', { op: 'join', role: 'teacher', name: 'Prof' }).state;
    expect(mediaOf(s, 't')!.level).toBe('teacher-low');
  });
});

describe('room state: chat, polls, whiteboard', () => {
  it('chat: bounded history, text limits, teacher can turn pupil chat off', () => {
    let s = openRoom(1, { maxChatMessages: 3, maxChatChars: 10 });
    const r = apply(s, 'p1', { op: 'chat', text: '  bonjour\u0007 ' });
    expect(events(r.effects, 'chat')[0]!.event).toMatchObject({ message: { from: 'p1', name: 'Élève 1', text: 'bonjour' } });
    s = r.state;
    expect(refused(s, 'p1', { op: 'chat', text: '   ' })).toBe('classroom.invalid_command');
    expect(refused(s, 'p1', { op: 'chat', text: 'x'.repeat(11) })).toBe('classroom.text_too_long');
    for (const text of ['a', 'b', 'c']) s = apply(s, 't', { op: 'chat', text }).state;
    expect(s.chat.map((m) => m.text)).toEqual(['a', 'b', 'c']);
    expect(refused(s, 'p1', { op: 'pupil-chat', enabled: false })).toBe('classroom.teacher_only');
    s = apply(s, 't', { op: 'pupil-chat', enabled: false }).state;
    expect(refused(s, 'p1', { op: 'chat', text: 'hop' })).toBe('classroom.chat_disabled');
    expect(apply(s, 't', { op: 'chat', text: 'moi oui' }).state.chat.at(-1)!.text).toBe('moi oui');
  });

  it('polls: single and multiple choice, live results, one answer per person, close', () => {
    let s = openRoom(3);
    expect(refused(s, 'p1', { op: 'poll-create', question: 'Q ?', options: ['a', 'b'], multiple: false })).toBe('classroom.teacher_only');
    expect(refused(s, 't', { op: 'poll-create', question: 'Q ?', options: ['a'], multiple: false })).toBe('classroom.poll_invalid');
    expect(refused(s, 't', { op: 'poll-create', question: 'Q ?', options: ['a', 'a'], multiple: false })).toBe('classroom.poll_invalid');
    expect(refused(s, 't', { op: 'poll-create', question: ' ', options: ['a', 'b'], multiple: false })).toBe('classroom.poll_invalid');
    const created = apply(s, 't', { op: 'poll-create', question: '2 + 2 ?', options: ['3', '4', '5'], multiple: false });
    s = created.state;
    const id = s.polls[0]!.id;
    s = apply(s, 'p1', { op: 'poll-answer', pollId: id, choices: [1] }).state;
    const second = apply(s, 'p2', { op: 'poll-answer', pollId: id, choices: [0] });
    expect(events(second.effects, 'poll')[0]!.event).toMatchObject({ poll: { counts: [1, 1, 0], answered: 2, open: true } });
    s = second.state;
    expect(refused(s, 'p1', { op: 'poll-answer', pollId: id, choices: [2] })).toBe('classroom.poll_answered');
    expect(refused(s, 'p3', { op: 'poll-answer', pollId: id, choices: [0, 1] })).toBe('classroom.poll_invalid');
    expect(refused(s, 'p3', { op: 'poll-answer', pollId: id, choices: [7] })).toBe('classroom.poll_invalid');
    expect(refused(s, 'p3', { op: 'poll-answer', pollId: 'nope', choices: [0] })).toBe('classroom.poll_closed');
    expect(snapshotOf(s, 'p1')!.polls[0]).toMatchObject({ mine: [1], counts: [1, 1, 0] });
    s = apply(s, 't', { op: 'poll-create', question: 'Fruits ?', options: ['pomme', 'poire', 'kiwi'], multiple: true }).state;
    const multi = s.polls[1]!.id;
    s = apply(s, 'p3', { op: 'poll-answer', pollId: multi, choices: [2, 0] }).state;
    expect(s.polls[1]!.answers.p3).toEqual([0, 2]);
    expect(refused(s, 'p1', { op: 'poll-answer', pollId: multi, choices: [1, 1] })).toBe('classroom.poll_invalid');
    s = apply(s, 't', { op: 'poll-close', pollId: id }).state;
    expect(refused(s, 'p3', { op: 'poll-answer', pollId: id, choices: [1] })).toBe('classroom.poll_closed');
  });

  it('whiteboard: teacher and the pupils they allow draw; strokes and points bounded; clear', () => {
    let s = openRoom(2, { maxStrokes: 2, maxStrokePoints: 3 });
    const stroke = { op: 'stroke' as const, color: '#000000', width: 4, points: [0, 0, 100, 100] };
    expect(refused(s, 'p1', stroke)).toBe('classroom.whiteboard_forbidden');
    s = apply(s, 't', stroke).state;
    s = apply(s, 't', { op: 'board-allow', participantId: 'p1', allowed: true }).state;
    expect(refused(s, 'p1', { ...stroke, points: [0, 0, 1, 1, 2, 2, 3, 3] })).toBe('classroom.invalid_command');
    expect(refused(s, 'p1', { ...stroke, points: [0, 0, 1] })).toBe('classroom.invalid_command');
    expect(refused(s, 'p1', { ...stroke, points: [0, 0, 1, 10_001] })).toBe('classroom.invalid_command');
    expect(refused(s, 'p1', { ...stroke, color: 'red' })).toBe('classroom.invalid_command');
    s = apply(s, 'p1', stroke).state;
    expect(refused(s, 'p1', stroke)).toBe('classroom.too_many');
    expect(refused(s, 'p1', { op: 'board-clear' })).toBe('classroom.teacher_only');
    const cleared = apply(s, 't', { op: 'board-clear' });
    expect(cleared.state.strokes).toEqual([]);
    expect(events(cleared.effects, 'board-cleared')).toHaveLength(1);
    s = apply(cleared.state, 't', { op: 'board-allow', participantId: 'p1', allowed: false }).state;
    expect(refused(s, 'p1', stroke)).toBe('classroom.whiteboard_forbidden');
  });
});

describe('room state: bounds', () => {
  it('a snapshot at every bound (chat, strokes, polls, a full room) fits in what the gateway buffers for one client', () => {
    const L = DEFAULT_ROOM_LIMITS;
    let s = openRoom(L.maxParticipants);
    for (let i = 0; i < L.maxChatMessages; i++) s = apply(s, 't', { op: 'chat', text: 'é'.repeat(L.maxChatChars) }).state;
    const points = Array.from({ length: L.maxStrokePoints * 2 }, () => WHITEBOARD_SIZE);
    for (let i = 0; i < L.maxStrokes; i++) s = apply(s, 't', { op: 'stroke', color: '#000000', width: 4, points }).state;
    for (let i = 0; i < L.maxPolls; i++) s = apply(s, 't', { op: 'poll-create', question: 'q'.repeat(L.maxPollQuestionChars - 3) + i, options: Array.from({ length: L.maxPollOptions }, (_, j) => `${j}`.repeat(L.maxPollOptionChars)), multiple: true }).state;
    const bytes = Buffer.byteLength(JSON.stringify({ type: 'classroom', roomId: 'x'.repeat(22), ...snapshotOf(s, 't') }));
    expect(bytes).toBeLessThan(DEFAULT_GATEWAY_LIMITS.maxBufferedBytes);
  });
});

describe('room state: reconnection and attendance', () => {
  it('a drop keeps role, hand, floor and board; a rejoin within the grace restores them with the chat history', () => {
    let s = openRoom(2);
    s = apply(s, 'p1', { op: 'hand', raised: true }).state;
    s = apply(s, 't', { op: 'give-floor', participantId: 'p2' }).state;
    s = apply(s, 't', { op: 'board-allow', participantId: 'p2', allowed: true }).state;
    s = apply(s, 'p1', { op: 'chat', text: 'question' }).state;
    const dropped = apply(s, 'p1', { op: 'disconnect' }, T0 + 10_000);
    expect(dropped.effects).toContainEqual({ kind: 'media-leave', participantId: 'p1' });
    s = apply(dropped.state, 'p2', { op: 'disconnect' }, T0 + 10_000).state;
    expect(refused(s, 'p1', { op: 'chat', text: 'x' })).toBe('classroom.not_joined');
    // Still within the grace: nothing expires.
    s = apply(s, 'system', { op: 'expire' }, T0 + 10_000 + DEFAULT_ROOM_LIMITS.reconnectGraceMs - 1).state;
    const back = apply(s, 'p1', { op: 'join', role: 'pupil', name: 'Élève 1' }, T0 + 30_000);
    expect(back.effects).toContainEqual({ kind: 'snapshot', participantId: 'p1' });
    s = back.state;
    expect(s.hands).toEqual(['p1']);
    expect(snapshotOf(s, 'p1')!.chat.map((m) => m.text)).toEqual(['question']);
    // p2 does not come back in time: their place (floor, board) is freed.
    const expired = apply(s, 'system', { op: 'expire' }, T0 + 10_000 + DEFAULT_ROOM_LIMITS.reconnectGraceMs);
    expect(expired.state.participants.p2).toBeUndefined();
    expect(expired.state.floor).toEqual([]);
    expect(expired.effects).toContainEqual(expect.objectContaining({ kind: 'attendance', participantId: 'p2' }));
  });

  it('attendance counts the seconds in the room (not away), and whether video was received', () => {
    let s = openRoom(1);
    s = apply(s, 'p1', { op: 'audio-only', enabled: true }, T0 + 1_000).state;
    s = apply(s, 'p1', { op: 'disconnect' }, T0 + 60_000).state;
    s = apply(s, 'p1', { op: 'join', role: 'pupil', name: 'Élève 1' }, T0 + 90_000).state;
    const left = apply(s, 'p1', { op: 'leave' }, T0 + 120_000);
    const a = left.effects.find((e) => e.kind === 'attendance');
    // Joined at T0 with video possible (level full before the choice): 60 s + 30 s.
    expect(a).toMatchObject({ participantId: 'p1', attendance: { firstJoinedAt: T0, seconds: 90, withVideo: true, role: 'pupil' } });
    let q = openRoom(0);
    q = apply(q, 'a', { op: 'join', role: 'pupil', name: 'A' }).state;
    q = apply(q, 'engine', { op: 'level', participantId: 'a', level: 'audio-only' }).state;
    q = apply(q, 'a', { op: 'disconnect' }, T0 + 5_000).state;
    q = apply({ ...q, attendance: { ...q.attendance, a: { ...q.attendance.a!, withVideo: false } } }, 'a', { op: 'join', role: 'pupil', name: 'A' }, T0 + 6_000).state;
    const out = apply(q, 'a', { op: 'leave' }, T0 + 8_000).effects.find((e) => e.kind === 'attendance');
    expect(out).toMatchObject({ audioOnly: true, attendance: { seconds: 7 } });
  });

  it('every command of a non-participant is refused; none crashes on unknown targets', () => {
    const s = openRoom(1);
    for (const c of [{ op: 'chat', text: 'x' }, { op: 'hand', raised: true }, { op: 'leave' }, { op: 'open' }] as Command[]) {
      expect(refused(s, 'stranger', c)).toBe('classroom.not_joined');
    }
    expect(refused(s, 't', { op: 'poll-close', pollId: 'zzz' })).toBe('classroom.poll_closed');
    expect(refused(s, 't', { op: 'board-allow', participantId: 'zzz', allowed: true })).toBe('classroom.unknown_participant');
    expect(refused(s, 't', { op: 'refuse', participantId: 'p1' })).toBe('classroom.unknown_participant');
    expect(refused(s, 't', { op: 'nonsense' } as unknown as Command)).toBe('classroom.invalid_command');
  });
});
