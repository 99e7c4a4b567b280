import type { DegradeLevel, ParticipantMedia } from '../../media/media-engine.js';
import type { ErrorId } from '../../platform/errors.js';

/**
 * The live state of one classe virtuelle as a pure reducer: `reduce(state, command, actorId, now)`
 * → the new state and the effects the runtime applies (media engine calls, events to participants,
 * attendance to persist). Every command is validated here; an invalid one returns an error id and
 * the SAME state object (nothing changed, nothing half-applied), so no client message can corrupt
 * or crash a room. Time comes in as `now` (epoch ms): no clock, no I/O, no randomness (ids of polls
 * come from the state's sequence).
 */

export type Role = 'teacher' | 'co_teacher' | 'pupil' | 'guest';

/** The actor of commands the server itself gives (a teacher's open, lock or close through the HTTP API): allowed those only. */
export const SYSTEM_ACTOR = '~system';
const SYSTEM_OPS: ReadonlySet<string> = new Set(['open', 'close', 'lock', 'admit-all']);
const SYSTEM_PARTICIPANT: Participant = {
  id: SYSTEM_ACTOR, name: 'Préau', role: 'teacher', presence: 'in', awayFrom: null, awaySince: null, audioOnly: false, camera: false, boardAllowed: false, level: 'full',
};

/** Every bound of a room, named. */
export interface RoomLimits {
  /** Participants at most (teachers are always let in beyond it: a class never locks its teacher out). */
  maxParticipants: number;
  /** Chat messages kept (a rejoin gets them back); older ones drop off. */
  maxChatMessages: number;
  maxChatChars: number;
  /** Polls per room (open or closed), options per poll, and their text. */
  maxPolls: number;
  maxPollOptions: number;
  maxPollQuestionChars: number;
  maxPollOptionChars: number;
  /** Whiteboard strokes kept, points per stroke; coordinates are integers in 0..WHITEBOARD_SIZE. */
  maxStrokes: number;
  maxStrokePoints: number;
  /** Pupils who hold the floor at once. */
  maxFloor: number;
  /** Pupil cameras forwarded: the last active speakers among the pupils who turned theirs on. */
  maxPupilCameras: number;
  /** A participant whose socket dropped keeps their place (role, hand, floor) this long. */
  reconnectGraceMs: number;
  maxNameChars: number;
}

export const DEFAULT_ROOM_LIMITS: RoomLimits = {
  maxParticipants: 40,
  // A snapshot at every bound (chat, strokes) stays well under the gateway's buffered bytes per client (room.state.test.ts checks it).
  maxChatMessages: 100,
  maxChatChars: 500,
  maxPolls: 20,
  maxPollOptions: 8,
  maxPollQuestionChars: 200,
  maxPollOptionChars: 100,
  maxStrokes: 150,
  maxStrokePoints: 64,
  maxFloor: 3,
  maxPupilCameras: 4,
  // Longer than an ICE restart (10 s, the engine's business): a page reload or a phone switching networks.
  reconnectGraceMs: 60_000,
  maxNameChars: 80,
};

/** Whiteboard coordinates are integers in 0..WHITEBOARD_SIZE on both axes (the client scales). */
export const WHITEBOARD_SIZE = 10_000;
export const WHITEBOARD_COLORS = ['#000000', '#d62828', '#1d4ed8', '#15803d', '#f59e0b', '#ffffff'] as const;
export const WHITEBOARD_WIDTHS = [2, 4, 8, 16] as const;

export interface Participant {
  id: string;
  name: string;
  role: Role;
  /** `lobby`: waiting to be let in; `in`: in the room; `away`: socket dropped, place kept until the grace ends. */
  presence: 'lobby' | 'in' | 'away';
  /** Where an away participant was (a rejoin puts them back there). */
  awayFrom: 'lobby' | 'in' | null;
  awaySince: number | null;
  audioOnly: boolean;
  /** The participant turned their camera on (pupils: forwarded only while they hold the floor and are among the last speakers). */
  camera: boolean;
  boardAllowed: boolean;
  /** The rung of the degradation ladder this participant receives at (set by the degradation policy). */
  level: DegradeLevel;
}

export interface ChatMessage {
  seq: number;
  at: number;
  from: string;
  name: string;
  text: string;
}

export interface Poll {
  id: string;
  question: string;
  options: readonly string[];
  multiple: boolean;
  open: boolean;
  /** Participant id → chosen option indexes (one answer per person). */
  answers: Readonly<Record<string, readonly number[]>>;
}

