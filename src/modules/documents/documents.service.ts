import type { Clock } from '../../platform/clock.js';
import { AppError } from '../../platform/errors.js';
import { newId } from '../../platform/ids.js';
import { cleanFileName, describeBytes, type UploadedFile } from '../../http/uploads.js';
import type { BlobStore, StoredBlob } from '../../storage/blobs/blob-store.js';
import { sniffContentType } from '../../storage/blobs/sniff.js';
import { isUniqueViolation } from '../../storage/db.js';
import type { Scope } from '../schools/index.js';
import { canChangeEntry, canDeposit, canReadSpace, canSeeDeposit, canWriteSpace, type SpaceRef } from './documents.policy.js';
import type { DocumentsRepository, EntryRow, UploadRow } from './documents.repository.js';
import {
  CHUNK_MAX_BYTES, MAX_ENTRIES_PER_FOLDER, MAX_FOLDER_DEPTH, MAX_FOLDERS_PER_SPACE, MAX_NAME_CHARS, MAX_OPEN_UPLOADS_PER_PERSON, QUOTA_BYTES, TRASH_RETENTION_DAYS,
  UPLOAD_SESSION_TTL_MS, pageOf, type CreateFolderBody, type CreateUploadBody, type UpdateEntryBody,
} from './documents.schema.js';

export interface Space extends SpaceRef {
  name: string;
}

/** Where something is being put: a space and a folder in it (undefined: the root). */
export interface Target {
  space: Space;
  folder: EntryRow | undefined;
}

/** A chunk being received: a newer one for the same upload stops it and waits until it has let go of the file. */
interface InFlight {
  superseded: boolean;
  abort: () => void;
  done: Promise<void>;
}

type Ancestor = Awaited<ReturnType<DocumentsRepository['ancestors']>>[number];

/** Characters no name may hold: path separators, what Windows refuses, control characters. */
const FORBIDDEN_IN_NAME = /[\u0000-\u001f\u007f/\\:*?"<>|]/;
const FORBIDDEN_IN_NAME_ALL = new RegExp(FORBIDDEN_IN_NAME.source, 'g');

/** A name as stored (NFC, trimmed), or undefined when it breaks a rule. */
export function cleanName(raw: string): string | undefined {
  const name = raw.normalize('NFC').trim();
  if (name.length === 0 || [...name].length > MAX_NAME_CHARS || FORBIDDEN_IN_NAME.test(name) || name === '.' || name === '..' || name.endsWith('.')) return undefined;
  return name;
}

function requireName(raw: string): string {
  const name = cleanName(raw);
  if (!name) throw new AppError('documents.invalid_name', { params: { max: MAX_NAME_CHARS } });
  return name;
}

/** The name of an uploaded file, made valid rather than refused (the user did not type it here). */
function uploadedName(raw: string): string {
  const name = cleanFileName(raw).replace(FORBIDDEN_IN_NAME_ALL, '_').replace(/\.+$/, '');
  return cleanName([...name].slice(0, MAX_NAME_CHARS).join('')) ?? 'fichier';
}

/**
 * The key names are unique by, per folder: case-insensitive; in a drop folder, per depositor (every
 * pupil may hand in their "DM.pdf", and nobody learns what another pupil named theirs).
 */
const nameKey = (name: string, depositor: string | null) => (depositor ? `${depositor}/${name.toLowerCase()}` : name.toLowerCase());

/** The client's bytes; a connection cut midway is the client's doing (a 4xx nobody will read), not a server fault. */
async function* clientBytes(body: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of body) yield chunk;
  } catch {
    throw new AppError('request.invalid');
  }
}
const ancestorIds = (e: { path: string }) => e.path.split('/').filter(Boolean);

/** Documents: personal and shared spaces, folders, files, trash, quotas and resumable uploads. */
export class DocumentsService {
  /**
   * Chunks being received on this node, by upload: a newer one supersedes an older one here at once.
   * Across nodes the compare-and-set on the received bytes decides (the loser's bytes are an orphan blob).
   */
  private readonly inflight = new Map<string, InFlight>();

