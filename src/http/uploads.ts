import type { FastifyInstance, FastifyRequest } from 'fastify';
import fastifyMultipart from '@fastify/multipart';
import { AppError, type ErrorId } from '../platform/errors.js';
import { BlobTooLargeError, type BlobStore } from '../storage/blobs/blob-store.js';
import { sniffContentType } from '../storage/blobs/sniff.js';

/**
 * Streamed multipart uploads (`multipart/form-data`, what a browser form or `FormData` sends):
 * each file part is piped straight into the blob store while being hashed, never held whole in
 * memory; limits per file, per request (total bytes, number of files and fields) are enforced
 * while streaming; the content type is detected from the first bytes, never taken from the name
 * or the client's claim. Why multipart rather than one raw body per file: a hand-in (a text and
 * several photos) is then one request, so one idempotency key covers it and it is stored whole or
 * not at all.
 */
export function installUploads(app: FastifyInstance): void {
  // Defaults are deliberately tiny: every route passes its own limits to `readUpload`.
  app.register(fastifyMultipart, { limits: { fileSize: 1, files: 1, fields: 1, parts: 2, fieldSize: 1024, headerPairs: 50 }, throwFileSizeLimit: true });
}

export interface UploadLimits {
  /** Text fields this route accepts (anything else: request.unknown_field). */
  fields: readonly string[];
  /** Name of the file field(s). */
  fileField: string;
  maxFiles: number;
  maxFileBytes: number;
  maxTotalBytes: number;
  /** Per text field, in UTF-8 bytes. */
  maxFieldBytes: number;
  /** The error when the files together exceed maxTotalBytes (default `files.too_large`; a route may say it in its own words). */
  totalTooLarge?: ErrorId;
}

export interface UploadedFile {
  fileName: string;
  sha256: string;
  sizeBytes: number;
  crc32: number;
  /** Detected from the bytes. */
  contentType: string;
}

export interface Upload {
  fields: Record<string, string>;
  files: UploadedFile[];
}

/** Errors of the client's stream (cut connection, malformed multipart), told apart from the store's own. */
class ClientStreamError extends Error {}

async function* guarded(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of source) yield chunk;
  } catch (err) {
    throw new ClientStreamError(err instanceof Error ? err.message : String(err), { cause: err });
  }
}

const MULTIPART_CODES: Record<string, AppError['id']> = {
  FST_REQ_FILE_TOO_LARGE: 'file.too_large',
  FST_FILES_LIMIT: 'file.too_many',
  FST_PARTS_LIMIT: 'request.too_large',
  FST_FIELDS_LIMIT: 'request.too_large',
  FST_PROTO_VIOLATION: 'request.invalid',
  FST_INVALID_MULTIPART_CONTENT_TYPE: 'request.unsupported_media_type',
  FST_MP_PREMATURE_CLOSE: 'request.invalid',
};

function translate(err: unknown): unknown {
  if (err instanceof AppError) return err;
  if (err instanceof BlobTooLargeError) return new AppError('file.too_large', { params: { max: describeBytes(err.maxBytes) } });
  const code = (err as { code?: string }).code;
  if (code && MULTIPART_CODES[code]) return new AppError(MULTIPART_CODES[code]!);
  // The client sent something busboy could not read (truncated body, bad boundary): its fault.
  if (err instanceof ClientStreamError || (err instanceof Error && /multipart|boundary|Unexpected end of form|Malformed/i.test(err.message))) return new AppError('request.invalid');
  return err;
}

/** "20 Mo": sizes as a French user reads them. */
export function describeBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${Math.round(bytes / (1024 * 1024))} Mo`;
  return `${Math.max(1, Math.round(bytes / 1024))} Ko`;
}

/** A file name as the user gave it, without any path, bounded, never empty. */
export function cleanFileName(raw: string | undefined): string {
  const base = (raw ?? '').split(/[\\/]/).pop() ?? '';
  const cleaned = base.normalize('NFC').replace(/[\u0000-\u001f\u007f]/g, '').trim().slice(0, 200);
  return cleaned || 'fichier';
}

/**
 * Reads a multipart request: text fields into strings, files into the blob store. Fails closed:
 * the first limit crossed or malformed part is a 4xx and nothing is recorded in the database (blobs
 * already written stay unreferenced; they are content-addressed, so a retry reuses them).
 */
export async function readUpload(request: FastifyRequest, blobs: BlobStore, limits: UploadLimits): Promise<Upload> {
  if (!request.isMultipart()) throw new AppError('request.unsupported_media_type');
  const fields: Record<string, string> = Object.create(null) as Record<string, string>;
  const files: UploadedFile[] = [];
  let totalBytes = 0;
  try {
    const parts = request.parts({
      limits: {
        fileSize: limits.maxFileBytes + 1,
        files: limits.maxFiles,
        fields: limits.fields.length,
        parts: limits.maxFiles + limits.fields.length,
        fieldSize: limits.maxFieldBytes + 1,
        fieldNameSize: 100,
        headerPairs: 50,
      },
    });
    for await (const part of parts) {
      if (part.type === 'field') {
        if (!limits.fields.includes(part.fieldname) || part.fieldname in fields) throw new AppError('request.unknown_field', { details: { field: part.fieldname.slice(0, 100) } });
        if (part.valueTruncated || typeof part.value !== 'string' || Buffer.byteLength(part.value) > limits.maxFieldBytes) throw new AppError('request.too_large');
        fields[part.fieldname] = part.value;
        continue;
      }
      if (part.fieldname !== limits.fileField) {
        part.file.resume();
        throw new AppError('request.unknown_field', { details: { field: part.fieldname.slice(0, 100) } });
      }
      const budget = Math.min(limits.maxFileBytes, limits.maxTotalBytes - totalBytes);
      if (budget <= 0 && part.filename) throw new AppError(limits.totalTooLarge ?? 'files.too_large', { params: { max: describeBytes(limits.maxTotalBytes) } });
      const stored = await blobs.put(guarded(part.file), { maxBytes: Math.max(0, budget) }).catch((err: unknown) => {
        // Over the per-request total rather than the per-file limit: say which.
        if (err instanceof BlobTooLargeError && budget < limits.maxFileBytes) throw new AppError(limits.totalTooLarge ?? 'files.too_large', { params: { max: describeBytes(limits.maxTotalBytes) } });
        throw err;
      });
      // A browser sends an empty, nameless part for a file input left empty.
      if (!part.filename && stored.sizeBytes === 0) continue;
      totalBytes += stored.sizeBytes;
      files.push({ fileName: cleanFileName(part.filename), sha256: stored.sha256, sizeBytes: stored.sizeBytes, crc32: stored.crc32, contentType: sniffContentType(stored.head) });
    }
  } catch (err) {
    throw translate(err);
  }
  return { fields, files };
}
