import { mkdir, open, opendir, rename, rm, stat, unlink, utimes } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { newId } from '../../platform/ids.js';
import { isSha256Hex, PutDigest, type BlobStore, type ByteRange, type PutOptions, type StoredBlob } from './blob-store.js';

/**
 * Blobs as files under `<root>/sha256/ab/cd/<sha256>`. A put streams into `<root>/tmp/`, is
 * fsync'ed, then renamed into place (atomic on one filesystem) and the directory fsync'ed: a
 * reader never sees half a file, and an acknowledged put survives a power cut. Fails closed: any
 * error removes the temporary file and rejects.
 */
export class DiskBlobStore implements BlobStore {
  private readonly tmpDir: string;
  private ready: Promise<unknown> | undefined;

  constructor(private readonly root: string) {
    this.tmpDir = path.join(root, 'tmp');
  }

  private pathOf(sha256: string): string {
    return path.join(this.root, 'sha256', sha256.slice(0, 2), sha256.slice(2, 4), sha256);
  }

  async put(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, options: PutOptions): Promise<StoredBlob> {
    // Created on the first write: composing Préau (tests, tools) leaves no directory behind.
    await (this.ready ??= mkdir(this.tmpDir, { recursive: true }));
    const tmp = path.join(this.tmpDir, `${newId()}.part`);
    const file = await open(tmp, 'wx', 0o600);
    const digest = new PutDigest(options.maxBytes);
    let closed = false;
    try {
      for await (const chunk of source) {
        digest.add(chunk);
        let offset = 0;
        while (offset < chunk.length) offset += (await file.write(chunk, offset, chunk.length - offset)).bytesWritten;
      }
      await file.sync();
      await file.close();
      closed = true;
      const stored = digest.finish();
      const { sha256, sizeBytes } = stored;
      const final = this.pathOf(sha256);
      const existing = await stat(final).catch(() => undefined);
      if (existing && existing.size === sizeBytes) {
        await unlink(tmp);
        // Renewed: bytes being attached again are not an orphan for the sweep's grace period.
        const now = new Date();
        await utimes(final, now, now);
        return { ...stored, created: false };
      }
      await mkdir(path.dirname(final), { recursive: true });
      await rename(tmp, final);
      await fsyncPath(path.dirname(final));
      return { ...stored, created: true };
    } catch (err) {
      if (!closed) await file.close().catch(() => undefined);
      await rm(tmp, { force: true });
      throw err;
    }
  }

  async open(sha256: string, range?: ByteRange): Promise<Readable | undefined> {
    if (!isSha256Hex(sha256)) return undefined;
    const p = this.pathOf(sha256);
    // Open first so that a missing file is an answer, not a stream error later.
    const handle = await open(p, 'r').catch(() => undefined);
    if (!handle) return undefined;
    return handle.createReadStream({ autoClose: true, highWaterMark: 256 * 1024, ...(range ? { start: range.start, end: range.end } : {}) });
  }

  async stat(sha256: string): Promise<{ sizeBytes: number } | undefined> {
    if (!isSha256Hex(sha256)) return undefined;
    const s = await stat(this.pathOf(sha256)).catch(() => undefined);
    return s ? { sizeBytes: s.size } : undefined;
  }
  async *list(): AsyncGenerator<{ sha256: string; modifiedAtMs: number }> {
    const top = path.join(this.root, 'sha256');
    for await (const a of await opendir(top).catch(() => [])) {
      if (!a.isDirectory()) continue;
      for await (const b of await opendir(path.join(top, a.name))) {
        if (!b.isDirectory()) continue;
        for await (const f of await opendir(path.join(top, a.name, b.name))) {
          if (!f.isFile() || !isSha256Hex(f.name)) continue;
          const s = await stat(path.join(top, a.name, b.name, f.name)).catch(() => undefined);
          if (s) yield { sha256: f.name, modifiedAtMs: s.mtimeMs };
        }
      }
    }
  }


  async delete(sha256: string): Promise<void> {
    if (!isSha256Hex(sha256)) return;
    await rm(this.pathOf(sha256), { force: true });
  }
}

/** Flushes a file, or a directory (a rename is durable only once the directory entry is on disk). */
export async function fsyncPath(fileOrDir: string): Promise<void> {
  const handle = await open(fileOrDir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
