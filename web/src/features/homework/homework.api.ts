import { ApiError, api, csrfToken } from '../../api/client.js';
import type { HandinsOverview, HomeworkEntry, PupilHandins, Receipt } from '../../api/types.js';
import { lang } from '../../app/state.js';

export const listEntries = (query: string) => api<{ entries: HomeworkEntry[]; nextCursor: string | null }>('GET', `/api/v1/homework?${query}`);
export const getEntry = (id: string) => api<{ entry: HomeworkEntry }>('GET', `/api/v1/homework/${encodeURIComponent(id)}`);
export const handinsOf = (entryId: string, pupilId: string) => api<PupilHandins>('GET', `/api/v1/homework/${encodeURIComponent(entryId)}/handins/${encodeURIComponent(pupilId)}`);
export const handinsOverview = (entryId: string) => api<HandinsOverview>('GET', `/api/v1/homework/${encodeURIComponent(entryId)}/handins?limit=100`);
export const myChildren = () => api<{ children: { id: string; firstName: string; lastName: string }[] }>('GET', '/api/v1/me/children');

/**
 * A multipart upload with progress (XMLHttpRequest: fetch has no upload progress). Refusals and
 * network failures become the same ApiError as every other call, so the page can tell a retry
 * from a refusal.
 */
export function upload<T>(method: 'POST' | 'PUT', path: string, form: FormData, options: { idempotencyKey?: string; onProgress?: (fraction: number) => void } = {}): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, path);
    xhr.withCredentials = true;
    xhr.setRequestHeader('accept', 'application/json');
    xhr.setRequestHeader('accept-language', lang.get());
    const csrf = csrfToken();
    if (csrf) xhr.setRequestHeader('x-csrf-token', csrf);
    if (options.idempotencyKey) xhr.setRequestHeader('idempotency-key', options.idempotencyKey);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && e.total > 0) options.onProgress?.(e.loaded / e.total);
    };
    xhr.onerror = () => reject(new ApiError('network', 0, 'network', '', undefined));
    xhr.ontimeout = xhr.onerror;
    xhr.onload = () => {
      let body: unknown;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = undefined;
      }
      if (xhr.status >= 200 && xhr.status < 300) return resolve(body as T);
      const e = (body as { error?: { id?: string; message?: string; retryAfterSeconds?: number } } | undefined)?.error;
      const retryAfter = Number(xhr.getResponseHeader('retry-after')) || e?.retryAfterSeconds;
      reject(new ApiError('http', xhr.status, e?.id ?? (xhr.status >= 500 ? 'server.unavailable' : 'unknown'), e?.message ?? '', retryAfter));
    };
    xhr.send(form);
  });
}

/** The receipt as the text file to keep (the server's own wording), saved on the device. */
export async function downloadReceipt(receipt: Receipt): Promise<void> {
  const res = await fetch(receipt.receiptUrl, { headers: { accept: 'text/plain', 'accept-language': lang.get() }, credentials: 'same-origin' });
  if (!res.ok) throw new ApiError('http', res.status, 'unknown', '', undefined);
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = `recu-rendu-${receipt.id}.txt`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