  constructor(
    private readonly repo: DocumentsRepository,
    /** File bytes, and the accepted chunks of resumable uploads (shared by every node in scaled mode). */
    private readonly blobs: BlobStore,
    private readonly clock: Clock,
  ) {}

  // ---- spaces and entries ----

  /** The space named by a key the actor may read; unknown and unreadable alike are not found. */
  async space(actor: Scope, key: string): Promise<Space> {
    if (key === 'personal') {
      const s: Space = { kind: 'personal', id: actor.id, schoolId: null, name: 'Mes documents' };
      if (!canReadSpace(actor, s)) throw new AppError('documents.not_found');
      return s;
    }
    const [kind, id] = key.split(':') as ['class' | 'group', string];
    const info = await this.repo.sharedSpace(kind, id);
    const s: Space | undefined = info && { kind, id, schoolId: info.school_id, name: info.name };
    if (!s || !canReadSpace(actor, s)) throw new AppError('documents.not_found');
    return s;
  }

  private async spaceOf(actor: Scope, e: Pick<EntryRow, 'space_kind' | 'space_id'>): Promise<Space> {
    if (e.space_kind !== 'personal') return this.space(actor, `${e.space_kind}:${e.space_id}`);
    const s: Space = { kind: 'personal', id: e.space_id, schoolId: null, name: 'Mes documents' };
    if (!canReadSpace(actor, s)) throw new AppError('documents.not_found');
    return s;
  }

  /** A live folder of the space, under live folders. */
  private async folderIn(space: Space, folderId: string | undefined): Promise<{ folder: EntryRow | undefined; ancestors: Ancestor[] }> {
    if (folderId === undefined) return { folder: undefined, ancestors: [] };
    const folder = await this.repo.findEntry(folderId);
    if (!folder || folder.kind !== 'folder' || folder.deleted_at !== null || folder.space_kind !== space.kind || folder.space_id !== space.id) throw new AppError('documents.not_found');
    const ancestors = await this.repo.ancestors(ancestorIds(folder));
    if (ancestors.some((a) => a.deleted_at !== null)) throw new AppError('documents.not_found');
    return { folder, ancestors };
  }

  /** An entry the actor may see: live, in a readable space, under live folders, and (in a drop folder) theirs to see. */
  private async reach(actor: Scope, entryId: string): Promise<{ entry: EntryRow; space: Space; container: Ancestor | undefined }> {
    const entry = await this.repo.findEntry(entryId);
    if (!entry || entry.deleted_at !== null) throw new AppError('documents.not_found');
    const space = await this.spaceOf(actor, entry);
    const ancestors = await this.repo.ancestors(ancestorIds(entry));
    if (ancestors.some((a) => a.deleted_at !== null)) throw new AppError('documents.not_found');
    const container = ancestors.find((a) => a.id === entry.folder_id);
    if (container?.drop_box === 1 && !canSeeDeposit(actor, space, entry.owner_id)) throw new AppError('documents.not_found');
    return { entry, space, container };
  }

  /** The spaces the actor may open, and their quota. */
  async overview(actor: Scope) {
    const staff = actor.profile === 'personnel' || actor.profile === 'admin_etablissement';
    const classIds = new Set([...actor.classIds, ...actor.taughtClassIds, ...actor.childClassIds]);
    const groupIds = new Set([...actor.groupIds, ...actor.taughtGroupIds, ...actor.childGroupIds]);
    const named = await this.repo.spacesNamed([...classIds], [...groupIds], staff ? [...actor.schoolIds] : []);
    const shared: Space[] = [
      ...named.classes.map((c) => ({ kind: 'class' as const, id: c.id, schoolId: c.school_id, name: c.name })),
      ...named.groups.map((g) => ({ kind: 'group' as const, id: g.id, schoolId: g.school_id, name: g.name })),
    ].filter((s) => canReadSpace(actor, s));
    const personal: Space = { kind: 'personal', id: actor.id, schoolId: null, name: 'Mes documents' };
    const spaces = [personal, ...shared].filter((s) => canReadSpace(actor, s)).map((s) => ({ ...s, canWrite: canWriteSpace(actor, s) }));
    return { spaces, quota: await this.quota(actor) };
  }

