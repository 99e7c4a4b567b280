import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiskBlobStore } from '../storage/blobs/disk-blob-store.js';
import { multipart } from '../../test/support/multipart.js';
import { installErrorHandling } from './error-handler.js';
import { installUploads, readUpload, type UploadLimits } from './uploads.js';

/** readUpload's bounds on a bare app: three small files, 10 bytes each at most, 25 in all. */
describe('multipart uploads: the total over several files', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'preau-uploads-'));
  let app: FastifyInstance;
  const limits: UploadLimits = { fields: [], fileField: 'files', maxFiles: 3, maxFileBytes: 10, maxTotalBytes: 25, maxFieldBytes: 0 };
  beforeAll(async () => {
    app = Fastify();
    installErrorHandling(app);
    installUploads(app);
    const blobs = new DiskBlobStore(dir);
    app.post('/generic', async (request) => ({ files: (await readUpload(request, blobs, limits)).files.length }));
    app.post('/handin', async (request) => ({ files: (await readUpload(request, blobs, { ...limits, totalTooLarge: 'handin.too_large' })).files.length }));
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const send = (url: string, sizes: number[]) => {
    const body = multipart(sizes.map((n, i) => ({ name: 'files', file: { fileName: `f${i}.txt`, data: Buffer.alloc(n, 97 + i) } })));
    return app.inject({ method: 'POST', url, payload: body.payload, headers: body.headers });
  };

  it('takes files within every bound', async () => {
    const res = await send('/generic', [10, 10, 5]);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ files: 3 });
  });

  it('refuses files too large together with a generic id, or the route’s own', async () => {
    const generic = await send('/generic', [10, 10, 10]);
    expect(generic.statusCode).toBe(413);
    expect(generic.json().error.id).toBe('files.too_large');
    expect(generic.json().error.message).toContain('en tout');
    const handin = await send('/handin', [10, 10, 10]);
    expect(handin.statusCode).toBe(413);
    expect(handin.json().error.id).toBe('handin.too_large');
  });

  it('refuses one file over its own bound as file.too_large', async () => {
    const res = await send('/generic', [11]);
    expect(res.statusCode).toBe(413);
    expect(res.json().error.id).toBe('file.too_large');
  });
});
