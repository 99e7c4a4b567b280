import { Type, type Static, type TProperties } from '@sinclair/typebox';
import { MEDIA_SIGNAL_MAX_BYTES } from '../../media/media-engine.js';
import { DEFAULT_ROOM_LIMITS, WHITEBOARD_SIZE } from './room.state.js';

/** Request and message schemas of the classe virtuelle: every object closed, every string and list bounded. */
const Id = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' });

export const MAX_TITLE_CHARS = 120;
export const MAX_CO_TEACHERS = 5;
export const CLASSROOM_JSON_MAX_BYTES = 4 * 1024;
/** Rooms listed at once (a teacher's day, a pupil's day): far above a real day. */
export const MAX_LISTED = 50;
/** A guest link lives at most this long (the teacher makes another for another day). */
export const GUEST_LINK_MAX_HOURS = 24 * 7;
export const GUEST_LINK_DEFAULT_HOURS = 24;
/** An ad hoc room may be planned this far ahead at most. */
export const MAX_PLAN_AHEAD_MS = 365 * 24 * 3600_000;
export const DEFAULT_DURATION_MS = 60 * 60_000;
export const MAX_DURATION_MS = 4 * 3600_000;

export const CreateBody = Type.Object(
  {
    audience: Type.Optional(Type.Object({ kind: Type.Union([Type.Literal('class'), Type.Literal('group')]), id: Id }, { additionalProperties: false })),
    /** From a lesson of the teacher's timetable (its audience, times and subject). */
    lessonId: Type.Optional(Id),
    title: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_TITLE_CHARS })),
    startsAt: Type.Optional(Type.Integer({ minimum: 0 })),
    durationMinutes: Type.Optional(Type.Integer({ minimum: 5, maximum: MAX_DURATION_MS / 60_000 })),
    coTeacherIds: Type.Optional(Type.Array(Id, { maxItems: MAX_CO_TEACHERS, uniqueItems: true })),
    guestsAllowed: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type CreateBody = Static<typeof CreateBody>;

export const RoomParams = Type.Object({ roomId: Id }, { additionalProperties: false });
export type RoomParams = Static<typeof RoomParams>;

export const ListQuery = Type.Object({ day: Type.Optional(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' })) }, { additionalProperties: false });
export type ListQuery = Static<typeof ListQuery>;

export const LockBody = Type.Object({ locked: Type.Boolean() }, { additionalProperties: false });
export const GuestsBody = Type.Object({ allowed: Type.Boolean() }, { additionalProperties: false });
export const GuestLinkBody = Type.Object({ hours: Type.Optional(Type.Integer({ minimum: 1, maximum: GUEST_LINK_MAX_HOURS })) }, { additionalProperties: false });
export const InvitationBody = Type.Object({ token: Type.String({ minLength: 16, maxLength: 128, pattern: '^[A-Za-z0-9_-]+$' }) }, { additionalProperties: false });
export type InvitationBody = Static<typeof InvitationBody>;

// ——— Signalling: `{type:'classroom', roomId, op, …}` over the realtime gateway (type and ref taken off by the gateway). ———

const L = DEFAULT_ROOM_LIMITS;
const msg = <O extends string, P extends TProperties>(op: O, props: P) =>
  Type.Object({ roomId: Id, op: Type.Literal(op), ...props }, { additionalProperties: false });
const Label = Type.String({ pattern: '^[a-z0-9-]{1,32}$' });
const Sdp = Type.String({ minLength: 1, maxLength: MEDIA_SIGNAL_MAX_BYTES });

/** A media signal from the browser (never `connections`: that one is the engine's). */
export const ClientSignal = Type.Union([
  Type.Object({ kind: Type.Literal('offer'), connection: Label, sdp: Sdp }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('answer'), connection: Label, sdp: Sdp }, { additionalProperties: false }),
  Type.Object(
    {
      kind: Type.Literal('candidate'), connection: Label, candidate: Type.String({ maxLength: 1024 }),
      sdpMid: Type.Union([Type.String({ maxLength: 64 }), Type.Null()]), sdpMLineIndex: Type.Union([Type.Integer({ minimum: 0, maximum: 255 }), Type.Null()]),
    },
    { additionalProperties: false },
  ),
  Type.Object({ kind: Type.Literal('restart'), connection: Label }, { additionalProperties: false }),
]);

const Target = { participantId: Id };
const Text = (max: number) => Type.String({ maxLength: max });

export const ClassroomMessage = Type.Union([
  msg('join', { guestToken: Type.Optional(InvitationBody.properties.token) }),
  msg('leave', {}),
  msg('signal', { signal: ClientSignal }),
  msg('open', {}),
  msg('close', {}),
  msg('lock', { locked: Type.Boolean() }),
  msg('admit', Target),
  msg('admit-all', {}),
  msg('refuse', Target),
  msg('hand', { raised: Type.Boolean() }),
  msg('lower-hand', Target),
  msg('give-floor', Target),
  msg('take-floor', Target),
  msg('mute-all', {}),
  // Text bounds a little above the room's own: the reducer answers the precise catalogue error.
  msg('chat', { text: Text(L.maxChatChars * 2) }),
  msg('pupil-chat', { enabled: Type.Boolean() }),
  msg('poll-create', { question: Text(L.maxPollQuestionChars * 2), options: Type.Array(Text(L.maxPollOptionChars * 2), { maxItems: L.maxPollOptions * 2 }), multiple: Type.Boolean() }),
  msg('poll-answer', { pollId: Id, choices: Type.Array(Type.Integer({ minimum: 0, maximum: 255 }), { maxItems: L.maxPollOptions * 2 }) }),
  msg('poll-close', { pollId: Id }),
  msg('stroke', { color: Type.String({ maxLength: 16 }), width: Type.Integer({ minimum: 1, maximum: 64 }), points: Type.Array(Type.Integer({ minimum: 0, maximum: WHITEBOARD_SIZE }), { maxItems: L.maxStrokePoints * 2 }) }),
  msg('board-clear', {}),
  msg('board-allow', { ...Target, allowed: Type.Boolean() }),
  msg('audio-only', { enabled: Type.Boolean() }),
  msg('camera', { enabled: Type.Boolean() }),
]);
export type ClassroomMessage = Static<typeof ClassroomMessage>;

/** Signalling budgets per socket: a negotiation's burst of ICE candidates, then a steady trickle (strokes while drawing). */
export const CLASSROOM_MESSAGE_BUDGET = { perSecond: 20, burst: 60 };
