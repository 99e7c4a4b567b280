import type { Scope } from '../schools/index.js';

/**
 * Who may do what with the cahier de textes and hand-ins, in one place, tested as a matrix
 * (homework.test.ts). Pure functions of the actor's scope and the entry. Unknown and forbidden
 * look the same (404) where even the existence of an entry is not the actor's to know: the
 * service decides that with `canRead` before any other check.
 */
export interface EntryRef {
  school_id: string;
  teacher_id: string | null;
  class_id: string | null;
  group_id: string | null;
  kind: string;
  publish_at: number | null;
  deleted_at: number | null;
  online_handin: number;
}

export interface AudienceRef {
  schoolId: string;
  classId: string | null;
  groupId: string | null;
}

const active = (a: Scope) => a.status !== 'departed';

export function isPublished(e: EntryRef, nowMs: number): boolean {
  return e.deleted_at === null && e.publish_at !== null && e.publish_at <= nowMs;
}

function audienceOf(e: EntryRef): AudienceRef {
  return { schoolId: e.school_id, classId: e.class_id, groupId: e.group_id };
}

/** The pupil is in the class or group the entry is for. */
export function pupilInAudience(a: Scope, au: AudienceRef): boolean {
  return a.profile === 'eleve' && (au.classId ? a.classIds.has(au.classId) : au.groupId ? a.groupIds.has(au.groupId) : false);
}

function childInAudience(a: Scope, au: AudienceRef): boolean {
  return a.profile === 'parent' && (au.classId ? a.childClassIds.has(au.classId) : au.groupId ? a.childGroupIds.has(au.groupId) : false);
}

export function teachesAudience(a: Scope, au: AudienceRef): boolean {
  return a.profile === 'enseignant' && (au.classId ? a.taughtClassIds.has(au.classId) : au.groupId ? a.taughtGroupIds.has(au.groupId) : false);
}

/** Direction and administrators of the school (who visa cahiers). */
export function isSchoolLead(a: Scope, schoolId: string): boolean {
  if (a.profile === 'admin_plateforme') return true;
  if (!a.schoolIds.has(schoolId)) return false;
  return a.profile === 'admin_etablissement' || (a.profile === 'personnel' && a.staffFunction === 'direction');
}

/** Any staff of the school but teachers (CPE, vie scolaire, direction, administrators). */
function isSchoolStaff(a: Scope, schoolId: string): boolean {
  return a.profile === 'admin_plateforme' || ((a.profile === 'personnel' || a.profile === 'admin_etablissement') && a.schoolIds.has(schoolId));
}

/** Post to a class or group: a teacher who teaches it. */
export function canPostTo(a: Scope, au: AudienceRef): boolean {
  return active(a) && teachesAudience(a, au);
}

/** Edit, publish, delete, attach: the author, while they still teach the audience. */
export function canEdit(a: Scope, e: EntryRef): boolean {
  return active(a) && e.deleted_at === null && e.teacher_id === a.id && teachesAudience(a, audienceOf(e));
}

export function canRead(a: Scope, e: EntryRef, nowMs: number): boolean {
  if (!active(a) || e.deleted_at !== null) return false;
  if (e.teacher_id === a.id) return true;
  if (!isPublished(e, nowMs)) return false;
  const au = audienceOf(e);
  return pupilInAudience(a, au) || childInAudience(a, au) || teachesAudience(a, au) || isSchoolStaff(a, e.school_id);
}

/** Tick "fait": a pupil of the audience, on published work to do. */
export function canTick(a: Scope, e: EntryRef, nowMs: number): boolean {
  return active(a) && e.kind === 'travail' && isPublished(e, nowMs) && pupilInAudience(a, audienceOf(e));
}

export function canHandIn(a: Scope, e: EntryRef, nowMs: number): boolean {
  return canTick(a, e, nowMs) && e.online_handin === 1;
}

/** See who handed in, download them, return feedback: the author or a teacher of the audience. */
export function canReview(a: Scope, e: EntryRef): boolean {
  return active(a) && e.deleted_at === null && (e.teacher_id === a.id || teachesAudience(a, audienceOf(e)));
}

/** One pupil's hand-in: the pupil, a parent of theirs, or a reviewer. */
export function canSeeHandinOf(a: Scope, e: EntryRef, pupilId: string, nowMs: number): boolean {
  if (canReview(a, e)) return true;
  if (!canRead(a, e, nowMs)) return false;
  return (a.profile === 'eleve' && a.id === pupilId) || (a.profile === 'parent' && a.childIds.has(pupilId));
}

/** Visa a teacher's cahier: the direction of a school where the teacher works. */
export function canVisa(a: Scope, teacher: Scope): boolean {
  return active(a) && teacher.profile === 'enseignant' && [...teacher.schoolIds].some((s) => isSchoolLead(a, s));
}

/** Read a teacher's whole cahier (with its visas): the teacher and who may visa it. */
export function canReadCahierOf(a: Scope, teacher: Scope): boolean {
  return (active(a) && a.id === teacher.id) || canVisa(a, teacher);
}
