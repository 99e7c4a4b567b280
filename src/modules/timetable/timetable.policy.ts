import { canViewClass, type Scope } from '../schools/index.js';

/**
 * Who may see whose timetable and who may change it, in one place (tested as a matrix in
 * timetable.test.ts). Unknown and forbidden look the same (404) to outsiders.
 */
const active = (a: Scope) => a.status !== 'departed';
const meets = (a: ReadonlySet<string>, b: ReadonlySet<string>) => [...a].some((x) => b.has(x));
const STAFF = new Set(['enseignant', 'personnel', 'admin_etablissement']);

export function canViewClassTimetable(a: Scope, c: { id: string; schoolId: string; kind: 'class' | 'group' }): boolean {
  return active(a) && canViewClass(a, c);
}

/** A teacher's timetable: the teacher, and the staff of their schools (colleagues, vie scolaire, direction). */
export function canViewTeacherTimetable(a: Scope, teacher: Scope): boolean {
  if (!active(a) || teacher.profile !== 'enseignant') return false;
  return a.id === teacher.id || a.profile === 'admin_plateforme' || (STAFF.has(a.profile) && meets(a.schoolIds, teacher.schoolIds));
}

/** A pupil's timetable: the pupil, their parents, their teachers, the non-teaching staff of their school. */
export function canViewPupilTimetable(a: Scope, pupil: Scope): boolean {
  if (!active(a) || pupil.profile !== 'eleve') return false;
  if (a.id === pupil.id || a.profile === 'admin_plateforme') return true;
  if (a.profile === 'parent') return a.childIds.has(pupil.id);
  if (a.profile === 'enseignant') return meets(a.taughtClassIds, pupil.classIds) || meets(a.taughtGroupIds, pupil.groupIds);
  return (a.profile === 'personnel' || a.profile === 'admin_etablissement') && meets(a.schoolIds, pupil.schoolIds);
}

/** A room's timetable: the staff of the school. */
export function canViewRoomTimetable(a: Scope, schoolId: string): boolean {
  return active(a) && (a.profile === 'admin_plateforme' || (STAFF.has(a.profile) && a.schoolIds.has(schoolId)));
}

/** Set the calendar, import, and make one-off changes: direction, vie scolaire and administrators of the school. */
export function canManageTimetable(a: Scope, schoolId: string): boolean {
  if (!active(a)) return false;
  if (a.profile === 'admin_plateforme') return true;
  if (!a.schoolIds.has(schoolId)) return false;
  return a.profile === 'admin_etablissement' || (a.profile === 'personnel' && (a.staffFunction === 'direction' || a.staffFunction === 'vie_scolaire'));
}

/** See the school calendar (week A/B, holidays): everyone of the school (parents through their children). */
export function canViewCalendar(a: Scope, schoolId: string): boolean {
  return active(a) && (a.profile === 'admin_plateforme' || a.schoolIds.has(schoolId));
}
