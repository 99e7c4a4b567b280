/**
 * The room as this browser sees it, built from the server's events (docs/CLASSE-VIRTUELLE.md, "the
 * wire protocol"): a pure reducer, so its rules are unit-tested without a socket. Replace
 * `people`/`room`/`lobby`, append `chat`/`stroke`, replace a poll by id; `snapshot` resets it all (a
 * rejoin after a drop brings role, hand, floor, board and chat back).
 */
export type Role = 'teacher' | 'co_teacher' | 'pupil' | 'guest';
export type Level = 'full' | 'no-pupil-video' | 'teacher-low' | 'screen-only' | 'audio-only';

export interface Person {
  id: string;
  name: string;
  role: Role;
  away: boolean;
  audioOnly: boolean;
  camera: boolean;
  board: boolean;
}
export interface ChatLine {
  seq: number;
  at: number;
  from: string;
  name: string;
  text: string;
}
export interface PollView {
  id: string;
  question: string;
  options: string[];
  multiple: boolean;
  open: boolean;
  counts: number[];
  answered: number;
  /** My answer (null: not answered); kept across poll updates that do not carry it. */
  mine: number[] | null;
}
export interface Stroke {
  seq: number;
  by: string;
  color: string;
  width: number;
  points: number[];
}
export interface RoomFlags {
  status: 'waiting' | 'open' | 'closed';
  locked: boolean;
  pupilChat: boolean;
  lowBandwidth: boolean;
}

/** Where this browser is with the room. */
export type Phase = 'connecting' | 'waiting-teacher' | 'waiting-admission' | 'in' | 'refused' | 'closed';

export interface RoomView {
  phase: Phase;
  you: { id: string; role: Role; audioOnly: boolean; camera: boolean; board: boolean; level: Level } | undefined;
  room: RoomFlags | undefined;
  people: Person[];
  hands: string[];
  floor: string[];
  cameras: string[];
  lobby: { id: string; name: string; role: Role }[];
  chat: ChatLine[];
  polls: PollView[];
  strokes: Stroke[];
}

/** What the client keeps at most (the server bounds its own history; a long class must not grow the page without end). */
export const MAX_CHAT_KEPT = 200;
export const MAX_STROKES_KEPT = 2_000;

export const emptyRoom = (): RoomView => ({ phase: 'connecting', you: undefined, room: undefined, people: [], hands: [], floor: [], cameras: [], lobby: [], chat: [], polls: [], strokes: [] });

export const isTeacherRole = (role: Role | undefined): boolean => role === 'teacher' || role === 'co_teacher';

/** A server event (already known to be `type: 'classroom'` for this room). Unknown events change nothing. */
export interface RoomEventMessage {
  event: string;
  [key: string]: unknown;
}

type PeopleFields = { people: Person[]; hands: string[]; floor: string[]; cameras: string[] };

export function applyEvent(view: RoomView, msg: RoomEventMessage): RoomView {
  switch (msg.event) {
    case 'waiting':
      return { ...view, phase: msg.reason === 'admission' ? 'waiting-admission' : 'waiting-teacher' };
    case 'snapshot': {
      const people = (msg.people as PeopleFields | undefined) ?? { people: [], hands: [], floor: [], cameras: [] };
      const polls = ((msg.polls as PollView[] | undefined) ?? []).map((p) => ({ ...p, mine: p.mine ?? null }));
      return {
        phase: 'in',
        you: msg.you as RoomView['you'],
        room: msg.room as RoomFlags,
        ...people,
        lobby: (msg.lobby as RoomView['lobby'] | undefined) ?? [],
        chat: ((msg.chat as ChatLine[] | undefined) ?? []).slice(-MAX_CHAT_KEPT),
        polls,
        strokes: ((msg.strokes as Stroke[] | undefined) ?? []).slice(-MAX_STROKES_KEPT),
      };
    }
    case 'room': {
      const room = { status: msg.status, locked: msg.locked, pupilChat: msg.pupilChat, lowBandwidth: msg.lowBandwidth } as RoomFlags;
      return { ...view, room, phase: room.status === 'closed' ? 'closed' : view.phase };
    }
    case 'people': {
      const p = msg as unknown as PeopleFields;
      const me = view.you && p.people.find((x) => x.id === view.you!.id);
      const you = view.you && me ? { ...view.you, audioOnly: me.audioOnly, camera: me.camera, board: isTeacherRole(view.you.role) || me.board } : view.you;
      return { ...view, people: p.people, hands: p.hands, floor: p.floor, cameras: p.cameras, you };
    }
    case 'lobby':
      return { ...view, lobby: msg.waiting as RoomView['lobby'] };
    case 'chat':
      return { ...view, chat: [...view.chat, msg.message as ChatLine].slice(-MAX_CHAT_KEPT) };
    case 'poll': {
      const poll = msg.poll as Omit<PollView, 'mine'> & { mine?: number[] | null };
      const old = view.polls.find((p) => p.id === poll.id);
      const next: PollView = { ...poll, mine: poll.mine ?? old?.mine ?? null };
      return { ...view, polls: old ? view.polls.map((p) => (p.id === poll.id ? next : p)) : [...view.polls, next] };
    }
    case 'stroke':
      return { ...view, strokes: [...view.strokes, msg.stroke as Stroke].slice(-MAX_STROKES_KEPT) };
    case 'board-cleared':
      return { ...view, strokes: [] };
    case 'level':
      return view.you ? { ...view, you: { ...view.you, level: msg.level as Level } } : view;
    case 'refused':
      return { ...view, phase: 'refused' };
    case 'closed':
      return { ...view, phase: 'closed' };
    default:
      return view;
  }
}

/** Whether I may speak now (teachers always; others while they hold the floor). */
export function maySpeak(view: RoomView): boolean {
  if (!view.you) return false;
  return isTeacherRole(view.you.role) || view.floor.includes(view.you.id);
}

/** What changed that a screen reader should hear (polite live region), between two views. */
export function announcements(before: RoomView, after: RoomView): ({ key: 'floorGiven' | 'floorTaken' } | { key: 'chat'; name: string; text: string } | { key: 'hand'; name: string })[] {
  const out: ReturnType<typeof announcements> = [];
  if (!after.you || after.phase !== 'in' || before.phase !== 'in') return out;
  const me = after.you.id;
  const had = before.floor.includes(me);
  const has = after.floor.includes(me);
  if (!isTeacherRole(after.you.role) && has !== had) out.push({ key: has ? 'floorGiven' : 'floorTaken' });
  const lastSeq = before.chat.at(-1)?.seq ?? -1;
  for (const line of after.chat) if (line.seq > lastSeq && line.from !== me) out.push({ key: 'chat', name: line.name, text: line.text });
  if (isTeacherRole(after.you.role)) {
    for (const id of after.hands) if (!before.hands.includes(id)) out.push({ key: 'hand', name: after.people.find((p) => p.id === id)?.name ?? id });
  }
  return out;
}
