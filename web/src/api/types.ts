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
}

export type Today =
  | { date: string; profile: 'eleve'; timetable: Slot[] }
  | { date: string; profile: 'enseignant'; timetable: Slot[] }
  | { date: string; profile: 'parent'; children: { child: { id: string; firstName: string; lastName: string }; timetable: Slot[] }[] }
  | {
      date: string;
      profile: 'personnel' | 'admin_etablissement' | 'admin_plateforme';
      schools: { id: string; name: string; classCount: number; people: { profile: Profile; status: string; count: number }[] }[];
    };

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