export interface Stroke {
  seq: number;
  by: string;
  color: string;
  width: number;
  /** Flat x,y pairs. */
  points: readonly number[];
}

export interface Attendance {
  role: Role;
  firstJoinedAt: number;
  /** Start of the current stretch in the room (null: not in now). */
  since: number | null;
  seconds: number;
  /** Received more than audio at some point (camera or screen), or only audio. */
  withVideo: boolean;
}

export interface RoomState {
  id: string;
  status: 'waiting' | 'open' | 'closed';
  locked: boolean;
  pupilChat: boolean;
  /** Classes over LOW_BANDWIDTH_ABOVE participants start in low-bandwidth mode. */
  lowBandwidth: boolean;
  limits: RoomLimits;
  participants: Readonly<Record<string, Participant>>;
  /** Arrival order of who waits in the lobby. */
  lobby: readonly string[];
  /** Raised hands, first raised first. */
  hands: readonly string[];
  /** Pupils (or guests) who may speak. */
  floor: readonly string[];
  /** Last active speakers, most recent first (bounded). */
  speakers: readonly string[];
  chat: readonly ChatMessage[];
  polls: readonly Poll[];
  strokes: readonly Stroke[];
  /** Monotonic sequence for chat messages, strokes and poll ids. */
  seq: number;
  attendance: Readonly<Record<string, Attendance>>;
}

export const LOW_BANDWIDTH_ABOVE = 30;

/** `loaded`: the node is already short when the room opens (the degradation policy's ceiling is below `full`): start low too. */
export function newRoom(id: string, limits: RoomLimits, expectedParticipants: number, loaded = false): RoomState {
  return {
    id, status: 'waiting', locked: false, pupilChat: true, lowBandwidth: loaded || expectedParticipants > LOW_BANDWIDTH_ABOVE, limits,
    participants: {}, lobby: [], hands: [], floor: [], speakers: [], chat: [], polls: [], strokes: [], seq: 0, attendance: {},
  };
}

export type Command =
  /** The actor joins (or rejoins after a drop) with the role and name the service decided. */
  | { op: 'join'; role: Role; name: string }
  | { op: 'leave' }
  /** System: the actor's socket dropped. */
  | { op: 'disconnect' }
  /** System: ends the places of those away longer than the grace. */
  | { op: 'expire' }
  | { op: 'open' }
  | { op: 'close' }
  | { op: 'lock'; locked: boolean }
  | { op: 'admit'; participantId: string }
  | { op: 'admit-all' }
  | { op: 'refuse'; participantId: string }
  | { op: 'hand'; raised: boolean }
  | { op: 'lower-hand'; participantId: string }
  | { op: 'give-floor'; participantId: string }
  | { op: 'take-floor'; participantId: string }
  | { op: 'mute-all' }
  | { op: 'chat'; text: string }
  | { op: 'pupil-chat'; enabled: boolean }
  | { op: 'poll-create'; question: string; options: string[]; multiple: boolean }
  | { op: 'poll-answer'; pollId: string; choices: number[] }
  | { op: 'poll-close'; pollId: string }
  | { op: 'stroke'; color: string; width: number; points: number[] }
  | { op: 'board-clear' }
  | { op: 'board-allow'; participantId: string; allowed: boolean }
  | { op: 'audio-only'; enabled: boolean }
  | { op: 'camera'; enabled: boolean }
  /** System (engine events): active speaker, tracks published, and the rung chosen by the degradation policy. */
  | { op: 'speaking'; participantId: string; speaking: boolean }
  | { op: 'tracks'; participantId: string; camera: boolean; screen: boolean }
  | { op: 'level'; participantId: string; level: DegradeLevel };

/** Where an event goes: every participant in the room, its teachers, or one participant (in the room or the lobby). */
export type Audience = { to: 'all' } | { to: 'teachers' } | { to: 'one'; id: string };

export type RoomEvent =
  | { event: 'room'; status: RoomState['status']; locked: boolean; pupilChat: boolean; lowBandwidth: boolean }
  | { event: 'people'; people: PersonView[]; hands: string[]; floor: string[]; cameras: string[] }
  | { event: 'lobby'; waiting: { id: string; name: string; role: Role }[] }
  /** To a participant in the lobby: what they wait for. */
  | { event: 'waiting'; reason: 'teacher' | 'admission' }
  | { event: 'refused' }
  | { event: 'closed' }
  | { event: 'chat'; message: ChatMessage }
  | { event: 'poll'; poll: PollView }
  | { event: 'stroke'; stroke: Stroke }
  | { event: 'board-cleared' }
  | { event: 'level'; level: DegradeLevel };

