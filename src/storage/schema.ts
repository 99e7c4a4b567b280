/**
 * Table types shared by every repository. Portable column types only:
 * text ids, integer epoch-milliseconds (UTC) for instants, integer 0/1 for flags,
 * so that the same SQL runs on SQLite and PostgreSQL.
 */
export type Profile = 'eleve' | 'parent' | 'enseignant' | 'personnel' | 'admin_etablissement' | 'admin_plateforme';
export type StaffFunction = 'direction' | 'cpe' | 'vie_scolaire' | 'documentation' | 'autre';
export type PersonStatus = 'pending_activation' | 'active' | 'departed';

export interface SchoolsTable {
  id: string;
  uai: string;
  aaf_jointure: string | null;
  name: string;
  kind: string;
  academie: string;
  created_at: number;
  updated_at: number;
}

export interface PeopleTable {
  id: string;
  aaf_jointure: string | null;
  profile: Profile;
  staff_function: StaffFunction | null;
  login: string;
  first_name: string;
  last_name: string;
  title: string | null;
  password_hash: string | null;
  status: PersonStatus;
  /** The school the AAF attaches the person to (rattachement); null for platform admins and parents. */
  school_id: string | null;
  mef_code: string | null;
  departed_at: number | null;
  created_at: number;
  updated_at: number;
  /** Interface language the person chose; null means French, the default. */
  preferred_lang: string | null;
}

/** Which schools a person belongs to (a teacher can work in several). */
export interface SchoolMembersTable {
  school_id: string;
  person_id: string;
}

export interface ClassesTable {
  id: string;
  school_id: string;
  code: string;
  name: string;
  mef_code: string | null;
  created_at: number;
}

export interface TeachingGroupsTable {
  id: string;
  school_id: string;
  code: string;
  name: string;
  created_at: number;
}

export interface SubjectsTable {
  id: string;
  /** National subject code (AAF `ENTMatJointure`). */
  code: string;
  label: string;
}

export interface MefsTable {
  code: string;
  label: string;
}

export interface ClassEnrolmentsTable {
  class_id: string;
  person_id: string;
}

export interface GroupMembersTable {
  group_id: string;
  person_id: string;
}

/** A teacher teaches a subject to a class or a group (exactly one of the two is set). */
export interface TeachingsTable {
  id: string;
  teacher_id: string;
  class_id: string | null;
  group_id: string | null;
  subject_id: string | null;
  /** 1 when the teacher is "professeur principal" of the class. */
  principal: number;
}

export interface GuardianshipsTable {
  parent_id: string;
  child_id: string;
  /** 1 for a responsable légal, 0 for another contact (AAF link types 1–2 vs others). */
  legal_guardian: number;
  relation: string | null;
}

export interface SessionsTable {
  id: string;
  token_hash: string;
  person_id: string;
  remember: number;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
  user_agent: string | null;
  ip: string | null;
}

export interface ActivationCodesTable {
  id: string;
  person_id: string;
  code_hash: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
  created_by: string | null;
}

export interface AuditEventsTable {
  id: string;
  at: number;
  actor_id: string | null;
  action: string;
  target_id: string | null;
  details: string | null;
}

export interface TimetableSlotsTable {
  id: string;
  school_id: string;
  class_id: string | null;
  group_id: string | null;
  teacher_id: string | null;
  subject_id: string | null;
  starts_at: number;
  ends_at: number;
  room: string | null;
  /** 'normal' | 'annule' | 'modifie' */
  status: string;
  note: string | null;
}

/** The first answer to a write sent with an Idempotency-Key (see http/idempotency.ts). */
export interface IdempotencyKeysTable {
  person_id: string;
  key: string;
  /** SHA-256 of method, path and body: the same key with another request is refused. */
  request_hash: string;
  /** 0 while the first request is in flight. */
  status_code: number;
  content_type: string | null;
  body: string | null;
  created_at: number;
  expires_at: number;
}

export interface SettingsTable {
  key: string;
  value: string;
}

/** A link named by the AAF feed whose other end has not been imported yet (see modules/schools/aaf). */
export interface AafPendingLinksTable {
  id: string;
  /** 'guardian' | 'member' | 'rattach' | 'class' | 'group' | 'teach_class' | 'teach_group' */
  kind: string;
  person_jointure: string;
  /** The parent's ENTPersonJointure for 'guardian', else the structure's ENTStructureJointure. */
  target_jointure: string;
  code: string | null;
  subject_code: string | null;
  legal_guardian: number | null;
  relation: string | null;
  principal: number | null;
  created_at: number;
}

/** Who a full AAF feed mentioned during one run; emptied at the end of the run. */
export interface AafImportSeenTable {
  run_id: string;
  jointure: string;
}

export interface Database {
  schools: SchoolsTable;
  people: PeopleTable;
  school_members: SchoolMembersTable;
  classes: ClassesTable;
  teaching_groups: TeachingGroupsTable;
  subjects: SubjectsTable;
  mefs: MefsTable;
  class_enrolments: ClassEnrolmentsTable;
  group_members: GroupMembersTable;
  teachings: TeachingsTable;
  guardianships: GuardianshipsTable;
  sessions: SessionsTable;
  activation_codes: ActivationCodesTable;
  audit_events: AuditEventsTable;
  timetable_slots: TimetableSlotsTable;
  settings: SettingsTable;
  idempotency_keys: IdempotencyKeysTable;
  aaf_pending_links: AafPendingLinksTable;
  aaf_import_seen: AafImportSeenTable;
}
