import { api } from '../../api/client.js';
import type { Slot } from '../../api/types.js';
import type { Role } from './room.model.js';

/** The classe virtuelle's HTTP API (src/modules/classroom/classroom.routes.ts, presenter): the shapes the client reads. */
export interface Classroom {
  id: string;
  title: string;
  schoolId: string;
  audience: { kind: 'class' | 'group'; id: string };
  lessonId: string | null;
  startsAt: string | null;
  endsAt: string | null;
  status: 'scheduled' | 'open' | 'closed';
  openedAt: string | null;
  closedAt: string | null;
  live: boolean;
  yourRole: Role | null;
  /** Teachers only. */
  guestsAllowed?: boolean;
  guestLinkExpiresAt?: string | null;
}
export interface CreateRequest {
  audience?: { kind: 'class' | 'group'; id: string };
  lessonId?: string;
  title?: string;
  startsAt?: number;
  durationMinutes?: number;
  guestsAllowed?: boolean;
}

const enc = encodeURIComponent;
const base = '/api/v1/classrooms';
/** Every answer about one room is `{classroom}`. */
type One = { classroom: Classroom };
export const listClassrooms = () => api<{ classrooms: Classroom[] }>('GET', base);
export const getClassroom = (id: string) => api<One>('GET', `${base}/${enc(id)}`).then(({ data, stale }) => ({ data: data.classroom, stale }));
export const createClassroom = (body: CreateRequest) => api<One>('POST', base, { body }).then(({ data, stale }) => ({ data: data.classroom, stale }));
export const openClassroom = (id: string) => api<One>('POST', `${base}/${enc(id)}/open`, { body: {} }).then(({ data, stale }) => ({ data: data.classroom, stale }));
export const closeClassroom = (id: string) => api<One>('POST', `${base}/${enc(id)}/close`, { body: {} }).then(({ data, stale }) => ({ data: data.classroom, stale }));
export const lockClassroom = (id: string, locked: boolean) => api<{ locked: boolean }>('PUT', `${base}/${enc(id)}/lock`, { body: { locked } });
export const setGuests = (id: string, allowed: boolean) => api<One>('PUT', `${base}/${enc(id)}/guests`, { body: { allowed } }).then(({ data, stale }) => ({ data: data.classroom, stale }));
export const createGuestLink = (id: string) => api<{ token: string; link: string; expiresAt: string }>('POST', `${base}/${enc(id)}/guest-link`, { body: {} });
export const revokeGuestLink = (id: string) => api<void>('DELETE', `${base}/${enc(id)}/guest-link`);
/** One line of a room's attendance (teachers, co-teachers and the school's staff; presenter `presentAttendance`). */
export interface AttendanceEntry {
  personId: string;
  name: string;
  role: Role;
  firstJoinedAt: string | null;
  lastLeftAt: string | null;
  seconds: number;
  audioOnly: boolean;
}
export const getAttendance = (id: string) => api<{ attendance: AttendanceEntry[] }>('GET', `${base}/${enc(id)}/attendance`).then(({ data }) => data.attendance);
export const acceptInvitation = (token: string) => api<One>('POST', `${base}/invitations`, { body: { token } }).then(({ data, stale }) => ({ data: data.classroom, stale }));

/** A teacher's lessons (to make a virtual class from one) and the classes/groups they teach (ad hoc), from their timetable. */
export interface TeacherChoices {
  lessons: { id: string; label: string; startsAt: string }[];
  audiences: { kind: 'class' | 'group'; id: string; label: string }[];
}
export async function teacherChoices(nowMs: number): Promise<TeacherChoices> {
  const { data } = await api<{ slots?: Slot[] }>('GET', '/api/v1/me/timetable');
  const slots = data.slots ?? [];
  const audiences = new Map<string, TeacherChoices['audiences'][number]>();
  for (const s of slots) {
    if (s.classId) audiences.set(`class:${s.classId}`, { kind: 'class', id: s.classId, label: s.audience ?? s.classId });
    else if (s.groupId) audiences.set(`group:${s.groupId}`, { kind: 'group', id: s.groupId, label: s.audience ?? s.groupId });
  }
  const lessons = slots
    .filter((s) => s.status !== 'annule' && Date.parse(s.endsAt) > nowMs)
    .map((s) => ({ id: s.id, startsAt: s.startsAt, label: [s.audience, s.subject].filter(Boolean).join(' — ') }));
  return { lessons, audiences: [...audiences.values()].sort((a, b) => a.label.localeCompare(b.label, 'fr')) };
}
