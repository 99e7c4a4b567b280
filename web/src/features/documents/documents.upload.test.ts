import { describe, expect, it } from 'vitest';
import { CLIENT_CHUNK_BYTES, runResumableUpload, UploadFailure, type UploadTransport } from './documents.upload.js';

/** A fake server that keeps the bytes it received and can be told to cut the next request. */
function fakeServer(size: number) {
  const received = new Uint8Array(size);
  const s = { offset: 0, cuts: 0, puts: [] as number[], opened: 0, completed: false };
  const transport: UploadTransport = {
    open: async () => {
      s.opened++;
      return { id: 'u', url: '/u', sizeBytes: size, offset: 0, chunkMaxBytes: 8 * 1024 * 1024 };
    },
    status: async (url) => (url === '/u' ? s.offset : undefined),
    put: async (_url, offset, blob) => {
      s.puts.push(offset);
      if (offset !== s.offset) throw new UploadFailure('offset', s.offset);
      if (s.cuts > 0) {
        s.cuts--;
        throw new UploadFailure('network');
      }
      received.set(new Uint8Array(await blob.arrayBuffer()), offset);
      s.offset += blob.size;
      return s.offset;
    },
    complete: async () => {
      s.completed = true;
      return { ok: true };
    },
  };
  return { s, transport, received };
}

const bytes = (n: number) => new Uint8Array(Array.from({ length: n }, (_, i) => i % 251));

describe('resumable upload (client driver)', () => {
  it('sends the file in chunks, resumes after cuts from the server’s offset, completes', async () => {
    const data = bytes(2 * CLIENT_CHUNK_BYTES + 10);
    const { s, transport, received } = fakeServer(data.length);
    s.cuts = 2;
    const waits: number[] = [];
    const progress: number[] = [];
    await runResumableUpload(new Blob([data]), transport, { wait: async (ms) => void waits.push(ms), delayMs: (n) => 100 * (n + 1), onProgress: (sent) => progress.push(sent) });
    expect(s.completed).toBe(true);
    expect(received).toEqual(data);
    expect(waits).toEqual([100, 200]);
    expect(progress.at(-1)).toBe(data.length);
    expect(s.puts).toEqual([0, 0, 0, CLIENT_CHUNK_BYTES, 2 * CLIENT_CHUNK_BYTES]);
  });

  it('resumes a saved session at the server’s offset, and follows a 409 offset at once', async () => {
    const data = bytes(CLIENT_CHUNK_BYTES + 5);
    const { s, transport } = fakeServer(data.length);
    s.offset = 0;
    await runResumableUpload(new Blob([data]), transport, { resumeUrl: '/u' });
    expect(s.opened).toBe(0);
    // A stale saved session (gone on the server): a new one is opened.
    const other = fakeServer(10);
    await runResumableUpload(new Blob([bytes(10)]), other.transport, { resumeUrl: '/gone' });
    expect(other.s.opened).toBe(1);
  });

  it('gives up after the bounded number of retries, and at once on a refusal', async () => {
    const { s, transport } = fakeServer(10);
    s.cuts = 100;
    await expect(runResumableUpload(new Blob([bytes(10)]), transport, { maxRetries: 3, wait: async () => {} })).rejects.toMatchObject({ kind: 'network' });
    expect(s.puts.length).toBe(4);
    const refused = { ...transport, put: async () => Promise.reject(new UploadFailure('refused')) };
    await expect(runResumableUpload(new Blob([bytes(10)]), refused, { wait: async () => {} })).rejects.toMatchObject({ kind: 'refused' });
  });
});