  async quota(actor: Scope): Promise<{ usedBytes: number; limitBytes: number }> {
    return { usedBytes: await this.repo.usedBytes(actor.id, this.clock.nowMs()), limitBytes: QUOTA_BYTES[actor.profile] };
  }

  /** A folder's content (a page), its breadcrumb, and what the actor may do there. */
  async list(actor: Scope, query: { space: string; folder?: string | undefined; offset?: string | undefined; limit?: string | undefined }) {
    const space = await this.space(actor, query.space);
    const { folder, ancestors } = await this.folderIn(space, query.folder);
    const writer = canWriteSpace(actor, space);
    // In a drop folder a pupil sees their own deposits, a parent their children's.
    const ownerIn = folder?.drop_box === 1 && !writer ? [actor.id, ...(actor.profile === 'parent' ? actor.childIds : [])] : undefined;
    const { offset, limit } = pageOf(query);
    const rows = await this.repo.list(space, folder?.id ?? '', ownerIn, offset, limit);
    const byId = new Map(ancestors.map((a) => [a.id, a]));
    const breadcrumb = folder ? [...ancestorIds(folder).map((id) => ({ id, name: byId.get(id)?.name ?? '' })), { id: folder.id, name: folder.name }] : [];
    return {
      space, folder, breadcrumb, rows,
      nextOffset: rows.length === limit ? offset + limit : null,
      canWrite: writer,
      canCreateFolder: writer && folder?.drop_box !== 1,
      canUpload: writer || (folder !== undefined && canDeposit(actor, space, folder)),
      changeable: (e: EntryRow) => canChangeEntry(actor, space, e, folder),
    };
  }

  /** Where the actor may put a file: a writer of the space, or a pupil depositing in a drop folder. */
  async target(actor: Scope, spaceKey: string, folderId: string | undefined): Promise<Target> {
    const space = await this.space(actor, spaceKey);
    const { folder } = await this.folderIn(space, folderId);
    if (!canWriteSpace(actor, space) && !(folder && canDeposit(actor, space, folder))) throw new AppError('access.forbidden');
    return { space, folder };
  }

  private async roomFor(t: Target, adding: 'folder' | 'file'): Promise<void> {
    const inFolder = await this.repo.countLive(t.space, { folderId: t.folder?.id ?? '' });
    if (inFolder >= MAX_ENTRIES_PER_FOLDER) throw new AppError('documents.folder_full', { params: { max: MAX_ENTRIES_PER_FOLDER } });
    if (adding === 'folder' && (await this.repo.countLive(t.space, { kind: 'folder' })) >= MAX_FOLDERS_PER_SPACE) {
      throw new AppError('documents.folder_full', { params: { max: MAX_FOLDERS_PER_SPACE } });
    }
  }

  /** Refuses what would take the actor over their quota, saying how much is left. */
  private async checkQuota(actor: Scope, addingBytes: number, exceptUploadId?: string): Promise<void> {
    const limit = QUOTA_BYTES[actor.profile];
    const used = await this.repo.usedBytes(actor.id, this.clock.nowMs(), exceptUploadId);
    if (used + addingBytes > limit) throw new AppError('quota.exceeded', { params: { left: describeBytes(Math.max(0, limit - used)), limit: describeBytes(limit) }, details: { usedBytes: used, limitBytes: limit } });
  }

