import type { EntryRow, UploadRow } from './documents.repository.js';
import type { DocumentsService, Space } from './documents.service.js';
import { CHUNK_MAX_BYTES } from './documents.schema.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export const spaceKey = (s: Pick<Space, 'kind' | 'id'>) => (s.kind === 'personal' ? 'personal' : `${s.kind}:${s.id}`);

export function presentSpace(s: Space & { canWrite?: boolean }) {
  return { key: spaceKey(s), kind: s.kind, name: s.name, ...(s.canWrite !== undefined ? { canWrite: s.canWrite } : {}) };
}

export function presentEntry(e: EntryRow & { owner_name?: string | null }, canChange?: boolean) {
  const common = {
    id: e.id, kind: e.kind, name: e.name, parentId: e.folder_id || null, createdAt: iso(e.created_at), updatedAt: iso(e.updated_at),
    ...(e.owner_name ? { ownerName: e.owner_name } : {}),
    ...(canChange !== undefined ? { canChange } : {}),
  };
  return e.kind === 'folder'
    ? { ...common, dropBox: e.drop_box === 1 }
    : { ...common, sizeBytes: e.size_bytes, contentType: e.content_type, downloadUrl: `/api/v1/documents/files/${e.id}/content` };
}

export function presentListing(r: Awaited<ReturnType<DocumentsService['list']>>) {
  return {
    space: presentSpace(r.space),
    folder: r.folder ? presentEntry(r.folder) : null,
    breadcrumb: r.breadcrumb,
    entries: r.rows.map((e) => presentEntry(e, r.changeable(e))),
    nextOffset: r.nextOffset,
    canWrite: r.canWrite,
    canCreateFolder: r.canCreateFolder,
    canUpload: r.canUpload,
  };
}

export function presentTrashed(e: EntryRow, purgeAfterMs: number) {
  return { ...presentEntry(e), space: e.space_kind === 'personal' ? 'personal' : `${e.space_kind}:${e.space_id}`, deletedAt: iso(e.deleted_at), purgeAt: iso((e.deleted_at ?? 0) + purgeAfterMs) };
}

export function presentUpload(u: UploadRow) {
  return {
    id: u.id, name: u.name, sizeBytes: u.size_bytes, offset: u.received_bytes, sha256: u.expected_sha256, expiresAt: iso(u.expires_at),
    chunkMaxBytes: CHUNK_MAX_BYTES, url: `/api/v1/documents/uploads/${u.id}`,
  };
}
