import type { PersonStatus, Profile, StaffFunction } from '../../storage/schema.js';

/**
 * Who may see and manage what in schools, declared in one place and tested as a matrix.
 * Everything is decided from a person's scope: their schools, classes, groups, children,
 * and what they teach. Policies are pure functions of scopes.
 */
export interface Scope {
  id: string;
  profile: Profile;
  staffFunction: StaffFunction | null;
  status: PersonStatus;
  schoolIds: ReadonlySet<string>;
  /** Classes and groups the person is enrolled in (pupils). */
  classIds: ReadonlySet<string>;
  groupIds: ReadonlySet<string>;
  /** Classes and groups the person teaches (teachers). */
  taughtClassIds: ReadonlySet<string>;
  taughtGroupIds: ReadonlySet<string>;
  /** Children (parents) and their classes and groups. */
  childIds: ReadonlySet<string>;
  childClassIds: ReadonlySet<string>;
  childGroupIds: ReadonlySet<string>;
}

export interface ClassRef {
  id: string;
  schoolId: string;
  kind: 'class' | 'group';
}

const STAFF: ReadonlySet<Profile> = new Set(['enseignant', 'personnel', 'admin_etablissement']);

function meets(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  for (const x of small) if (large.has(x)) return true;
  return false;
}

/** The ways two people are related; policies are written in these words. */
export interface Relations {
  self: boolean;
  sameSchool: boolean;
  /** `a` teaches the pupil `t`. */
  teaches: boolean;
  /** `t` teaches the pupil `a`. */
  taughtBy: boolean;
  /** `a` teaches a child of the parent `t`. */
  teachesChildOf: boolean;
  /** `t` teaches a child of the parent `a`. */
  teachesMyChild: boolean;
  classmate: boolean;
  parentOf: boolean;
  childOf: boolean;
  /** `t` is staff (teacher, personnel, school admin) of one of `a`'s schools. */
  staffOfMySchool: boolean;
}

export function relations(a: Scope, t: Scope): Relations {
  const pupilT = t.profile === 'eleve';
  const pupilA = a.profile === 'eleve';
  return {
    self: a.id === t.id,
    sameSchool: meets(a.schoolIds, t.schoolIds),
    teaches: pupilT && (meets(a.taughtClassIds, t.classIds) || meets(a.taughtGroupIds, t.groupIds)),
    taughtBy: pupilA && (meets(t.taughtClassIds, a.classIds) || meets(t.taughtGroupIds, a.groupIds)),
    teachesChildOf: t.profile === 'parent' && (meets(a.taughtClassIds, t.childClassIds) || meets(a.taughtGroupIds, t.childGroupIds)),
    teachesMyChild: a.profile === 'parent' && (meets(t.taughtClassIds, a.childClassIds) || meets(t.taughtGroupIds, a.childGroupIds)),
    classmate: pupilA && pupilT && (meets(a.classIds, t.classIds) || meets(a.groupIds, t.groupIds)),
    parentOf: a.childIds.has(t.id),
    childOf: t.childIds.has(a.id),
    staffOfMySchool: STAFF.has(t.profile) && meets(a.schoolIds, t.schoolIds),
  };
}

function active(s: Scope): boolean {
  return s.status !== 'departed';
}

/** May `a` see the profile (name, profile, classes) of `t`? */
export function canViewPerson(a: Scope, t: Scope): boolean {
  const r = relations(a, t);
  if (r.self) return true;
  // A departed person keeps nothing but their own record (they cannot sign in anyway: defence in depth).
  if (!active(a)) return false;
  switch (a.profile) {
    case 'admin_plateforme':
      return true;
    case 'admin_etablissement':
    case 'personnel':
      return r.sameSchool;
    case 'enseignant':
      return r.teaches || r.teachesChildOf || r.staffOfMySchool;
    case 'eleve':
      return active(t) && (r.taughtBy || r.classmate || r.childOf || r.staffOfMySchool);
    case 'parent':
      return active(t) && (r.parentOf || r.teachesMyChild || r.staffOfMySchool);
  }
}

export function canViewSchool(a: Scope, schoolId: string): boolean {
  return a.profile === 'admin_plateforme' || a.schoolIds.has(schoolId);
}

/** May `a` see a class or group (its name, its timetable)? */
export function canViewClass(a: Scope, c: ClassRef): boolean {
  switch (a.profile) {
    case 'admin_plateforme':
      return true;
    case 'admin_etablissement':
    case 'personnel':
      return a.schoolIds.has(c.schoolId);
    case 'enseignant':
      return c.kind === 'class' ? a.taughtClassIds.has(c.id) : a.taughtGroupIds.has(c.id);
    case 'eleve':
      return c.kind === 'class' ? a.classIds.has(c.id) : a.groupIds.has(c.id);
    case 'parent':
      return c.kind === 'class' ? a.childClassIds.has(c.id) : a.childGroupIds.has(c.id);
  }
}

/** May `a` see who is in a class (the list of pupils)? Parents may not: other families' children are not theirs to list. */
export function canListClassMembers(a: Scope, c: ClassRef): boolean {
  return a.profile !== 'parent' && canViewClass(a, c);
}

/** May `a` hand out activation codes and reset passwords for people of this school? */
export function canManageAccounts(a: Scope, schoolId: string): boolean {
  if (a.profile === 'admin_plateforme') return true;
  if (!a.schoolIds.has(schoolId)) return false;
  return a.profile === 'admin_etablissement' || (a.profile === 'personnel' && a.staffFunction === 'direction');
}
