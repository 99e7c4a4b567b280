import type { Scope } from '../schools/index.js';
import type { Role } from './room.state.js';

/**
 * Who may do what with a classe virtuelle, in one place (tested as a matrix in classroom.test.ts).
 * A room belongs to a class or a group of a school: its teachers (who created it, the co-teachers
 * they named, and whoever teaches that class or group) run it; its pupils join it; the school's vie
 * scolaire and direction may look in (as guests, without moderation) and read the attendance; an
 * invited guest holds a valid link while the teacher allows guests. Parents are not participants.
 * Unknown and forbidden look the same (404) to whoever is not concerned.
 */
export interface RoomRef {
  school_id: string;
  class_id: string | null;
  group_id: string | null;
}

const active = (a: Scope) => a.status !== 'departed';

function teachesAudience(a: Scope, r: RoomRef): boolean {
  return a.profile === 'enseignant' && (r.class_id ? a.taughtClassIds.has(r.class_id) : r.group_id !== null && a.taughtGroupIds.has(r.group_id));
}

function inAudience(a: Scope, r: RoomRef): boolean {
  return a.profile === 'eleve' && (r.class_id ? a.classIds.has(r.class_id) : r.group_id !== null && a.groupIds.has(r.group_id));
}

/** The school's vie scolaire (CPE), direction and administrators. */
function isSchoolStaff(a: Scope, schoolId: string): boolean {
  return (a.profile === 'personnel' || a.profile === 'admin_etablissement') && a.schoolIds.has(schoolId);
}

/** Create a room for a class or group: a teacher who teaches it. */
export function canCreate(a: Scope, r: RoomRef): boolean {
  return active(a) && teachesAudience(a, r);
}

/** A co-teacher named at creation: a teacher of the same school. */
export function canBeCoTeacher(t: Scope, schoolId: string): boolean {
  return active(t) && t.profile === 'enseignant' && t.schoolIds.has(schoolId);
}

/**
 * The role this person has in the room, or undefined. `listed`: their row in the room's teachers;
 * `guest`: they hold a valid guest link of this room (and guests are allowed).
 */
export function roleIn(a: Scope, r: RoomRef, listed: 'teacher' | 'co_teacher' | undefined, guest: boolean): Role | undefined {
  if (!active(a)) return undefined;
  if (listed) return listed;
  if (teachesAudience(a, r)) return 'co_teacher';
  if (inAudience(a, r)) return 'pupil';
  if (isSchoolStaff(a, r.school_id)) return 'guest';
  if (guest && a.profile !== 'parent') return 'guest';
  return undefined;
}

/** See the room (its page, its state) without a guest link. */
export function canView(a: Scope, r: RoomRef, listed: 'teacher' | 'co_teacher' | undefined): boolean {
  return roleIn(a, r, listed, false) !== undefined;
}

/** Open, close, lock, manage the guest link: its teachers. */
export function canModerate(role: Role | undefined): boolean {
  return role === 'teacher' || role === 'co_teacher';
}

/** Read the attendance: its teachers and the school's staff. */
export function canReadAttendance(a: Scope, r: RoomRef, role: Role | undefined): boolean {
  return canModerate(role) || (active(a) && isSchoolStaff(a, r.school_id));
}
