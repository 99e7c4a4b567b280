import type { Profile, StaffFunction } from '../../../storage/schema.js';
import type { AafCategory, AafRecord } from './aaf.parser.js';

/**
 * Pure translation of AAF records into what Préau keeps. Data minimisation (pupils are minors):
 * only names, title, profile, school/class/group/teaching/guardian links and the MEF code are read;
 * addresses, phones, e-mails, INE, birth dates and the rest of the record are never looked at.
 *
 * For a `modify` record every field is optional: `undefined` means "not in this modification,
 * keep what is stored"; an empty array means "replaced by nothing".
 */

export interface StructureDraft {
  jointure: string;
  uai?: string;
  name?: string;
  kind?: string;
  academie?: string;
  classes?: CodeLabel[];
  groups?: CodeLabel[];
}

export interface CodeLabel {
  code: string;
  label: string;
}

export interface GuardianLink {
  parentJointure: string;
  legalGuardian: 0 | 1;
  relation: string | null;
}

export interface StructCode {
  structure: string;
  code: string;
}

export interface TeachingLink {
  structure: string;
  kind: 'class' | 'group';
  code: string;
  subjectCode: string | null;
  principal: 0 | 1;
}

export interface PersonDraft {
  jointure: string;
  profile?: Profile;
  staffFunction?: StaffFunction | null;
  firstName?: string;
  lastName?: string;
  title?: string | null;
  mefCode?: string | null;
  /** School of attachment (ENTPersonStructRattach). */
  rattach?: string | null;
  classes?: StructCode[];
  groups?: StructCode[];
  guardians?: GuardianLink[];
  teachings?: TeachingLink[];
  /** Structures named by the functions (ENTPersonFonctions): the person works there. */
  functionStructures?: string[];
}

export const PERSON_CATEGORIES: ReadonlySet<AafCategory> = new Set(['Eleve', 'PersRelEleve', 'PersEducNat']);

/** Profiles a category produces: used to find who a full feed of that category no longer lists. */
export const PROFILES_OF_CATEGORY: Readonly<Record<'Eleve' | 'PersRelEleve' | 'PersEducNat', readonly Profile[]>> = {
  Eleve: ['eleve'],
  PersRelEleve: ['parent'],
  PersEducNat: ['enseignant', 'personnel'],
};

function first(attrs: Map<string, string[]>, name: string): string | undefined {
  const v = attrs.get(name);
  if (v === undefined) return undefined;
  return v[0] ?? '';
}

function has(attrs: Map<string, string[]>, name: string): boolean {
  return attrs.has(name);
}

function parts(value: string): string[] {
  return value.split('$').map((p) => p.trim());
}

/** `ENTStructureNomCourant` may be split by `$` (sample-2020: `NOM$STRUCTURE$COURANT`): the parts are words. */
export function structureName(raw: string): string {
  return parts(raw)
    .filter((p) => p !== '')
    .join(' ');
}

export function mapStructure(rec: AafRecord): StructureDraft {
  const a = rec.attrs;
  const d: StructureDraft = { jointure: first(a, 'ENTStructureJointure') || rec.id };
  const uai = first(a, 'ENTStructureUAI') ?? first(a, 'ENTEtablissementUAI');
  if (uai !== undefined) d.uai = uai.toUpperCase();
  const name = first(a, 'ENTStructureNomCourant');
  if (name !== undefined) d.name = structureName(name);
  const kind = first(a, 'ENTStructureTypeStruct');
  if (kind !== undefined) d.kind = kind;
  const academie = first(a, 'ENTServAcAcademie');
  if (academie !== undefined) d.academie = academie;
  if (has(a, 'ENTStructureClasses')) d.classes = codeLabels(a.get('ENTStructureClasses')!);
  if (has(a, 'ENTStructureGroupes')) d.groups = codeLabels(a.get('ENTStructureGroupes')!);
  return d;
}

function codeLabels(values: string[]): CodeLabel[] {
  const seen = new Map<string, CodeLabel>();
  for (const v of values) {
    const [code = '', label = ''] = parts(v);
    if (code === '' || seen.has(code)) continue;
    seen.set(code, { code, label: label || code });
  }
  return [...seen.values()];
}

export function mapSubject(rec: AafRecord): { code: string; label?: string } {
  const code = first(rec.attrs, 'ENTMatJointure') || rec.id;
  const label = first(rec.attrs, 'ENTLibelleMatiere');
  return label === undefined ? { code } : { code, label: label || code };
}

export function mapMef(rec: AafRecord): { code: string; label?: string } {
  const code = first(rec.attrs, 'ENTMefJointure') || rec.id;
  const label = first(rec.attrs, 'ENTLibelleMef');
  return label === undefined ? { code } : { code, label: label || code };
}

