import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activeBackends } from '../../../test/support/backends.js';
import { unzip } from '../../../test/support/unzip.js';
import { startTestPreau, type TestPreau } from '../../../test/support/app.js';
import { JPEG_BYTES, multipart, PDF_BYTES, type Part } from '../../../test/support/multipart.js';
import { MAX_HANDIN_FILE_BYTES, MAX_HANDIN_FILES } from './homework.schema.js';

const backends = await activeBackends();
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');


describe.each(backends)('hand-ins (rendus) on %s', (backend) => {
  let t: TestPreau;
  beforeAll(async () => {
    t = await startTestPreau(backend);
  });
  afterAll(async () => {
    await t?.close();
  });
  const handIn = async (who: 'pupilA1' | 'pupilA2' | 'pupilB1', entry: string, parts: Part[], key?: string) => {
    const body = multipart(parts);
    return (await t.as(who)).request({ method: 'POST', url: `/api/v1/homework/${entry}/handins`, payload: body.payload, headers: { ...body.headers, ...(key ? { 'idempotency-key': key } : {}) } });
  };
  const count = async (table: 'handins' | 'handin_files' | 'blobs') => Number((await t.preau.storage.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);

  it('a pupil hands in text and files and gets a receipt with names, sizes and SHA-256', async () => {
    const res = await handIn('pupilA1', 'hwMaths6A', [
      { name: 'text', value: 'Exercice 1 : 3/4' },
      { name: 'files', file: { fileName: 'IMG_2041.jpg', data: JPEG_BYTES, contentType: 'image/jpeg' } },
      { name: 'files', file: { fileName: 'exercices.pdf', data: PDF_BYTES } },
    ], 'a1-first-upload');
    expect(res.statusCode, res.body).toBe(201);
    const r = res.json().receipt;
    expect(r).toMatchObject({ late: false, pupil: { id: 'pupilA1' }, entry: { id: 'hwMaths6A' }, text: { content: 'Exercice 1 : 3/4', sha256: sha('Exercice 1 : 3/4') } });
    expect(r.files).toEqual([
      expect.objectContaining({ fileName: 'IMG_2041.jpg', sizeBytes: JPEG_BYTES.length, sha256: sha(JPEG_BYTES), contentType: 'image/jpeg' }),
      expect.objectContaining({ fileName: 'exercices.pdf', sizeBytes: PDF_BYTES.length, sha256: sha(PDF_BYTES), contentType: 'application/pdf' }),
    ]);
    expect(r.totalBytes).toBe(JPEG_BYTES.length + PDF_BYTES.length);
    // The file comes back byte for byte.
    const file = await (await t.as('pupilA1')).request({ method: 'GET', url: r.files[0].url });
    expect(sha(file.rawPayload)).toBe(sha(JPEG_BYTES));
    // The receipt, as a text file to keep.
    const text = await (await t.as('pupilA1')).request({ method: 'GET', url: r.receiptUrl, headers: { accept: 'text/plain' } });
    expect(text.headers['content-type']).toMatch(/^text\/plain/);
    expect(text.headers['content-disposition']).toContain('attachment');
    expect(text.body).toContain(r.id);
    expect(text.body).toContain(`SHA-256 ${sha(JPEG_BYTES)}`);
    expect(text.body).toContain('rendu à temps');
  });

  it('a retried upload with the same Idempotency-Key is stored once', async () => {
    const parts: Part[] = [{ name: 'files', file: { fileName: 'photo.jpg', data: JPEG_BYTES } }];
    const first = await handIn('pupilA2', 'hwMaths6A', parts, 'a2-retry-key-1');
    expect(first.statusCode).toBe(201);
    const [handins, files] = [await count('handins'), await count('handin_files')];
    const again = await handIn('pupilA2', 'hwMaths6A', parts, 'a2-retry-key-1');
    // The generic Idempotency-Key layer (src/http/idempotency.ts) answers the retry with the first answer.
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json().receipt.id).toBe(first.json().receipt.id);
    // Concurrent retries (a phone resending on a flaky link): one is stored; the others are either the
    // same receipt replayed or told the first is still in flight (409 with Retry-After), never a second copy.
    const racing = await Promise.all([1, 2, 3].map(() => handIn('pupilA2', 'hwMaths6A', parts, 'a2-retry-key-2')));
    const stored = racing.filter((r) => r.statusCode === 201);
    expect(new Set(stored.map((r) => r.json().receipt.id)).size).toBe(1);
    for (const r of racing.filter((x) => x.statusCode !== 201)) {
      expect(r.statusCode).toBe(409);
      expect(r.json().error.id).toBe('idempotency.in_progress');
      expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
    }
    expect(await count('handins')).toBe(handins + 1);
    expect(await count('handin_files')).toBe(files + 1);
    // Same key for another piece of work: refused, not silently answered with the other receipt.
    const other = (await (await t.as('teacherA')).request({ method: 'POST', url: '/api/v1/homework', payload: { kind: 'travail', classId: 'class6A', title: 'Autre', bodyHtml: 'x', date: '2026-09-21', onlineHandin: true, publishAt: 'now' } })).json().entry.id;
    const reused = await handIn('pupilA2', other, parts, 'a2-retry-key-1');
    expect(reused.statusCode).toBe(422);
    expect(reused.json().error.id).toBe('idempotency.key_reused');
  });

  it('different hand-ins of one pupil for one work at the same moment are all stored, the last one current (no 500 on PostgreSQL)', async () => {
    const entry = (await (await t.as('teacherA')).request({ method: 'POST', url: '/api/v1/homework', payload: { kind: 'travail', classId: 'class6A', title: 'Course', bodyHtml: 'x', date: '2026-09-21', onlineHandin: true, publishAt: 'now' } })).json().entry.id as string;
    const racing = await Promise.all(
      Array.from({ length: 8 }, (_, i) => handIn('pupilA1', entry, [{ name: 'files', file: { fileName: `copie-${i}.jpg`, data: Buffer.concat([JPEG_BYTES, Buffer.from(`#${i}`)]) } }], `a1-race-${i}`)),
    );
    expect(racing.map((r) => r.statusCode)).toEqual(Array(8).fill(201));
    const rows = await t.preau.storage.db.selectFrom('handins').select(['id', 'superseded_at']).where('entry_id', '=', entry).where('pupil_id', '=', 'pupilA1').execute();
    expect(rows).toHaveLength(8);
    expect(rows.filter((r) => r.superseded_at === null)).toHaveLength(1);
    expect(new Set(racing.map((r) => r.json().receipt.id))).toEqual(new Set(rows.map((r) => r.id)));
  });

  it('a pupil may replace a hand-in until the deadline; both receipts stay true', async () => {
    const second = await handIn('pupilA1', 'hwMaths6A', [{ name: 'text', value: 'Exercice 1 : 3/4 (corrigé)' }], 'a1-second-upload');
    expect(second.statusCode).toBe(201);
    const view = (await (await t.as('pupilA1')).request({ method: 'GET', url: '/api/v1/homework/hwMaths6A/handins/pupilA1' })).json();
    expect(view.current.id).toBe(second.json().receipt.id);
    expect(view.replaced).toHaveLength(1);
    expect(view.replaced[0].replacedAt).not.toBeNull();
    expect(view.replaced[0].files).toHaveLength(2);
  });

  it('late hand-ins are accepted and flagged; after the deadline a hand-in can no longer be replaced', async () => {
    // 6B's work is due today at 17:00.
    const onTime = await handIn('pupilB1', 'hw6B', [{ name: 'text', value: 'Ma rédaction' }], 'b1-before-deadline');
    expect(onTime.json().receipt.late).toBe(false);
    t.clock.advance(10 * 3_600_000); // 17:45
    const replace = await handIn('pupilB1', 'hw6B', [{ name: 'text', value: 'Version 2' }], 'b1-after-deadline');
    expect(replace.statusCode).toBe(409);
    expect(replace.json().error.id).toBe('handin.deadline_passed');
    expect(replace.json().error.message).toMatch(/date limite/);
    t.clock.advance(-10 * 3_600_000);
    // pupilA2 hands in maths late (due tomorrow 8:00).
    t.clock.advance(25 * 3_600_000);
    const late = await handIn('pupilA2', 'hwMaths6A', [{ name: 'text', value: 'en retard' }], 'a2-late-try');
    expect(late.statusCode).toBe(409); // pupilA2 had handed in on time: no replacement after the deadline.
    t.clock.advance(-25 * 3_600_000);
  });

  it('a first hand-in after the deadline is accepted and flagged late', async () => {
    const teacher = await t.as('teacherA');
    const e = (await teacher.request({ method: 'POST', url: '/api/v1/homework', payload: { kind: 'travail', classId: 'class6A', title: 'Déjà passé', bodyHtml: 'x', date: '2026-09-07', dueTime: '07:00', onlineHandin: true, publishAt: 'now' } })).json().entry;
    const res = await handIn('pupilA2', e.id, [{ name: 'text', value: 'pardon pour le retard' }], 'a2-late-first');
    expect(res.statusCode).toBe(201);
    expect(res.json().receipt.late).toBe(true);
    const overview = (await teacher.request({ method: 'GET', url: `/api/v1/homework/${e.id}/handins` })).json();
    expect(overview.counts).toMatchObject({ total: 3, handedIn: 0, late: 1, missing: 2 });
    expect(overview.pupils.find((p: { pupil: { id: string } }) => p.pupil.id === 'pupilA2').status).toBe('late');
    expect(overview.pupils.find((p: { pupil: { id: string } }) => p.pupil.id === 'pupilA1').status).toBe('missing');
    expect(overview.pupils.map((p: { pupil: { id: string } }) => p.pupil.id)).not.toContain('departedPupil');
  });

  it('the teacher sees who handed in, downloads everything as one zip, and returns a comment and a file', async () => {
    const teacher = await t.as('teacherA');
    const overview = (await teacher.request({ method: 'GET', url: '/api/v1/homework/hwMaths6A/handins?limit=2' })).json();
    expect(overview.counts).toMatchObject({ total: 3, handedIn: 2, late: 0, missing: 1 });
    expect(overview.pupils).toHaveLength(2);
    expect(overview.nextOffset).toBe(2);

    const zip = await teacher.request({ method: 'GET', url: '/api/v1/homework/hwMaths6A/handins.zip' });
    expect(zip.statusCode).toBe(200);
    expect(zip.headers['content-type']).toBe('application/zip');
    expect(Number(zip.headers['content-length'])).toBe(zip.rawPayload.length);
    const files = await unzip(zip.rawPayload);
    expect(files.get('Fixture pupilA1/texte.txt')!.toString()).toBe('Exercice 1 : 3/4 (corrigé)');
    expect(sha(files.get('Fixture pupilA2/photo.jpg')!)).toBe(sha(JPEG_BYTES));

    const corrected = Buffer.concat([PDF_BYTES, Buffer.from('% corrigé')]);
    const fb = multipart([{ name: 'comment', value: 'Très bien, attention au signe.' }, { name: 'file', file: { fileName: 'corrigé.pdf', data: corrected } }]);
    const returned = await teacher.request({ method: 'PUT', url: '/api/v1/homework/hwMaths6A/handins/pupilA1/feedback', payload: fb.payload, headers: fb.headers });
    expect(returned.statusCode, returned.body).toBe(200);
    for (const who of ['pupilA1', 'parentA1'] as const) {
      const seen = (await (await t.as(who)).request({ method: 'GET', url: '/api/v1/homework/hwMaths6A/handins/pupilA1' })).json();
      expect(seen.feedback).toMatchObject({ comment: 'Très bien, attention au signe.', file: { fileName: 'corrigé.pdf', contentType: 'application/pdf' } });
      const file = await (await t.as(who)).request({ method: 'GET', url: seen.feedback.file.url });
      expect(file.rawPayload.equals(corrected)).toBe(true);
    }
    // Once returned, the hand-in is closed.
    const after = await handIn('pupilA1', 'hwMaths6A', [{ name: 'text', value: 'encore' }], 'a1-after-return');
    expect(after.json().error.id).toBe('handin.already_returned');
    // Not for a pupil who has not handed in, nor one outside the class.
    const none = await teacher.request({ method: 'PUT', url: '/api/v1/homework/hwMaths6A/handins/pendingPupil/feedback', payload: fb.payload, headers: fb.headers });
    expect(none.statusCode).toBe(404);
  });

  it('refuses what is not handed in online, and bad uploads, with nothing stored', async () => {
    const before = [await count('handins'), await count('handin_files')];
    const notOnline = await handIn('pupilA1', 'hwLatin', [{ name: 'text', value: 'x' }]);
    expect(notOnline.statusCode).toBe(403);
    const draft = await handIn('pupilA1', 'hwDraft6A', [{ name: 'text', value: 'x' }]);
    expect(draft.statusCode).toBe(404);
    const fresh = (await (await t.as('teacherA')).request({ method: 'POST', url: '/api/v1/homework', payload: { kind: 'travail', classId: 'class6A', title: 'Limites', bodyHtml: 'x', date: '2026-09-20', onlineHandin: true, publishAt: 'now' } })).json().entry.id;
    const refusals: [string, () => Promise<{ statusCode: number; body: string; json(): { error: { id: string } } }>, number, string][] = [
      ['nothing', () => handIn('pupilA1', fresh, [{ name: 'text', value: '  ' }]), 400, 'handin.empty'],
      ['an unknown field', () => handIn('pupilA1', fresh, [{ name: 'late', value: '0' }]), 400, 'request.unknown_field'],
      ['a text too long', () => handIn('pupilA1', fresh, [{ name: 'text', value: 'é'.repeat(30_000) }]), 413, 'request.too_large'],
      ['too many files', () => handIn('pupilA1', fresh, Array.from({ length: MAX_HANDIN_FILES + 1 }, (_, i) => ({ name: 'files', file: { fileName: `${i}.txt`, data: Buffer.from(`fichier ${i}`) } }))), 413, 'file.too_many'],
      ['a file too large', () => handIn('pupilA1', fresh, [{ name: 'files', file: { fileName: 'film.mp4', data: randomBytes(MAX_HANDIN_FILE_BYTES + 1) } }]), 413, 'file.too_large'],
      ['JSON instead of a form', async () => (await t.as('pupilA1')).request({ method: 'POST', url: `/api/v1/homework/${fresh}/handins`, payload: { text: 'x' } }), 415, 'request.unsupported_media_type'],
      ['a truncated form', async () => {
        const body = multipart([{ name: 'files', file: { fileName: 'a.jpg', data: JPEG_BYTES } }]);
        return (await t.as('pupilA1')).request({ method: 'POST', url: `/api/v1/homework/${fresh}/handins`, payload: body.payload.subarray(0, 500), headers: body.headers });
      }, 400, 'request.invalid'],
      ['a form without boundary', async () => (await t.as('pupilA1')).request({ method: 'POST', url: `/api/v1/homework/${fresh}/handins`, payload: 'abc', headers: { 'content-type': 'multipart/form-data' } }), 400, ''],
      ['a bad idempotency key', () => handIn('pupilA1', fresh, [{ name: 'text', value: 'x' }], 'a b'), 400, 'request.invalid'],
    ];
    for (const [name, send, status, id] of refusals) {
      const res = await send();
      expect({ name, status: res.statusCode }, res.body).toEqual({ name, status: status === 400 && !id ? res.statusCode : status });
      expect(res.statusCode).toBeLessThan(500);
      if (id) expect({ name, id: res.json().error.id }).toEqual({ name, id });
    }
    expect([await count('handins'), await count('handin_files')]).toEqual(before);
  });
});
