/** Shapes of the server's answers the client reads (see the server's presenters). */
export type Profile = 'eleve' | 'parent' | 'enseignant' | 'personnel' | 'admin_etablissement' | 'admin_plateforme';

export interface Me {
  id: string;
  login: string;
  firstName: string;
  lastName: string;
  profile: Profile;
  staffFunction: string | null;
  status: string;
  preferences: { lang: 'fr' | 'en' };
}

export interface MeAnswer {
  user: Me;
  csrfToken: string;
}

export interface Slot {
  id: string;
  startsAt: string;
  endsAt: string;
  subject: string | null;
  teacher: string | null;
  room: string | null;
  status: 'normal' | 'annule' | 'modifie' | string;
  note: string | null;
  audience: string | null;
  /** The lesson's class or group and subject (to open or write in its cahier de textes). */
  classId?: string | null;
  groupId?: string | null;
  subjectId?: string | null;
  /** A one-off change, with what the lesson was before (week view). */
  change?: { label: string; before?: { startsAt: string | null; endsAt: string | null; room: string | null; teacher: string | null } };
}

/** A line of work due on "Aujourd'hui" (today or tomorrow; nothing personal). */
export interface WorkDue {
  id: string;
  title: string;
  date: string;
  dueAt: string | null;
  estimatedMinutes: number | null;
  onlineHandin: boolean;
  subject: string | null;
  audience: string | null;
  url: string;
}

/** A news item as lists and "Aujourd'hui" show it (no body). */
export interface NewsItem {
  id: string;
  audience: { kind: 'school' | 'class' | 'group'; id: string; name: string };
  headline: string;
  excerpt: string;
  state: 'draft' | 'scheduled' | 'published' | 'expired' | 'withdrawn';
  publishFrom: string | null;
  publishUntil: string | null;
  pinned: boolean;
  requiresAck: boolean;
  editedAt: string | null;
}

/** Every profile's day carries the current news of what they read (the same for a whole class). */
export type Today = { news?: NewsItem[] } & (
  | { date: string; profile: 'eleve'; timetable: Slot[]; workDue: WorkDue[] }
  | { date: string; profile: 'enseignant'; timetable: Slot[] }
  | { date: string; profile: 'parent'; children: { child: { id: string; firstName: string; lastName: string }; timetable: Slot[]; workDue: WorkDue[] }[] }
  | {
      date: string;
      profile: 'personnel' | 'admin_etablissement' | 'admin_plateforme';
      schools: { id: string; name: string; classCount: number; people: { profile: Profile; status: string; count: number }[] }[];
    }
);

export interface SessionInfo {
  id: string;
  current: boolean;
  remember: boolean;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  device: string;
}

export interface PlatformStatus {
  incident: string | null;
  readOnly: boolean;
}

/** A cahier de textes entry as the server presents it (homework.presenter.ts). */
export interface Attachment {
  id: string;
  fileName: string;
  sizeBytes: number;
  contentType: string;
  sha256: string;
  url: string;
}

export interface HomeworkEntry {
  id: string;
  kind: 'seance' | 'travail';
  title: string;
  /** Sanitised server side (allow-list); shown as content only. */
  bodyHtml: string;
  links: { url: string; label: string }[];
  date: string;
  dueAt: string | null;
  estimatedMinutes: number | null;
  onlineHandin: boolean;
  subject: { id: string; label: string | null } | null;
  audience: { kind: 'class' | 'group'; id: string; name: string | null };
  teacher: string | null;
  teacherId?: string;
  state: 'draft' | 'scheduled' | 'published';
  publishAt: string | null;
  attachments: Attachment[];
  done?: boolean;
  doneAt?: string | null;
}

/** A head of school's sign-off of a teacher's cahier. */
export interface CahierVisa {
  id: string;
  at: string;
  comment: string | null;
  by: string | null;
}

export interface HandinFile {
  id: string;
  fileName: string;
  sizeBytes: number;
  sha256: string;
  contentType: string;
  url: string;
}

