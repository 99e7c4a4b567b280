import type { Scope } from '../schools/index.js';

/**
 * Who may do what with the actualités, in one place, tested as a matrix (news.policy.test.ts for
 * every profile and relation, news.test.ts through the API).
 *
 * - Write: a school news, the school's staff (personnel, direction, school admin); a class or group
 *   news, its teachers and the school's staff.
 * - Read: a school news, every active person of the school (pupils, parents of its pupils, teachers,
 *   staff); a class/group news, its pupils, their parents, its teachers and the school's staff; only
 *   while published (between its start and its end, not withdrawn). Departed people read nothing.
 * - Manage (edit, withdraw, see drafts, the archive and who acknowledged): the author and the
 *   school's staff. Unknown and unreadable look the same (404) to everyone else.
 *
 * `readerAudience` is the same rule written as the filter of the list queries; the repository's
 * `audienceIds` is it written in SQL, from the directory (for counts and notifications).
 */
export interface NewsRef {
  school_id: string;
  author_id: string | null;
  audience_kind: string;
  audience_id: string;
  publish_from: number | null;
  publish_until: number | null;
  requires_ack: number;
  withdrawn_at: number | null;
}

export type NewsState = 'draft' | 'scheduled' | 'published' | 'expired' | 'withdrawn';

export function stateOf(n: NewsRef, nowMs: number): NewsState {
  if (n.withdrawn_at !== null) return 'withdrawn';
  if (n.publish_from === null) return 'draft';
  if (n.publish_from > nowMs) return 'scheduled';
  if (n.publish_until !== null && n.publish_until <= nowMs) return 'expired';
  return 'published';
}

const active = (a: Scope) => a.status !== 'departed';

function isSchoolStaff(a: Scope, schoolId: string): boolean {
  return (a.profile === 'personnel' || a.profile === 'admin_etablissement') && a.schoolIds.has(schoolId);
}

/** Write a news for this audience. */
export function canWriteFor(a: Scope, audience: { kind: 'school' | 'class' | 'group'; id: string; schoolId: string }): boolean {
  if (!active(a)) return false;
  if (isSchoolStaff(a, audience.schoolId)) return true;
  if (a.profile !== 'enseignant' || !a.schoolIds.has(audience.schoolId)) return false;
  return audience.kind === 'class' ? a.taughtClassIds.has(audience.id) : audience.kind === 'group' && a.taughtGroupIds.has(audience.id);
}

/** The audiences whose published news this person reads. */
export interface ReaderAudience {
  /** School news of these schools. */
  schoolIds: string[];
  classIds: string[];
  groupIds: string[];
  /** Every news (school, class, group) of these schools: their staff. */
  staffSchoolIds: string[];
}

export function readerAudience(a: Scope): ReaderAudience {
  const none: ReaderAudience = { schoolIds: [], classIds: [], groupIds: [], staffSchoolIds: [] };
  if (!active(a)) return none;
  const schoolIds = [...a.schoolIds];
  switch (a.profile) {
    case 'eleve':
      return { ...none, schoolIds, classIds: [...a.classIds], groupIds: [...a.groupIds] };
    case 'parent':
      return { ...none, schoolIds, classIds: [...a.childClassIds], groupIds: [...a.childGroupIds] };
    case 'enseignant':
      return { ...none, schoolIds, classIds: [...a.taughtClassIds], groupIds: [...a.taughtGroupIds] };
    case 'personnel':
    case 'admin_etablissement':
      return { ...none, schoolIds, staffSchoolIds: schoolIds };
    case 'admin_plateforme':
      return none;
  }
}

/** Is this person in the news' audience (whatever its publication state)? */
export function isInAudience(a: Scope, n: NewsRef): boolean {
  const r = readerAudience(a);
  if (r.staffSchoolIds.includes(n.school_id)) return true;
  // Defence in depth: a class of another school is never one's own, whatever the ids say.
  if (!r.schoolIds.includes(n.school_id)) return false;
  switch (n.audience_kind) {
    case 'school':
      return true;
    case 'class':
      return r.classIds.includes(n.audience_id);
    case 'group':
      return r.groupIds.includes(n.audience_id);
    default:
      return false;
  }
}

/** Edit, publish, withdraw, see the archive and who acknowledged: the author or the school's staff. */
export function canManage(a: Scope, n: NewsRef): boolean {
  return active(a) && (n.author_id === a.id || isSchoolStaff(a, n.school_id));
}

/** Read: whoever manages it (drafts and archive included), or its audience while it is published. */
export function canRead(a: Scope, n: NewsRef, nowMs: number): boolean {
  return canManage(a, n) || (stateOf(n, nowMs) === 'published' && isInAudience(a, n));
}

/** "J'ai pris connaissance": a reader of a published news that asks for it, other than its author. */
export function canAcknowledge(a: Scope, n: NewsRef, nowMs: number): boolean {
  return active(a) && n.requires_ack === 1 && n.author_id !== a.id && stateOf(n, nowMs) === 'published' && isInAudience(a, n);
}