  private newEntry(actor: Scope, t: Target, kind: 'folder' | 'file', name: string, extra: Partial<EntryRow> = {}): EntryRow {
    const now = this.clock.nowMs();
    const deposit = t.folder?.drop_box === 1;
    return {
      id: newId(), kind, space_kind: t.space.kind, space_id: t.space.id, folder_id: t.folder?.id ?? '',
      path: t.folder ? `${t.folder.path}${t.folder.id}/` : '/', depth: t.folder ? t.folder.depth + 1 : 0,
      name, name_key: nameKey(name, deposit ? actor.id : null), drop_box: 0, owner_id: actor.id, person_id: t.space.kind === 'personal' ? t.space.id : deposit ? actor.id : null,
      blob_sha256: null, size_bytes: 0, content_type: null, created_at: now, updated_at: now, deleted_at: null, deleted_by: null, ...extra,
    };
  }

  private async insert(entry: EntryRow, blob?: StoredBlob & { contentType: string }): Promise<EntryRow> {
    try {
      await this.repo.insert(entry, blob && { sha256: blob.sha256, size_bytes: blob.sizeBytes, crc32: blob.crc32, content_type: blob.contentType, created_at: entry.created_at });
    } catch (err) {
      if (isUniqueViolation(err)) throw new AppError('documents.name_taken', { params: { name: entry.name } });
      throw err;
    }
    return entry;
  }

  async createFolder(actor: Scope, body: CreateFolderBody): Promise<EntryRow> {
    const space = await this.space(actor, body.space);
    if (!canWriteSpace(actor, space)) throw new AppError('access.forbidden');
    const { folder } = await this.folderIn(space, body.parentId);
    if (folder?.drop_box === 1) throw new AppError('documents.invalid_move', { params: { reason: 'un dossier de dépôt ne contient que des fichiers' } });
    if (body.dropBox && space.kind === 'personal') throw new AppError('documents.invalid_move', { params: { reason: 'un dossier de dépôt se crée dans l’espace d’une classe ou d’un groupe' } });
    const depth = folder ? folder.depth + 1 : 0;
    if (depth >= MAX_FOLDER_DEPTH) throw new AppError('documents.too_deep', { params: { max: MAX_FOLDER_DEPTH } });
    const name = requireName(body.name);
    const t = { space, folder };
    await this.roomFor(t, 'folder');
    return this.insert(this.newEntry(actor, t, 'folder', name, { drop_box: body.dropBox ? 1 : 0 }));
  }

  /** Renames and/or moves an entry within its space. */
  async update(actor: Scope, entryId: string, body: UpdateEntryBody): Promise<EntryRow> {
    const { entry, space, container } = await this.reach(actor, entryId);
    if (!canChangeEntry(actor, space, entry, container)) throw new AppError('access.forbidden');
    const name = body.name !== undefined ? requireName(body.name) : entry.name;
    let to: { folderId: string; path: string; depth: number } | undefined;
    let inDrop = container?.drop_box === 1;
    if (body.parentId !== undefined && body.parentId !== (entry.folder_id || null)) {
      if (!canWriteSpace(actor, space)) throw new AppError('access.forbidden');
      const { folder } = await this.folderIn(space, body.parentId ?? undefined);
      if (folder && (folder.id === entry.id || ancestorIds(folder).includes(entry.id))) throw new AppError('documents.invalid_move', { params: { reason: 'un dossier ne peut pas aller dans lui-même' } });
      if (folder?.drop_box === 1 && entry.kind === 'folder') throw new AppError('documents.invalid_move', { params: { reason: 'un dossier de dépôt ne contient que des fichiers' } });
      const depth = folder ? folder.depth + 1 : 0;
      if (entry.kind === 'folder' && depth + ((await this.repo.maxDepthUnder(entry)) - entry.depth) >= MAX_FOLDER_DEPTH) {
        throw new AppError('documents.too_deep', { params: { max: MAX_FOLDER_DEPTH } });
      }
      await this.roomFor({ space, folder }, 'file');
      to = { folderId: folder?.id ?? '', path: folder ? `${folder.path}${folder.id}/` : '/', depth };
      inDrop = folder?.drop_box === 1;
    }
    try {
      await this.repo.update(entry, { name, nameKey: nameKey(name, inDrop ? entry.owner_id : null), ...(to ? { to } : {}) }, this.clock.nowMs());
    } catch (err) {
      if (isUniqueViolation(err)) throw new AppError('documents.name_taken', { params: { name } });
      throw err;
    }
    return (await this.repo.findEntry(entry.id))!;
  }

