import type { PeopleTable } from '../../storage/schema.js';
import type { Selectable } from 'kysely';

export const PROFILE_LABELS_FR: Record<PeopleTable['profile'], string> = {
  eleve: 'Élève',
  parent: 'Parent',
  enseignant: 'Enseignant',
  personnel: 'Personnel',
  admin_etablissement: 'Administrateur d’établissement',
  admin_plateforme: 'Administrateur de la plateforme',
};

export function presentSchool(s: { id: string; uai: string; name: string; kind: string; academie: string }) {
  return { id: s.id, uai: s.uai, name: s.name, kind: s.kind, academie: s.academie };
}

export function presentClass(c: { id: string; school_id: string; code: string; name: string; mef_code?: string | null }) {
  return { id: c.id, schoolId: c.school_id, code: c.code, name: c.name, mefCode: c.mef_code ?? null };
}

export function presentPersonSummary(p: { id: string; first_name: string; last_name: string; profile: PeopleTable['profile'] }) {
  return { id: p.id, firstName: p.first_name, lastName: p.last_name, profile: p.profile };
}

/** Someone else's profile: no login, no status details beyond what the viewer needs. */
export function presentPerson(
  p: Selectable<PeopleTable>,
  memberships: { classes: { id: string; name: string }[]; groups: { id: string; name: string }[] },
) {
  return {
    ...presentPersonSummary(p),
    title: p.title,
    staffFunction: p.staff_function,
    departed: p.status === 'departed',
    classes: memberships.classes.map((c) => ({ id: c.id, name: c.name })),
    groups: memberships.groups.map((g) => ({ id: g.id, name: g.name })),
  };
}
