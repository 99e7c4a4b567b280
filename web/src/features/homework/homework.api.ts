import { ApiError, api } from '../../api/client.js';
import type { HandinsOverview, HomeworkEntry, PupilHandins, Receipt } from '../../api/types.js';
import { lang } from '../../app/state.js';

export { upload } from '../../api/upload.js';

export const listEntries = (query: string) => api<{ entries: HomeworkEntry[]; nextCursor: string | null }>('GET', `/api/v1/homework?${query}`);
export const getEntry = (id: string) => api<{ entry: HomeworkEntry }>('GET', `/api/v1/homework/${encodeURIComponent(id)}`);
export const handinsOf = (entryId: string, pupilId: string) => api<PupilHandins>('GET', `/api/v1/homework/${encodeURIComponent(entryId)}/handins/${encodeURIComponent(pupilId)}`);
export const handinsOverview = (entryId: string) => api<HandinsOverview>('GET', `/api/v1/homework/${encodeURIComponent(entryId)}/handins?limit=100`);
export const myChildren = () => api<{ children: { id: string; firstName: string; lastName: string }[] }>('GET', '/api/v1/me/children');

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
