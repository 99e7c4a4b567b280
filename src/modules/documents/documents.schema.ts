import { Type, type Static } from '@sinclair/typebox';
import type { Profile } from '../../storage/schema.js';

/** Request schemas and every limit of Documents, as explicit constants. Objects closed, strings bounded. */
const Id = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' });
const MiB = 1024 * 1024;

export const MAX_NAME_CHARS = 120;
/** Folders nest at most this many levels (a class's "Cours / Chapitre 3 / Exercices" needs 3). */
export const MAX_FOLDER_DEPTH = 8;
/** Live entries in one folder, and folders in one space: a listing stays a page or a few. */
export const MAX_ENTRIES_PER_FOLDER = 2_000;
export const MAX_FOLDERS_PER_SPACE = 1_000;
/** One request through the small-file (multipart) path. */
export const SMALL_FILE_MAX_BYTES = 20 * MiB;
/** One file through the resumable path (a filmed lesson, a scanned textbook chapter). */
export const MAX_FILE_BYTES = 1024 * MiB;
/** One chunk of a resumable upload: small enough to finish on a weak link, large enough to be few. */
export const CHUNK_MAX_BYTES = 8 * MiB;
/** An unfinished upload is kept this long after it was opened, then its bytes are swept. */
export const UPLOAD_SESSION_TTL_MS = 24 * 3600_000;
export const MAX_OPEN_UPLOADS_PER_PERSON = 5;
/** Deleted entries stay in their deleter's trash this long, then are purged (or at once when emptied). */
export const TRASH_RETENTION_DAYS = 30;
export const DOCS_JSON_MAX_BYTES = 8 * 1024;
export const MAX_PAGE_SIZE = 200;
export const DEFAULT_PAGE_SIZE = 50;

/**
 * Quotas per profile, on the logical size of the files a person uploaded (class-space files count
 * against the teacher or staff member who put them there; a pupil's deposit against the pupil),
 * files in the trash included. Deduplication does not refund anyone: what a person may store does
 * not depend on what others stored.
 */
export const QUOTA_BYTES: Record<Profile, number> = {
  eleve: 200 * MiB,
  parent: 100 * MiB,
  enseignant: 2048 * MiB,
  personnel: 2048 * MiB,
  admin_etablissement: 2048 * MiB,
  admin_plateforme: 100 * MiB,
};

/** `personal` (one's own), `class:<id>` or `group:<id>`. */
const SpaceKey = Type.String({ pattern: '^(personal|class:[A-Za-z0-9_-]{1,64}|group:[A-Za-z0-9_-]{1,64})$', maxLength: 80 });
const Offset = Type.String({ pattern: '^[0-9]{1,6}$' });
const Limit = Type.String({ pattern: '^[0-9]{1,3}$' });
/** Names are checked by `cleanName` (characters, dots, length in code points); the schema only bounds the size. */
const Name = Type.String({ minLength: 1, maxLength: MAX_NAME_CHARS * 2 });
const Sha256 = Type.String({ pattern: '^[0-9a-f]{64}$' });

export const ListQuery = Type.Object(
  { space: SpaceKey, folder: Type.Optional(Id), offset: Type.Optional(Offset), limit: Type.Optional(Limit) },
  { additionalProperties: false },
);
export type ListQuery = Static<typeof ListQuery>;

export const PageQuery = Type.Object({ offset: Type.Optional(Offset), limit: Type.Optional(Limit) }, { additionalProperties: false });
export type PageQuery = Static<typeof PageQuery>;

export const CreateFolderBody = Type.Object(
  { space: SpaceKey, parentId: Type.Optional(Id), name: Name, dropBox: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);
export type CreateFolderBody = Static<typeof CreateFolderBody>;

/** Rename and/or move (within the same space; `parentId: null` is the root). */
export const UpdateEntryBody = Type.Object(
  { name: Type.Optional(Name), parentId: Type.Optional(Type.Union([Id, Type.Null()])) },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateEntryBody = Static<typeof UpdateEntryBody>;

export const EntryParams = Type.Object({ entryId: Id }, { additionalProperties: false });
export type EntryParams = Static<typeof EntryParams>;

/** Where a small file goes (query string of the multipart upload). */
export const TargetQuery = Type.Object({ space: SpaceKey, folder: Type.Optional(Id) }, { additionalProperties: false });
export type TargetQuery = Static<typeof TargetQuery>;

export const CreateUploadBody = Type.Object(
  { space: SpaceKey, folderId: Type.Optional(Id), name: Name, sizeBytes: Type.Integer({ minimum: 0, maximum: MAX_FILE_BYTES }), sha256: Type.Optional(Sha256) },
  { additionalProperties: false },
);
export type CreateUploadBody = Static<typeof CreateUploadBody>;

export const UploadParams = Type.Object({ uploadId: Id }, { additionalProperties: false });
export type UploadParams = Static<typeof UploadParams>;

export const ChunkQuery = Type.Object({ offset: Type.String({ pattern: '^[0-9]{1,12}$' }) }, { additionalProperties: false });
export type ChunkQuery = Static<typeof ChunkQuery>;

export function pageOf(query: { offset?: string | undefined; limit?: string | undefined }): { offset: number; limit: number } {
  const n = query.limit === undefined ? DEFAULT_PAGE_SIZE : Number(query.limit);
  return { offset: Number(query.offset ?? 0), limit: Math.min(MAX_PAGE_SIZE, Math.max(1, n)) };
}
