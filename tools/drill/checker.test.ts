import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Sqlite from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/platform/clock.js';
import { DiskBlobStore } from '../../src/storage/blobs/disk-blob-store.js';
import { migrateToLatest, openStorage } from '../../src/storage/db.js';
import { seedFixture } from '../../test/support/fixtures.js';
import { checkAcknowledged } from './checker.js';
import type { Acknowledged } from './protocol.js';

/** A stopped Préau's directory: the fixture school, one hand-in stored for real (row, file row, blob on disk). */
let dir: string;
let acks: Acknowledged;

beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'preau-checker-'));
  const storage = await openStorage(`sqlite:${path.join(dir, 'preau.sqlite')}`);
  await migrateToLatest(storage.db);
  await seedFixture(storage.db, systemClock);
  const bytes = randomBytes(4096);
  const blob = await new DiskBlobStore(path.join(dir, 'blobs')).put([bytes], { maxBytes: bytes.length });
  const now = Date.now();
  await storage.db.insertInto('blobs').values({ sha256: blob.sha256, size_bytes: blob.sizeBytes, crc32: blob.crc32, content_type: 'image/jpeg', created_at: now }).execute();
  await storage.db.insertInto('handins').values({ id: 'h1', entry_id: 'hwMaths6A', pupil_id: 'pupilA1', idempotency_key: 'k1', text: null, text_sha256: null, submitted_at: now, late: 0, superseded_at: null }).execute();
  await storage.db.insertInto('handin_files').values({ id: 'f1', handin_id: 'h1', position: 0, blob_sha256: blob.sha256, file_name: 'copie.jpg', size_bytes: blob.sizeBytes, content_type: 'image/jpeg' }).execute();
  // A parent's message to the teacher, sent.
  const to = JSON.stringify([{ kind: 'person', id: 'teacherA' }]);
  await storage.db.insertInto('messages').values({ id: 'm1', thread_id: 'm1', in_reply_to: null, sender_id: 'parentA1', subject: 'Absence ce matin — visite n° 7', body_html: '<p>Absent.</p>', search_text: 'absent', to_json: to, cc_json: '[]', created_at: now, updated_at: now, sent_at: now }).execute();
  await storage.db.insertInto('message_recipients').values({ message_id: 'm1', person_id: 'teacherA', kind: 'to', sent_at: now, read_at: null, deleted_at: null }).execute();
  await storage.close();
  acks = {
    handins: [{ login: 'pupila1', entryId: 'hwMaths6A', handinId: 'h1', sha256: blob.sha256, idempotencyKey: 'k1', receiptMismatch: false }],
    posts: [{ login: 'teachera', entryId: 'hwMaths6A', title: 'Fractions : exercices 1 à 4', edited: false }],
    messages: [{ login: 'parenta1', messageId: 'm1', subject: 'Absence ce matin — visite n° 7', toId: 'teacherA' }],
  };
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Changes the stopped store behind the checker's back, as a bug or a lost disk would. */
function tamper(sql: string): void {
  const db = new Sqlite(path.join(dir, 'preau.sqlite'));
  db.exec(sql);
  db.close();
}

