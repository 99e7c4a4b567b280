import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import net from 'node:net';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activeBackends } from '../../../test/support/backends.js';
import { startTestPreau, type TestPreau } from '../../../test/support/app.js';
import { compose, type Preau } from '../../compose.js';
import { createLogger } from '../../platform/logger.js';
import { FIXTURE_PASSWORD, PEOPLE, type PersonKey } from '../../../test/support/fixtures.js';
import { describeMatrix, type MatrixRow } from '../../../test/support/matrix.js';
import { multipart, PDF_BYTES } from '../../../test/support/multipart.js';
import { canReadSpace, canWriteSpace } from './documents.policy.js';
import { CHUNK_MAX_BYTES, MAX_FOLDER_DEPTH, QUOTA_BYTES, TRASH_RETENTION_DAYS, UPLOAD_SESSION_TTL_MS } from './documents.schema.js';

const backends = await activeBackends();

const SIGNED_IN: PersonKey[] = [...PEOPLE].filter((p) => p !== 'departedPupil' && p !== 'pendingPupil');
/** Who writes in 6e A's space: its teacher and school A's staff. */
const WRITERS_6A: PersonKey[] = ['teacherA', 'cpeA', 'directionA', 'adminA'];
/** Who reads it: its pupils and their parents. */
const READERS_6A: PersonKey[] = ['pupilA1', 'pupilA2', 'parentA1'];
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const sizeOf = 10;

/**
 * The authorisation matrix of Documents. Fixture (see beforeAll): in 6e A's space a folder
 * `docCours6A` with a file `docFile6A`, a drop folder `docDrop6A` with pupil A1's deposit
 * `docDepositA1`; pupil A1's personal file `docPersonalA1`. Includes a parent of another pupil
 * (parentB1), a teacher of another class (teacherB) and of another school (teacherOther); the
 * departed pupil is tested below (they cannot sign in).
 */
const MATRIX: MatrixRow[] = [
  { name: 'list one’s spaces and quota', method: 'GET', url: '/api/v1/documents', allowed: SIGNED_IN },
  { name: 'list one’s personal space', method: 'GET', url: '/api/v1/documents/entries?space=personal', allowed: SIGNED_IN },
  { name: 'list 6e A’s space', method: 'GET', url: '/api/v1/documents/entries?space=class:class6A', allowed: [...WRITERS_6A, ...READERS_6A] },
  { name: 'list a folder of 6e A', method: 'GET', url: '/api/v1/documents/entries?space=class:class6A&folder=docCours6A', allowed: [...WRITERS_6A, ...READERS_6A] },
  { name: 'list the Latin group’s space', method: 'GET', url: '/api/v1/documents/entries?space=group:groupLatin', allowed: ['teacherA', 'cpeA', 'directionA', 'adminA', 'pupilA1', 'parentA1'] },
  { name: 'download 6e A’s file', method: 'GET', url: '/api/v1/documents/files/docFile6A/content', allowed: [...WRITERS_6A, ...READERS_6A] },
  { name: 'rename 6e A’s file (to the same name)', method: 'PATCH', url: '/api/v1/documents/entries/docFile6A', payload: { name: 'Cours.pdf' }, allowed: WRITERS_6A, forbidden: READERS_6A },
  { name: 'open an upload into 6e A’s folder', method: 'POST', url: '/api/v1/documents/uploads', payload: { space: 'class:class6A', folderId: 'docCours6A', name: 'fiche.pdf', sizeBytes: sizeOf }, ok: 201, allowed: WRITERS_6A, forbidden: READERS_6A },
  { name: 'deposit into 6e A’s drop folder', method: 'POST', url: '/api/v1/documents/uploads', payload: { space: 'class:class6A', folderId: 'docDrop6A', name: 'dm.pdf', sizeBytes: sizeOf }, ok: 201, allowed: [...WRITERS_6A, 'pupilA1', 'pupilA2'], forbidden: ['parentA1'] },
  { name: 'see pupil A1’s deposit', method: 'GET', url: '/api/v1/documents/files/docDepositA1/content', allowed: [...WRITERS_6A, 'pupilA1', 'parentA1'] },
  { name: 'see pupil A1’s personal file', method: 'GET', url: '/api/v1/documents/files/docPersonalA1/content', allowed: ['pupilA1'] },
  { name: 'open an upload into 6e B’s space', method: 'POST', url: '/api/v1/documents/uploads', payload: { space: 'class:class6B', name: 'x.pdf', sizeBytes: sizeOf }, ok: 201, allowed: ['teacherB', 'cpeA', 'directionA', 'adminA'], forbidden: ['pupilB1', 'parentB1'] },
  { name: 'rename an entry that does not exist', method: 'PATCH', url: '/api/v1/documents/entries/nope', payload: { name: 'x' }, allowed: [] },
];

