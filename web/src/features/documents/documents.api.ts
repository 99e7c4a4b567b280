import { ApiError, api, csrfToken } from '../../api/client.js';
import { lang } from '../../app/state.js';
import { UploadFailure, type UploadSession, type UploadTransport } from './documents.upload.js';

export interface DocSpace {
  key: string;
  kind: 'personal' | 'class' | 'group';
  name: string;
  canWrite?: boolean;
}

export interface DocEntry {
  id: string;
  kind: 'folder' | 'file';
  name: string;
  parentId: string | null;
  createdAt: string;
  updatedAt: string;
  ownerName?: string;
  canChange?: boolean;
  dropBox?: boolean;
  sizeBytes?: number;
  contentType?: string | null;
  downloadUrl?: string;
}

export interface Listing {
  space: DocSpace;
  folder: DocEntry | null;
  breadcrumb: { id: string; name: string }[];
  entries: DocEntry[];
  nextOffset: number | null;
  canWrite: boolean;
  canCreateFolder: boolean;
  canUpload: boolean;
}

export interface Quota {
  usedBytes: number;
  limitBytes: number;
}

export const overview = () => api<{ spaces: DocSpace[]; quota: Quota }>('GET', '/api/v1/documents');
export const listing = (space: string, folder: string | undefined, offset = 0) =>
  api<Listing>('GET', `/api/v1/documents/entries?${new URLSearchParams({ space, ...(folder ? { folder } : {}), offset: String(offset), limit: '100' })}`);
export const createFolder = (space: string, parentId: string | undefined, name: string, dropBox: boolean) =>
  api<{ entry: DocEntry }>('POST', '/api/v1/documents/folders', { body: { space, name, ...(parentId ? { parentId } : {}), ...(dropBox ? { dropBox } : {}) } });
export const renameEntry = (id: string, name: string) => api<{ entry: DocEntry }>('PATCH', `/api/v1/documents/entries/${encodeURIComponent(id)}`, { body: { name } });
export const deleteEntry = (id: string) => api<undefined>('DELETE', `/api/v1/documents/entries/${encodeURIComponent(id)}`);
export const trash = () => api<{ entries: (DocEntry & { deletedAt: string; purgeAt: string })[]; nextOffset: number | null }>('GET', '/api/v1/documents/trash?limit=100');
export const restoreEntry = (id: string) => api<{ entry: DocEntry }>('POST', `/api/v1/documents/trash/${encodeURIComponent(id)}/restore`);
export const emptyTrash = () => api<{ purged: number }>('DELETE', '/api/v1/documents/trash');

function headers(extra: Record<string, string> = {}): Record<string, string> {
  const h: Record<string, string> = { accept: 'application/json', 'accept-language': lang.get(), ...extra };
  const csrf = csrfToken();
  if (csrf) h['x-csrf-token'] = csrf;
  return h;
}

async function failure(res: Response): Promise<UploadFailure> {
  const body = (await res.json().catch(() => undefined)) as { error?: { id?: string; message?: string; details?: { offset?: number } } } | undefined;
  if (res.status === 409 && body?.error?.id === 'upload.wrong_offset') return new UploadFailure('offset', Number(res.headers.get('upload-offset') ?? body.error.details?.offset));
  const apiError = new ApiError('http', res.status, body?.error?.id ?? 'unknown', body?.error?.message ?? '', Number(res.headers.get('retry-after')) || undefined);
  // Overload, throttling, a chunk still being received: worth waiting and asking again.
  return new UploadFailure(apiError.transient ? 'network' : 'refused', undefined, apiError);
}

async function send(url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, { credentials: 'same-origin', ...init });
  } catch (err) {
    throw new UploadFailure('network', undefined, err);
  }
}

/** The resumable-upload protocol over fetch: POST a session, PUT raw chunks at an offset, HEAD to resume, POST complete. */
export function uploadTransport(space: string, folderId: string | undefined, file: File): UploadTransport {
  return {
    async open() {
      const res = await send('/api/v1/documents/uploads', {
        method: 'POST',
        headers: headers({ 'content-type': 'application/json' }),
        body: JSON.stringify({ space, name: file.name, sizeBytes: file.size, ...(folderId ? { folderId } : {}) }),
      });
      if (!res.ok) throw await failure(res);
      return ((await res.json()) as { upload: UploadSession }).upload;
    },
    async status(url) {
      const res = await send(url, { method: 'HEAD', headers: headers() });
      if (res.status === 404) return undefined;
      if (!res.ok) throw await failure(res);
      return Number(res.headers.get('upload-offset'));
    },
    async put(url, offset, bytes) {
      const res = await send(`${url}?offset=${offset}`, { method: 'PUT', headers: headers({ 'content-type': 'application/offset+octet-stream' }), body: bytes });
      if (!res.ok) throw await failure(res);
      return Number(res.headers.get('upload-offset'));
    },
    async complete(url) {
      const res = await send(`${url}/complete`, { method: 'POST', headers: headers() });
      if (!res.ok) throw await failure(res);
      return res.json();
    },
  };
}