export type Effect =
  | { kind: 'event'; audience: Audience; event: RoomEvent }
  /** The full state as this participant may see it (on entering the room, and on a rejoin). */
  | { kind: 'snapshot'; participantId: string }
  | { kind: 'media-join'; participantId: string }
  | { kind: 'media-leave'; participantId: string }
  /** Send rights, cameras or levels may have changed: the runtime sends each participant's `mediaOf` where it differs from the last sent. */
  | { kind: 'media-sync' }
  | { kind: 'attendance'; participantId: string; attendance: Attendance; audioOnly: boolean }
  | { kind: 'room-closed' };

export type Result = { ok: true; state: RoomState; effects: Effect[] } | { ok: false; error: ErrorId; params?: Record<string, string | number> };

export interface PersonView {
  id: string;
  name: string;
  role: Role;
  away: boolean;
  audioOnly: boolean;
  camera: boolean;
  board: boolean;
}

export interface PollView {
  id: string;
  question: string;
  options: readonly string[];
  multiple: boolean;
  open: boolean;
  /** Live results: how many chose each option, and how many answered. */
  counts: number[];
  answered: number;
}

const fail = (error: ErrorId, params?: Record<string, string | number>): Result => (params ? { ok: false, error, params } : { ok: false, error });
const invalid = (reason: string): Result => fail('classroom.invalid_command', { reason });

export const isTeacher = (p: Participant | undefined): boolean => p !== undefined && (p.role === 'teacher' || p.role === 'co_teacher');
const without = (list: readonly string[], id: string): string[] => list.filter((x) => x !== id);
/** Control characters out, spaces folded at the ends: what a chat line or a poll text may hold. */
const cleanText = (text: string): string => text.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '').trim();

/** Who is counted against the room's cap: everyone but its teachers. */
function counted(state: RoomState): number {
  return Object.values(state.participants).filter((p) => !isTeacher(p)).length;
}

/** Pupil cameras forwarded now: pupils holding the floor with their camera on, last speakers first, capped. */
export function camerasShown(state: RoomState): string[] {
  const eligible = (id: string) => {
    const p = state.participants[id];
    return p !== undefined && p.presence === 'in' && !isTeacher(p) && p.camera && state.floor.includes(id);
  };
  const bySpeech = state.speakers.filter(eligible);
  const rest = state.floor.filter((id) => eligible(id) && !bySpeech.includes(id));
  return [...bySpeech, ...rest].slice(0, state.limits.maxPupilCameras);
}

/** What the media engine should do for this participant now (pure; the runtime diffs it against what it last sent). */
export function mediaOf(state: RoomState, id: string): ParticipantMedia | undefined {
  const p = state.participants[id];
  if (!p || p.presence !== 'in') return undefined;
  const teacher = isTeacher(p);
  const floor = state.floor.includes(id);
  return {
    role: teacher ? 'teacher' : 'pupil',
    send: { audio: teacher || floor, camera: teacher || (floor && p.camera), screen: teacher },
    camerasOf: camerasShown(state).filter((c) => c !== id),
    level: p.audioOnly ? 'audio-only' : p.level,
  };
}

function peopleEvent(state: RoomState): RoomEvent {
  const people = Object.values(state.participants)
    .filter((p) => p.presence === 'in' || (p.presence === 'away' && p.awayFrom === 'in'))
    .map((p) => ({ id: p.id, name: p.name, role: p.role, away: p.presence === 'away', audioOnly: p.audioOnly, camera: p.camera, board: isTeacher(p) || p.boardAllowed }));
  return { event: 'people', people, hands: [...state.hands], floor: [...state.floor], cameras: camerasShown(state) };
}

function roomEvent(state: RoomState): RoomEvent {
  return { event: 'room', status: state.status, locked: state.locked, pupilChat: state.pupilChat, lowBandwidth: state.lowBandwidth };
}

function lobbyEvent(state: RoomState): RoomEvent {
  return { event: 'lobby', waiting: state.lobby.map((id) => state.participants[id]!).map((p) => ({ id: p.id, name: p.name, role: p.role })) };
}

