import type { FastifyReply } from 'fastify';
import { AppError } from '../platform/errors.js';
import type { BlobStore, ByteRange } from '../storage/blobs/blob-store.js';
import { isActiveContentType } from '../storage/blobs/sniff.js';

/** Shown in the browser (the pupil reads the PDF on the phone); everything else is downloaded. */
const INLINE_TYPES = new Set(['application/pdf', 'image/png', 'image/jpeg', 'image/gif', 'image/webp', 'text/plain']);

/** `Content-Disposition` with the name in UTF-8 (RFC 6266) and an ASCII fallback. */
export function contentDisposition(kind: 'inline' | 'attachment', fileName: string): string {
  const ascii = fileName.normalize('NFKD').replace(/[^\x20-\x7e]/g, '').replace(/["\\]/g, '_') || 'fichier';
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(fileName)}`;
}

/**
 * The one range of a `Range` header, within a file of `size` bytes: `undefined` when there is no
 * header or it is not a single byte range (the whole file is sent, as RFC 9110 allows), `'unsatisfiable'`
 * when the range lies outside the file. Several ranges are answered with the whole file: no client
 * of Préau needs multipart/byteranges, and a resumed download asks for one.
 */
export function parseRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | undefined {
  if (header === undefined) return undefined;
  const m = /^bytes=(\d{0,15})-(\d{0,15})$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    // A suffix: the last N bytes.
    const n = Number(m[2]);
    if (n === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}

/**
 * Sends a stored file. Active types (HTML, SVG, XML) never run in Préau's origin: they are sent as
 * opaque downloads under a sandboxing CSP, whatever the user asked for; `nosniff` stops the
 * browser from guessing otherwise. With `ranges`, one byte range is served (206), so a
 * download cut on a weak link resumes where it stopped.
 */
export async function sendBlob(
  reply: FastifyReply,
  blobs: BlobStore,
  file: { sha256: string; fileName: string; sizeBytes: number; contentType: string },
  /** For routes that serve ranges: the request's `Range` header (or undefined). */
  ranges?: { header: string | undefined },
): Promise<FastifyReply> {
  const range = ranges && parseRange(ranges.header, file.sizeBytes);
  if (range === 'unsatisfiable') {
    reply.header('content-range', `bytes */${file.sizeBytes}`);
    throw new AppError('file.range_not_satisfiable', { params: { size: file.sizeBytes } });
  }
  const stream = await blobs.open(file.sha256, range);
  if (!stream) throw new AppError('file.not_found');
  const active = isActiveContentType(file.contentType);
  const inline = !active && INLINE_TYPES.has(file.contentType);
  if (ranges) reply.header('accept-ranges', 'bytes');
  if (range) reply.code(206).header('content-range', `bytes ${range.start}-${range.end}/${file.sizeBytes}`);
  return reply
    .header('cache-control', 'private, no-store')
    .header('content-security-policy', "default-src 'none'; sandbox; frame-ancestors 'none'")
    .header('x-content-type-options', 'nosniff')
    .header('content-disposition', contentDisposition(inline ? 'inline' : 'attachment', file.fileName))
    .header('content-length', String(range ? range.end - range.start + 1 : file.sizeBytes))
    .type(active ? 'application/octet-stream' : file.contentType === 'text/plain' ? 'text/plain; charset=utf-8' : file.contentType)
    .send(stream);
}
