import type { Kysely, Selectable } from 'kysely';
import type { Database, HandinFeedbackTable, HandinFilesTable, HandinsTable } from '../../storage/schema.js';
import { isUniqueViolation, lockForTransaction } from '../../storage/db.js';

export type HandinRow = Selectable<HandinsTable>;
export type HandinFileRow = Selectable<HandinFilesTable>;
export type FeedbackRow = Selectable<HandinFeedbackTable>;

export interface PupilRow {
  id: string;
  first_name: string;
  last_name: string;
}

/** Thrown when the unique (pupil, idempotency key) says this hand-in is already stored. */
export class DuplicateHandinKey extends Error {}

/** SQL of hand-ins (rendus) and teachers' returns. */
export class HandinsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  byKey(pupilId: string, key: string): Promise<HandinRow | undefined> {
    return this.db.selectFrom('handins').selectAll().where('pupil_id', '=', pupilId).where('idempotency_key', '=', key).executeTakeFirst();
  }

  current(entryId: string, pupilId: string): Promise<HandinRow | undefined> {
    return this.db.selectFrom('handins').selectAll().where('entry_id', '=', entryId).where('pupil_id', '=', pupilId).where('superseded_at', 'is', null).executeTakeFirst();
  }

  history(entryId: string, pupilId: string, limit: number): Promise<HandinRow[]> {
    return this.db.selectFrom('handins').selectAll().where('entry_id', '=', entryId).where('pupil_id', '=', pupilId).orderBy('submitted_at', 'desc').orderBy('id').limit(limit).execute();
  }

  find(id: string): Promise<HandinRow | undefined> {
    return this.db.selectFrom('handins').selectAll().where('id', '=', id).executeTakeFirst();
  }

  filesOf(handinIds: readonly string[]): Promise<HandinFileRow[]> {
    if (handinIds.length === 0) return Promise.resolve([]);
    return this.db.selectFrom('handin_files').selectAll().where('handin_id', 'in', handinIds).orderBy('handin_id').orderBy('position').execute();
  }

  findFile(handinId: string, fileId: string): Promise<HandinFileRow | undefined> {
    return this.db.selectFrom('handin_files').selectAll().where('handin_id', '=', handinId).where('id', '=', fileId).executeTakeFirst();
  }

  /**
   * Stores a hand-in whole or not at all: blobs described, the previous hand-in marked replaced,
   * the new one and its files inserted, in one transaction. A concurrent retry with the same key
   * hits the unique constraint and gets DuplicateHandinKey. Two different hand-ins of one pupil for
   * one work at once (two tabs, a phone and a computer) take turns on PostgreSQL (advisory lock):
   * without it both would mark "no current one" and insert a current one, and the second would hit
   * the unique current-hand-in index (a 500 in the morning mix on PostgreSQL).
   */
  async insert(handin: HandinRow, files: HandinFileRow[], blobs: Database['blobs'][], attempt = 1): Promise<void> {
    try {
      await this.db.transaction().execute(async (tx) => {
        await lockForTransaction(tx, `handin:${handin.entry_id}:${handin.pupil_id}`);
        for (const b of blobs) await tx.insertInto('blobs').values(b).onConflict((oc) => oc.column('sha256').doNothing()).execute();
        await tx
          .updateTable('handins')
          .set({ superseded_at: handin.submitted_at })
          .where('entry_id', '=', handin.entry_id)
          .where('pupil_id', '=', handin.pupil_id)
          .where('superseded_at', 'is', null)
          .execute();
        await tx.insertInto('handins').values(handin).execute();
        if (files.length > 0) await tx.insertInto('handin_files').values(files).execute();
      });
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      if (await this.byKey(handin.pupil_id, handin.idempotency_key)) throw new DuplicateHandinKey();
      // Another upload of this pupil became current meanwhile: this one, later, replaces it.
      if (attempt < 3) return this.insert(handin, files, blobs, attempt + 1);
      throw err;
    }
  }

  /** Pupils the entry is for (enrolled in its class or group, not departed), by name. */
  audiencePupils(classId: string | null, groupId: string | null, offset: number, limit: number): Promise<PupilRow[]> {
    return this.audienceQuery(classId, groupId).select(['p.id', 'p.first_name', 'p.last_name']).orderBy('p.last_name').orderBy('p.first_name').orderBy('p.id').offset(offset).limit(limit).execute();
  }

  async audienceCount(classId: string | null, groupId: string | null): Promise<number> {
    const r = await this.audienceQuery(classId, groupId).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(r.n);
  }

  async inAudience(classId: string | null, groupId: string | null, pupilId: string): Promise<PupilRow | undefined> {
    return this.audienceQuery(classId, groupId).select(['p.id', 'p.first_name', 'p.last_name']).where('p.id', '=', pupilId).executeTakeFirst();
  }

  private audienceQuery(classId: string | null, groupId: string | null) {
    const base = classId
      ? this.db.selectFrom('class_enrolments as m').innerJoin('people as p', 'p.id', 'm.person_id').where('m.class_id', '=', classId)
      : this.db.selectFrom('group_members as m').innerJoin('people as p', 'p.id', 'm.person_id').where('m.group_id', '=', groupId ?? '');
    return base.where('p.profile', '=', 'eleve').where('p.status', '!=', 'departed');
  }

  /** Current hand-ins of an entry, for these pupils (all when undefined). */
  currentOfEntry(entryId: string, pupilIds?: readonly string[]): Promise<HandinRow[]> {
    let q = this.db.selectFrom('handins').selectAll().where('entry_id', '=', entryId).where('superseded_at', 'is', null);
    if (pupilIds) {
      if (pupilIds.length === 0) return Promise.resolve([]);
      q = q.where('pupil_id', 'in', pupilIds);
    }
    return q.execute();
  }

  /** How many pupils of the audience handed in, on time and late (current hand-ins only). */
  async countsOfEntry(entryId: string, classId: string | null, groupId: string | null): Promise<{ onTime: number; late: number }> {
    const members = classId
      ? this.db.selectFrom('class_enrolments').select('person_id').where('class_id', '=', classId)
      : this.db.selectFrom('group_members').select('person_id').where('group_id', '=', groupId ?? '');
    const rows = await this.db
      .selectFrom('handins as h')
      .innerJoin('people as p', 'p.id', 'h.pupil_id')
      .select(['h.late', (eb) => eb.fn.countAll<number>().as('n')])
      .where('h.entry_id', '=', entryId)
      .where('h.superseded_at', 'is', null)
      .where('p.status', '!=', 'departed')
      .where('h.pupil_id', 'in', members)
      .groupBy('h.late')
      .execute();
    return { onTime: Number(rows.find((r) => r.late === 0)?.n ?? 0), late: Number(rows.find((r) => r.late === 1)?.n ?? 0) };
  }

  /** Files with their CRC (for the zip), for these hand-ins. */
  zipFilesOf(handinIds: readonly string[]) {
    if (handinIds.length === 0) return Promise.resolve([]);
    return this.db
      .selectFrom('handin_files as f')
      .innerJoin('blobs as b', 'b.sha256', 'f.blob_sha256')
      .select(['f.handin_id', 'f.file_name', 'f.size_bytes', 'f.blob_sha256', 'b.crc32'])
      .where('f.handin_id', 'in', handinIds)
      .orderBy('f.handin_id')
      .orderBy('f.position')
      .execute();
  }

  pupilsByIds(ids: readonly string[]): Promise<PupilRow[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.db.selectFrom('people').select(['id', 'first_name', 'last_name']).where('id', 'in', ids).execute();
  }

  feedback(entryId: string, pupilId: string): Promise<FeedbackRow | undefined> {
    return this.db.selectFrom('handin_feedback').selectAll().where('entry_id', '=', entryId).where('pupil_id', '=', pupilId).executeTakeFirst();
  }

  feedbackOfEntry(entryId: string, pupilIds: readonly string[]): Promise<FeedbackRow[]> {
    if (pupilIds.length === 0) return Promise.resolve([]);
    return this.db.selectFrom('handin_feedback').selectAll().where('entry_id', '=', entryId).where('pupil_id', 'in', pupilIds).execute();
  }

  async upsertFeedback(row: FeedbackRow, blob: Database['blobs'] | undefined): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      if (blob) await tx.insertInto('blobs').values(blob).onConflict((oc) => oc.column('sha256').doNothing()).execute();
      await tx.deleteFrom('handin_feedback').where('entry_id', '=', row.entry_id).where('pupil_id', '=', row.pupil_id).execute();
      await tx.insertInto('handin_feedback').values(row).execute();
    });
  }
}