  /** Soft delete: into the deleter's trash (a folder takes its content with it). */
  async remove(actor: Scope, entryId: string): Promise<void> {
    const { entry, space, container } = await this.reach(actor, entryId);
    if (!canChangeEntry(actor, space, entry, container)) throw new AppError('access.forbidden');
    await this.repo.softDelete(entry.id, actor.id, this.clock.nowMs());
  }

  async trash(actor: Scope, query: { offset?: string | undefined; limit?: string | undefined }) {
    if (actor.status === 'departed') throw new AppError('access.forbidden');
    const { offset, limit } = pageOf(query);
    const rows = await this.repo.trash(actor.id, offset, limit);
    return { rows, nextOffset: rows.length === limit ? offset + limit : null, purgeAfterMs: TRASH_RETENTION_DAYS * 86_400_000 };
  }

  /** Back from the trash to where it was; its folder must not be in the trash itself, its name must be free. */
  async restore(actor: Scope, entryId: string): Promise<EntryRow> {
    const entry = await this.repo.findEntry(entryId);
    if (!entry || entry.deleted_by !== actor.id) throw new AppError('documents.not_found');
    if (entry.deleted_at === null) throw new AppError('documents.not_in_trash');
    const space = await this.spaceOf(actor, entry);
    const ancestors = await this.repo.ancestors(ancestorIds(entry));
    if (ancestors.some((a) => a.deleted_at !== null)) throw new AppError('documents.invalid_move', { params: { reason: 'son dossier est dans la corbeille : restaurez d’abord le dossier' } });
    if (!canChangeEntry(actor, space, entry, ancestors.find((a) => a.id === entry.folder_id))) throw new AppError('access.forbidden');
    try {
      await this.repo.restore(entry.id, this.clock.nowMs());
    } catch (err) {
      if (isUniqueViolation(err)) throw new AppError('documents.name_taken', { params: { name: entry.name } });
      throw err;
    }
    return (await this.repo.findEntry(entry.id))!;
  }

  /** Empties the actor's trash now (bounded batches; what is left goes at the next call or sweep). */
  async emptyTrash(actor: Scope): Promise<number> {
    if (actor.status === 'departed') throw new AppError('access.forbidden');
    let purged = 0;
    for (let i = 0; i < 20; i++) {
      const n = await this.repo.purgeTrash({ deletedBy: actor.id }, 200);
      purged += n;
      if (n < 200) break;
    }
    return purged;
  }

  /** A file the actor may download. */
  async file(actor: Scope, entryId: string): Promise<EntryRow> {
    const { entry } = await this.reach(actor, entryId);
    if (entry.kind !== 'file' || entry.blob_sha256 === null) throw new AppError('documents.not_found');
    return entry;
  }

  /** A small file already in the blob store (multipart path) becomes an entry of the target. */
  async addFile(actor: Scope, t: Target, file: UploadedFile): Promise<EntryRow> {
    await this.checkQuota(actor, file.sizeBytes);
    await this.roomFor(t, 'file');
    const name = uploadedName(file.fileName);
    return this.insert(
      this.newEntry(actor, t, 'file', name, { blob_sha256: file.sha256, size_bytes: file.sizeBytes, content_type: file.contentType }),
      { sha256: file.sha256, sizeBytes: file.sizeBytes, crc32: file.crc32, contentType: file.contentType, head: Buffer.alloc(0), created: false },
    );
  }

  /** Before reading a multipart body: there must be some room left at all. */
  async requireRoom(actor: Scope): Promise<void> {
    await this.checkQuota(actor, 1);
  }

  // ---- resumable uploads ----

