import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activeBackends } from '../../../test/support/backends.js';
import { startTestPreau, type TestPreau } from '../../../test/support/app.js';
import { BLOB_REFERENCES, ORPHAN_BLOB_GRACE_MS, sweepOrphanBlobs } from './orphan-sweep.js';

const backends = await activeBackends();

describe.each(backends)('orphan blob sweep on %s', (backend) => {
  let t: TestPreau;
  beforeAll(async () => {
    t = await startTestPreau(backend);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('deletes bytes nothing references once the grace period is over; keeps referenced and recent ones', async () => {
    const db = t.preau.storage.db;
    const blobs = t.preau.blobs;
    const now = t.clock.nowMs();
    const put = (text: string) => blobs.put([Buffer.from(text)], { maxBytes: 1000 });
    const row = (b: { sha256: string; sizeBytes: number; crc32: number }) =>
      db.insertInto('blobs').values({ sha256: b.sha256, size_bytes: b.sizeBytes, crc32: b.crc32, content_type: 'text/plain', created_at: now }).execute();
    // Referenced by a document and by a message attachment.
    const inDocs = await put('un cours de la classe');
    await row(inDocs);
    await db.insertInto('doc_entries').values({
      id: 'docRef', kind: 'file', space_kind: 'personal', space_id: 'teacherA', folder_id: '', path: '/', depth: 0, name: 'cours.txt', name_key: 'cours.txt', drop_box: 0,
      owner_id: 'teacherA', person_id: 'teacherA', blob_sha256: inDocs.sha256, size_bytes: inDocs.sizeBytes, content_type: 'text/plain', created_at: now, updated_at: now, deleted_at: null, deleted_by: null,
    }).execute();
    const inMail = await put('une pièce jointe');
    await row(inMail);
    await db.insertInto('message_attachments').values({ id: 'attRef', message_id: 'msgDraftTeacherA', blob_sha256: inMail.sha256, file_name: 'pj.txt', size_bytes: inMail.sizeBytes, content_type: 'text/plain', created_at: now }).execute();
    // Orphans: one described in `blobs` (its document was purged), one never described (a refused upload).
    const described = await put('un document purgé');
    await row(described);
    const bare = await put('un envoi refusé après écriture');

    // Within the grace period nothing goes: an upload may be about to reference these bytes.
    expect(await sweepOrphanBlobs(db, blobs, Date.now())).toEqual({ deleted: 0 });
    const later = Date.now() + ORPHAN_BLOB_GRACE_MS + 60_000;
    expect(await sweepOrphanBlobs(db, blobs, later)).toEqual({ deleted: 2 });
    expect(await blobs.stat(described.sha256)).toBeUndefined();
    expect(await blobs.stat(bare.sha256)).toBeUndefined();
    expect(await db.selectFrom('blobs').select('sha256').where('sha256', '=', described.sha256).execute()).toEqual([]);
    for (const kept of [inDocs, inMail]) expect(await blobs.stat(kept.sha256)).toEqual({ sizeBytes: kept.sizeBytes });
    expect(await sweepOrphanBlobs(db, blobs, later)).toEqual({ deleted: 0 });
  });

  it('knows every column that references a blob', async () => {
    // A new table with a blob_sha256 column must be added to BLOB_REFERENCES, or its files would be swept.
    const { sql } = await import('kysely');
    const rows =
      backend === 'sqlite'
        ? (await sql<{ t: string }>`select m.name as t from sqlite_master m, pragma_table_info(m.name) c where m.type = 'table' and c.name = 'blob_sha256'`.execute(t.preau.storage.db)).rows
        : (await sql<{ t: string }>`select table_name as t from information_schema.columns where column_name = 'blob_sha256' and table_schema = current_schema()`.execute(t.preau.storage.db)).rows;
    expect(rows.map((r) => r.t).sort()).toEqual(BLOB_REFERENCES.map((r) => r).sort());
  });
});
