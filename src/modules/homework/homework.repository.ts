import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Database, HomeworkAttachmentsTable, HomeworkEntriesTable } from '../../storage/schema.js';

export type EntryRow = Selectable<HomeworkEntriesTable>;
export type AttachmentRow = Selectable<HomeworkAttachmentsTable>;

/** An entry with the names a reader sees. */
export interface EntryView extends EntryRow {
  subject_label: string | null;
  audience_name: string | null;
  teacher_title: string | null;
  teacher_last_name: string | null;
}

export interface DueView {
  id: string;
  title: string;
  on_date: string;
  due_at: number | null;
  estimated_minutes: number | null;
  online_handin: number;
  subject_label: string | null;
  audience_name: string | null;
}

export interface ListFilter {
  classIds?: readonly string[];
  groupIds?: readonly string[];
  teacherId?: string;
  subjectId?: string;
  kind?: string;
  fromDate: string;
  toDate: string;
  /** Only entries published at this instant (readers); undefined: drafts too (the author's cahier). */
  publishedAtMs?: number;
  after?: { date: string; id: string };
  limit: number;
}

/** SQL of the cahier de textes. Writes bump `version()`, which "Aujourd'hui" keys its cache on. */
export class HomeworkRepository {
  private writes = 0;
  constructor(private readonly db: Kysely<Database>) {}

  version(): number {
    return this.writes;
  }


  private viewQuery(db: Kysely<Database> = this.db) {
    return db
      .selectFrom('homework_entries as e')
      .leftJoin('subjects as sub', 'sub.id', 'e.subject_id')
      .leftJoin('classes as c', 'c.id', 'e.class_id')
      .leftJoin('teaching_groups as g', 'g.id', 'e.group_id')
      .leftJoin('people as t', 't.id', 'e.teacher_id')
      .selectAll('e')
      .select((eb) => ['sub.label as subject_label', eb.fn.coalesce('c.name', 'g.name').as('audience_name'), 't.title as teacher_title', 't.last_name as teacher_last_name']);
  }

  findEntry(id: string): Promise<EntryView | undefined> {
    return this.viewQuery().where('e.id', '=', id).executeTakeFirst();
  }

