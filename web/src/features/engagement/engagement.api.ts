import { api } from '../../api/client.js';

/** The suivi's API (src/modules/engagement/engagement.routes.ts): answer shapes the client reads. */
export type RuleId = 'inactive' | 'missing_works' | 'missed_classes';
export interface Concern {
  rule: RuleId;
  value: number;
  threshold: number;
}
export interface Rule {
  rule: RuleId;
  threshold: number;
}
export interface PupilRef {
  id: string;
  firstName: string;
  lastName: string;
  classId: string;
  className: string;
}
export interface PupilLine {
  pupil: PupilRef;
  lastSeenDay: string | null;
  schoolDays: number;
  daysSeen: number;
  works: { due: number; onTime: number; late: number; missing: number; opened: number; done: number };
  classes: { held: number; attended: number; minutes: number; audioOnly: number; missedDays: string[] };
  messagesRead: number;
  parents: { ids: string[]; count: number; everConnected: number; liaisonsSigned: number; liaisonsTotal: number };
  concerns: Concern[];
}
export interface Home {
  self: boolean;
  classes: { id: string; name: string }[];
  children: { id: string; firstName: string; lastName: string }[];
  schools: { id: string; classes: { id: string; name: string }[] }[];
}
export interface ClassView {
  class: { id: string; name: string; schoolId: string };
  period: 'today' | 'week';
  today: string;
  rules: Rule[];
  lines: PupilLine[];
}
export interface SchoolView {
  schoolId: string;
  today: string;
  pupils: number;
  rules: Rule[];
  classes: { classId: string; name: string; pupils: number; ofConcern: number; seenToday: number }[];
  ofConcern: { pupil: PupilRef; lastSeenDay: string | null; concerns: Concern[] }[];
  trend: { day: string; seen: number; over: boolean }[];
}
export interface PupilWeek {
  today: string;
  rules: Rule[];
  week: PupilLine;
  summary: string;
}
export interface MyData extends PupilWeek {
  recorded: {
    days: { day: string; worksDone: number; handedInOnTime: number; handedInLate: number; messagesRead: number; liaisonsSigned: number }[];
    worksOpened: { entryId: string; day: string }[];
    virtualClasses: { sessionId: string; day: string; minutes: number; audioOnly: boolean }[];
  };
  views: { id: string; at: string; view: string; actor: { firstName: string | null; lastName: string | null; profile: string | null; staffFunction: string | null } | null }[];
}

export interface Settings {
  inactiveSchoolDays: number;
  missingWorksPerWeek: number;
  missedClasses: number;
  digestEnabled: boolean;
  digestMinute: number;
}
export interface AccessEntry {
  id: string;
  at: string;
  view: string;
  actor: { firstName: string | null; lastName: string | null } | null;
  pupil: { id: string; firstName: string; lastName: string };
}

const enc = encodeURIComponent;
export const loadSettings = (schoolId: string) => api<{ settings: Settings }>('GET', `/api/v1/engagement/schools/${enc(schoolId)}/settings`);
export const saveSettings = (schoolId: string, settings: Settings) => api<{ settings: Settings }>('PUT', `/api/v1/engagement/schools/${enc(schoolId)}/settings`, { body: settings });
export const loadAccessLog = (schoolId: string) => api<{ entries: AccessEntry[]; nextBefore: string | null }>('GET', `/api/v1/engagement/schools/${enc(schoolId)}/access-log?limit=50`);
export const loadHome = () => api<Home>('GET', '/api/v1/engagement');
export const loadClass = (classId: string, period: 'today' | 'week') => api<ClassView>('GET', `/api/v1/engagement/classes/${enc(classId)}?period=${period}`);
export const loadSchool = (schoolId: string) => api<SchoolView>('GET', `/api/v1/engagement/schools/${enc(schoolId)}`);
export const loadPupil = (pupilId: string) => api<PupilWeek>('GET', `/api/v1/engagement/pupils/${enc(pupilId)}`);
export const loadMine = () => api<MyData>('GET', '/api/v1/me/engagement');
