import type { Scope } from '../schools/index.js';

/**
 * Who may see a pupil's engagement signals, in one place, tested as a matrix
 * (engagement.policy.test.ts and the API suite). The list and nobody else: the pupil's own
 * teachers, the school's CPE and direction, the pupil's parents, the pupil themself ("mes données").
 * Not the school's technical administrator, not the vie scolaire, not the platform operator, not
 * another teacher of the school: following décrochage is a pedagogical and educational task, and
 * each view is logged (engagement_access_log) for the school's data controller (the direction).
 */
export interface PupilRef {
  id: string;
  schoolIds: ReadonlySet<string>;
  classIds: ReadonlySet<string>;
  groupIds: ReadonlySet<string>;
}

function active(a: Scope): boolean {
  return a.status === 'active';
}

/** CPE or direction of this school. */
export function isFollowerStaff(a: Scope, schoolId: string): boolean {
  return active(a) && a.profile === 'personnel' && (a.staffFunction === 'cpe' || a.staffFunction === 'direction') && a.schoolIds.has(schoolId);
}

function teaches(a: Scope, p: PupilRef): boolean {
  if (a.profile !== 'enseignant') return false;
  if (![...p.schoolIds].some((s) => a.schoolIds.has(s))) return false;
  for (const c of p.classIds) if (a.taughtClassIds.has(c)) return true;
  for (const g of p.groupIds) if (a.taughtGroupIds.has(g)) return true;
  return false;
}

/** May `a` see this pupil's signals? */
export function canViewPupil(a: Scope, p: PupilRef): boolean {
  if (!active(a)) return false;
  if (a.id === p.id) return true;
  if (a.profile === 'parent') return a.childIds.has(p.id);
  if (teaches(a, p)) return true;
  for (const s of p.schoolIds) if (isFollowerStaff(a, s)) return true;
  return false;
}

/** May `a` see the suivi of a whole class (one line per pupil)? Its teachers, the school's CPE and direction. */
export function canViewClass(a: Scope, c: { id: string; schoolId: string }): boolean {
  if (!active(a)) return false;
  if (a.profile === 'enseignant') return a.taughtClassIds.has(c.id) && a.schoolIds.has(c.schoolId);
  return isFollowerStaff(a, c.schoolId);
}

/** May `a` see the school's view (counts per class, pupils of concern, trend)? CPE and direction. */
export function canViewSchool(a: Scope, schoolId: string): boolean {
  return isFollowerStaff(a, schoolId);
}

/** The access log and the school's thresholds: the direction (the school's data controller). */
export function canAdminister(a: Scope, schoolId: string): boolean {
  return active(a) && a.profile === 'personnel' && a.staffFunction === 'direction' && a.schoolIds.has(schoolId);
}

/** May `a` know the class or school exists (403 instead of 404)? Anyone of the school. */
export function knowsSchool(a: Scope, schoolId: string): boolean {
  return a.schoolIds.has(schoolId);
}