  async insertEntry(row: EntryRow, attachments: AttachmentRow[] = []): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx.insertInto('homework_entries').values(row).execute();
      if (attachments.length > 0) await tx.insertInto('homework_attachments').values(attachments).execute();
    });
    this.writes++;
  }

  async updateEntry(id: string, patch: Partial<EntryRow>): Promise<void> {
    await this.db.updateTable('homework_entries').set(patch).where('id', '=', id).execute();
    this.writes++;
  }

  list(filter: ListFilter): Promise<EntryView[]> {
    const classIds = filter.classIds ?? [];
    const groupIds = filter.groupIds ?? [];
    let q = this.viewQuery()
      .where('e.deleted_at', 'is', null)
      .where('e.on_date', '>=', filter.fromDate)
      .where('e.on_date', '<=', filter.toDate);
    if (filter.teacherId) q = q.where('e.teacher_id', '=', filter.teacherId);
    if (!filter.teacherId || classIds.length + groupIds.length > 0) {
      q = q.where((eb) => {
        const ors = [];
        if (classIds.length > 0) ors.push(eb('e.class_id', 'in', classIds));
        if (groupIds.length > 0) ors.push(eb('e.group_id', 'in', groupIds));
        return ors.length > 0 ? eb.or(ors) : eb.val(false);
      });
    }
    if (filter.subjectId) q = q.where('e.subject_id', '=', filter.subjectId);
    if (filter.kind) q = q.where('e.kind', '=', filter.kind);
    if (filter.publishedAtMs !== undefined) q = q.where('e.publish_at', '<=', filter.publishedAtMs);
    if (filter.after) {
      const { date, id } = filter.after;
      q = q.where((eb) => eb.or([eb('e.on_date', '>', date), eb.and([eb('e.on_date', '=', date), eb('e.id', '>', id)])]));
    }
    return q.orderBy('e.on_date').orderBy('e.id').limit(filter.limit).execute();
  }

  /** Work due between two dates for these classes and groups, published at `nowMs` ("Aujourd'hui"). */
  dueBetween(classIds: readonly string[], groupIds: readonly string[], fromDate: string, toDate: string, nowMs: number): Promise<DueView[]> {
    if (classIds.length === 0 && groupIds.length === 0) return Promise.resolve([]);
    return this.db
      .selectFrom('homework_entries as e')
      .leftJoin('subjects as sub', 'sub.id', 'e.subject_id')
      .leftJoin('classes as c', 'c.id', 'e.class_id')
      .leftJoin('teaching_groups as g', 'g.id', 'e.group_id')
      .select((eb) => ['e.id', 'e.title', 'e.on_date', 'e.due_at', 'e.estimated_minutes', 'e.online_handin', 'sub.label as subject_label', eb.fn.coalesce('c.name', 'g.name').as('audience_name')])
      .where((eb) => {
        const ors = [];
        if (classIds.length > 0) ors.push(eb('e.class_id', 'in', classIds));
        if (groupIds.length > 0) ors.push(eb('e.group_id', 'in', groupIds));
        return eb.or(ors);
      })
      .where('e.kind', '=', 'travail')
      .where('e.on_date', '>=', fromDate)
      .where('e.on_date', '<=', toDate)
      .where('e.deleted_at', 'is', null)
      .where('e.publish_at', '<=', nowMs)
      .orderBy('e.on_date')
      .orderBy('e.due_at')
      .orderBy('e.id')
      .limit(50)
      .execute();
  }

  attachmentsOf(entryIds: readonly string[]): Promise<AttachmentRow[]> {
    if (entryIds.length === 0) return Promise.resolve([]);
    return this.db.selectFrom('homework_attachments').selectAll().where('entry_id', 'in', entryIds).orderBy('created_at').orderBy('id').execute();
  }

  findAttachment(entryId: string, id: string): Promise<(AttachmentRow & { crc32: number }) | undefined> {
    return this.db
      .selectFrom('homework_attachments as a')
      .innerJoin('blobs as b', 'b.sha256', 'a.blob_sha256')
      .selectAll('a')
      .select('b.crc32')
      .where('a.entry_id', '=', entryId)
      .where('a.id', '=', id)
      .executeTakeFirst();
  }

  async countAttachments(entryId: string): Promise<number> {
    const r = await this.db.selectFrom('homework_attachments').select((eb) => eb.fn.countAll<number>().as('n')).where('entry_id', '=', entryId).executeTakeFirstOrThrow();
    return Number(r.n);
  }

  async insertAttachment(row: AttachmentRow): Promise<void> {
    await this.db.insertInto('homework_attachments').values(row).execute();
    this.writes++;
  }

  async deleteAttachment(entryId: string, id: string): Promise<boolean> {
    const r = await this.db.deleteFrom('homework_attachments').where('entry_id', '=', entryId).where('id', '=', id).executeTakeFirst();
    this.writes++;
    return Number(r.numDeletedRows) > 0;
  }

  async setDone(entryId: string, pupilId: string, done: boolean, nowMs: number): Promise<void> {
    if (done) {
      await this.db.insertInto('homework_done').values({ entry_id: entryId, pupil_id: pupilId, done_at: nowMs }).onConflict((oc) => oc.columns(['entry_id', 'pupil_id']).doNothing()).execute();
    } else {
      await this.db.deleteFrom('homework_done').where('entry_id', '=', entryId).where('pupil_id', '=', pupilId).execute();
    }
  }

  async doneOf(pupilId: string, entryIds: readonly string[]): Promise<Map<string, number>> {
    if (entryIds.length === 0) return new Map();
    const rows = await this.db.selectFrom('homework_done').select(['entry_id', 'done_at']).where('pupil_id', '=', pupilId).where('entry_id', 'in', entryIds).execute();
    return new Map(rows.map((r) => [r.entry_id, r.done_at]));
  }

  /** The school of a class or group, and which of the two it is. */
  async audience(classId: string | undefined, groupId: string | undefined): Promise<{ schoolId: string; name: string } | undefined> {
    if (classId) return this.db.selectFrom('classes').select(['school_id as schoolId', 'name']).where('id', '=', classId).executeTakeFirst();
    if (groupId) return this.db.selectFrom('teaching_groups').select(['school_id as schoolId', 'name']).where('id', '=', groupId).executeTakeFirst();
    return undefined;
  }

  /** The subject a teacher teaches this class or group, when they teach only one there. */
  async taughtSubject(teacherId: string, classId: string | null, groupId: string | null): Promise<string | null> {
    let q = this.db.selectFrom('teachings').select('subject_id').where('teacher_id', '=', teacherId).where('subject_id', 'is not', null);
    q = classId ? q.where('class_id', '=', classId) : q.where('group_id', '=', groupId!);
    const rows = await q.limit(2).execute();
    return rows.length === 1 ? rows[0]!.subject_id : null;
  }

  async subjectExists(id: string): Promise<boolean> {
    return (await this.db.selectFrom('subjects').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;
  }

  async insertVisa(row: Database['cahier_visas']): Promise<void> {
    await this.db.insertInto('cahier_visas').values(row).execute();
  }

  visasOf(teacherId: string, limit: number) {
    return this.db
      .selectFrom('cahier_visas as v')
      .leftJoin('people as p', 'p.id', 'v.visa_by')
      .select(['v.id', 'v.visa_at', 'v.comment', 'p.first_name', 'p.last_name'])
      .where('v.teacher_id', '=', teacherId)
      .orderBy('v.visa_at', 'desc')
      .limit(limit)
      .execute();
  }

  /** Records a blob's description once (content-addressed: the same bytes are the same row). */
  async recordBlob(row: Database['blobs'], db: Kysely<Database> | Transaction<Database> = this.db): Promise<void> {
    await db.insertInto('blobs').values(row).onConflict((oc) => oc.column('sha256').doNothing()).execute();
  }
}
