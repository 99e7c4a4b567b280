import type { Scope } from '../schools/index.js';

/**
 * Who may do what with Documents, in one place, tested as a matrix (documents.test.ts).
 * - A personal space ("Mes documents") is its person's alone.
 * - A class or group space: its teachers and the school's staff write; its pupils and their
 *   parents read.
 * - A drop folder ("dépôt") in a class or group space: its pupils deposit files; each pupil sees
 *   only their own deposits (a parent, their children's), the writers of the space see them all.
 * A departed person has no access at all. Unknown and forbidden look the same (404) to whoever
 * may not read a space.
 */
export interface SpaceRef {
  kind: 'personal' | 'class' | 'group';
  id: string;
  /** The class's or group's school; null for a personal space. */
  schoolId: string | null;
}

const active = (a: Scope) => a.status !== 'departed';

function isSchoolStaff(a: Scope, schoolId: string | null): boolean {
  return schoolId !== null && (a.profile === 'personnel' || a.profile === 'admin_etablissement') && a.schoolIds.has(schoolId);
}

function member(a: Scope, s: SpaceRef): boolean {
  return s.kind === 'class' ? a.classIds.has(s.id) : s.kind === 'group' ? a.groupIds.has(s.id) : false;
}

function parentOfMember(a: Scope, s: SpaceRef): boolean {
  return a.profile === 'parent' && (s.kind === 'class' ? a.childClassIds.has(s.id) : s.kind === 'group' ? a.childGroupIds.has(s.id) : false);
}

/** Create, rename, move, delete anything in the space. */
export function canWriteSpace(a: Scope, s: SpaceRef): boolean {
  if (!active(a)) return false;
  if (s.kind === 'personal') return a.id === s.id;
  const teaches = s.kind === 'class' ? a.taughtClassIds.has(s.id) : a.taughtGroupIds.has(s.id);
  return (a.profile === 'enseignant' && teaches) || isSchoolStaff(a, s.schoolId);
}

export function canReadSpace(a: Scope, s: SpaceRef): boolean {
  return canWriteSpace(a, s) || (active(a) && s.kind !== 'personal' && ((a.profile === 'eleve' && member(a, s)) || parentOfMember(a, s)));
}

/** Deposit a file in a drop folder of the space. */
export function canDeposit(a: Scope, s: SpaceRef, folder: { drop_box: number }): boolean {
  return active(a) && folder.drop_box === 1 && a.profile === 'eleve' && member(a, s);
}

/** See one deposit of a drop folder (given that the space is readable). */
export function canSeeDeposit(a: Scope, s: SpaceRef, ownerId: string | null): boolean {
  return canWriteSpace(a, s) || (ownerId !== null && (ownerId === a.id || (a.profile === 'parent' && a.childIds.has(ownerId))));
}

/** Rename or delete an entry: a writer of the space, or a pupil their own deposit. */
export function canChangeEntry(a: Scope, s: SpaceRef, entry: { kind: string; owner_id: string | null }, container: { drop_box: number } | undefined): boolean {
  return canWriteSpace(a, s) || (container !== undefined && entry.kind === 'file' && entry.owner_id === a.id && canDeposit(a, s, container));
}