/** The proof of a hand-in: what was received, when, with each file's SHA-256. */
export interface Receipt {
  id: string;
  entry: { id: string; title: string; subject: string | null; dueAt: string | null };
  pupil: { id: string; firstName: string; lastName: string };
  handedInAt: string;
  late: boolean;
  replacedAt: string | null;
  text: { content: string; characters: number; sha256: string } | null;
  files: HandinFile[];
  totalBytes: number;
  receiptUrl: string;
}

export interface Feedback {
  comment: string | null;
  returnedAt: string | null;
  file: { fileName: string; sizeBytes: number; contentType: string; sha256: string; url: string } | null;
}

export interface PupilHandins {
  pupil: { id: string; firstName: string; lastName: string };
  current: Receipt | null;
  replaced: Receipt[];
  feedback: Feedback | null;
}

export interface HandinsOverview {
  entry: { id: string; title: string; dueAt: string | null; audience: string | null };
  counts: Record<string, number>;
  pupils: {
    pupil: { id: string; firstName: string; lastName: string };
    status: 'handed_in' | 'late' | 'missing';
    handin: { id: string; handedInAt: string; late: boolean; fileCount: number; totalBytes: number; hasText: boolean } | null;
    returned: boolean;
  }[];
  nextOffset: number | null;
}

/** Messagerie (GET /api/v1/messages…). */
export type MessageBox = 'inbox' | 'sent' | 'drafts';
export type RecipientAudience = 'pupils' | 'parents';
export interface ChosenRecipient {
  kind: 'person' | 'class' | 'group' | 'school';
  id: string;
  name: string;
  audience?: RecipientAudience;
}
export interface MessageSummary {
  id: string;
  threadId: string;
  from: { id: string; name: string | null };
  subject: string;
  to: ChosenRecipient[];
  sentAt: string | null;
  updatedAt: string | null;
  read: boolean;
  attachmentCount: number;
}
export interface Message {
  id: string;
  threadId: string;
  inReplyTo: string | null;
  from: { id: string; name: string | null };
  to: ChosenRecipient[];
  cc: ChosenRecipient[];
  subject: string;
  bodyHtml: string;
  state: 'draft' | 'sent';
  sentAt: string | null;
  updatedAt: string | null;
  read: boolean;
  attachments: Attachment[];
  thread: { id: string; from: { id: string; name: string | null }; subject: string; sentAt: string | null; read: boolean }[];
}
export interface DirectoryEntry {
  kind: 'person' | 'class' | 'group' | 'school';
  id: string;
  name: string;
  profile?: string;
  audience?: RecipientAudience;
}
export interface Directory {
  people: DirectoryEntry[];
  audiences: DirectoryEntry[];
  nextCursor: string | null;
}

/** Carnet de liaison (GET /api/v1/liaison…). */
export interface LiaisonNote {
  id: string;
  title: string;
  audience: { kind: 'pupil' | 'class' | 'group'; id: string; name: string };
  createdAt: string;
  reminders: number;
  lastRemindedAt: string | null;
  bodyHtml?: string;
  /** A parent's own rows, one per child concerned. */
  mySignatures?: { pupilId: string; signedAt: string | null; remindedAt: string | null }[];
  /** For whoever follows the note (its author, the school's staff). */
  signed?: number;
  total?: number;
  /** Whether this person may withdraw the note (its author). */
  canWithdraw?: boolean;
  /** A parent's list: one row per note and child. */
  pupilId?: string;
  signedAt?: string | null;
  remindedAt?: string | null;
}
export interface LiaisonSignatures {
  signed: number;
  total: number;
  rows: { pupil: { id: string; name: string }; parent: { id: string; name: string }; signedAt: string | null; remindedAt: string | null }[];
  nextOffset: number | null;
}
/** GET /api/v1/me/today/mine: what is new for this person only. */
export interface TodayMine {
  unreadMessages?: number;
  liaisonsToSign?: number;
  /** Unread notifications (the page shows the live count, web/src/features/notifications/live.ts). */
  unreadNotifications?: number;
}