describe.each(backends)('documents API on %s', (backend) => {
  let t: TestPreau;
  const db = () => t.preau.storage.db;
  const as = (who: PersonKey) => t.as(who);

  beforeAll(async () => {
    t = await startTestPreau(backend);
    const now = t.clock.nowMs();
    const blob = await t.preau.blobs.put([PDF_BYTES], { maxBytes: 1_000_000 });
    await db().insertInto('blobs').values({ sha256: blob.sha256, size_bytes: blob.sizeBytes, crc32: blob.crc32, content_type: 'application/pdf', created_at: now }).execute();
    const entry = (id: string, o: Record<string, unknown>) => ({
      id, kind: 'file' as const, space_kind: 'class' as const, space_id: 'class6A', folder_id: '', path: '/', depth: 0, name: id, name_key: id.toLowerCase(), drop_box: 0,
      owner_id: 'teacherA', person_id: null, blob_sha256: blob.sha256, size_bytes: blob.sizeBytes, content_type: 'application/pdf', created_at: now, updated_at: now,
      deleted_at: null, deleted_by: null, ...o,
    });
    await db().insertInto('doc_entries').values([
      entry('docCours6A', { kind: 'folder', name: 'Cours', name_key: 'cours', blob_sha256: null, size_bytes: 0, content_type: null }),
      entry('docFile6A', { folder_id: 'docCours6A', path: '/docCours6A/', depth: 1, name: 'Cours.pdf', name_key: 'cours.pdf' }),
      entry('docDrop6A', { kind: 'folder', name: 'Dépôt DM', name_key: 'dépôt dm', drop_box: 1, blob_sha256: null, size_bytes: 0, content_type: null }),
      entry('docDepositA1', { folder_id: 'docDrop6A', path: '/docDrop6A/', depth: 1, name: 'dm-a1.pdf', name_key: 'pupilA1/dm-a1.pdf', owner_id: 'pupilA1', person_id: 'pupilA1' }),
      entry('docPersonalA1', { space_kind: 'personal', space_id: 'pupilA1', name: 'perso.pdf', name_key: 'perso.pdf', owner_id: 'pupilA1', person_id: 'pupilA1' }),
    ] as never).execute();
  });
  afterAll(async () => {
    await t?.close();
  });

  describeMatrix(MATRIX, SIGNED_IN, () => t);

  it('a departed pupil reaches nothing, not even their own class', async () => {
    const departed = await t.preau.schools.scopeOf('departedPupil');
    const space = { kind: 'class' as const, id: 'class6A', schoolId: 'schoolA' };
    expect(canReadSpace(departed, space)).toBe(false);
    expect(canReadSpace(departed, { kind: 'personal', id: 'departedPupil', schoolId: null })).toBe(false);
    expect(canWriteSpace(await t.preau.schools.scopeOf('teacherA'), space)).toBe(true);
    await expect(t.preau.documents.list(departed, { space: 'class:class6A' })).rejects.toMatchObject({ id: 'documents.not_found' });
    await expect(t.preau.documents.openUpload(departed, { space: 'personal', name: 'x', sizeBytes: 1 })).rejects.toMatchObject({ id: 'documents.not_found' });
  });

  it('a teacher posts a file in a class folder; the pupil sees it and downloads it (and a range of it)', async () => {
    const teacher = await as('teacherA');
    const folder = await teacher.request({ method: 'POST', url: '/api/v1/documents/folders', payload: { space: 'class:class6A', name: 'Chapitre 3' } });
    expect(folder.statusCode, folder.body).toBe(201);
    const folderId = folder.json().entry.id as string;
    const body = multipart([{ name: 'file', file: { fileName: 'fractions.pdf', data: PDF_BYTES } }]);
    const up = await teacher.request({ method: 'POST', url: `/api/v1/documents/files?space=class:class6A&folder=${folderId}`, ...body });
    expect(up.statusCode, up.body).toBe(201);
    expect(up.json().entry).toMatchObject({ kind: 'file', name: 'fractions.pdf', sizeBytes: PDF_BYTES.length, contentType: 'application/pdf' });
    const pupil = await as('pupilA1');
    const list = await pupil.request({ method: 'GET', url: `/api/v1/documents/entries?space=class:class6A&folder=${folderId}` });
    expect(list.json()).toMatchObject({ canWrite: false, canUpload: false, breadcrumb: [{ id: folderId, name: 'Chapitre 3' }] });
    const file = list.json().entries[0];
    expect(file).toMatchObject({ name: 'fractions.pdf', canChange: false, ownerName: 'teacherA Fixture' });
    const dl = await pupil.request({ method: 'GET', url: file.downloadUrl });
    expect(dl.statusCode).toBe(200);
    expect(dl.rawPayload.equals(PDF_BYTES)).toBe(true);
    expect(dl.headers).toMatchObject({ 'content-type': 'application/pdf', 'x-content-type-options': 'nosniff', 'accept-ranges': 'bytes' });
    expect(dl.headers['content-disposition']).toBe(`inline; filename="fractions.pdf"; filename*=UTF-8''fractions.pdf`);
    const part = await pupil.request({ method: 'GET', url: file.downloadUrl, headers: { range: 'bytes=5-9' } });
    expect(part.statusCode).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 5-9/${PDF_BYTES.length}`);
    expect(part.rawPayload.equals(PDF_BYTES.subarray(5, 10))).toBe(true);
    const tail = await pupil.request({ method: 'GET', url: file.downloadUrl, headers: { range: 'bytes=-4' } });
    expect(tail.rawPayload.equals(PDF_BYTES.subarray(PDF_BYTES.length - 4))).toBe(true);
    const beyond = await pupil.request({ method: 'GET', url: file.downloadUrl, headers: { range: `bytes=${PDF_BYTES.length}-` } });
    expect(beyond.statusCode).toBe(416);
    expect(beyond.json().error.id).toBe('file.range_not_satisfiable');
    expect(beyond.headers['content-range']).toBe(`bytes */${PDF_BYTES.length}`);
    // A teacher of another class, a parent of another pupil: it does not exist for them.
    for (const who of ['teacherB', 'parentB1'] as const) expect((await (await as(who)).request({ method: 'GET', url: file.downloadUrl })).statusCode).toBe(404);
  });

  it('the type comes from the bytes, not the name; active content is only ever an attachment under a sandbox CSP', async () => {
    const teacher = await as('teacherA');
    const html = Buffer.from('<!DOCTYPE html><script>alert(document.cookie)</script>');
    const up = await teacher.request({ method: 'POST', url: '/api/v1/documents/files?space=personal', ...multipart([{ name: 'file', file: { fileName: 'leçon:1?.pdf', data: html, contentType: 'application/pdf' } }]) });
    expect(up.statusCode, up.body).toBe(201);
    expect(up.json().entry).toMatchObject({ contentType: 'text/html', name: 'leçon_1_.pdf' });
    const dl = await teacher.request({ method: 'GET', url: up.json().entry.downloadUrl });
    expect(dl.headers['content-type']).toBe('application/octet-stream');
    expect(dl.headers['content-disposition']).toMatch(/^attachment; filename="lecon_1_.pdf"; filename\*=UTF-8''le%C3%A7on_1_.pdf$/);
    expect(dl.headers['content-security-policy']).toContain('sandbox');
    expect(dl.headers['x-content-type-options']).toBe('nosniff');
  });

  it('stores the same bytes once but charges each upload to its uploader', async () => {
    const pupil = await as('pupilA2');
    const data = randomBytes(5000);
    const quota0 = (await pupil.request({ method: 'GET', url: '/api/v1/documents' })).json().quota;
    expect(quota0.limitBytes).toBe(QUOTA_BYTES.eleve);
    for (const name of ['a.bin', 'b.bin']) {
      expect((await pupil.request({ method: 'POST', url: '/api/v1/documents/files?space=personal', ...multipart([{ name: 'file', file: { fileName: name, data } }]) })).statusCode).toBe(201);
    }
    expect(await db().selectFrom('blobs').select('sha256').where('sha256', '=', sha(data)).execute()).toHaveLength(1);
    expect((await pupil.request({ method: 'GET', url: '/api/v1/documents' })).json().quota.usedBytes).toBe(quota0.usedBytes + 10_000);
  });

  it('folders: create, unique names (any case), rename, move, depth, delete to the trash, restore, empty', async () => {
    const teacher = await as('teacherA');
    const mk = (name: string, parentId?: string) => teacher.request({ method: 'POST', url: '/api/v1/documents/folders', payload: { space: 'personal', name, ...(parentId ? { parentId } : {}) } });
    const a = (await mk('Séquences')).json().entry.id as string;
    const taken = await mk('séquences');
    expect(taken.statusCode).toBe(409);
    expect(taken.json().error).toMatchObject({ id: 'documents.name_taken' });
    expect(taken.json().error.message).toContain('« séquences »');
    const b = (await mk('Archives')).json().entry.id as string;
    // Move b into a, then a into b (into itself): refused.
    expect((await teacher.request({ method: 'PATCH', url: `/api/v1/documents/entries/${b}`, payload: { parentId: a } })).json().entry.parentId).toBe(a);
    const loop = await teacher.request({ method: 'PATCH', url: `/api/v1/documents/entries/${a}`, payload: { parentId: b } });
    expect(loop.json().error.id).toBe('documents.invalid_move');
    // Depth: a chain from b down to the limit.
    let parent = b;
    for (let depth = 2; depth < MAX_FOLDER_DEPTH; depth++) parent = (await mk(`n${depth}`, parent)).json().entry.id;
    const deep = await mk('trop', parent);
    expect({ status: deep.statusCode, id: deep.json().error.id }).toEqual({ status: 409, id: 'documents.too_deep' });
    // Moving the whole chain one level down would also be too deep; to the root is fine and keeps its content.
    const c = (await mk('Autre')).json().entry.id as string;
    expect((await teacher.request({ method: 'PATCH', url: `/api/v1/documents/entries/${a}`, payload: { parentId: c } })).json().error.id).toBe('documents.too_deep');
    // A move onto a taken name changes nothing (move and rename are one update).
    const dup = (await mk('Doublon')).json().entry.id as string;
    await mk('doublon', c);
    const clash = await teacher.request({ method: 'PATCH', url: `/api/v1/documents/entries/${dup}`, payload: { parentId: c } });
    expect(clash.json().error.id).toBe('documents.name_taken');
    expect(await db().selectFrom('doc_entries').select(['folder_id', 'name']).where('id', '=', dup).executeTakeFirstOrThrow()).toEqual({ folder_id: '', name: 'Doublon' });
    const renamedAway = await teacher.request({ method: 'PATCH', url: `/api/v1/documents/entries/${dup}`, payload: { parentId: c, name: 'Doublon 2' } });
    expect(renamedAway.json().entry).toMatchObject({ parentId: c, name: 'Doublon 2' });
    expect((await teacher.request({ method: 'PATCH', url: `/api/v1/documents/entries/${b}`, payload: { parentId: null, name: 'Archives 2025' } })).statusCode).toBe(200);
    const moved = await db().selectFrom('doc_entries').select(['depth', 'path']).where('id', '=', parent).executeTakeFirstOrThrow();
    expect(moved.depth).toBe(MAX_FOLDER_DEPTH - 2);
    expect(moved.path.startsWith(`/${b}/`)).toBe(true);
    // Delete to the trash: gone from the listing and from under it; restore; delete again and empty.
    expect((await teacher.request({ method: 'DELETE', url: `/api/v1/documents/entries/${b}` })).statusCode).toBe(204);
    expect((await teacher.request({ method: 'GET', url: `/api/v1/documents/entries?space=personal&folder=${parent}` })).statusCode).toBe(404);
    const trash = (await teacher.request({ method: 'GET', url: '/api/v1/documents/trash' })).json().entries;
    expect(trash.map((e: { id: string }) => e.id)).toEqual([b]);
    expect((await mk('Archives 2025')).statusCode).toBe(201);
    expect((await teacher.request({ method: 'POST', url: `/api/v1/documents/trash/${b}/restore` })).json().error.id).toBe('documents.name_taken');
    await teacher.request({ method: 'PATCH', url: `/api/v1/documents/entries/${(await db().selectFrom('doc_entries').select('id').where('name', '=', 'Archives 2025').where('deleted_at', 'is', null).executeTakeFirstOrThrow()).id}`, payload: { name: 'Nouveau' } });
    expect((await teacher.request({ method: 'POST', url: `/api/v1/documents/trash/${b}/restore` })).statusCode).toBe(200);
    expect((await teacher.request({ method: 'GET', url: `/api/v1/documents/entries?space=personal&folder=${parent}` })).statusCode).toBe(200);
    await teacher.request({ method: 'DELETE', url: `/api/v1/documents/entries/${b}` });
    expect((await teacher.request({ method: 'DELETE', url: '/api/v1/documents/trash' })).json().purged).toBe(1);
    expect(await db().selectFrom('doc_entries').select('id').where('id', 'in', [b, parent]).execute()).toEqual([]);
  });

  it('bad names and bad input: 4xx with an id, nothing stored', async () => {
    const teacher = await as('teacherA');
    const count = async () => (await db().selectFrom('doc_entries').select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow()).n;
    const before = await count();
    for (const name of ['..', '.', 'a/b', 'a\\b', 'notes.', 'x'.repeat(121), '   ', 'tab\there', 'q?']) {
      const res = await teacher.request({ method: 'POST', url: '/api/v1/documents/folders', payload: { space: 'personal', name } });
      expect({ name, status: res.statusCode, id: res.json().error.id }).toEqual({ name, status: 400, id: res.statusCode === 400 && name === '' ? 'request.invalid' : 'documents.invalid_name' });
    }
    const cases: [object, number, string][] = [
      [{ space: 'school:schoolA', name: 'x' }, 400, 'request.invalid'],
      [{ space: 'class:nope', name: 'x' }, 404, 'documents.not_found'],
      [{ space: 'personal', name: 'x', parentId: 'docCours6A' }, 404, 'documents.not_found'],
      [{ space: 'personal', name: 'x', dropBox: true }, 409, 'documents.invalid_move'],
      [{ space: 'class:class6A', name: 'x', parentId: 'docDrop6A' }, 409, 'documents.invalid_move'],
      [{ space: 'personal', name: 'x', owner: 'pupilA1' }, 400, 'request.unknown_field'],
    ];
    for (const [payload, status, id] of cases) {
      const res = await teacher.request({ method: 'POST', url: '/api/v1/documents/folders', payload });
      expect({ payload, status: res.statusCode, id: res.json().error.id }).toEqual({ payload, status, id });
    }
    expect(await count()).toBe(before);
    expect((await teacher.request({ method: 'GET', url: '/api/v1/documents/entries?space=personal&limit=999' })).statusCode).toBe(200);
    expect((await teacher.request({ method: 'POST', url: '/api/v1/documents/files?space=personal', ...multipart([{ name: 'other', value: 'x' }]) })).json().error.id).toBe('request.too_large');
  });

  describe('resumable upload', () => {
    let base = '';
    let session = { cookie: '', csrf: '' };
    beforeAll(async () => {
      base = await t.preau.app.listen({ port: 0, host: '127.0.0.1' });
      const login = await t.preau.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { login: 'teachera', password: FIXTURE_PASSWORD } });
      const c = login.cookies.find((k) => k.name.endsWith('preau_session'))!;
      session = { cookie: `${c.name}=${c.value}`, csrf: login.json().csrfToken };
    });
    /**
     * Sends `sent` bytes of a chunk over a real socket, then drops the connection as a weak link
     * does; or (`stall`) leaves it open and silent, as a link that died without closing, and gives it back.
     */
    async function cutChunk(url: string, offset: number, chunk: Buffer, sent: number, stall = false): Promise<net.Socket> {
      const { port } = new URL(base);
      const socket = net.connect(Number(port), '127.0.0.1');
      await new Promise((r) => socket.once('connect', r));
      socket.write(
        `PUT ${url}?offset=${offset} HTTP/1.1\r\nHost: preau.test\r\nCookie: ${session.cookie}\r\nX-CSRF-Token: ${session.csrf}\r\n` +
          `Content-Type: application/offset+octet-stream\r\nContent-Length: ${chunk.length}\r\n\r\n`,
      );
      socket.write(chunk.subarray(0, sent));
      await new Promise((r) => setTimeout(r, 50));
      if (!stall) socket.destroy();
      return socket;
    }
    const data = randomBytes(3 * 1024 + 17);
    /** The server may still be noticing a cut (409 upload.busy, Retry-After: 1): a client retries. */
    async function putRetrying(client: Awaited<ReturnType<TestPreau['as']>>, url: string, offset: number, bytes: Buffer) {
      let res = await put(client, url, offset, bytes);
      for (let i = 0; i < 100 && res.statusCode === 409 && res.json().error.id === 'upload.busy'; i++) {
        await new Promise((r) => setTimeout(r, 20));
        res = await put(client, url, offset, bytes);
      }
      return res;
    }
    const put = (client: Awaited<ReturnType<TestPreau['as']>>, url: string, offset: number, bytes: Buffer | Readable, type = 'application/offset+octet-stream') =>
      client.request({ method: 'PUT', url: `${url}?offset=${offset}`, headers: { 'content-type': type }, payload: bytes });

    it('sends chunks, survives a cut chunk and a wrong offset, resumes from the server’s offset, completes into a deduplicated file', async () => {
      const teacher = await as('teacherA');
      const open = await teacher.request({ method: 'POST', url: '/api/v1/documents/uploads', payload: { space: 'class:class6A', folderId: 'docCours6A', name: 'film.bin', sizeBytes: data.length, sha256: sha(data) } });
      expect(open.statusCode, open.body).toBe(201);
      const { url, chunkMaxBytes, offset } = open.json().upload;
      expect({ chunkMaxBytes, offset }).toEqual({ chunkMaxBytes: CHUNK_MAX_BYTES, offset: 0 });
      expect((await put(teacher, url, 0, data.subarray(0, 1024))).json().upload.offset).toBe(1024);
      // The link dies in the middle of the second chunk without closing: the chunk sent again supersedes the stalled one at once.
      const stalled = await cutChunk(url, 1024, data.subarray(1024, 2048), 476, true);
      const resent = await put(teacher, url, 1024, data.subarray(1024, 2048));
      expect(resent.statusCode, resent.body).toBe(200);
      expect(resent.json().upload.offset).toBe(2048);
      stalled.destroy();
      // Interrupted again after 100 bytes of the third chunk: the server still has 2048.
      await cutChunk(url, 2048, data.subarray(2048), 100);
      const head = await teacher.request({ method: 'HEAD', url });
      expect(head.headers['upload-offset']).toBe('2048');
      // A client that thinks it sent more is told where to resume.
      const wrong = await put(teacher, url, 3000, data.subarray(3000));
      expect({ status: wrong.statusCode, id: wrong.json().error.id, offset: wrong.headers['upload-offset'], details: wrong.json().error.details }).toEqual({ status: 409, id: 'upload.wrong_offset', offset: '2048', details: { offset: 2048 } });
      const early = await teacher.request({ method: 'POST', url: `${url}/complete` });
      expect(early.json().error.id).toBe('upload.incomplete');
      const resumeAt = (await teacher.request({ method: 'GET', url })).json().upload.offset as number;
      expect((await putRetrying(teacher, url, resumeAt, data.subarray(resumeAt))).json().upload.offset).toBe(data.length);
      const done = await teacher.request({ method: 'POST', url: `${url}/complete` });
      expect(done.statusCode, done.body).toBe(201);
      expect(done.json().entry).toMatchObject({ name: 'film.bin', sizeBytes: data.length, contentType: 'application/octet-stream', parentId: 'docCours6A' });
      const dl = await (await as('pupilA1')).request({ method: 'GET', url: done.json().entry.downloadUrl });
      expect(dl.rawPayload.equals(data)).toBe(true);
      // The session and its chunks' records are gone (their bytes are orphans for the blob sweep).
      expect((await teacher.request({ method: 'GET', url })).statusCode).toBe(404);
      expect(await db().selectFrom('doc_upload_chunks').select('upload_id').where('upload_id', '=', open.json().upload.id).execute()).toEqual([]);
      // The same bytes again, in one chunk: one blob.
      const again = (await teacher.request({ method: 'POST', url: '/api/v1/documents/uploads', payload: { space: 'personal', name: 'copie.bin', sizeBytes: data.length } })).json().upload;
      await put(teacher, again.url, 0, data, 'application/octet-stream');
      expect((await teacher.request({ method: 'POST', url: `${again.url}/complete` })).statusCode).toBe(201);
      expect(await db().selectFrom('blobs').select('sha256').where('sha256', '=', sha(data)).execute()).toHaveLength(1);
    });

    it('refuses a wrong checksum (and starts over), too many bytes, a chunk over the cap, JSON, someone else’s session, too many sessions; expires', async () => {
      const pupil = await as('pupilA1');
      const open = (name: string, sizeBytes: number, extra: object = {}) => pupil.request({ method: 'POST', url: '/api/v1/documents/uploads', payload: { space: 'personal', name, sizeBytes, ...extra } });
      const bad = (await open('x.bin', 100, { sha256: sha(Buffer.from('autre chose')) })).json().upload;
      await put(pupil, bad.url, 0, randomBytes(100));
      const mismatch = await pupil.request({ method: 'POST', url: `${bad.url}/complete` });
      expect({ status: mismatch.statusCode, id: mismatch.json().error.id }).toEqual({ status: 422, id: 'upload.checksum_mismatch' });
      expect((await pupil.request({ method: 'GET', url: bad.url })).json().upload.offset).toBe(0);
      expect((await put(pupil, bad.url, 0, randomBytes(101))).json().error.id).toBe('request.too_large');
      const huge = await pupil.request({ method: 'PUT', url: `${bad.url}?offset=0`, headers: { 'content-type': 'application/octet-stream', 'content-length': String(CHUNK_MAX_BYTES + 1) }, payload: Buffer.alloc(10) });
      expect(huge.statusCode).toBe(413);
      expect((await pupil.request({ method: 'PUT', url: `${bad.url}?offset=0`, payload: { a: 1 } })).json().error.id).toBe('request.unsupported_media_type');
      expect((await (await as('pupilA2')).request({ method: 'GET', url: bad.url })).statusCode).toBe(404);
      expect((await put(await as('pupilA2'), bad.url, 0, randomBytes(10))).statusCode).toBe(404);
      const opened = [bad.url];
      const mine = await db().selectFrom('doc_uploads').select('id').where('owner_id', '=', 'pupilA1').execute();
      for (let i = mine.length; i < 5; i++) opened.push((await open(`s${i}.bin`, 10)).json().upload.url);
      const sixth = await open('s6.bin', 10);
      expect({ status: sixth.statusCode, id: sixth.json().error.id }).toEqual({ status: 429, id: 'upload.too_many' });
      // Cancel one, then let the others expire: their temporary bytes are swept.
      expect((await pupil.request({ method: 'DELETE', url: opened.pop()! })).statusCode).toBe(204);
      await put(pupil, opened[1]!, 0, randomBytes(5));
      const chunksOf = () => db().selectFrom('doc_upload_chunks').select('size_bytes').where('upload_id', '=', opened[1]!.split('/').pop()!).execute();
      expect(await chunksOf()).toEqual([{ size_bytes: 5 }]);
      t.clock.advance(UPLOAD_SESSION_TTL_MS + 1);
      expect((await pupil.request({ method: 'GET', url: opened[1]! })).statusCode).toBe(404);
      expect((await t.preau.documents.purge()).uploads).toBeGreaterThanOrEqual(opened.length);
      expect(await chunksOf()).toEqual([]);
      expect(await db().selectFrom('doc_uploads').select('id').execute()).toEqual([]);
    });

    it('quota: checked when the session opens and again at completion, with what is left', async () => {
      const pupil = await as('pupilB1');
      const tooBig = await pupil.request({ method: 'POST', url: '/api/v1/documents/uploads', payload: { space: 'personal', name: 'film.mp4', sizeBytes: QUOTA_BYTES.eleve + 1 } });
      expect({ status: tooBig.statusCode, id: tooBig.json().error.id }).toEqual({ status: 413, id: 'quota.exceeded' });
      expect(tooBig.json().error.message).toBe('Espace insuffisant : il vous reste 200 Mo sur 200 Mo. Supprimez des documents ou videz la corbeille.');
      const up = (await pupil.request({ method: 'POST', url: '/api/v1/documents/uploads', payload: { space: 'personal', name: 'petit.bin', sizeBytes: 10 } })).json().upload;
      await put(pupil, up.url, 0, randomBytes(10));
      // Meanwhile the space filled up (another device uploaded): completion refuses.
      const now = t.clock.nowMs();
      await db().insertInto('doc_entries').values({
        id: 'bigB1', kind: 'file', space_kind: 'personal', space_id: 'pupilB1', folder_id: '', path: '/', depth: 0, name: 'gros', name_key: 'gros', drop_box: 0, owner_id: 'pupilB1', person_id: 'pupilB1',
        blob_sha256: null, size_bytes: QUOTA_BYTES.eleve - 5, content_type: null, created_at: now, updated_at: now, deleted_at: null, deleted_by: null,
      }).execute();
      const full = await pupil.request({ method: 'POST', url: `${up.url}/complete` });
      expect({ status: full.statusCode, id: full.json().error.id }).toEqual({ status: 413, id: 'quota.exceeded' });
      const small = await pupil.request({ method: 'POST', url: '/api/v1/documents/files?space=personal', ...multipart([{ name: 'file', file: { fileName: 'a.pdf', data: PDF_BYTES } }]) });
      expect(small.json().error.id).toBe('quota.exceeded');
    });
  });

  it('a drop folder: each pupil sees their own deposit, the teacher all, a parent their child’s; a pupil may withdraw theirs only', async () => {
    const deposit = async (who: PersonKey, name: string) => {
      const res = await (await as(who)).request({ method: 'POST', url: '/api/v1/documents/files?space=class:class6A&folder=docDrop6A', ...multipart([{ name: 'file', file: { fileName: name, data: randomBytes(50) } }]) });
      expect(res.statusCode, res.body).toBe(201);
      return res.json().entry.id as string;
    };
    const a2 = await deposit('pupilA2', 'dm-a2.bin');
    // Names are unique per depositor in a drop folder: pupil A2 may also call theirs "DM-A1.pdf", unaware of A1's.
    const same = await deposit('pupilA2', 'DM-A1.pdf');
    expect((await (await as('pupilA2')).request({ method: 'POST', url: '/api/v1/documents/files?space=class:class6A&folder=docDrop6A', ...multipart([{ name: 'file', file: { fileName: 'dm-a1.PDF', data: randomBytes(5) } }]) })).json().error.id).toBe('documents.name_taken');
    expect((await (await as('pupilA2')).request({ method: 'DELETE', url: `/api/v1/documents/entries/${same}` })).statusCode).toBe(204);
    const names = async (who: PersonKey) =>
      ((await (await as(who)).request({ method: 'GET', url: '/api/v1/documents/entries?space=class:class6A&folder=docDrop6A' })).json().entries as { name: string }[]).map((e) => e.name);
    expect(await names('pupilA2')).toEqual(['dm-a2.bin']);
    expect(await names('pupilA1')).toEqual(['dm-a1.pdf']);
    expect(await names('parentA1')).toEqual(['dm-a1.pdf']);
    expect(await names('teacherA')).toEqual(['dm-a1.pdf', 'dm-a2.bin']);
    expect((await (await as('pupilA1')).request({ method: 'DELETE', url: `/api/v1/documents/entries/${a2}` })).statusCode).toBe(404);
    expect((await (await as('pupilA2')).request({ method: 'PATCH', url: `/api/v1/documents/entries/${a2}`, payload: { parentId: null } })).statusCode).toBe(403);
    expect((await (await as('pupilA2')).request({ method: 'DELETE', url: `/api/v1/documents/entries/${a2}` })).statusCode).toBe(204);
    // A pupil cannot put files anywhere else in the class's space.
    const elsewhere = await (await as('pupilA1')).request({ method: 'POST', url: '/api/v1/documents/files?space=class:class6A', ...multipart([{ name: 'file', file: { fileName: 'x.bin', data: randomBytes(5) } }]) });
    expect(elsewhere.statusCode).toBe(403);
    // In pupil A2's trash for TRASH_RETENTION_DAYS, then purged by `preau purge`.
    expect((await (await as('pupilA2')).request({ method: 'GET', url: '/api/v1/documents/trash' })).json().entries.map((e: { id: string }) => e.id)).toContain(a2);
    t.clock.advance((TRASH_RETENTION_DAYS - 1) * 86_400_000);
    await t.preau.documents.purge();
    expect(await db().selectFrom('doc_entries').select('id').where('id', '=', a2).execute()).toHaveLength(1);
    t.clock.advance(2 * 86_400_000);
    expect((await t.preau.documents.purge()).trashed).toBeGreaterThanOrEqual(1);
    expect(await db().selectFrom('doc_entries').select('id').where('id', '=', a2).execute()).toHaveLength(0);
  });
});

/**
 * Stateless nodes: two Préau over one database, files in the database blob store, the upload's
 * chunks sent through one node then the other (a load balancer's choice), completed on the second.
 */
describe.each(backends)('resumable upload across two nodes on %s', (backend) => {
  let a: TestPreau;
  let b: Preau;
  const otherDir = mkdtempSync(path.join(tmpdir(), 'preau-node-b-'));
  beforeAll(async () => {
    a = await startTestPreau(backend, { blobStore: 'database' });
    b = await compose({ ...a.preau.config, dataDir: otherDir }, { storage: a.preau.storage, clock: a.clock, logger: createLogger('silent'), admission: { lagSampleMs: 0 } });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    rmSync(otherDir, { recursive: true, force: true });
  });

  it('resumes on the other node from the offset the first one acknowledged, and completes there', async () => {
    // Signed in through node A; the session lives in the database, so node B knows it too.
    const login = await a.preau.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { login: a.fx.people.teacherA.login, password: FIXTURE_PASSWORD } });
    const cookie = login.cookies.find((c) => c.name.endsWith('preau_session'))!;
    const headers = { cookie: `${cookie.name}=${cookie.value}`, 'x-csrf-token': login.json<{ csrfToken: string }>().csrfToken };
    const via = (node: Preau, method: 'GET' | 'HEAD' | 'PUT' | 'POST', url: string, payload?: Buffer | object) =>
      node.app.inject({ method, url, headers: { ...headers, ...(Buffer.isBuffer(payload) ? { 'content-type': 'application/offset+octet-stream' } : {}) }, ...(payload ? { payload } : {}) });
    const data = randomBytes(2 * 1024 * 1024 + 333);
    const open = await via(a.preau, 'POST', '/api/v1/documents/uploads', { space: 'personal', name: 'cours.bin', sizeBytes: data.length, sha256: sha(data) });
    expect(open.statusCode, open.body).toBe(201);
    const { url } = open.json().upload;
    const first = await via(a.preau, 'PUT', `${url}?offset=0`, data.subarray(0, 1_500_000));
    expect(first.statusCode, first.body).toBe(200);
    expect((await via(b, 'HEAD', url)).headers['upload-offset']).toBe('1500000');
    // A client that lost its answer and resends the first chunk to node B is told where to resume.
    const stale = await via(b, 'PUT', `${url}?offset=0`, data.subarray(0, 1_500_000));
    expect({ status: stale.statusCode, offset: stale.headers['upload-offset'] }).toEqual({ status: 409, offset: '1500000' });
    const rest = await via(b, 'PUT', `${url}?offset=1500000`, data.subarray(1_500_000));
    expect(rest.statusCode, rest.body).toBe(200);
    const done = await via(b, 'POST', `${url}/complete`);
    expect(done.statusCode, done.body).toBe(201);
    // Read back through node A: the same bytes, whichever node received which chunk.
    const dl = await via(a.preau, 'GET', done.json().entry.downloadUrl);
    expect(dl.statusCode).toBe(200);
    expect(dl.rawPayload.equals(data)).toBe(true);
  });
});