describe('the lost-write checker', () => {
  it('finds every acknowledged write that is there', () => {
    const r = checkAcknowledged(dir, acks);
    expect(r).toEqual({ handins: { acknowledged: 1, found: 1 }, posts: { acknowledged: 1, found: 1 }, messages: { acknowledged: 1, found: 1 }, missing: [], duplicated: [], method: 'store' });
  });

  it('reports a loss when an acknowledged hand-in row is deleted', () => {
    tamper("DELETE FROM handin_files WHERE handin_id = 'h1'; DELETE FROM handins WHERE id = 'h1';");
    const r = checkAcknowledged(dir, acks);
    expect(r.handins.found).toBe(0);
    expect(r.missing).toEqual([{ kind: 'rendu', id: 'h1', login: 'pupila1', why: 'aucune ligne de rendu avec ce fichier' }]);
  });

  it('reports a loss when the hand-in row stays but its bytes are gone or changed on disk', () => {
    const file = path.join(dir, 'blobs', 'sha256', acks.handins[0]!.sha256.slice(0, 2), acks.handins[0]!.sha256.slice(2, 4), acks.handins[0]!.sha256);
    writeFileSync(file, 'autre chose');
    expect(checkAcknowledged(dir, acks).missing.map((m) => m.id)).toEqual(['h1']);
    rmSync(file);
    expect(checkAcknowledged(dir, acks).missing.map((m) => m.id)).toEqual(['h1']);
  });

  it('reports a loss when the receipt did not carry the SHA-256 of the bytes sent', () => {
    const r = checkAcknowledged(dir, { ...acks, handins: [{ ...acks.handins[0]!, receiptMismatch: true }] });
    expect(r.missing.map((m) => m.kind)).toEqual(['rendu']);
  });

  it('reports a duplicate when a hand-in is doubled', () => {
    // A retry stored again as a new hand-in that replaced the first (one current hand-in per pupil is a constraint).
    tamper(
      "INSERT INTO handins (id, entry_id, pupil_id, idempotency_key, text, text_sha256, submitted_at, late, superseded_at) SELECT 'h2', entry_id, pupil_id, 'k2', text, text_sha256, submitted_at, late, submitted_at FROM handins WHERE id = 'h1';" +
        "INSERT INTO handin_files (id, handin_id, position, blob_sha256, file_name, size_bytes, content_type) SELECT 'f2', 'h2', position, blob_sha256, file_name, size_bytes, content_type FROM handin_files WHERE id = 'f1';",
    );
    const r = checkAcknowledged(dir, acks);
    expect(r.missing).toEqual([]);
    expect(r.duplicated).toEqual([{ kind: 'rendu', id: 'h1', login: 'pupila1', why: '2 rendus portent les mêmes octets' }]);
  });

  it('reports posted work that is missing, deleted, or without its acknowledged edit', () => {
    expect(checkAcknowledged(dir, { ...acks, posts: [{ ...acks.posts[0]!, title: 'Titre corrigé', edited: true }] }).missing).toEqual([
      { kind: 'travail', id: 'hwMaths6A', login: 'teachera', why: 'la modification acquittée n’est pas enregistrée' },
    ]);
    tamper("UPDATE homework_entries SET deleted_at = 1 WHERE id = 'hwMaths6A';");
    expect(checkAcknowledged(dir, acks).missing.map((m) => m.why)).toEqual(['travail supprimé']);
    expect(checkAcknowledged(dir, { ...acks, posts: [{ ...acks.posts[0]!, entryId: 'inconnu' }] }).missing.map((m) => m.why)).toEqual(['aucune ligne pour ce travail']);
  });

  it('reports posted work published twice', () => {
    tamper("INSERT INTO homework_entries SELECT 'copie', school_id, teacher_id, class_id, group_id, subject_id, kind, title, body_html, links, on_date, due_at, estimated_minutes, online_handin, publish_at, copied_from, created_at, updated_at, deleted_at FROM homework_entries WHERE id = 'hwMaths6A';");
    expect(checkAcknowledged(dir, acks).duplicated.map((d) => d.kind)).toEqual(['travail']);
  });

  it('reports a sent message that is gone, back to draft, out of the recipient’s box, or sent twice', () => {
    tamper("DELETE FROM message_recipients WHERE message_id = 'm1';");
    expect(checkAcknowledged(dir, acks).missing).toEqual([{ kind: 'message', id: 'm1', login: 'parenta1', why: 'le destinataire ne l’a pas dans sa boîte' }]);
    tamper("UPDATE messages SET sent_at = NULL WHERE id = 'm1';");
    expect(checkAcknowledged(dir, acks).missing.map((m) => m.why)).toEqual(['message redevenu brouillon']);
    tamper("DELETE FROM messages WHERE id = 'm1';");
    const r = checkAcknowledged(dir, acks);
    expect(r.messages).toEqual({ acknowledged: 1, found: 0 });
    expect(r.missing.map((m) => m.why)).toEqual(['aucune ligne pour ce message']);
  });

  it('reports a message stored twice', () => {
    tamper("INSERT INTO messages SELECT 'm2', 'm2', in_reply_to, sender_id, subject, body_html, search_text, to_json, cc_json, created_at, updated_at, sent_at, sender_deleted_at FROM messages WHERE id = 'm1';");
    expect(checkAcknowledged(dir, acks).duplicated).toEqual([{ kind: 'message', id: 'm1', login: 'parenta1', why: '2 messages portent cet objet' }]);
  });
});
