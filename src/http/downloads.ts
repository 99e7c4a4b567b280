import type { FastifyReply } from 'fastify';
import { AppError } from '../platform/errors.js';
import type { BlobStore } from '../storage/blobs/blob-store.js';
import { isActiveContentType } from '../storage/blobs/sniff.js';

/** Shown in the browser (the pupil reads the PDF on the phone); everything else is downloaded. */
const INLINE_TYPES = new Set(['application/pdf', 'image/png', 'image/jpeg', 'image/gif', 'image/webp', 'text/plain']);

/** `Content-Disposition` with the name in UTF-8 (RFC 6266) and an ASCII fallback. */
export function contentDisposition(kind: 'inline' | 'attachment', fileName: string): string {
  const ascii = fileName.normalize('NFKD').replace(/[^\x20-\x7e]/g, '').replace(/["\\]/g, '_') || 'fichier';
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(fileName)}`;
}

/**
 * Sends a stored file. Active types (HTML, SVG, XML) never run in Préau's origin: they are sent as
 * opaque downloads under a sandboxing CSP, whatever the user asked for; `nosniff` stops the
 * browser from guessing otherwise.
 */
export async function sendBlob(reply: FastifyReply, blobs: BlobStore, file: { sha256: string; fileName: string; sizeBytes: number; contentType: string }): Promise<FastifyReply> {
  const stream = await blobs.open(file.sha256);
  if (!stream) throw new AppError('file.not_found');
  const active = isActiveContentType(file.contentType);
  const inline = !active && INLINE_TYPES.has(file.contentType);
  return reply
    .header('cache-control', 'private, no-store')
    .header('content-security-policy', "default-src 'none'; sandbox; frame-ancestors 'none'")
    .header('x-content-type-options', 'nosniff')
    .header('content-disposition', contentDisposition(inline ? 'inline' : 'attachment', file.fileName))
    .header('content-length', String(file.sizeBytes))
    .type(active ? 'application/octet-stream' : file.contentType === 'text/plain' ? 'text/plain; charset=utf-8' : file.contentType)
    .send(stream);
}