  /** Opens an upload session after checking the target, the name, the room in the folder and the quota. */
  async openUpload(actor: Scope, body: CreateUploadBody): Promise<UploadRow> {
    await this.sweepExpiredUploads(50);
    const t = await this.target(actor, body.space, body.folderId);
    const name = requireName(body.name);
    const now = this.clock.nowMs();
    if ((await this.repo.openUploads(actor.id, now)) >= MAX_OPEN_UPLOADS_PER_PERSON) throw new AppError('upload.too_many', { params: { max: MAX_OPEN_UPLOADS_PER_PERSON } });
    await this.checkQuota(actor, body.sizeBytes);
    await this.roomFor(t, 'file');
    const row: UploadRow = {
      id: newId(), owner_id: actor.id, space_kind: t.space.kind, space_id: t.space.id, folder_id: t.folder?.id ?? '', name, size_bytes: body.sizeBytes,
      expected_sha256: body.sha256 ?? null, received_bytes: 0, created_at: now, expires_at: now + UPLOAD_SESSION_TTL_MS,
    };
    await this.repo.insertUpload(row);
    return row;
  }

  /** The actor's own live upload session. */
  async upload(actor: Scope, uploadId: string): Promise<UploadRow> {
    const up = await this.repo.findUpload(uploadId);
    if (!up || up.owner_id !== actor.id || up.expires_at <= this.clock.nowMs()) throw new AppError('upload.not_found');
    return up;
  }

  /**
   * Appends one chunk at `offset`, which must be exactly what was received so far (else 409 with
   * the right offset). A chunk is all or nothing: bytes of a chunk cut midway (or shorter than its
   * Content-Length) are not counted and the retry sends them again. Streamed into the blob store
   * (never held whole in memory) and recorded at its offset: any node can take the next chunk. A chunk sent again while an earlier one is still "in flight"
   * supersedes it: on a weak link the earlier connection is usually dead without having closed,
   * and the person must not wait for the server's request timeout to go on.
   */
  async appendChunk(actor: Scope, uploadId: string, offset: number, body: AsyncIterable<Uint8Array>, options: { declaredBytes?: number; abort?: () => void } = {}): Promise<UploadRow> {
    const wrongOffset = (at: number) => new AppError('upload.wrong_offset', { params: { offset: at }, details: { offset: at } });
    const first = await this.upload(actor, uploadId);
    if (offset !== first.received_bytes) throw wrongOffset(first.received_bytes);
    const previous = this.inflight.get(first.id);
    if (previous) {
      previous.superseded = true;
      previous.abort();
      await previous.done;
    }
    // A third request that raced in while the previous one was being stopped.
    if (this.inflight.has(first.id)) throw new AppError('upload.busy', { retryAfterSeconds: 1 });
    let release = () => {};
    const mine: InFlight = { superseded: false, abort: options.abort ?? (() => {}), done: new Promise<void>((r) => (release = r)) };
    this.inflight.set(first.id, mine);
    try {
      // Read again: the superseded chunk may have completed after all.
      const up = await this.upload(actor, uploadId);
      if (offset !== up.received_bytes) throw wrongOffset(up.received_bytes);
      let pos = offset;
      async function* checked(): AsyncGenerator<Uint8Array> {
        for await (const chunk of clientBytes(body)) {
          if (mine.superseded) break;
          if (pos + chunk.length - offset > CHUNK_MAX_BYTES) throw new AppError('upload.chunk_too_large', { params: { max: describeBytes(CHUNK_MAX_BYTES) } });
          if (pos + chunk.length > up.size_bytes) throw new AppError('request.too_large');
          pos += chunk.length;
          yield chunk;
        }
        if (mine.superseded || (options.declaredBytes !== undefined && pos - offset !== options.declaredBytes)) throw new AppError('request.invalid');
      }
      // The put resolves once the bytes are durable (the store's contract); a failed one keeps nothing.
      const stored = await this.blobs.put(checked(), { maxBytes: CHUNK_MAX_BYTES });
      const chunk = stored.sizeBytes > 0 ? { sha256: stored.sha256, sizeBytes: stored.sizeBytes } : undefined;
      if (!(await this.repo.advanceUpload(up.id, offset, pos, chunk))) throw wrongOffset((await this.upload(actor, uploadId)).received_bytes);
      return { ...up, received_bytes: pos };
    } finally {
      this.inflight.delete(first.id);
      release();
    }
  }