export function pollView(poll: Poll): PollView {
  const counts = poll.options.map(() => 0);
  const answers = Object.values(poll.answers);
  for (const choices of answers) for (const c of choices) counts[c] = (counts[c] ?? 0) + 1;
  return { id: poll.id, question: poll.question, options: poll.options, multiple: poll.multiple, open: poll.open, counts, answered: answers.length };
}

/** Everything a participant in the room may see: sent on entering and on a rejoin (chat history included). */
export function snapshotOf(state: RoomState, id: string) {
  const p = state.participants[id];
  if (!p) return undefined;
  const teacher = isTeacher(p);
  const people = peopleEvent(state);
  return {
    event: 'snapshot' as const,
    you: { id: p.id, role: p.role, audioOnly: p.audioOnly, camera: p.camera, board: teacher || p.boardAllowed, level: p.level },
    room: roomEvent(state),
    people: people.event === 'people' ? { people: people.people, hands: people.hands, floor: people.floor, cameras: people.cameras } : undefined,
    lobby: teacher ? state.lobby.map((x) => ({ id: x, name: state.participants[x]!.name, role: state.participants[x]!.role })) : [],
    chat: state.chat,
    polls: state.polls.map((poll) => ({ ...pollView(poll), mine: poll.answers[id] ?? null })),
    strokes: state.strokes,
  };
}

function startStretch(state: RoomState, id: string, now: number): Readonly<Record<string, Attendance>> {
  const p = state.participants[id]!;
  const a = state.attendance[id];
  const withVideo = !p.audioOnly && p.level !== 'audio-only';
  if (!a) return { ...state.attendance, [id]: { role: p.role, firstJoinedAt: now, since: now, seconds: 0, withVideo } };
  if (a.since !== null) return state.attendance;
  return { ...state.attendance, [id]: { ...a, since: now, withVideo: a.withVideo || withVideo } };
}

function endStretch(state: RoomState, id: string, now: number): Readonly<Record<string, Attendance>> {
  const a = state.attendance[id];
  if (!a || a.since === null) return state.attendance;
  return { ...state.attendance, [id]: { ...a, since: null, seconds: a.seconds + Math.max(0, Math.round((now - a.since) / 1000)) } };
}

function attendanceEffect(state: RoomState, id: string): Effect[] {
  const a = state.attendance[id];
  return a ? [{ kind: 'attendance', participantId: id, attendance: a, audioOnly: !a.withVideo }] : [];
}

/** Lets lobby participants in (on open, unlock or admission): they get the snapshot and their media starts. */
function admit(state: RoomState, ids: readonly string[], now: number): { state: RoomState; effects: Effect[] } {
  let s = state;
  const effects: Effect[] = [];
  for (const id of ids) {
    const p = s.participants[id];
    if (!p || p.presence !== 'lobby') continue;
    s = { ...s, participants: { ...s.participants, [id]: { ...p, presence: 'in' } }, lobby: without(s.lobby, id) };
    s = { ...s, attendance: startStretch(s, id, now) };
    effects.push({ kind: 'snapshot', participantId: id }, { kind: 'media-join', participantId: id });
  }
  if (effects.length > 0) effects.push({ kind: 'event', audience: { to: 'all' }, event: peopleEvent(s) }, { kind: 'event', audience: { to: 'teachers' }, event: lobbyEvent(s) });
  return { state: s, effects };
}

/** Takes a participant out of the room (leave, refused, grace over, close): hand, floor, camera, board and lobby place go with them. */
function remove(state: RoomState, id: string, now: number): { state: RoomState; effects: Effect[] } {
  const p = state.participants[id];
  if (!p) return { state, effects: [] };
  const wasIn = p.presence === 'in';
  let s: RoomState = { ...state, attendance: endStretch(state, id, now) };
  const effects: Effect[] = [...attendanceEffect(s, id)];
  const participants = { ...s.participants };
  delete participants[id];
  s = { ...s, participants, lobby: without(s.lobby, id), hands: without(s.hands, id), floor: without(s.floor, id), speakers: without(s.speakers, id) };
  if (wasIn) effects.push({ kind: 'media-leave', participantId: id });
  return { state: s, effects };
}

function others(state: RoomState): Effect[] {
  return [{ kind: 'event', audience: { to: 'all' }, event: peopleEvent(state) }, { kind: 'event', audience: { to: 'teachers' }, event: lobbyEvent(state) }, { kind: 'media-sync' }];
}

const ok = (state: RoomState, effects: Effect[]): Result => ({ ok: true, state, effects });

