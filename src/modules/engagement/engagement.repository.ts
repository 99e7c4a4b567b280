import { sql, type Kysely } from 'kysely';
import { chunkForInsert, type StorageCapabilities } from '../../storage/db.js';
import type { Database, EngagementDaysTable, EngagementOpensTable, EngagementSettingsTable } from '../../storage/schema.js';
import { newId } from '../../platform/ids.js';

export type DayCounts = EngagementDaysTable;
export type OpenRow = EngagementOpensTable;
export type SettingsRow = EngagementSettingsTable;

const DAY_COLUMNS = 9;
/** Largest page of the access log. */
export const ACCESS_LOG_PAGE_MAX = 100;

export interface RosterRow {
  id: string;
  first_name: string;
  last_name: string;
  class_id: string;
  class_name: string;
}

export interface DueWork {
  id: string;
  title: string;
  class_id: string | null;
  group_id: string | null;
  due_at: number;
}

/**
 * SQL of the suivi. The recorder's upsert adds counts and widens first/last seen in the database,
 * so two nodes (or two flushes) writing the same person-day add up instead of overwriting.
 * Directory and cahier tables are only read here (rosters, due works, hand-ins), never written.
 */
export class EngagementRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly caps: StorageCapabilities,
  ) {}

  /** One transaction: the day upserts and the distinct opens. All or nothing (a failed flush is retried whole). */
  async writeSignals(days: readonly DayCounts[], opens: readonly OpenRow[]): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      for (const chunk of chunkForInsert(days, DAY_COLUMNS, this.caps)) {
        await tx
          .insertInto('engagement_days')
          .values(chunk)
          .onConflict((oc) =>
            oc.columns(['person_id', 'day']).doUpdateSet({
              first_seen_at: sql`case when excluded.first_seen_at < engagement_days.first_seen_at then excluded.first_seen_at else engagement_days.first_seen_at end`,
              last_seen_at: sql`case when excluded.last_seen_at > engagement_days.last_seen_at then excluded.last_seen_at else engagement_days.last_seen_at end`,
              works_done: sql`engagement_days.works_done + excluded.works_done`,
              handins_on_time: sql`engagement_days.handins_on_time + excluded.handins_on_time`,
              handins_late: sql`engagement_days.handins_late + excluded.handins_late`,
              messages_read: sql`engagement_days.messages_read + excluded.messages_read`,
              liaisons_signed: sql`engagement_days.liaisons_signed + excluded.liaisons_signed`,
            }),
          )
          .execute();
      }
      for (const chunk of chunkForInsert(opens, 4, this.caps)) {
        await tx.insertInto('engagement_opens').values(chunk).onConflict((oc) => oc.columns(['pupil_id', 'entry_id']).doNothing()).execute();
      }
    });
  }

  daysOf(personIds: readonly string[], fromDay: string, toDay: string): Promise<DayCounts[]> {
    if (personIds.length === 0) return Promise.resolve([]);
    return this.db.selectFrom('engagement_days').selectAll().where('person_id', 'in', personIds).where('day', '>=', fromDay).where('day', '<=', toDay).execute();
  }

  /** Days of every pupil of a school's classes in a window (the CPE's view): one indexed join. */
  daysOfSchool(schoolId: string, fromDay: string, toDay: string): Promise<DayCounts[]> {
    return this.db
      .selectFrom('engagement_days as d')
      .innerJoin('class_enrolments as e', 'e.person_id', 'd.person_id')
      .innerJoin('classes as c', 'c.id', 'e.class_id')
      .selectAll('d')
      .where('c.school_id', '=', schoolId)
      .where('d.day', '>=', fromDay)
      .where('d.day', '<=', toDay)
      .execute();
  }

  /** The last day each person was seen before `beforeDay` (inclusive), within the school year. */
  async lastSeenDays(personIds: readonly string[], fromDay: string): Promise<Map<string, string>> {
    if (personIds.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('engagement_days')
      .select(['person_id', (eb) => eb.fn.max('day').as('last_day')])
      .where('person_id', 'in', personIds)
      .where('day', '>=', fromDay)
      .groupBy('person_id')
      .execute();
    return new Map(rows.map((r) => [r.person_id, r.last_day]));
  }

  /** Active pupils of a school with their class (one line per enrolment). */
  roster(filter: { schoolId: string } | { classId: string }): Promise<RosterRow[]> {
    let q = this.db
      .selectFrom('class_enrolments as e')
      .innerJoin('classes as c', 'c.id', 'e.class_id')
      .innerJoin('people as p', 'p.id', 'e.person_id')
      .select(['p.id', 'p.first_name', 'p.last_name', 'c.id as class_id', 'c.name as class_name'])
      .where('p.profile', '=', 'eleve')
      .where('p.status', '!=', 'departed');
    q = 'schoolId' in filter ? q.where('c.school_id', '=', filter.schoolId) : q.where('c.id', '=', filter.classId);
    return q.orderBy('p.last_name').orderBy('p.first_name').execute();
  }

  async groupsOf(pupilIds: readonly string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    if (pupilIds.length === 0) return out;
    const rows = await this.db.selectFrom('group_members').select(['person_id', 'group_id']).where('person_id', 'in', pupilIds).execute();
    for (const r of rows) out.set(r.person_id, [...(out.get(r.person_id) ?? []), r.group_id]);
    return out;
  }

  findClass(classId: string) {
    return this.db.selectFrom('classes').select(['id', 'school_id', 'name']).where('id', '=', classId).executeTakeFirst();
  }

  classesByIds(ids: readonly string[]) {
    if (ids.length === 0) return Promise.resolve([]);
    return this.db.selectFrom('classes').select(['id', 'name', 'school_id']).where('id', 'in', ids).orderBy('name').execute();
  }

  childrenOf(parentId: string) {
    return this.db
      .selectFrom('guardianships as g')
      .innerJoin('people as p', 'p.id', 'g.child_id')
      .select(['p.id', 'p.first_name', 'p.last_name'])
      .where('g.parent_id', '=', parentId)
      .where('g.legal_guardian', '=', 1)
      .where('p.profile', '=', 'eleve')
      .where('p.status', '!=', 'departed')
      .orderBy('p.first_name')
      .execute();
  }

  classesOf(schoolId: string) {
    return this.db.selectFrom('classes').select(['id', 'name']).where('school_id', '=', schoolId).orderBy('name').execute();
  }

  /** Published works to hand in online, due in [fromMs, toMs), for these classes and groups. */
  dueWorks(classIds: readonly string[], groupIds: readonly string[], fromMs: number, toMs: number, nowMs: number): Promise<DueWork[]> {
    if (classIds.length === 0 && groupIds.length === 0) return Promise.resolve([]);
    return this.db
      .selectFrom('homework_entries')
      .select(['id', 'title', 'class_id', 'group_id', 'due_at'])
      .where('kind', '=', 'travail')
      .where('online_handin', '=', 1)
      .where('deleted_at', 'is', null)
      .where('publish_at', 'is not', null)
      .where('publish_at', '<=', nowMs)
      .where('due_at', '>=', fromMs)
      .where('due_at', '<', toMs)
      .where((eb) => eb.or([...(classIds.length ? [eb('class_id', 'in', classIds)] : []), ...(groupIds.length ? [eb('group_id', 'in', groupIds)] : [])]))
      .$narrowType<{ due_at: number }>()
      .execute();
  }

  /** Current hand-ins (not superseded) of these works. */
  handinsOf(entryIds: readonly string[]) {
    if (entryIds.length === 0) return Promise.resolve([]);
    return this.db.selectFrom('handins').select(['entry_id', 'pupil_id', 'late', 'submitted_at']).where('entry_id', 'in', entryIds).where('superseded_at', 'is', null).execute();
  }

  /** Legal guardians of these pupils. */
  parentsOf(pupilIds: readonly string[]) {
    if (pupilIds.length === 0) return Promise.resolve([]);
    return this.db.selectFrom('guardianships').select(['parent_id', 'child_id']).where('child_id', 'in', pupilIds).where('legal_guardian', '=', 1).execute();
  }

  /** Which of these people have a signal since `fromDay` (parents' first connection of the year). */
  async everSeen(personIds: readonly string[], fromDay: string): Promise<Set<string>> {
    if (personIds.length === 0) return new Set();
    const rows = await this.db.selectFrom('engagement_days').select('person_id').distinct().where('person_id', 'in', personIds).where('day', '>=', fromDay).execute();
    return new Set(rows.map((r) => r.person_id));
  }

  /** Liaison notes to these parents about these pupils since `fromMs`: signed or not. */
  liaisonsOf(parentIds: readonly string[], fromMs: number) {
    if (parentIds.length === 0) return Promise.resolve([]);
    return this.db.selectFrom('liaison_targets').select(['parent_id', 'pupil_id', 'signed_at']).where('parent_id', 'in', parentIds).where('created_at', '>=', fromMs).execute();
  }

  opensOf(pupilIds: readonly string[], entryIds: readonly string[]) {
    if (pupilIds.length === 0 || entryIds.length === 0) return Promise.resolve([]);
    return this.db.selectFrom('engagement_opens').selectAll().where('pupil_id', 'in', pupilIds).where('entry_id', 'in', entryIds).execute();
  }

  // Virtual classes (fed by the classroom module through EngagementService).

  async insertClassSession(row: Database['engagement_class_sessions']): Promise<void> {
    await this.db.insertInto('engagement_class_sessions').values(row).onConflict((oc) => oc.column('id').doNothing()).execute();
  }

  findClassSession(id: string) {
    return this.db.selectFrom('engagement_class_sessions').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async upsertAttendance(row: Database['engagement_attendance']): Promise<void> {
    await this.db
      .insertInto('engagement_attendance')
      .values(row)
      .onConflict((oc) =>
        oc.columns(['session_id', 'pupil_id']).doUpdateSet({
          joined_at: sql`case when excluded.joined_at < engagement_attendance.joined_at then excluded.joined_at else engagement_attendance.joined_at end`,
          minutes: sql`excluded.minutes`,
          audio_only: sql`excluded.audio_only`,
        }),
      )
      .execute();
  }

  /** Virtual classes held for these classes/groups since `fromMs`, latest first. */
  classSessions(schoolId: string, classIds: readonly string[], groupIds: readonly string[], fromMs: number, toMs: number) {
    if (classIds.length === 0 && groupIds.length === 0) return Promise.resolve([]);
    return this.db
      .selectFrom('engagement_class_sessions')
      .selectAll()
      .where('school_id', '=', schoolId)
      .where('starts_at', '>=', fromMs)
      .where('starts_at', '<', toMs)
      .where((eb) => eb.or([...(classIds.length ? [eb('class_id', 'in', classIds)] : []), ...(groupIds.length ? [eb('group_id', 'in', groupIds)] : [])]))
      .orderBy('starts_at', 'desc')
      .execute();
  }

  attendanceOf(sessionIds: readonly string[]) {
    if (sessionIds.length === 0) return Promise.resolve([]);
    return this.db.selectFrom('engagement_attendance').selectAll().where('session_id', 'in', sessionIds).execute();
  }

  // Settings.

  settings(schoolId: string): Promise<SettingsRow | undefined> {
    return this.db.selectFrom('engagement_settings').selectAll().where('school_id', '=', schoolId).executeTakeFirst();
  }

  async saveSettings(row: SettingsRow): Promise<void> {
    await this.db
      .insertInto('engagement_settings')
      .values(row)
      .onConflict((oc) =>
        oc.column('school_id').doUpdateSet({
          inactive_school_days: row.inactive_school_days, missing_works_per_week: row.missing_works_per_week, missed_classes: row.missed_classes,
          digest_enabled: row.digest_enabled, digest_minute: row.digest_minute, updated_at: row.updated_at,
        }),
      )
      .execute();
  }

  digestSchools() {
    return this.db.selectFrom('engagement_settings').selectAll().where('digest_enabled', '=', 1).execute();
  }

  /** Marks the digest of `day` sent; false when another node already did (compare-and-set). */
  async claimDigest(schoolId: string, day: string): Promise<boolean> {
    const r = await this.db
      .updateTable('engagement_settings')
      .set({ last_digest_day: day })
      .where('school_id', '=', schoolId)
      .where((eb) => eb.or([eb('last_digest_day', 'is', null), eb('last_digest_day', '<', day)]))
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** School staff with a given function (the CPE of the digest). */
  staffOf(schoolId: string, fn: 'cpe' | 'direction') {
    return this.db
      .selectFrom('school_members as m')
      .innerJoin('people as p', 'p.id', 'm.person_id')
      .select('p.id')
      .where('m.school_id', '=', schoolId)
      .where('p.profile', '=', 'personnel')
      .where('p.staff_function', '=', fn)
      .where('p.status', '=', 'active')
      .execute();
  }

  // Access log.

  async logAccess(rows: { schoolId: string | null; actorId: string; pupilIds: readonly string[]; view: string; at: number }): Promise<void> {
    const values = rows.pupilIds.map((pupil_id) => ({ id: newId(), school_id: rows.schoolId, actor_id: rows.actorId, pupil_id, view: rows.view, at: rows.at }));
    for (const chunk of chunkForInsert(values, 6, this.caps)) await this.db.insertInto('engagement_access_log').values(chunk).execute();
  }

  accessLog(filter: { schoolId: string } | { pupilId: string }, beforeMs: number, limit: number) {
    let q = this.db
      .selectFrom('engagement_access_log as l')
      .leftJoin('people as a', 'a.id', 'l.actor_id')
      .innerJoin('people as p', 'p.id', 'l.pupil_id')
      .select(['l.id', 'l.at', 'l.view', 'l.pupil_id', 'l.actor_id', 'a.first_name as actor_first_name', 'a.last_name as actor_last_name', 'a.profile as actor_profile', 'a.staff_function as actor_function', 'p.first_name as pupil_first_name', 'p.last_name as pupil_last_name'])
      .where('l.at', '<', beforeMs);
    q = 'schoolId' in filter ? q.where('l.school_id', '=', filter.schoolId) : q.where('l.pupil_id', '=', filter.pupilId);
    return q.orderBy('l.at', 'desc').orderBy('l.id', 'desc').limit(limit).execute();
  }

  /** What is recorded about one pupil since `fromDay` ("mes données"). */
  async recordedAbout(pupilId: string, fromDay: string) {
    const [days, opens, attendance] = await Promise.all([
      this.db.selectFrom('engagement_days').selectAll().where('person_id', '=', pupilId).where('day', '>=', fromDay).orderBy('day', 'desc').execute(),
      this.db.selectFrom('engagement_opens').selectAll().where('pupil_id', '=', pupilId).where('day', '>=', fromDay).orderBy('opened_at', 'desc').execute(),
      this.db
        .selectFrom('engagement_attendance as a')
        .innerJoin('engagement_class_sessions as s', 's.id', 'a.session_id')
        .select(['a.session_id', 'a.joined_at', 'a.minutes', 'a.audio_only', 's.day', 's.starts_at'])
        .where('a.pupil_id', '=', pupilId)
        .where('s.day', '>=', fromDay)
        .orderBy('s.starts_at', 'desc')
        .execute(),
    ]);
    return { days, opens, attendance };
  }

  /** Signals older than `beforeDay` / `beforeMs` go (the school year is over). */
  async purgeBefore(beforeDay: string, beforeMs: number): Promise<number> {
    return this.db.transaction().execute(async (tx) => {
      const d = await tx.deleteFrom('engagement_days').where('day', '<', beforeDay).executeTakeFirst();
      const o = await tx.deleteFrom('engagement_opens').where('day', '<', beforeDay).executeTakeFirst();
      const s = await tx.deleteFrom('engagement_class_sessions').where('day', '<', beforeDay).executeTakeFirst();
      const l = await tx.deleteFrom('engagement_access_log').where('at', '<', beforeMs).executeTakeFirst();
      return Number(d.numDeletedRows) + Number(o.numDeletedRows) + Number(s.numDeletedRows) + Number(l.numDeletedRows);
    });
  }
}
