import { canModerate } from './classroom.policy.js';
import type { AttendanceRow } from './classroom.repository.js';
import type { RoomAccess } from './classroom.service.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** A room as a client sees it; the guest link's state only for its teachers (the token itself is shown once, at creation). */
export function presentRoom({ room, role }: RoomAccess, liveHere: boolean) {
  const moderator = canModerate(role);
  return {
    id: room.id, title: room.title, schoolId: room.school_id,
    audience: room.class_id ? { kind: 'class' as const, id: room.class_id } : { kind: 'group' as const, id: room.group_id },
    lessonId: room.lesson_id, startsAt: iso(room.starts_at), endsAt: iso(room.ends_at),
    status: room.status, openedAt: iso(room.opened_at), closedAt: iso(room.closed_at), live: liveHere, yourRole: role ?? null,
    ...(moderator ? { guestsAllowed: room.guests_allowed === 1, guestLinkExpiresAt: room.guest_token_hash ? iso(room.guest_token_expires_at) : null } : {}),
  };
}

export function presentAttendance(rows: (AttendanceRow & { first_name: string; last_name: string })[]) {
  return rows.map((r) => ({
    personId: r.person_id, name: `${r.first_name} ${r.last_name}`, role: r.role, firstJoinedAt: iso(r.first_joined_at), lastLeftAt: iso(r.last_left_at),
    seconds: r.seconds, audioOnly: r.with_video === 0,
  }));
}
