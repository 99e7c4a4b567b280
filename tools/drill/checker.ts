/**
 * Nothing lost: every write the drill saw acknowledged is looked for in the store itself, after
 * the server has stopped (the SQLite file opened read-only, the blob files read from the data
 * directory). A hand-in is there when its row exists with a file of the SHA-256 the client sent
 * and those bytes are on disk; it is duplicated when more than one hand-in row holds those bytes
 * for that work (each drill hand-in's bytes are unique). Posted work is there when its row exists,
 * is not deleted and carries the last acknowledged title; duplicated when that title is on more
 * than one row. A message is there when its row is sent, from its sender, with its subject, and
 * its recipient's row exists; duplicated when its (visit-unique) subject is on more than one row.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Sqlite from 'better-sqlite3';
import type { Acknowledged } from './protocol.js';

export interface LostWrite {
  kind: 'rendu' | 'travail' | 'message';
  id: string;
  login: string;
  why: string;
}

export interface CheckResult {
  handins: { acknowledged: number; found: number };
  posts: { acknowledged: number; found: number };
  messages: { acknowledged: number; found: number };
  missing: LostWrite[];
  duplicated: LostWrite[];
  /**
   * `store`: looked for in the stopped store itself (the drill's own Préau). `api`: asked of a
   * deployment's API by the people who wrote (`--target`): the receipt, the work, the sent message;
   * copies cannot be seen that way and are not counted.
   */
  method: 'store' | 'api';
}

/** Where the disk blob store keeps a blob (src/storage/blobs/disk-blob-store.ts). */
function blobPath(dataDir: string, sha256: string): string {
  return path.join(dataDir, 'blobs', 'sha256', sha256.slice(0, 2), sha256.slice(2, 4), sha256);
}

function blobIntact(dataDir: string, sha256: string): boolean {
  try {
    return createHash('sha256').update(readFileSync(blobPath(dataDir, sha256))).digest('hex') === sha256;
  } catch {
    return false;
  }
}

/** `dataDir` holds `preau.sqlite` and `blobs/` of a stopped Préau. */
export function checkAcknowledged(dataDir: string, acks: Acknowledged): CheckResult {
  const db = new Sqlite(path.join(dataDir, 'preau.sqlite'), { readonly: true, fileMustExist: true });
  try {
    const out: CheckResult = { handins: { acknowledged: acks.handins.length, found: 0 }, posts: { acknowledged: acks.posts.length, found: 0 }, messages: { acknowledged: acks.messages.length, found: 0 }, missing: [], duplicated: [], method: 'store' };
    const handinRow = db.prepare<[string, string], { n: number }>('SELECT COUNT(*) AS n FROM handins h JOIN handin_files f ON f.handin_id = h.id WHERE h.id = ? AND f.blob_sha256 = ?');
    const handinCopies = db.prepare<[string, string], { n: number }>('SELECT COUNT(DISTINCT h.id) AS n FROM handins h JOIN handin_files f ON f.handin_id = h.id WHERE h.entry_id = ? AND f.blob_sha256 = ?');
    for (const h of acks.handins) {
      const lost = (why: string) => out.missing.push({ kind: 'rendu', id: h.handinId, login: h.login, why });
      if (h.receiptMismatch) lost('le reçu ne porte pas l’empreinte SHA-256 des octets envoyés');
      else if (handinRow.get(h.handinId, h.sha256)!.n === 0) lost('aucune ligne de rendu avec ce fichier');
      else if (!blobIntact(dataDir, h.sha256)) lost('le fichier rendu manque sur le disque ou ne correspond plus à son empreinte');
      else out.handins.found++;
      const copies = handinCopies.get(h.entryId, h.sha256)!.n;
      if (copies > 1) out.duplicated.push({ kind: 'rendu', id: h.handinId, login: h.login, why: `${copies} rendus portent les mêmes octets` });
    }
    const entryRow = db.prepare<[string], { title: string; deleted_at: number | null }>('SELECT title, deleted_at FROM homework_entries WHERE id = ?');
    const entryCopies = db.prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM homework_entries WHERE title = ? AND deleted_at IS NULL');
    for (const p of acks.posts) {
      const lost = (why: string) => out.missing.push({ kind: 'travail', id: p.entryId, login: p.login, why });
      const row = entryRow.get(p.entryId);
      if (!row) lost('aucune ligne pour ce travail');
      else if (row.deleted_at !== null) lost('travail supprimé');
      else if (row.title !== p.title) lost(p.edited ? 'la modification acquittée n’est pas enregistrée' : 'le titre enregistré diffère');
      else out.posts.found++;
      const copies = entryCopies.get(p.title)!.n;
      if (copies > 1) out.duplicated.push({ kind: 'travail', id: p.entryId, login: p.login, why: `${copies} travaux portent ce titre` });
    }
    const messageRow = db.prepare<[string], { subject: string; sent_at: number | null; login: string }>('SELECT m.subject, m.sent_at, p.login FROM messages m JOIN people p ON p.id = m.sender_id WHERE m.id = ?');
    const recipientRow = db.prepare<[string, string], { n: number }>('SELECT COUNT(*) AS n FROM message_recipients WHERE message_id = ? AND person_id = ?');
    const messageCopies = db.prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM messages WHERE subject = ? AND sent_at IS NOT NULL');
    for (const m of acks.messages) {
      const lost = (why: string) => out.missing.push({ kind: 'message', id: m.messageId, login: m.login, why });
      const row = messageRow.get(m.messageId);
      if (!row) lost('aucune ligne pour ce message');
      else if (row.sent_at === null) lost('message redevenu brouillon');
      else if (row.login !== m.login || row.subject !== m.subject) lost('l’expéditeur ou l’objet enregistré diffère');
      else if (recipientRow.get(m.messageId, m.toId)!.n === 0) lost('le destinataire ne l’a pas dans sa boîte');
      else out.messages.found++;
      const copies = messageCopies.get(m.subject)!.n;
      if (copies > 1) out.duplicated.push({ kind: 'message', id: m.messageId, login: m.login, why: `${copies} messages portent cet objet` });
    }
    return out;
  } finally {
    db.close();
  }
}