/** Applies one command of `actorId` at `now`. Errors leave the state untouched (the same object is kept by the caller). */
export function reduce(state: RoomState, command: Command, actorId: string, now: number): Result {
  if (actorId === SYSTEM_ACTOR && !SYSTEM_OPS.has(command.op)) return invalid('commande réservée aux participants');
  const actor = actorId === SYSTEM_ACTOR ? SYSTEM_PARTICIPANT : state.participants[actorId];
  const L = state.limits;

  // Commands that do not need the actor in the room.
  switch (command.op) {
    case 'join':
      return join(state, command, actorId, now);
    case 'expire': {
      let s = state;
      const effects: Effect[] = [];
      for (const p of Object.values(state.participants)) {
        if (p.presence === 'away' && p.awaySince !== null && now - p.awaySince >= L.reconnectGraceMs) {
          const r = remove(s, p.id, now);
          s = r.state;
          effects.push(...r.effects);
        }
      }
      if (s === state) return ok(state, []);
      return ok(s, [...effects, ...others(s)]);
    }
    case 'speaking': {
      const p = state.participants[command.participantId];
      if (!p || p.presence !== 'in' || !command.speaking) return ok(state, []);
      if (state.speakers[0] === p.id) return ok(state, []);
      const speakers = [p.id, ...without(state.speakers, p.id)].slice(0, Math.max(L.maxPupilCameras * 2, 8));
      const s = { ...state, speakers };
      const before = camerasShown(state).join();
      return ok(s, camerasShown(s).join() === before ? [] : [{ kind: 'event', audience: { to: 'all' }, event: peopleEvent(s) }, { kind: 'media-sync' }]);
    }
    case 'tracks': {
      const a = state.attendance[command.participantId];
      if (!a || a.withVideo || !(command.camera || command.screen)) return ok(state, []);
      return ok({ ...state, attendance: { ...state.attendance, [command.participantId]: { ...a, withVideo: true } } }, []);
    }
    case 'level': {
      const p = state.participants[command.participantId];
      if (!p || p.level === command.level) return ok(state, []);
      const s: RoomState = { ...state, participants: { ...state.participants, [p.id]: { ...p, level: command.level } } };
      const a = s.attendance[p.id];
      const video = command.level !== 'audio-only' && !p.audioOnly && p.presence === 'in';
      const attendance = a && video && !a.withVideo ? { ...s.attendance, [p.id]: { ...a, withVideo: true } } : s.attendance;
      return ok({ ...s, attendance }, [{ kind: 'event', audience: { to: 'one', id: p.id }, event: { event: 'level', level: command.level } }, { kind: 'media-sync' }]);
    }
    default:
      break;
  }

  if (!actor) return fail('classroom.not_joined');
  if (command.op === 'disconnect') {
    if (actor.presence === 'away') return ok(state, []);
    const s: RoomState = {
      ...state, attendance: endStretch(state, actorId, now),
      participants: { ...state.participants, [actorId]: { ...actor, presence: 'away', awayFrom: actor.presence, awaySince: now } },
      lobby: without(state.lobby, actorId),
    };
    return ok(s, [...(actor.presence === 'in' ? [{ kind: 'media-leave' as const, participantId: actorId }] : []), ...others(s)]);
  }
  if (command.op === 'leave') {
    const r = remove(state, actorId, now);
    return ok(r.state, [...r.effects, ...others(r.state)]);
  }
  if (actor.presence === 'away') return fail('classroom.not_joined');
  if (actor.presence === 'lobby') return fail(state.status === 'waiting' ? 'classroom.not_open' : 'classroom.locked');
  if (state.status === 'closed') return fail('classroom.closed');
  const teacher = isTeacher(actor);
  const teacherOnly = (): Result | undefined => (teacher ? undefined : fail('classroom.teacher_only'));
  const target = (id: string, presence: 'in' | 'lobby' = 'in'): Participant | undefined => {
    const p = state.participants[id];
    return p && p.presence === presence ? p : undefined;
  };

  switch (command.op) {
    case 'open': {
      const denied = teacherOnly();
      if (denied) return denied;
      if (state.status === 'open') return ok(state, []);
      let s: RoomState = { ...state, status: 'open' };
      const r = state.locked ? { state: s, effects: [] } : admit(s, s.lobby, now);
      s = r.state;
      const stillWaiting = s.lobby.map((id): Effect => ({ kind: 'event', audience: { to: 'one', id }, event: { event: 'waiting', reason: 'admission' } }));
      return ok(s, [{ kind: 'event', audience: { to: 'all' }, event: roomEvent(s) }, ...r.effects, ...stillWaiting, ...others(s)]);
    }
    case 'close': {
      const denied = teacherOnly();
      if (denied) return denied;
      let s: RoomState = { ...state, status: 'closed' };
      const effects: Effect[] = [];
      const everyone = Object.keys(s.participants);
      for (const id of everyone) effects.push({ kind: 'event', audience: { to: 'one', id }, event: { event: 'closed' } });
      for (const id of everyone) {
        const r = remove(s, id, now);
        s = r.state;
        effects.push(...r.effects);
      }
      return ok(s, [...effects, { kind: 'room-closed' }]);
    }
    case 'lock': {
      const denied = teacherOnly();
      if (denied) return denied;
      if (state.locked === command.locked) return ok(state, []);
      let s: RoomState = { ...state, locked: command.locked };
      const r = !command.locked && s.status === 'open' ? admit(s, s.lobby, now) : { state: s, effects: [] };
      s = r.state;
      return ok(s, [{ kind: 'event', audience: { to: 'all' }, event: roomEvent(s) }, ...r.effects]);
    }
    case 'admit':
    case 'admit-all': {
      const denied = teacherOnly();
      if (denied) return denied;
      if (state.status !== 'open') return fail('classroom.not_open');
      const ids = command.op === 'admit-all' ? state.lobby : [command.participantId];
      if (command.op === 'admit' && !target(command.participantId, 'lobby')) return fail('classroom.unknown_participant');
      const r = admit(state, ids, now);
      return ok(r.state, [...r.effects, { kind: 'media-sync' }]);
    }
    case 'refuse': {
      const denied = teacherOnly();
      if (denied) return denied;
      if (!target(command.participantId, 'lobby')) return fail('classroom.unknown_participant');
      const r = remove(state, command.participantId, now);
      return ok(r.state, [{ kind: 'event', audience: { to: 'one', id: command.participantId }, event: { event: 'refused' } }, ...r.effects, { kind: 'event', audience: { to: 'teachers' }, event: lobbyEvent(r.state) }]);
    }
    case 'hand': {
      if (teacher) return invalid('un professeur ne lève pas la main');
      const raised = state.hands.includes(actorId);
      if (raised === command.raised) return ok(state, []);
      const s = { ...state, hands: command.raised ? [...state.hands, actorId] : without(state.hands, actorId) };
      return ok(s, [{ kind: 'event', audience: { to: 'all' }, event: peopleEvent(s) }]);
    }
    case 'lower-hand': {
      const denied = teacherOnly();
      if (denied) return denied;
      if (!state.hands.includes(command.participantId)) return ok(state, []);
      const s = { ...state, hands: without(state.hands, command.participantId) };
      return ok(s, [{ kind: 'event', audience: { to: 'all' }, event: peopleEvent(s) }]);
    }
    case 'give-floor': {
      const denied = teacherOnly();
      if (denied) return denied;
      const p = target(command.participantId);
      if (!p) return fail('classroom.unknown_participant');
      if (isTeacher(p)) return invalid('un professeur a toujours la parole');
      if (state.floor.includes(p.id)) return ok(state, []);
      if (state.floor.length >= L.maxFloor) return fail('classroom.too_many', { max: L.maxFloor });
      const s = { ...state, floor: [...state.floor, p.id], hands: without(state.hands, p.id) };
      return ok(s, [{ kind: 'event', audience: { to: 'all' }, event: peopleEvent(s) }, { kind: 'media-sync' }]);
    }
    case 'take-floor': {
      const denied = teacherOnly();
      if (denied) return denied;
      if (!state.floor.includes(command.participantId)) return ok(state, []);
      const s = { ...state, floor: without(state.floor, command.participantId) };
      return ok(s, [{ kind: 'event', audience: { to: 'all' }, event: peopleEvent(s) }, { kind: 'media-sync' }]);
    }
    case 'mute-all': {
      const denied = teacherOnly();
      if (denied) return denied;
      if (state.floor.length === 0) return ok(state, []);
      const s = { ...state, floor: [] };
      return ok(s, [{ kind: 'event', audience: { to: 'all' }, event: peopleEvent(s) }, { kind: 'media-sync' }]);
    }
    case 'chat': {
      if (!teacher && !state.pupilChat) return fail('classroom.chat_disabled');
      const text = cleanText(command.text);
      if (text.length === 0) return invalid('message vide');
      if (text.length > L.maxChatChars) return fail('classroom.text_too_long', { max: L.maxChatChars });
      const message: ChatMessage = { seq: state.seq + 1, at: now, from: actorId, name: actor.name, text };
      const s = { ...state, seq: message.seq, chat: [...state.chat, message].slice(-L.maxChatMessages) };
      return ok(s, [{ kind: 'event', audience: { to: 'all' }, event: { event: 'chat', message } }]);
    }
    case 'pupil-chat': {
      const denied = teacherOnly();
      if (denied) return denied;
      if (state.pupilChat === command.enabled) return ok(state, []);
      const s = { ...state, pupilChat: command.enabled };
      return ok(s, [{ kind: 'event', audience: { to: 'all' }, event: roomEvent(s) }]);
    }
    case 'poll-create': {
      const denied = teacherOnly();
      if (denied) return denied;
      if (state.polls.length >= L.maxPolls) return fail('classroom.too_many', { max: L.maxPolls });
      const question = cleanText(command.question);
      const options = command.options.map(cleanText);
      if (question.length === 0 || question.length > L.maxPollQuestionChars) return fail('classroom.poll_invalid', { reason: `une question de 1 à ${L.maxPollQuestionChars} caractères` });
      if (options.length < 2 || options.length > L.maxPollOptions) return fail('classroom.poll_invalid', { reason: `de 2 à ${L.maxPollOptions} choix` });
      if (options.some((o) => o.length === 0 || o.length > L.maxPollOptionChars)) return fail('classroom.poll_invalid', { reason: `des choix de 1 à ${L.maxPollOptionChars} caractères` });
      if (new Set(options).size !== options.length) return fail('classroom.poll_invalid', { reason: 'deux choix identiques' });
      const poll: Poll = { id: `p${state.seq + 1}`, question, options, multiple: command.multiple, open: true, answers: {} };
      const s = { ...state, seq: state.seq + 1, polls: [...state.polls, poll] };
      return ok(s, [{ kind: 'event', audience: { to: 'all' }, event: { event: 'poll', poll: pollView(poll) } }]);
    }
    case 'poll-answer': {
      const i = state.polls.findIndex((x) => x.id === command.pollId);
      const poll = state.polls[i];
      if (!poll || !poll.open) return fail('classroom.poll_closed');
      if (teacher) return invalid('les professeurs ne répondent pas aux sondages');
      if (poll.answers[actorId]) return fail('classroom.poll_answered');
      const choices = [...new Set(command.choices)].sort((a, b) => a - b);
      if (choices.length !== command.choices.length || choices.length === 0 || choices.some((c) => !Number.isInteger(c) || c < 0 || c >= poll.options.length)) {
        return fail('classroom.poll_invalid', { reason: 'choix inconnu ou répété' });
      }
      if (!poll.multiple && choices.length !== 1) return fail('classroom.poll_invalid', { reason: 'un seul choix' });
      const answered: Poll = { ...poll, answers: { ...poll.answers, [actorId]: choices } };
      const polls = state.polls.map((x, j) => (j === i ? answered : x));
      return ok({ ...state, polls }, [{ kind: 'event', audience: { to: 'all' }, event: { event: 'poll', poll: pollView(answered) } }]);
    }
    case 'poll-close': {
      const denied = teacherOnly();
      if (denied) return denied;
      const poll = state.polls.find((x) => x.id === command.pollId);
      if (!poll || !poll.open) return fail('classroom.poll_closed');
      const closed: Poll = { ...poll, open: false };
      return ok({ ...state, polls: state.polls.map((x) => (x.id === poll.id ? closed : x)) }, [{ kind: 'event', audience: { to: 'all' }, event: { event: 'poll', poll: pollView(closed) } }]);
    }
    case 'stroke': {
      if (!teacher && !actor.boardAllowed) return fail('classroom.whiteboard_forbidden');
      if (state.strokes.length >= L.maxStrokes) return fail('classroom.too_many', { max: L.maxStrokes });
      const pts = command.points;
      if (pts.length < 2 || pts.length % 2 !== 0 || pts.length > 2 * L.maxStrokePoints) return invalid(`un trait de 1 à ${L.maxStrokePoints} points`);
      if (pts.some((v) => !Number.isInteger(v) || v < 0 || v > WHITEBOARD_SIZE)) return invalid(`des coordonnées entières de 0 à ${WHITEBOARD_SIZE}`);
      if (!(WHITEBOARD_COLORS as readonly string[]).includes(command.color) || !(WHITEBOARD_WIDTHS as readonly number[]).includes(command.width)) return invalid('couleur ou épaisseur inconnue');
      const stroke: Stroke = { seq: state.seq + 1, by: actorId, color: command.color, width: command.width, points: [...pts] };
      return ok({ ...state, seq: stroke.seq, strokes: [...state.strokes, stroke] }, [{ kind: 'event', audience: { to: 'all' }, event: { event: 'stroke', stroke } }]);
    }
    case 'board-clear': {
      const denied = teacherOnly();
      if (denied) return denied;
      if (state.strokes.length === 0) return ok(state, []);
      return ok({ ...state, strokes: [] }, [{ kind: 'event', audience: { to: 'all' }, event: { event: 'board-cleared' } }]);
    }
    case 'board-allow': {
      const denied = teacherOnly();
      if (denied) return denied;
      const p = target(command.participantId);
      if (!p) return fail('classroom.unknown_participant');
      if (isTeacher(p) || p.boardAllowed === command.allowed) return ok(state, []);
      const s = { ...state, participants: { ...state.participants, [p.id]: { ...p, boardAllowed: command.allowed } } };
      return ok(s, [{ kind: 'event', audience: { to: 'all' }, event: peopleEvent(s) }]);
    }
    case 'audio-only':
    case 'camera': {
      const key = command.op === 'audio-only' ? 'audioOnly' : 'camera';
      if (actor[key] === command.enabled) return ok(state, []);
      const s = { ...state, participants: { ...state.participants, [actorId]: { ...actor, [key]: command.enabled } } };
      return ok(s, [{ kind: 'event', audience: { to: 'all' }, event: peopleEvent(s) }, { kind: 'media-sync' }]);
    }
  }
  return invalid('commande inconnue');
}

