import type { Kysely, Selectable } from 'kysely';
import { chunkForInsert, type StorageCapabilities } from '../../storage/db.js';
import type { Database, LiaisonNotesTable, LiaisonTargetsTable } from '../../storage/schema.js';

export type NoteRow = Selectable<LiaisonNotesTable>;
export type TargetRow = Selectable<LiaisonTargetsTable>;

/** A note in a parent's list: one row per child concerned. */
export interface ParentNoteView extends NoteRow {
  pupil_id: string;
  signed_at: number | null;
  reminded_at: number | null;
}

/** SQL of the carnet de liaison. Reads the directory tables (enrolments, guardianships) only to expand audiences. */
export class LiaisonRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly caps: StorageCapabilities,
  ) {}

  findNote(id: string): Promise<NoteRow | undefined> {
    return this.db.selectFrom('liaison_notes').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async isAddressedTo(noteId: string, parentId: string): Promise<boolean> {
    const row = await this.db.selectFrom('liaison_targets').select('note_id').where('note_id', '=', noteId).where('parent_id', '=', parentId).executeTakeFirst();
    return row !== undefined;
  }

  async insert(note: NoteRow, targets: TargetRow[]): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx.insertInto('liaison_notes').values(note).execute();
      for (const chunk of chunkForInsert(targets, 6, this.caps)) await tx.insertInto('liaison_targets').values(chunk).execute();
    });
  }

  /** (parent, pupil) pairs for the pupils of a class or group, or of one pupil; departed people excluded. Bounded. */
  async familiesOf(kind: 'pupil' | 'class' | 'group', id: string, limit: number): Promise<{ parent_id: string; pupil_id: string }[]> {
    const pupils =
      kind === 'pupil' ? this.db.selectFrom('people').select('id as person_id').where('id', '=', id)
      : kind === 'class' ? this.db.selectFrom('class_enrolments').select('person_id').where('class_id', '=', id)
      : this.db.selectFrom('group_members').select('person_id').where('group_id', '=', id);
    return this.db
      .selectFrom('guardianships as g')
      .innerJoin('people as parent', 'parent.id', 'g.parent_id')
      .innerJoin('people as pupil', 'pupil.id', 'g.child_id')
      .select(['g.parent_id', 'g.child_id as pupil_id'])
      .where('g.child_id', 'in', pupils)
      .where('parent.status', '!=', 'departed')
      .where('pupil.status', '!=', 'departed')
      .orderBy('g.child_id')
      .orderBy('g.parent_id')
      .limit(limit)
      .execute();
  }

  async parentsOf(pupilId: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('guardianships as g')
      .innerJoin('people as p', 'p.id', 'g.parent_id')
      .select('g.parent_id')
      .where('g.child_id', '=', pupilId)
      .where('p.status', '!=', 'departed')
      .execute();
    return rows.map((r) => r.parent_id);
  }

  async audience(kind: 'pupil' | 'class' | 'group', id: string): Promise<{ id: string; name: string; school_id: string | null } | undefined> {
    switch (kind) {
      case 'class':
        return this.db.selectFrom('classes').select(['id', 'name', 'school_id']).where('id', '=', id).executeTakeFirst();
      case 'group':
        return this.db.selectFrom('teaching_groups').select(['id', 'name', 'school_id']).where('id', '=', id).executeTakeFirst();
      case 'pupil': {
        const p = await this.db
          .selectFrom('people')
          .select(['id', 'first_name', 'last_name', 'school_id'])
          .where('id', '=', id)
          .where('profile', '=', 'eleve')
          .where('status', '!=', 'departed')
          .executeTakeFirst();
        return p && { id: p.id, name: `${p.first_name} ${p.last_name}`.trim(), school_id: p.school_id };
      }
    }
  }

  /** Notes a parent has to sign or has signed, newest first (one row per child concerned). */
  forParent(parentId: string, toSign: boolean, after: { atMs: number; id: string } | undefined, limit: number): Promise<ParentNoteView[]> {
    let q = this.db
      .selectFrom('liaison_targets as t')
      .innerJoin('liaison_notes as n', 'n.id', 't.note_id')
      .selectAll('n')
      .select(['t.pupil_id', 't.signed_at', 't.reminded_at'])
      .where('t.parent_id', '=', parentId)
      .where('n.deleted_at', 'is', null);
    if (toSign) q = q.where('t.signed_at', 'is', null);
    if (after) q = q.where((eb) => eb.or([eb('n.created_at', '<', after.atMs), eb.and([eb('n.created_at', '=', after.atMs), eb('n.id', '<', after.id)])]));
    return q.orderBy('n.created_at', 'desc').orderBy('n.id', 'desc').orderBy('t.pupil_id').limit(limit).execute();
  }

  /** Notes written by this person, newest first. */
  byAuthor(authorId: string, after: { atMs: number; id: string } | undefined, limit: number): Promise<NoteRow[]> {
    let q = this.db.selectFrom('liaison_notes as n').selectAll('n').where('n.author_id', '=', authorId).where('n.deleted_at', 'is', null);
    if (after) q = q.where((eb) => eb.or([eb('n.created_at', '<', after.atMs), eb.and([eb('n.created_at', '=', after.atMs), eb('n.id', '<', after.id)])]));
    return q.orderBy('n.created_at', 'desc').orderBy('n.id', 'desc').limit(limit).execute();
  }

  async counts(noteId: string): Promise<{ total: number; signed: number }> {
    const row = await this.db
      .selectFrom('liaison_targets')
      .select((eb) => [eb.fn.countAll<number | string>().as('total'), eb.fn.count<number | string>('signed_at').as('signed')])
      .where('note_id', '=', noteId)
      .executeTakeFirstOrThrow();
    return { total: Number(row.total), signed: Number(row.signed) };
  }

  /** Who signed and who has not, by pupil then parent; a page. */
  signatures(noteId: string, offset: number, limit: number) {
    return this.db
      .selectFrom('liaison_targets as t')
      .innerJoin('people as parent', 'parent.id', 't.parent_id')
      .innerJoin('people as pupil', 'pupil.id', 't.pupil_id')
      .select([
        't.parent_id', 't.pupil_id', 't.signed_at', 't.reminded_at', 'parent.first_name as parent_first_name', 'parent.last_name as parent_last_name',
        'pupil.first_name as pupil_first_name', 'pupil.last_name as pupil_last_name',
      ])
      .where('t.note_id', '=', noteId)
      .orderBy('pupil.last_name')
      .orderBy('t.pupil_id')
      .orderBy('t.parent_id')
      .offset(offset)
      .limit(limit)
      .execute();
  }

  /** Signs for every child of this parent the note concerns; true when something changed. */
  async sign(noteId: string, parentId: string, atMs: number): Promise<void> {
    await this.db.updateTable('liaison_targets').set({ signed_at: atMs }).where('note_id', '=', noteId).where('parent_id', '=', parentId).where('signed_at', 'is', null).execute();
  }

  async parentSignature(noteId: string, parentId: string) {
    return this.db.selectFrom('liaison_targets').select(['pupil_id', 'signed_at', 'reminded_at']).where('note_id', '=', noteId).where('parent_id', '=', parentId).orderBy('pupil_id').execute();
  }

  /** Marks the unsigned rows as reminded now, and counts the reminder on the note; returns the number reminded. */
  async remind(noteId: string, atMs: number): Promise<number> {
    return this.db.transaction().execute(async (tx) => {
      const r = await tx.updateTable('liaison_targets').set({ reminded_at: atMs }).where('note_id', '=', noteId).where('signed_at', 'is', null).executeTakeFirst();
      await tx.updateTable('liaison_notes').set((eb) => ({ reminder_count: eb('reminder_count', '+', 1), last_reminded_at: atMs })).where('id', '=', noteId).execute();
      return Number(r.numUpdatedRows);
    });
  }

  async softDelete(noteId: string, atMs: number): Promise<void> {
    await this.db.updateTable('liaison_notes').set({ deleted_at: atMs }).where('id', '=', noteId).execute();
  }

  /** Notes this parent still has to sign (for "Aujourd'hui"). */
  async toSignCount(parentId: string): Promise<number> {
    const row = await this.db
      .selectFrom('liaison_targets as t')
      .innerJoin('liaison_notes as n', 'n.id', 't.note_id')
      .select((eb) => eb.fn.count<number | string>('t.note_id').distinct().as('n'))
      .where('t.parent_id', '=', parentId)
      .where('t.signed_at', 'is', null)
      .where('n.deleted_at', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
}
