import { ApiError, csrfToken } from './client.js';
import { lang } from '../app/state.js';

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