function join(state: RoomState, command: { role: Role; name: string }, actorId: string, now: number): Result {
  if (state.status === 'closed') return fail('classroom.closed');
  const L = state.limits;
  const name = cleanText(command.name).slice(0, L.maxNameChars) || '?';
  const existing = state.participants[actorId];
  const teacher = command.role === 'teacher' || command.role === 'co_teacher';
  if (existing) {
    // A rejoin (new page, new socket) within the grace: back where they were, hand, floor and board kept.
    const back = existing.presence === 'away' ? (existing.awayFrom ?? 'in') : existing.presence;
    const presence = back === 'lobby' && (teacher || (state.status === 'open' && !state.locked)) ? 'in' : back;
    let s: RoomState = { ...state, participants: { ...state.participants, [actorId]: { ...existing, presence, awayFrom: null, awaySince: null, role: command.role } } };
    if (presence === 'lobby') {
      s = { ...s, lobby: s.lobby.includes(actorId) ? s.lobby : [...s.lobby, actorId] };
      return ok(s, [{ kind: 'event', audience: { to: 'one', id: actorId }, event: { event: 'waiting', reason: state.status === 'waiting' ? 'teacher' : 'admission' } }, ...others(s)]);
    }
    s = { ...s, attendance: startStretch(s, actorId, now) };
    return ok(s, [{ kind: 'snapshot', participantId: actorId }, { kind: 'media-join', participantId: actorId }, ...others(s)]);
  }
  if (!teacher && counted(state) >= L.maxParticipants) return fail('classroom.room_full', { max: L.maxParticipants });
  const toLobby = !teacher && (state.status !== 'open' || state.locked);
  const p: Participant = {
    id: actorId, name, role: command.role, presence: toLobby ? 'lobby' : 'in', awayFrom: null, awaySince: null, audioOnly: false, camera: false, boardAllowed: false,
    level: state.lowBandwidth ? 'teacher-low' : 'full',
  };
  let s: RoomState = { ...state, participants: { ...state.participants, [actorId]: p } };
  if (toLobby) {
    s = { ...s, lobby: [...s.lobby, actorId] };
    return ok(s, [{ kind: 'event', audience: { to: 'one', id: actorId }, event: { event: 'waiting', reason: state.status === 'waiting' ? 'teacher' : 'admission' } }, { kind: 'event', audience: { to: 'teachers' }, event: lobbyEvent(s) }]);
  }
  s = { ...s, attendance: startStretch(s, actorId, now) };
  return ok(s, [{ kind: 'snapshot', participantId: actorId }, { kind: 'media-join', participantId: actorId }, ...others(s)]);
}
