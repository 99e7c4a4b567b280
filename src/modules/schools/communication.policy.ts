import { relations, type Scope } from './schools.policy.js';

/**
 * Who may write to whom: the rules of the messagerie (and of anything that notifies people),
 * in one place. Pupils are minors: they reach their teachers, the staff of their school, their
 * classmates and their own parents, never pupils of other schools nor the whole school; parents
 * reach their children, their children's teachers and the school staff; staff reach their school.
 */
export type Recipient =
  | { kind: 'person'; scope: Scope }
  /** Everyone enrolled in a class or group (pupils), or their parents. */
  | { kind: 'class'; id: string; schoolId: string; group: boolean; audience: 'pupils' | 'parents' }
  /** Everyone in a school. */
  | { kind: 'school'; schoolId: string };

export function canWrite(a: Scope, to: Recipient): boolean {
  if (a.status === 'departed') return false;
  if (to.kind === 'person') return canWriteToPerson(a, to.scope);
  if (to.kind === 'school') {
    return (a.profile === 'personnel' || a.profile === 'admin_etablissement') && a.schoolIds.has(to.schoolId);
  }
  switch (a.profile) {
    case 'admin_etablissement':
    case 'personnel':
      return a.schoolIds.has(to.schoolId);
    case 'enseignant':
      return to.group ? a.taughtGroupIds.has(to.id) : a.taughtClassIds.has(to.id);
    default:
      return false;
  }
}

function canWriteToPerson(a: Scope, t: Scope): boolean {
  if (t.status === 'departed') return false;
  const r = relations(a, t);
  if (r.self) return false;
  switch (a.profile) {
    case 'admin_plateforme':
      return t.profile !== 'eleve' && t.profile !== 'parent';
    case 'admin_etablissement':
    case 'personnel':
      return r.sameSchool;
    case 'enseignant':
      return r.teaches || r.teachesChildOf || r.staffOfMySchool;
    case 'eleve':
      return r.taughtBy || r.classmate || r.childOf || (r.staffOfMySchool && t.profile !== 'enseignant');
    case 'parent':
      return r.parentOf || r.teachesMyChild || (r.staffOfMySchool && t.profile !== 'enseignant');
  }
}
