import { describe, expect, it } from 'vitest';
import { announcements, applyEvent, emptyRoom, MAX_CHAT_KEPT, maySpeak, type Person, type RoomView } from './room.model.js';

const person = (id: string, role: Person['role'] = 'pupil'): Person => ({ id, name: id.toUpperCase(), role, away: false, audioOnly: false, camera: false, board: false });

function entered(role: Person['role'] = 'pupil'): RoomView {
  return applyEvent(emptyRoom(), {
    event: 'snapshot',
    you: { id: 'me', role, audioOnly: false, camera: false, board: role !== 'pupil', level: 'full' },
    room: { status: 'open', locked: false, pupilChat: true, lowBandwidth: false },
    people: { people: [person('t', 'teacher'), person('me', role), person('p2')], hands: [], floor: [], cameras: [] },
    lobby: [],
    chat: [{ seq: 1, at: 0, from: 't', name: 'T', text: 'bonjour' }],
    polls: [{ id: 'q1', question: '?', options: ['a', 'b'], multiple: false, open: true, counts: [0, 0], answered: 0, mine: null }],
    strokes: [],
  });
}

describe('the room as the browser sees it', () => {
  it('waits in the lobby for the teacher or for admission, then enters with the snapshot', () => {
    expect(applyEvent(emptyRoom(), { event: 'waiting', reason: 'teacher' }).phase).toBe('waiting-teacher');
    expect(applyEvent(emptyRoom(), { event: 'waiting', reason: 'admission' }).phase).toBe('waiting-admission');
    const v = entered();
    expect(v.phase).toBe('in');
    expect(v.people.map((p) => p.id)).toEqual(['t', 'me', 'p2']);
    expect(v.chat).toHaveLength(1);
  });

  it('appends chat (bounded) and strokes, replaces a poll by id and keeps my answer', () => {
    let v = entered();
    for (let i = 2; i < MAX_CHAT_KEPT + 10; i++) v = applyEvent(v, { event: 'chat', message: { seq: i, at: 0, from: 'p2', name: 'P2', text: `m${i}` } });
    expect(v.chat).toHaveLength(MAX_CHAT_KEPT);
    expect(v.chat.at(-1)!.seq).toBe(MAX_CHAT_KEPT + 9);
    v = { ...v, polls: v.polls.map((p) => ({ ...p, mine: [1] })) };
    v = applyEvent(v, { event: 'poll', poll: { id: 'q1', question: '?', options: ['a', 'b'], multiple: false, open: true, counts: [0, 1], answered: 1 } });
    expect(v.polls).toHaveLength(1);
    expect(v.polls[0]!.counts).toEqual([0, 1]);
    expect(v.polls[0]!.mine).toEqual([1]);
    v = applyEvent(v, { event: 'stroke', stroke: { seq: 9, by: 't', color: '#000000', width: 4, points: [0, 0, 10, 10] } });
    expect(v.strokes).toHaveLength(1);
    expect(applyEvent(v, { event: 'board-cleared' }).strokes).toEqual([]);
  });

  it('a pupil may speak only while holding the floor; the change is announced; a teacher hears raised hands', () => {
    const before = entered();
    expect(maySpeak(before)).toBe(false);
    const after = applyEvent(before, { event: 'people', people: before.people, hands: [], floor: ['me'], cameras: [] });
    expect(maySpeak(after)).toBe(true);
    expect(announcements(before, after)).toEqual([{ key: 'floorGiven' }]);
    expect(announcements(after, applyEvent(after, { event: 'people', people: before.people, hands: [], floor: [], cameras: [] }))).toEqual([{ key: 'floorTaken' }]);

    const teacher = entered('teacher');
    expect(maySpeak(teacher)).toBe(true);
    const hand = applyEvent(teacher, { event: 'people', people: teacher.people, hands: ['p2'], floor: [], cameras: [] });
    expect(announcements(teacher, hand)).toEqual([{ key: 'hand', name: 'P2' }]);
    // A pupil does not hear other pupils' hands.
    expect(announcements(before, applyEvent(before, { event: 'people', people: before.people, hands: ['p2'], floor: [], cameras: [] }))).toEqual([]);
  });

  it('announces others’ new chat lines, not my own; level and closing follow the server', () => {
    const v = entered();
    const mine = applyEvent(v, { event: 'chat', message: { seq: 2, at: 0, from: 'me', name: 'ME', text: 'x' } });
    expect(announcements(v, mine)).toEqual([]);
    const theirs = applyEvent(mine, { event: 'chat', message: { seq: 3, at: 0, from: 'p2', name: 'P2', text: 'salut' } });
    expect(announcements(mine, theirs)).toEqual([{ key: 'chat', name: 'P2', text: 'salut' }]);
    expect(applyEvent(v, { event: 'level', level: 'audio-only' }).you!.level).toBe('audio-only');
    expect(applyEvent(v, { event: 'closed' }).phase).toBe('closed');
    expect(applyEvent(v, { event: 'room', status: 'closed', locked: false, pupilChat: true, lowBandwidth: false }).phase).toBe('closed');
    expect(applyEvent(v, { event: 'nonsense' })).toBe(v);
  });
});
