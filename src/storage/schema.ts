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
  /** 'normal' | 'annule' | 'deplace' | 'remplace' | 'modifie' (see modules/timetable) */
  status: string;
  note: string | null;
  /** The recurring pattern this lesson was materialised from (null: a one-off lesson). */
  pattern_id?: string | null;
  /** What the lesson was before a one-off change (moved, replaced, room changed). */
  original_starts_at?: number | null;
  original_ends_at?: number | null;
  original_teacher_id?: string | null;
  original_room?: string | null;
  changed_at?: number | null;
}

/** The school year of a school: its bounds, the Monday of a week A, and its holidays. */
export interface SchoolCalendarsTable {
  school_id: string;
  /** `YYYY-MM-DD` (Paris dates), inclusive. */
  year_start: string;
  year_end: string;
  week_a_monday: string;
  updated_at: number;
}

export interface SchoolHolidaysTable {
  id: string;
  school_id: string;
  label: string;
  /** `YYYY-MM-DD`, inclusive. */
  first_day: string;
  last_day: string;
}

/** A weekly lesson, materialised into dated `timetable_slots` for the school year. */
export interface TimetablePatternsTable {
  id: string;
  school_id: string;
  class_id: string | null;
  group_id: string | null;
  teacher_id: string | null;
  subject_id: string | null;
  /** 1 = lundi … 6 = samedi. */
  weekday: number;
  /** Minutes after midnight, Paris wall time. */
  start_minute: number;
  end_minute: number;
  /** '*' every week, 'A' or 'B'. */
  week: string;
  room: string | null;
  created_at: number;
}

/** A per-user secret iCalendar subscription; only the token's hash is kept. */
export interface CalendarFeedsTable {
  person_id: string;
  token_hash: string;
  created_at: number;
  last_used_at: number | null;
}

/** The database blob store's index: a SHA-256 and the write whose chunks hold its bytes. */
export interface BlobStoreObjectsTable {
  sha256: string;
  write_id: string;
  size_bytes: number;
  modified_at: number;
}

/** 1 MiB (at most) of a write's bytes, in order. */
export interface BlobStoreChunksTable {
  write_id: string;
  seq: number;
  bytes: Buffer;
}

/** A write in progress (its chunks are not an object yet). */
export interface BlobStoreWritesTable {
  write_id: string;
  started_at: number;
}

/** The automatic read-only watcher's write probe: one row every node rewrites (storage/health.ts). */
export interface StorageWriteProbeTable {
  id: string;
  probed_at: number;
}

/** An accepted chunk of a resumable document upload: its bytes are a blob. */
export interface DocUploadChunksTable {
  upload_id: string;
  offset_bytes: number;
  size_bytes: number;
  blob_sha256: string;
}

/** A content-addressed file (the bytes live in the blob store). */
export interface BlobsTable {
  sha256: string;
  size_bytes: number;
  crc32: number;
  content_type: string;
  created_at: number;
}

export interface HomeworkEntriesTable {
  id: string;
  school_id: string;
  /** The author; null once a departed teacher is purged (the cahier stays for the school year). */
  teacher_id: string | null;
  class_id: string | null;
  group_id: string | null;
  subject_id: string | null;
  /** 'seance' (what was done) | 'travail' (what to do). */
  kind: string;
  title: string;
  /** Sanitised HTML (allow-list), never raw input. */
  body_html: string;
  /** JSON array of { url, label }. */
  links: string;
  /** The lesson date (séance) or the due date (travail), `YYYY-MM-DD`. */
  on_date: string;
  /** Deadline of a travail (hand-ins after it are late). */
  due_at: number | null;
  estimated_minutes: number | null;
  online_handin: number;
  /** Null: a draft. In the future: scheduled. Otherwise published. */
  publish_at: number | null;
  copied_from: string | null;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
}

export interface HomeworkAttachmentsTable {
  id: string;
  entry_id: string;
  blob_sha256: string;
  file_name: string;
  size_bytes: number;
  content_type: string;
  created_at: number;
}

export interface HomeworkDoneTable {
  entry_id: string;
  pupil_id: string;
  done_at: number;
}

export interface CahierVisasTable {
  id: string;
  school_id: string;
  teacher_id: string;
  visa_by: string | null;
  visa_at: number;
  comment: string | null;
}

export interface HandinsTable {
  id: string;
  entry_id: string;
  pupil_id: string;
  idempotency_key: string;
  text: string | null;
  text_sha256: string | null;
  submitted_at: number;
  late: number;
  /** Set when a later hand-in replaced this one (kept: its receipt stays true). */
  superseded_at: number | null;
}