  /**
   * Completes an upload: every byte received, quota still respected, SHA-256 as announced (else the
   * session starts again from 0); the bytes are streamed into the blob store (deduplicated) and the
   * file appears in its folder.
   */
  async completeUpload(actor: Scope, uploadId: string): Promise<EntryRow> {
    const up = await this.upload(actor, uploadId);
    if (up.received_bytes !== up.size_bytes) throw new AppError('upload.incomplete', { params: { received: up.received_bytes, size: up.size_bytes } });
    const t = await this.target(actor, up.space_kind === 'personal' ? 'personal' : `${up.space_kind}:${up.space_id}`, up.folder_id || undefined);
    await this.checkQuota(actor, up.size_bytes, up.id);
    const stored = await this.blobs.put(this.uploadedBytes(up), { maxBytes: up.size_bytes });
    if (stored.sizeBytes !== up.size_bytes) throw new AppError('upload.incomplete', { params: { received: stored.sizeBytes, size: up.size_bytes } });
    if (up.expected_sha256 !== null && stored.sha256 !== up.expected_sha256) {
      await this.repo.advanceUpload(up.id, up.received_bytes, 0);
      throw new AppError('upload.checksum_mismatch');
    }
    const contentType = sniffContentType(stored.head);
    const entry = this.newEntry(actor, t, 'file', up.name, { blob_sha256: stored.sha256, size_bytes: stored.sizeBytes, content_type: contentType });
    try {
      await this.repo.completeUpload(up.id, entry, { sha256: stored.sha256, size_bytes: stored.sizeBytes, crc32: stored.crc32, content_type: contentType, created_at: entry.created_at });
    } catch (err) {
      if (isUniqueViolation(err)) throw new AppError('documents.name_taken', { params: { name: up.name } });
      throw err;
    }
    return entry;
  }

  /** The upload's accepted chunks, in order, read back from the blob store (whichever node received them). */
  private async *uploadedBytes(up: UploadRow): AsyncGenerator<Uint8Array> {
    let expected = 0;
    for (const c of await this.repo.uploadChunks(up.id)) {
      const bytes = c.offset_bytes === expected ? await this.blobs.open(c.blob_sha256) : undefined;
      if (!bytes) throw new AppError('upload.incomplete', { params: { received: expected, size: up.size_bytes } });
      for await (const b of bytes) yield b as Buffer;
      expected += c.size_bytes;
    }
  }

  async cancelUpload(actor: Scope, uploadId: string): Promise<void> {
    const up = await this.upload(actor, uploadId);
    // Its chunks' rows go with it (cascade); their bytes are orphans for the blob sweep.
    await this.repo.deleteUpload(up.id);
  }

  /** Removes expired sessions and their temporary bytes (bounded per call). */
  async sweepExpiredUploads(max = 500): Promise<number> {
    const expired = await this.repo.expiredUploads(this.clock.nowMs(), max);
    for (const { id } of expired) {
      await this.repo.deleteUpload(id);
    }
    return expired.length;
  }

  /** The periodic clean-up (`preau purge`): trash older than its retention, expired uploads. */
  async purge(): Promise<{ trashed: number; uploads: number }> {
    const before = this.clock.nowMs() - TRASH_RETENTION_DAYS * 86_400_000;
    let trashed = 0;
    for (let n = -1; n !== 0; ) trashed += n = await this.repo.purgeTrash({ before }, 500);
    let uploads = 0;
    for (let n = -1; n !== 0; ) uploads += n = await this.sweepExpiredUploads(500);
    return { trashed, uploads };
  }
}
