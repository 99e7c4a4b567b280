/**
 * Who takes part in the drill, as the load generator needs to know them: logins, classes, the
 * work to hand in and the document to download, read from the drill's own store once the evening
 * before is prepared (drill-server.ts) and passed to the scenario generator as JSON.
 */
import type { Kysely } from 'kysely';
import { addDays, parisDate, parisWallTimeToUtcMs } from '../../src/platform/clock.js';
import type { Database } from '../../src/storage/schema.js';

/** Invented people on a throw-away store: a public password is fine. */
export const DRILL_PASSWORD = 'Exercice-Matin-0830';
/** The password first-time pupils choose when they activate their account. */
export const DRILL_NEW_PASSWORD = 'Nouveau-Cartable-2026';

export type DrillProfile = 'eleve' | 'parent' | 'enseignant';

export interface RosterPerson {
  /** The person's id (a parent writes to a teacher by id). */
  id: string;
  login: string;
  profile: DrillProfile;
  schoolId: string;
  /** Pupil: their class; parent: their children's classes; teacher: the classes they teach. */
  classIds: string[];
  /** Parent: their children (person ids), for the cahier of one child. */
  childIds: string[];
  /** Teacher: the subject they teach (null when the feed gives none). */
  subjectId: string | null;
  /** First-time pupil: the activation code from the sheet (no password yet). */
  activationCode: string | null;
}

export interface RosterClass {
  id: string;
  schoolId: string;
  code: string;
  /** Work posted the evening before to hand in online, and the path of its attachment. */
  handinEntryId: string | null;
  attachmentPath: string | null;
}

export interface Roster {
  password: string;
  /** The drill's Préau lives on a school morning: its clock is the real one plus this (see schoolMorningOffsetMs). */
  clockOffsetMs: number;
  classes: RosterClass[];
  people: RosterPerson[];
  /** On a deployment (`--prepare-target`): the drill académie's schools, for `--clean-target`. */
  schoolJointures?: string[];
}

/**
 * How far to move the clock so that the drill plays on a school day at 07:25 (Paris): today when
 * it is a weekday, otherwise the next Monday. Whatever the day the drill runs, "Aujourd'hui" then
 * has a school day's lessons, and the work due at 8:00 is not yet late.
 */
export function schoolMorningOffsetMs(nowMs: number): number {
  let day = parisDate(nowMs);
  while ([0, 6].includes(new Date(`${day}T12:00:00Z`).getUTCDay())) day = addDays(day, 1);
  return parisWallTimeToUtcMs(day, 7, 25) - nowMs;
}

/** The drill's people and classes; with `schoolIds`, only those schools' (and their pupils' parents): a deployment holds real ones too. */
export async function readRoster(db: Kysely<Database>, activationCodes: ReadonlyMap<string, string>, clockOffsetMs: number, schoolIds?: readonly string[]): Promise<Roster> {
  const classes = await db
    .selectFrom('classes')
    .select(['id', 'school_id', 'code'])
    .$if(schoolIds !== undefined, (q) => q.where('school_id', 'in', schoolIds!.length > 0 ? [...schoolIds!] : ['']))
    .orderBy('school_id')
    .orderBy('code')
    .execute();
  const drillClass = new Set(classes.map((c) => c.id));
  const entries = await db
    .selectFrom('homework_entries as e')
    .leftJoin('homework_attachments as a', 'a.entry_id', 'e.id')
    .select(['e.id', 'e.class_id', 'a.id as attachment_id'])
    .where('e.online_handin', '=', 1)
    .where('e.deleted_at', 'is', null)
    .execute();
  const handinOf = new Map(entries.filter((e) => e.class_id !== null).map((e) => [e.class_id!, e]));
  const people = await db.selectFrom('people').select(['id', 'login', 'profile', 'school_id']).where('profile', 'in', ['eleve', 'parent', 'enseignant']).where('status', '!=', 'departed').orderBy('login').execute();
  const enrolments = await db.selectFrom('class_enrolments').select(['person_id', 'class_id']).execute();
  const teachings = await db.selectFrom('teachings').select(['teacher_id', 'class_id', 'subject_id']).where('class_id', 'is not', null).orderBy('id').execute();
  const guardianships = await db.selectFrom('guardianships').select(['parent_id', 'child_id']).execute();

  // Parents belong to no school of their own: their children's.
  const schoolOfClass = new Map(classes.map((c) => [c.id, c.school_id]));
  const classesOf = new Map<string, string[]>();
  const add = (id: string, classId: string) => {
    if (!drillClass.has(classId)) return;
    const list = classesOf.get(id) ?? [];
    if (!list.includes(classId)) list.push(classId);
    classesOf.set(id, list);
  };
  for (const e of enrolments) add(e.person_id, e.class_id);
  const subjectOf = new Map<string, string | null>();
  for (const t of teachings) {
    add(t.teacher_id, t.class_id!);
    if (!subjectOf.get(t.teacher_id)) subjectOf.set(t.teacher_id, t.subject_id);
  }
  const childrenOf = new Map<string, string[]>();
  for (const g of guardianships) childrenOf.set(g.parent_id, [...(childrenOf.get(g.parent_id) ?? []), g.child_id]);

  return {
    password: DRILL_PASSWORD,
    clockOffsetMs,
    classes: classes.map((c) => {
      const e = handinOf.get(c.id);
      return { id: c.id, schoolId: c.school_id, code: c.code, handinEntryId: e?.id ?? null, attachmentPath: e?.attachment_id ? `/api/v1/homework/${e.id}/attachments/${e.attachment_id}` : null };
    }),
    people: people.flatMap((p): RosterPerson[] => {
      const childIds = childrenOf.get(p.id) ?? [];
      const classIds = p.profile === 'parent' ? [...new Set(childIds.flatMap((c) => classesOf.get(c) ?? []))] : (classesOf.get(p.id) ?? []);
      // Someone with no class has nothing to do on the morning (e.g. a teacher of groups only).
      const schoolId = p.school_id ?? schoolOfClass.get(classIds[0] ?? '');
      if (classIds.length === 0 || !schoolId) return [];
      return [{ id: p.id, login: p.login, profile: p.profile as DrillProfile, schoolId, classIds, childIds, subjectId: subjectOf.get(p.id) ?? null, activationCode: activationCodes.get(p.login) ?? null }];
    }),
  };
}
