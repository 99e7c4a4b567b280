import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { crc32 } from './crc32.js';

/**
 * The port for file bytes. Blobs are content-addressed: the key is the SHA-256 of the bytes, so
 * the same file handed in twice, or attached to two classes, is stored once. Metadata (names,
 * who may read) lives in the database; the store only keeps bytes.
 *
 * Contract (tested by `blob-store.contract.ts` on every implementation):
 * - `put` consumes a stream chunk by chunk (never the whole file in memory) and resolves only once
 *   the bytes are durable: a resolved put survives a crash of the process or of the machine.
 * - a put over `maxBytes` rejects with `BlobTooLargeError` and leaves nothing behind;
 * - a put of bytes already stored keeps one copy (`created: false`) and renews its modification
 *   time, so that the orphan sweep never takes bytes someone is attaching right now;
 * - `open` of an unknown key resolves to undefined; keys that are not 64 lowercase hex digits are unknown.
 */
export interface BlobStore {
  put(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, options: PutOptions): Promise<StoredBlob>;
  /** The bytes, or those of `range` (inclusive offsets, within the blob). */
  open(sha256: string, range?: ByteRange): Promise<Readable | undefined>;
  stat(sha256: string): Promise<{ sizeBytes: number } | undefined>;
  delete(sha256: string): Promise<void>;
  /** Every stored blob with the time it was last written (a put of bytes already stored counts), for the orphan sweep. */
  list(): AsyncIterable<{ sha256: string; modifiedAtMs: number }>;
}

/** Inclusive byte offsets, as in HTTP's `Range: bytes=start-end`. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface PutOptions {
  /** Larger content is refused while streaming (and nothing is kept). */
  maxBytes: number;
}

export interface StoredBlob {
  sha256: string;
  sizeBytes: number;
  /** CRC-32 of the bytes: a zip of stored blobs can then be written without reading them twice. */
  crc32: number;
  /** The first bytes (at most HEAD_BYTES), for content-type detection. */
  head: Buffer;
  /** False when these bytes were already stored (deduplicated). */
  created: boolean;
}

/** Enough for every signature `sniffContentType` knows. */
export const HEAD_BYTES = 4096;

export class BlobTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`blob larger than ${maxBytes} bytes`);
    this.name = 'BlobTooLargeError';
  }
}

const SHA256_HEX = /^[0-9a-f]{64}$/;
export function isSha256Hex(value: string): boolean {
  return SHA256_HEX.test(value);
}

/** What every adapter's put computes while the bytes stream by: the size (bounded), SHA-256, CRC-32 and the head. */
export class PutDigest {
  private readonly hash = createHash('sha256');
  private crc = 0;
  private sizeBytes = 0;
  private readonly headParts: Buffer[] = [];
  private headBytes = 0;

  constructor(private readonly maxBytes: number) {}

  /** Counts one chunk in; throws BlobTooLargeError past the limit (the caller then keeps nothing). */
  add(chunk: Uint8Array): void {
    this.sizeBytes += chunk.length;
    if (this.sizeBytes > this.maxBytes) throw new BlobTooLargeError(this.maxBytes);
    this.hash.update(chunk);
    this.crc = crc32(chunk, this.crc);
    if (this.headBytes < HEAD_BYTES) {
      const part = Buffer.from(chunk.subarray(0, HEAD_BYTES - this.headBytes));
      this.headParts.push(part);
      this.headBytes += part.length;
    }
  }

  /** Once every chunk is in (call once). */
  finish(): Omit<StoredBlob, 'created'> {
    return { sha256: this.hash.digest('hex'), sizeBytes: this.sizeBytes, crc32: this.crc, head: Buffer.concat(this.headParts) };
  }
}
