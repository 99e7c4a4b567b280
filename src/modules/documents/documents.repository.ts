import { sql, type Kysely, type Selectable } from 'kysely';
import type { Database, DocEntriesTable, DocUploadsTable } from '../../storage/schema.js';

export type EntryRow = Selectable<DocEntriesTable>;
export type UploadRow = Selectable<DocUploadsTable>;
export type SpaceKind = DocEntriesTable['space_kind'];

/** Shared spaces listed at most (a whole lycée's classes and groups fit). */
const MAX_SPACES = 300;

const num = (v: number | string | null | undefined) => Number(v ?? 0);

/** Entries whose path starts with `prefix` (a subtree). Ids hold `_`, a LIKE wildcard: escaped. */
const under = (prefix: string) => sql<boolean>`path like ${prefix.replace(/[\\%_]/g, (c) => `\\${c}`) + '%'} escape '\\'`;

/** SQL of Documents. Reads the directory (classes, groups) only to name spaces. */
export class DocumentsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** A class's or group's school and name; undefined when it does not exist. */
  async sharedSpace(kind: 'class' | 'group', id: string): Promise<{ school_id: string; name: string } | undefined> {
    return kind === 'class'
      ? this.db.selectFrom('classes').select(['school_id', 'name']).where('id', '=', id).executeTakeFirst()
      : this.db.selectFrom('teaching_groups').select(['school_id', 'name']).where('id', '=', id).executeTakeFirst();
  }

  /** Classes and groups by id, and every one of these schools (staff), by name; bounded. */
  async spacesNamed(classIds: string[], groupIds: string[], schoolIds: string[]) {
    const pick = <T extends 'classes' | 'teaching_groups'>(table: T, ids: string[]) =>
      ids.length || schoolIds.length
        ? this.db
            .selectFrom(table as 'classes')
            .select(['id', 'name', 'school_id'])
            .where((eb) => eb.or([...(ids.length ? [eb('id', 'in', ids)] : []), ...(schoolIds.length ? [eb('school_id', 'in', schoolIds)] : [])]))
            .orderBy('name')
            .limit(MAX_SPACES)
            .execute()
        : Promise.resolve([]);
    const [classes, groups] = await Promise.all([pick('classes', classIds), pick('teaching_groups', groupIds)]);
    return { classes, groups };
  }

  findEntry(id: string): Promise<EntryRow | undefined> {
    return this.db.selectFrom('doc_entries').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** The folders above an entry (by the ids of its path). */
  ancestors(ids: string[]): Promise<Pick<EntryRow, 'id' | 'name' | 'drop_box' | 'deleted_at'>[]> {
    return ids.length ? this.db.selectFrom('doc_entries').select(['id', 'name', 'drop_box', 'deleted_at']).where('id', 'in', ids).execute() : Promise.resolve([]);
  }

  /** Live entries of a folder, folders first then by name, with who put them there; `ownerIn` narrows a drop folder to some depositors. */
  list(space: { kind: SpaceKind; id: string }, folderId: string, ownerIn: string[] | undefined, offset: number, limit: number): Promise<(EntryRow & { owner_name: string | null })[]> {
    let q = this.db
      .selectFrom('doc_entries as e')
      .leftJoin('people as o', 'o.id', 'e.owner_id')
      .selectAll('e')
      .select(sql<string | null>`o.first_name || ' ' || o.last_name`.as('owner_name'))
      .where('e.space_kind', '=', space.kind)
      .where('e.space_id', '=', space.id)
      .where('e.folder_id', '=', folderId)
      .where('e.deleted_at', 'is', null);
    if (ownerIn) q = ownerIn.length ? q.where('e.owner_id', 'in', ownerIn) : q.where(sql<boolean>`1 = 0`);
    return q.orderBy('e.kind', 'desc').orderBy('e.name_key').orderBy('e.id').offset(offset).limit(limit).execute();
  }

  async countLive(space: { kind: SpaceKind; id: string }, by: { folderId: string } | { kind: 'folder' }): Promise<number> {
    let q = this.db
      .selectFrom('doc_entries')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('space_kind', '=', space.kind)
      .where('space_id', '=', space.id)
      .where('deleted_at', 'is', null);
    q = 'folderId' in by ? q.where('folder_id', '=', by.folderId) : q.where('kind', '=', 'folder');
    return num((await q.executeTakeFirstOrThrow()).n);
  }

  /** Inserts an entry; a file's blob is described once (content-addressed). */
  async insert(entry: EntryRow, blob?: Database['blobs']): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      if (blob) await tx.insertInto('blobs').values(blob).onConflict((oc) => oc.column('sha256').doNothing()).execute();
      await tx.insertInto('doc_entries').values(entry).execute();
    });
  }

  /** Deepest level under a folder (its own depth when it is empty of folders). */
  async maxDepthUnder(folder: EntryRow): Promise<number> {
    const row = await this.db
      .selectFrom('doc_entries')
      .select((eb) => eb.fn.max<number | string | null>('depth').as('d'))
      .where(under(`${folder.path}${folder.id}/`))
      .where('kind', '=', 'folder')
      .executeTakeFirstOrThrow();
    return row.d === null ? folder.depth : Number(row.d);
  }

  /** Renames and/or moves an entry; a moved folder's subtree gets its paths and depths rewritten in the same transaction. */
  async update(entry: EntryRow, change: { name: string; nameKey: string; to?: { folderId: string; path: string; depth: number } }, atMs: number): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      const to = change.to;
      await tx
        .updateTable('doc_entries')
        .set({ name: change.name, name_key: change.nameKey, updated_at: atMs, ...(to ? { folder_id: to.folderId, path: to.path, depth: to.depth } : {}) })
        .where('id', '=', entry.id)
        .execute();
      if (!to || entry.kind !== 'folder') return;
      const oldPrefix = `${entry.path}${entry.id}/`;
      const newPrefix = `${to.path}${entry.id}/`;
      await tx
        .updateTable('doc_entries')
        .set({
          path: sql<string>`${newPrefix} || substr(path, ${oldPrefix.length + 1})`,
          depth: sql<number>`depth + ${to.depth - entry.depth}`,
        })
        .where(under(oldPrefix))
        .execute();
    });
  }

  async softDelete(id: string, by: string, atMs: number): Promise<void> {
    await this.db.updateTable('doc_entries').set({ deleted_at: atMs, deleted_by: by }).where('id', '=', id).where('deleted_at', 'is', null).execute();
  }

  async restore(id: string, atMs: number): Promise<void> {
    await this.db.updateTable('doc_entries').set({ deleted_at: null, deleted_by: null, updated_at: atMs }).where('id', '=', id).execute();
  }

  /** What this person deleted, newest first. */
  trash(personId: string, offset: number, limit: number): Promise<EntryRow[]> {
    return this.db
      .selectFrom('doc_entries')
      .selectAll()
      .where('deleted_by', '=', personId)
      .where('deleted_at', 'is not', null)
      .orderBy('deleted_at', 'desc')
      .orderBy('id')
      .offset(offset)
      .limit(limit)
      .execute();
  }

  /** Removes trashed entries (of one person, or everyone's deleted before `before`) with their subtrees. */
  async purgeTrash(filter: { deletedBy: string } | { before: number }, limit: number): Promise<number> {
    let q = this.db.selectFrom('doc_entries').select(['id', 'path']).where('deleted_at', 'is not', null);
    q = 'deletedBy' in filter ? q.where('deleted_by', '=', filter.deletedBy) : q.where('deleted_at', '<', filter.before);
    const rows = await q.limit(limit).execute();
    await this.db.transaction().execute(async (tx) => {
      for (const r of rows) {
        await tx.deleteFrom('doc_entries').where(under(`${r.path}${r.id}/`)).execute();
        await tx.deleteFrom('doc_entries').where('id', '=', r.id).execute();
      }
    });
    return rows.length;
  }

  /** Bytes charged to a person: files they uploaded (trash included) and the uploads they have open. */
  async usedBytes(ownerId: string, nowMs: number, exceptUploadId?: string): Promise<number> {
    const files = await this.db
      .selectFrom('doc_entries')
      .select((eb) => eb.fn.sum<number | string | null>('size_bytes').as('n'))
      .where('owner_id', '=', ownerId)
      .where('kind', '=', 'file')
      .executeTakeFirstOrThrow();
    let uploads = this.db
      .selectFrom('doc_uploads')
      .select((eb) => eb.fn.sum<number | string | null>('size_bytes').as('n'))
      .where('owner_id', '=', ownerId)
      .where('expires_at', '>', nowMs);
    if (exceptUploadId) uploads = uploads.where('id', '!=', exceptUploadId);
    return num(files.n) + num((await uploads.executeTakeFirstOrThrow()).n);
  }

  async insertUpload(row: UploadRow): Promise<void> {
    await this.db.insertInto('doc_uploads').values(row).execute();
  }

  findUpload(id: string): Promise<UploadRow | undefined> {
    return this.db.selectFrom('doc_uploads').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async openUploads(ownerId: string, nowMs: number): Promise<number> {
    const row = await this.db
      .selectFrom('doc_uploads')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('owner_id', '=', ownerId)
      .where('expires_at', '>', nowMs)
      .executeTakeFirstOrThrow();
    return num(row.n);
  }

  /** Moves the received offset forward only from where it was (compare and set); false when it had moved. */
  /**
   * Compare-and-set of the bytes received (`from` → `to`), with the chunk that brought them (its
   * blob) recorded at `from` in the same transaction: only the chunk that wins the race is kept.
   * Chunks at or past min(from, to) — left by a restart from an earlier offset — are forgotten.
   */
  async advanceUpload(id: string, from: number, to: number, chunk?: { sha256: string; sizeBytes: number }): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const r = await tx.updateTable('doc_uploads').set({ received_bytes: to }).where('id', '=', id).where('received_bytes', '=', from).executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) return false;
      await tx.deleteFrom('doc_upload_chunks').where('upload_id', '=', id).where('offset_bytes', '>=', Math.min(from, to)).execute();
      if (chunk) await tx.insertInto('doc_upload_chunks').values({ upload_id: id, offset_bytes: from, size_bytes: chunk.sizeBytes, blob_sha256: chunk.sha256 }).execute();
      return true;
    });
  }

  /** The accepted chunks of an upload, in order. */
  uploadChunks(id: string): Promise<{ offset_bytes: number; size_bytes: number; blob_sha256: string }[]> {
    return this.db.selectFrom('doc_upload_chunks').select(['offset_bytes', 'size_bytes', 'blob_sha256']).where('upload_id', '=', id).orderBy('offset_bytes').execute();
  }

  /** Completes an upload: the file's entry in, the session out, in one transaction. */
  async completeUpload(uploadId: string, entry: EntryRow, blob: Database['blobs']): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx.insertInto('blobs').values(blob).onConflict((oc) => oc.column('sha256').doNothing()).execute();
      await tx.insertInto('doc_entries').values(entry).execute();
      await tx.deleteFrom('doc_uploads').where('id', '=', uploadId).execute();
    });
  }

  async deleteUpload(id: string): Promise<void> {
    await this.db.deleteFrom('doc_uploads').where('id', '=', id).execute();
  }

  expiredUploads(nowMs: number, limit: number): Promise<{ id: string }[]> {
    return this.db.selectFrom('doc_uploads').select('id').where('expires_at', '<=', nowMs).orderBy('expires_at').limit(limit).execute();
  }
}
