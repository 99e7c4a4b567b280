/**
 * The resumable upload as the client runs it, apart from the page so that it can be tested: open
 * a session, send chunks at the offset the server has, and after a cut ask the server where it
 * stands and go on from there. Bounded: a chunk is retried at most `maxRetries` times in a row
 * (with the backoff policy's waits) before the page asks the person; a 409 with the server's
 * offset is followed at once (the server is the truth about what it received).
 */

/**
 * Small chunks on a weak link: a cut loses at most this much, and one chunk must arrive within the
 * server's request timeout (30 s by default: 256 KiB needs about 70 kbit/s). The server accepts up
 * to its own cap.
 */
export const CLIENT_CHUNK_BYTES = 256 * 1024;

export interface UploadSession {
  id: string;
  url: string;
  sizeBytes: number;
  offset: number;
  chunkMaxBytes: number;
}

/** What the driver needs from the network; the page passes fetch-based functions, tests a fake server. */
export interface UploadTransport {
  open(): Promise<UploadSession>;
  /** The server's offset for a session; undefined when it is gone (expired, completed, cancelled). */
  status(url: string): Promise<number | undefined>;
  /** Sends bytes at `offset`; resolves with the new offset, rejects with an UploadFailure. */
  put(url: string, offset: number, bytes: Blob): Promise<number>;
  complete(url: string): Promise<unknown>;
}

/** A failed request: `network` (no answer), `offset` (409 with the server's offset), or a refusal. */
export class UploadFailure extends Error {
  constructor(
    readonly kind: 'network' | 'offset' | 'refused',
    readonly offset?: number,
    readonly reason?: unknown,
  ) {
    super(kind);
  }
}

export interface RunOptions {
  /** A session saved from an earlier attempt (same file), to resume rather than start over. */
  resumeUrl?: string | undefined;
  onSession?: (url: string) => void;
  onProgress?: (sent: number, total: number) => void;
  /** Told when a cut happened and the driver waits before trying again. */
  onRetry?: (attempt: number, waitMs: number) => void;
  maxRetries?: number;
  wait?: (ms: number) => Promise<void>;
  /** Wait before retry n (0-based): the app's backoff policy. */
  delayMs?: (attempt: number) => number;
}

export async function runResumableUpload(file: Blob, transport: UploadTransport, options: RunOptions = {}): Promise<unknown> {
  const maxRetries = options.maxRetries ?? 5;
  const wait = options.wait ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const delayMs = options.delayMs ?? ((n: number) => Math.min(30_000, 1000 * 2 ** n));
  let url: string | undefined;
  let offset = 0;
  let chunkMax = CLIENT_CHUNK_BYTES;
  if (options.resumeUrl) {
    const at = await transport.status(options.resumeUrl).catch(() => undefined);
    if (at !== undefined) {
      url = options.resumeUrl;
      offset = at;
    }
  }
  if (!url) {
    const s = await transport.open();
    url = s.url;
    offset = s.offset;
    chunkMax = Math.min(CLIENT_CHUNK_BYTES, s.chunkMaxBytes);
  }
  options.onSession?.(url);
  options.onProgress?.(offset, file.size);
  let failures = 0;
  while (offset < file.size) {
    const end = Math.min(file.size, offset + chunkMax);
    try {
      offset = await transport.put(url, offset, file.slice(offset, end));
      failures = 0;
      options.onProgress?.(offset, file.size);
    } catch (err) {
      if (err instanceof UploadFailure && err.kind === 'offset' && err.offset !== undefined) {
        offset = err.offset;
        continue;
      }
      if (!(err instanceof UploadFailure) || err.kind === 'refused' || failures >= maxRetries) throw err;
      const ms = delayMs(failures++);
      options.onRetry?.(failures, ms);
      await wait(ms);
      // After a cut, the server says how much of the chunk it kept.
      const at = await transport.status(url).catch(() => undefined);
      if (at !== undefined) offset = at;
    }
  }
  return transport.complete(url);
}