export interface HandinFilesTable {
  id: string;
  handin_id: string;
  position: number;
  blob_sha256: string;
  file_name: string;
  size_bytes: number;
  content_type: string;
}

export interface HandinFeedbackTable {
  entry_id: string;
  pupil_id: string;
  teacher_id: string | null;
  comment: string;
  blob_sha256: string | null;
  file_name: string | null;
  size_bytes: number | null;
  content_type: string | null;
  returned_at: number;
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
  /** When the claim was made; with person and key, it names one claim (a late release or renewal never touches a newer one). */
  created_at: number;
  /** A kept answer: when it expires (24 h). A claim in flight: the end of its lease, renewed by its node while the request runs. */
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

/** Messagerie (see migrations/0020_messaging.ts). */
export interface MessagesTable {
  id: string;
  thread_id: string;
  in_reply_to: string | null;
  sender_id: string;
  subject: string;
  body_html: string;
  /** Subject and plain text, folded (lower case, no accents), for portable search. */
  search_text: string;
  to_json: string;
  cc_json: string;
  created_at: number;
  updated_at: number;
  /** Null while a draft. */
  sent_at: number | null;
  sender_deleted_at: number | null;
}

export interface MessageRecipientsTable {
  message_id: string;
  person_id: string;
  /** 'to' | 'cc' */
  kind: string;
  sent_at: number;
  read_at: number | null;
  deleted_at: number | null;
}

export interface MessageAttachmentsTable {
  id: string;
  message_id: string;
  blob_sha256: string;
  file_name: string;
  size_bytes: number;
  content_type: string;
  created_at: number;
}

/** What a school member addresses to an audience (migrations/columns.ts). */
interface AddressedColumns {
  id: string;
  school_id: string;
  author_id: string | null;
  audience_kind: string;
  audience_id: string;
  audience_name: string;
}

/** Carnet de liaison (see migrations/0021_liaison.ts). `audience_kind`: 'pupil' | 'class' | 'group'. */
export interface LiaisonNotesTable extends AddressedColumns {
  title: string;
  body_html: string;
  created_at: number;
  reminder_count: number;
  last_reminded_at: number | null;
  deleted_at: number | null;
}

export interface LiaisonTargetsTable {
  note_id: string;
  parent_id: string;
  pupil_id: string;
  created_at: number;
  signed_at: number | null;
  reminded_at: number | null;
}

/** Documents: a folder or a file in a personal, class or group space (migration 0012). */
export interface DocEntriesTable {
  id: string;
  kind: 'folder' | 'file';
  space_kind: 'personal' | 'class' | 'group';
  space_id: string;
  /** The containing folder; '' at the root of the space. */
  folder_id: string;
  /** Ancestor folder ids, '/a/b/' ('/' at the root). */
  path: string;
  depth: number;
  name: string;
  /** Lowercased NFC name: names are unique per folder regardless of case. */
  name_key: string;
  /** 1: a drop folder ("dépôt") where pupils of the class deposit files. */
  drop_box: number;
  /** Who created it; a file's size counts against this person's quota. */
  owner_id: string | null;
  /** The person whose data this is (personal space, a pupil's deposit): purged with them. */
  person_id: string | null;
  blob_sha256: string | null;
  size_bytes: number;
  content_type: string | null;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
  deleted_by: string | null;
}

/** A resumable upload in progress: its bytes are in `<data dir>/uploads/<id>.part`. */
export interface DocUploadsTable {
  id: string;
  owner_id: string;
  space_kind: 'personal' | 'class' | 'group';
  space_id: string;
  folder_id: string;
  name: string;
  size_bytes: number;
  expected_sha256: string | null;
  received_bytes: number;
  created_at: number;
  expires_at: number;
}

/** Actualités (see migrations/0022_news.ts). `audience_kind`: 'school' | 'class' | 'group'. */
export interface NewsTable extends AddressedColumns {
  headline: string;
  body_html: string;
  /** null: a draft; in the future: scheduled. */
  publish_from: number | null;
  /** null: no end; once past, the news is in the archive. */
  publish_until: number | null;
  pinned: number;
  requires_ack: number;
  created_at: number;
  updated_at: number;
  edited_at: number | null;
  withdrawn_at: number | null;
}

export interface NewsAttachmentsTable {
  id: string;
  news_id: string;
  blob_sha256: string;
  file_name: string;
  size_bytes: number;
  content_type: string;
  created_at: number;
}

export interface NewsAcksTable {
  news_id: string;
  person_id: string;
  acknowledged_at: number;
}

/** Notifications feed (see migrations/0030_notifications.ts). */
export interface NotificationsTable {
  id: string;
  recipient_id: string;
  school_id: string | null;
  /** A NotificationKind of platform/notify.ts. */
  kind: string;
  /** Plain text (the work's title, the message's subject…), never HTML. */
  title: string;
  /** The web client's route that opens the thing. */
  link: string;
  subject_id: string;
  actor_id: string | null;
  created_at: number;
  /** Shown in the feed from this instant (a scheduled publication). */
  visible_at: number;
  read_at: number | null;
}

/** Suivi du décrochage (see migrations/0050_engagement.ts): one row per person and Paris day. */
export interface EngagementDaysTable {
  person_id: string;
  /** Paris date `YYYY-MM-DD`. */
  day: string;
  first_seen_at: number;
  last_seen_at: number;
  works_done: number;
  handins_on_time: number;
  handins_late: number;
  messages_read: number;
  liaisons_signed: number;
}

export interface EngagementOpensTable {
  pupil_id: string;
  entry_id: string;
  day: string;
  opened_at: number;
}

/** A virtual class held for a class or a group (recorded by the classroom module, issue 8). */
export interface EngagementClassSessionsTable {
  id: string;
  school_id: string;
  class_id: string | null;
  group_id: string | null;
  day: string;
  starts_at: number;
}

export interface EngagementAttendanceTable {
  session_id: string;
  pupil_id: string;
  joined_at: number;
  minutes: number;
  audio_only: number;
}

/** Who viewed a pupil's signals, when, through which view. */
export interface EngagementAccessLogTable {
  id: string;
  school_id: string | null;
  actor_id: string | null;
  pupil_id: string;
  view: string;
  at: number;
}

export interface EngagementSettingsTable {
  school_id: string;
  inactive_school_days: number;
  missing_works_per_week: number;
  missed_classes: number;
  digest_enabled: number;
  /** Minutes after midnight (Paris) when the CPE's digest is sent. */
  digest_minute: number;
  last_digest_day: string | null;
  updated_at: number;
}

/** A classe virtuelle (issue 8): exactly one of class_id and group_id is set. */
export interface ClassroomRoomsTable {
  id: string;
  school_id: string;
  class_id: string | null;
  group_id: string | null;
  /** The timetable lesson it was created from (null: ad hoc). */
  lesson_id: string | null;
  title: string;
  created_by: string | null;
  starts_at: number;
  ends_at: number;
  /** 'scheduled' | 'open' | 'closed' */
  status: string;
  opened_at: number | null;
  closed_at: number | null;
  /** The node whose memory holds the live room (null: none yet). */
  host_node: string | null;
  guests_allowed: number;
  guest_token_hash: string | null;
  guest_token_expires_at: number | null;
  created_at: number;
}

export interface ClassroomTeachersTable {
  room_id: string;
  person_id: string;
  /** 'teacher' | 'co_teacher' */
  role: string;
}

export interface ClassroomAttendanceTable {
  room_id: string;
  person_id: string;
  role: string;
  first_joined_at: number;
  last_left_at: number;
  seconds: number;
  with_video: number;
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
  school_calendars: SchoolCalendarsTable;
  school_holidays: SchoolHolidaysTable;
  timetable_patterns: TimetablePatternsTable;
  calendar_feeds: CalendarFeedsTable;
  blobs: BlobsTable;
  homework_entries: HomeworkEntriesTable;
  homework_attachments: HomeworkAttachmentsTable;
  homework_done: HomeworkDoneTable;
  cahier_visas: CahierVisasTable;
  handins: HandinsTable;
  handin_files: HandinFilesTable;
  handin_feedback: HandinFeedbackTable;
  messages: MessagesTable;
  message_recipients: MessageRecipientsTable;
  message_attachments: MessageAttachmentsTable;
  liaison_notes: LiaisonNotesTable;
  liaison_targets: LiaisonTargetsTable;
  doc_entries: DocEntriesTable;
  doc_uploads: DocUploadsTable;
  news: NewsTable;
  news_acks: NewsAcksTable;
  news_attachments: NewsAttachmentsTable;
  notifications: NotificationsTable;
  blob_store_objects: BlobStoreObjectsTable;
  blob_store_chunks: BlobStoreChunksTable;
  blob_store_writes: BlobStoreWritesTable;
  doc_upload_chunks: DocUploadChunksTable;
  storage_write_probe: StorageWriteProbeTable;
  engagement_days: EngagementDaysTable;
  engagement_opens: EngagementOpensTable;
  engagement_class_sessions: EngagementClassSessionsTable;
  engagement_attendance: EngagementAttendanceTable;
  engagement_access_log: EngagementAccessLogTable;
  engagement_settings: EngagementSettingsTable;
  classroom_rooms: ClassroomRoomsTable;
  classroom_teachers: ClassroomTeachersTable;
  classroom_attendance: ClassroomAttendanceTable;
}