/**
 * Function codes of ENTPersonFonctions (`<structure>$<code>$<label>$<discipline code>$<discipline>`).
 * ENS teaches; DIR, EDU (CPE) and DOC have their own staff function. SUR (surveillance), AED
 * (assistant d'éducation), AES (AESH) and EVS work in the vie scolaire; every other code
 * (ADF administration, LAB, MDS médico-social, OUV, ORI, ADA…) is 'autre'.
 */
const STAFF_FUNCTION_OF_CODE: ReadonlyMap<string, StaffFunction> = new Map([
  ['DIR', 'direction'],
  ['EDU', 'cpe'],
  ['DOC', 'documentation'],
  ['SUR', 'vie_scolaire'],
  ['AED', 'vie_scolaire'],
  ['AES', 'vie_scolaire'],
  ['EVS', 'vie_scolaire'],
]);
const STAFF_PRIORITY: readonly StaffFunction[] = ['direction', 'cpe', 'documentation', 'vie_scolaire', 'autre'];

/**
 * Profile of a PersEducNat from its function codes. Anyone with ENS is a teacher (primary-school
 * directors teach too: they stay 'enseignant', with staff_function 'direction' so policies can
 * grant them the school-wide view). Otherwise 'personnel' with the highest-ranking function.
 * No function at all: a teacher if the feed says they stand in front of pupils, else 'autre'.
 */
export function profileOfFunctions(codes: readonly string[], presenceDevantEleves: string | undefined): { profile: Profile; staffFunction: StaffFunction | null } {
  const upper = codes.map((c) => c.toUpperCase());
  const staff = upper.map((c) => STAFF_FUNCTION_OF_CODE.get(c) ?? 'autre').filter((_, i) => upper[i] !== 'ENS');
  const best = STAFF_PRIORITY.find((f) => staff.includes(f));
  if (upper.includes('ENS')) return { profile: 'enseignant', staffFunction: best === 'direction' ? 'direction' : null };
  if (best) return { profile: 'personnel', staffFunction: best };
  if (presenceDevantEleves?.toUpperCase() === 'O') return { profile: 'enseignant', staffFunction: null };
  return { profile: 'personnel', staffFunction: 'autre' };
}

/**
 * SIECLE link codes of ENTElevePersRelEleve (`<parent>$<link>$<respFinancier>$<respLegal>$<contact>$<paiement>`).
 * Old feeds use 1/2 for the parents, recent ones 10 (mère) / 20 (père).
 */
const RELATION_OF_LINK: ReadonlyMap<string, string> = new Map([
  ['1', 'parent'],
  ['2', 'parent'],
  ['10', 'mere'],
  ['20', 'pere'],
  ['30', 'tuteur'],
  ['37', 'ase'],
  ['38', 'autre_membre_famille'],
  ['39', 'autre_lien'],
  ['50', 'autre_lien'],
  ['70', 'eleve'],
  ['90', 'autre_lien'],
]);

/**
 * Legal guardian ⇔ the respLegal flag is 1 or 2. The samples carry `…$10$1$1$1$1` and
 * `…$20$0$1$0$0`: both parents hold parental authority (flag 1) whatever their financial or
 * contact flags; ENT NG reads 2 as a second holder of parental authority, so 2 counts too.
 * Any other listed person is kept as a contact (legal_guardian 0), never dropped.
 * A pupil listed as their own relation (code 70, or the anonymised sample) is no link at all.
 */
export function mapGuardians(childJointure: string, values: readonly string[]): GuardianLink[] {
  const byParent = new Map<string, GuardianLink>();
  for (const v of values) {
    const [parent = '', link = '', , respLegal = ''] = parts(v);
    if (parent === '' || parent === childJointure) continue;
    const legal: 0 | 1 = respLegal === '1' || respLegal === '2' ? 1 : 0;
    const relation = RELATION_OF_LINK.get(link) ?? (link === '' ? null : `lien_${link}`);
    const prev = byParent.get(parent);
    // A parent listed twice keeps the strongest link.
    if (!prev || (legal === 1 && prev.legalGuardian === 0)) byParent.set(parent, { parentJointure: parent, legalGuardian: legal, relation });
  }
  return [...byParent.values()];
}

function structCodes(values: readonly string[] | undefined): StructCode[] {
  const out = new Map<string, StructCode>();
  for (const v of values ?? []) {
    const [structure = '', code = ''] = parts(v);
    if (structure === '' || code === '') continue;
    out.set(`${structure}\u0000${code}`, { structure, code });
  }
  return [...out.values()];
}

const TEACHING_ATTRS = ['ENTAuxEnsClasses', 'ENTAuxEnsGroupes', 'ENTAuxEnsClassesMatieres', 'ENTAuxEnsGroupesMatieres', 'ENTAuxEnsClassesPrincipal'] as const;

