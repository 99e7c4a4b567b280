import { canWrite, type Scope } from '../schools/index.js';

/**
 * Who may do what with the carnet de liaison, in one place, tested as a matrix (liaison.test.ts).
 * Sending follows the core's communication rules: a teacher reaches the parents of the classes and
 * groups they teach, the school's staff any family of the school. Unknown and forbidden look the
 * same (404) to whoever is not concerned by a note.
 */
export interface NoteRef {
  school_id: string;
  author_id: string | null;
  deleted_at: number | null;
}

const active = (a: Scope) => a.status !== 'departed';

/** Address a note to the parents of a class or group. */
export function canSendToClass(a: Scope, c: { id: string; schoolId: string; group: boolean }): boolean {
  return active(a) && a.profile !== 'eleve' && a.profile !== 'parent' && canWrite(a, { kind: 'class', id: c.id, schoolId: c.schoolId, group: c.group, audience: 'parents' });
}

/** Address a note to the parents of one pupil: the sender must be allowed to write to each of them. */
export function canSendToParents(a: Scope, parents: readonly Scope[]): boolean {
  return active(a) && a.profile !== 'eleve' && a.profile !== 'parent' && parents.length > 0 && parents.every((p) => canWrite(a, { kind: 'person', scope: p }));
}

/** The school's vie scolaire and direction follow every note of their school. */
function isSchoolStaff(a: Scope, schoolId: string): boolean {
  return (a.profile === 'personnel' || a.profile === 'admin_etablissement') && a.schoolIds.has(schoolId);
}

/** See who signed and remind the others: the author, or the school's staff. */
export function canFollow(a: Scope, n: NoteRef): boolean {
  return active(a) && n.deleted_at === null && (n.author_id === a.id || isSchoolStaff(a, n.school_id));
}

/** Read a note: who may follow it, or a parent it is addressed to. */
export function canRead(a: Scope, n: NoteRef, addressedToActor: boolean): boolean {
  return canFollow(a, n) || (active(a) && n.deleted_at === null && a.profile === 'parent' && addressedToActor);
}

/** Sign ("lu et signé"): a parent it is addressed to. */
export function canSign(a: Scope, n: NoteRef, addressedToActor: boolean): boolean {
  return active(a) && n.deleted_at === null && a.profile === 'parent' && addressedToActor;
}

/** Withdraw a note: its author. */
export function canDelete(a: Scope, n: NoteRef): boolean {
  return active(a) && n.deleted_at === null && n.author_id === a.id;
}
