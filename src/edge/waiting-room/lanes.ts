import type { Lane } from './fair-queue.js';
import type { LaneResolver } from './waiting-room.js';

/** "Soon": a lesson starting (or running) within this window puts its people in a fast lane. */
export const LANE_WINDOW_MS = 15 * 60_000;

const STAFF = new Set(['enseignant', 'personnel', 'admin_etablissement']);

/**
 * Pure: the lane of a visitor. Staff with a lesson soon open the classes others wait for, so
 * they go first; then pupils whose class starts soon; then everyone else (parents, pupils without
 * a lesson now, unknown logins — the room never says which logins exist).
 */
export function laneFor(profile: string | undefined, lessonSoon: boolean): Lane {
  if (!profile || !lessonSoon) return 'other';
  if (STAFF.has(profile)) return 'staff_soon';
  if (profile === 'eleve') return 'pupil_soon';
  return 'other';
}

export interface LaneDirectory {
  findPerson(login: string): Promise<{ id: string; profile: string; schoolId: string | null } | undefined>;
  /** Whether this person teaches (staff) or attends (pupils) a lesson overlapping [fromMs, toMs). */
  hasLesson(person: { id: string; profile: string }, fromMs: number, toMs: number): Promise<boolean>;
}

/** The resolver the waiting room calls once per ticket issued. */
export function createLaneResolver(directory: LaneDirectory): LaneResolver {
  return async (login, nowMs) => {
    const person = await directory.findPerson(login);
    if (!person) return { lane: 'other', schoolId: '' };
    const soon = STAFF.has(person.profile) || person.profile === 'eleve' ? await directory.hasLesson(person, nowMs, nowMs + LANE_WINDOW_MS) : false;
    return { lane: laneFor(person.profile, soon), schoolId: person.schoolId ?? '' };
  };
}