/**
 * Teachings of a teacher: one row per (class or group, subject). A class named only in
 * ENTAuxEnsClasses (no subject) gives a row without subject; ENTAuxEnsClassesPrincipal marks every
 * row of that class as "professeur principal" (creating a subject-less row if needed).
 */
export function mapTeachings(a: Map<string, string[]>): TeachingLink[] {
  const rows = new Map<string, TeachingLink>();
  const key = (t: Omit<TeachingLink, 'principal'>) => `${t.kind}\u0000${t.structure}\u0000${t.code}\u0000${t.subjectCode ?? ''}`;
  const add = (t: TeachingLink) => {
    const k = key(t);
    if (!rows.has(k)) rows.set(k, t);
  };
  for (const [attr, kind] of [
    ['ENTAuxEnsClassesMatieres', 'class'],
    ['ENTAuxEnsGroupesMatieres', 'group'],
  ] as const) {
    for (const v of a.get(attr) ?? []) {
      const [structure = '', code = '', subject = ''] = parts(v);
      if (structure === '' || code === '') continue;
      add({ structure, kind, code, subjectCode: subject || null, principal: 0 });
    }
  }
  const withSubject = new Set([...rows.values()].map((t) => `${t.kind}\u0000${t.structure}\u0000${t.code}`));
  for (const [attr, kind] of [
    ['ENTAuxEnsClasses', 'class'],
    ['ENTAuxEnsGroupes', 'group'],
  ] as const) {
    for (const { structure, code } of structCodes(a.get(attr))) {
      if (!withSubject.has(`${kind}\u0000${structure}\u0000${code}`)) add({ structure, kind, code, subjectCode: null, principal: 0 });
    }
  }
  for (const { structure, code } of structCodes(a.get('ENTAuxEnsClassesPrincipal'))) {
    let marked = false;
    for (const t of rows.values()) {
      if (t.kind === 'class' && t.structure === structure && t.code === code) {
        t.principal = 1;
        marked = true;
      }
    }
    if (!marked) add({ structure, kind: 'class', code, subjectCode: null, principal: 1 });
  }
  return [...rows.values()];
}

/** The person described by a record; fields absent from a `modify` stay undefined. */
export function mapPerson(rec: AafRecord): PersonDraft {
  const a = rec.attrs;
  const d: PersonDraft = { jointure: first(a, 'ENTPersonJointure') || rec.id };
  const sn = first(a, 'sn');
  const patro = first(a, 'ENTPersonNomPatro');
  if (sn !== undefined || patro !== undefined) d.lastName = sn || patro || '';
  const given = first(a, 'givenName');
  if (given !== undefined) d.firstName = given;
  const title = first(a, 'personalTitle');
  if (title !== undefined) d.title = title || null;
  const rattach = first(a, 'ENTPersonStructRattach');
  if (rattach !== undefined) d.rattach = rattach || null;

  switch (rec.category) {
    case 'Eleve': {
      if (rec.op === 'add') d.profile = 'eleve';
      if (rec.op === 'add') d.staffFunction = null;
      const mef = first(a, 'ENTEleveMEF');
      if (mef !== undefined) d.mefCode = mef || null;
      if (has(a, 'ENTEleveClasses')) d.classes = structCodes(a.get('ENTEleveClasses'));
      if (has(a, 'ENTEleveGroupes')) d.groups = structCodes(a.get('ENTEleveGroupes'));
      if (has(a, 'ENTElevePersRelEleve')) d.guardians = mapGuardians(d.jointure, a.get('ENTElevePersRelEleve')!);
      break;
    }
    case 'PersRelEleve':
      if (rec.op === 'add') {
        d.profile = 'parent';
        d.staffFunction = null;
      }
      break;
    case 'PersEducNat': {
      const fonctions = a.get('ENTPersonFonctions');
      if (fonctions !== undefined || rec.op === 'add') {
        const list = (fonctions ?? []).map(parts);
        const { profile, staffFunction } = profileOfFunctions(
          list.map((p) => p[1] ?? ''),
          first(a, 'PersEducNatPresenceDevantEleves'),
        );
        d.profile = profile;
        d.staffFunction = staffFunction;
        d.functionStructures = [...new Set(list.map((p) => p[0] ?? '').filter((s) => s !== ''))];
      }
      if (TEACHING_ATTRS.some((t) => has(a, t))) d.teachings = mapTeachings(a);
      break;
    }
    default:
      break;
  }
  return d;
}

/** Every structure a person appears in: they become a member of each (school_members). */
export function structuresOf(d: PersonDraft): string[] {
  const s = new Set<string>();
  if (d.rattach) s.add(d.rattach);
  for (const c of d.classes ?? []) s.add(c.structure);
  for (const g of d.groups ?? []) s.add(g.structure);
  for (const t of d.teachings ?? []) s.add(t.structure);
  for (const f of d.functionStructures ?? []) s.add(f);
  return [...s];
}
