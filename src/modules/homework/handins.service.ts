import { silentNotifier, type Notifier } from '../../platform/notify.js';
import { silentSignals, type EngagementSignals } from '../../platform/engagement-signals.js';
import type { Clock } from '../../platform/clock.js';
import { AppError } from '../../platform/errors.js';
import { newId, sha256Hex } from '../../platform/ids.js';
import { zipSafeName, zipSizeBytes, ZipLimitError, type ZipEntry } from '../../platform/zip.js';
import type { Upload } from '../../http/uploads.js';
import type { BlobStore } from '../../storage/blobs/blob-store.js';
import { crc32 } from '../../storage/blobs/crc32.js';
import type { Scope } from '../schools/index.js';
import type { EntryView } from './homework.repository.js';
import type { HomeworkService } from './homework.service.js';
import { DuplicateHandinKey, type FeedbackRow, type HandinFileRow, type HandinRow, type HandinsRepository, type PupilRow } from './handins.repository.js';
import { canHandIn, canReview, canSeeHandinOf } from './homework.policy.js';
import { MAX_PAGE_SIZE, MAX_ZIP_BYTES } from './homework.schema.js';

/** What a pupil keeps as proof: everything needed to check later that nothing was lost. */
export interface Receipt {
  handin: HandinRow;
  files: HandinFileRow[];
  entry: Pick<EntryView, 'id' | 'title' | 'due_at' | 'subject_label' | 'audience_name'>;
  pupil: PupilRow;
}

export interface HandInResult {
  receipt: Receipt;
  /** True when this request repeated an earlier one (same Idempotency-Key): nothing new was stored. */
  replayed: boolean;
}

/** Hand-ins (rendus): handing in, replacing until the deadline, late flags, receipts, review, zip, returns. */
export class HandinsService {
  constructor(
    private readonly repo: HandinsRepository,
    private readonly homework: HomeworkService,
    private readonly blobs: BlobStore,
    private readonly clock: Clock,
    private readonly notifier: Notifier = silentNotifier,
    private readonly signals: EngagementSignals = silentSignals,
  ) {}

  /**
   * Hands in work. Checks everything that can be checked before reading the body (rights,
   * deadline, a replay of the same key), so a refused upload costs no disk; then streams the files
   * into the blob store and records the hand-in in one transaction.
   */
  async handIn(actor: Scope, entryId: string, idempotencyKey: string | undefined, upload: () => Promise<Upload>): Promise<HandInResult> {
    const entry = await this.homework.readable(actor, entryId);
    const now = this.clock.nowMs();
    if (!canHandIn(actor, entry, now)) throw new AppError(entry.kind === 'travail' && entry.online_handin === 0 ? 'homework.not_handin' : 'access.forbidden');
    const key = idempotencyKey ?? `auto-${newId()}`;
    const replay = await this.replayOf(actor.id, entry, key);
    if (replay) return replay;
    const current = await this.repo.current(entry.id, actor.id);
    if (current && (await this.repo.feedback(entry.id, actor.id))) throw new AppError('handin.already_returned');
    const late = entry.due_at !== null && now > entry.due_at;
    if (current && late) throw new AppError('handin.deadline_passed');

    const { fields, files } = await upload();
    const text = (fields.text ?? '').replace(/\r\n/g, '\n').trim();
    if (text.length === 0 && files.length === 0) throw new AppError('handin.empty');
    const handin: HandinRow = {
      id: newId(), entry_id: entry.id, pupil_id: actor.id, idempotency_key: key, text: text || null, text_sha256: text ? sha256Hex(text) : null,
      submitted_at: now, late: late ? 1 : 0, superseded_at: null,
    };
    const rows: HandinFileRow[] = files.map((f, position) => ({
      id: newId(), handin_id: handin.id, position, blob_sha256: f.sha256, file_name: f.fileName, size_bytes: f.sizeBytes, content_type: f.contentType,
    }));
    const blobs = files.map((f) => ({ sha256: f.sha256, size_bytes: f.sizeBytes, crc32: f.crc32, content_type: f.contentType, created_at: now }));
    try {
      await this.repo.insert(handin, rows, blobs);
    } catch (err) {
      // The same upload, retried while the first was still being stored, won the race: answer as a replay.
      if (err instanceof DuplicateHandinKey) return (await this.replayOf(actor.id, entry, key))!;
      throw err;
    }
    this.signals.handedIn(actor.id, late, now);
    return { receipt: { handin, files: rows, entry, pupil: await this.pupil(actor.id) }, replayed: false };
  }

  private async replayOf(pupilId: string, entry: EntryView, key: string): Promise<HandInResult | undefined> {
    const existing = await this.repo.byKey(pupilId, key);
    if (!existing) return undefined;
    if (existing.entry_id !== entry.id) throw new AppError('handin.key_reused');
    return { receipt: { handin: existing, files: await this.repo.filesOf([existing.id]), entry, pupil: await this.pupil(pupilId) }, replayed: true };
  }

  private async pupil(id: string): Promise<PupilRow> {
    const [p] = await this.repo.pupilsByIds([id]);
    return p ?? { id, first_name: '', last_name: '' };
  }

  /** A hand-in (current or replaced) and its entry, if this actor may see it. */
  async receipt(actor: Scope, handinId: string): Promise<Receipt> {
    const handin = await this.repo.find(handinId);
    if (!handin) throw new AppError('handin.not_found');
    const entry = await this.homework.readable(actor, handin.entry_id).catch(() => undefined);
    if (!entry || !canSeeHandinOf(actor, entry, handin.pupil_id, this.clock.nowMs())) throw new AppError('handin.not_found');
    return { handin, files: await this.repo.filesOf([handin.id]), entry, pupil: await this.pupil(handin.pupil_id) };
  }

  async file(actor: Scope, handinId: string, fileId: string): Promise<HandinFileRow> {
    const r = await this.receipt(actor, handinId);
    const file = r.files.find((f) => f.id === fileId);
    if (!file) throw new AppError('file.not_found');
    return file;
  }

  /** One pupil's hand-in for an entry (current, replaced ones, the teacher's return): the pupil, their parents, the teachers. */
  async ofPupil(actor: Scope, entryId: string, pupilId: string) {
    const entry = await this.homework.readable(actor, entryId);
    if (!canSeeHandinOf(actor, entry, pupilId, this.clock.nowMs())) throw new AppError('access.forbidden');
    const pupil = await this.repo.inAudience(entry.class_id, entry.group_id, pupilId);
    if (!pupil) throw new AppError('person.not_found');
    const [history, feedback] = await Promise.all([this.repo.history(entry.id, pupilId, 20), this.repo.feedback(entry.id, pupilId)]);
    const files = await this.repo.filesOf(history.map((h) => h.id));
    const receipts: Receipt[] = history.map((handin) => ({ handin, files: files.filter((f) => f.handin_id === handin.id), entry, pupil }));
    return { entry, pupil, current: receipts.find((r) => r.handin.superseded_at === null) ?? null, replaced: receipts.filter((r) => r.handin.superseded_at !== null), feedback: feedback ?? null };
  }

  /** Who handed in, late, or not, for the class or group of an entry (paginated by pupil name). */
  async overview(actor: Scope, entryId: string, offset: number, limit: number) {
    const entry = await this.homework.readable(actor, entryId);
    if (!canReview(actor, entry)) throw new AppError('access.forbidden');
    const size = Math.min(MAX_PAGE_SIZE, Math.max(1, limit));
    const [pupils, total, counts] = await Promise.all([
      this.repo.audiencePupils(entry.class_id, entry.group_id, offset, size),
      this.repo.audienceCount(entry.class_id, entry.group_id),
      this.repo.countsOfEntry(entry.id, entry.class_id, entry.group_id),
    ]);
    const ids = pupils.map((p) => p.id);
    const [handins, feedback] = await Promise.all([this.repo.currentOfEntry(entry.id, ids), this.repo.feedbackOfEntry(entry.id, ids)]);
    const files = await this.repo.filesOf(handins.map((h) => h.id));
    const byPupil = new Map(handins.map((h) => [h.pupil_id, h]));
    const returned = new Set(feedback.map((f) => f.pupil_id));
    return {
      entry,
      counts: { total, handedIn: counts.onTime, late: counts.late, missing: Math.max(0, total - counts.onTime - counts.late) },
      rows: pupils.map((pupil) => {
        const h = byPupil.get(pupil.id);
        const mine = h ? files.filter((f) => f.handin_id === h.id) : [];
        return { pupil, handin: h ?? null, fileCount: mine.length, totalBytes: mine.reduce((s, f) => s + f.size_bytes, 0), returned: returned.has(pupil.id) };
      }),
      nextOffset: offset + pupils.length < total ? offset + pupils.length : null,
    };
  }

  /**
   * Every current hand-in of an entry as one store-only zip: a folder per pupil with their files
   * and their text. Sizes are known beforehand (exact Content-Length) and bounded (MAX_ZIP_BYTES).
   */
  async zip(actor: Scope, entryId: string): Promise<{ entry: EntryView; entries: ZipEntry[]; sizeBytes: number }> {
    const entry = await this.homework.readable(actor, entryId);
    if (!canReview(actor, entry)) throw new AppError('access.forbidden');
    const handins = await this.repo.currentOfEntry(entry.id);
    const [files, pupils] = await Promise.all([this.repo.zipFilesOf(handins.map((h) => h.id)), this.repo.pupilsByIds(handins.map((h) => h.pupil_id))]);
    const names = new Map(pupils.map((p) => [p.id, `${p.last_name} ${p.first_name}`]));
    const entries: ZipEntry[] = [];
    const used = new Set<string>();
    const unique = (name: string) => {
      let candidate = name;
      for (let n = 2; used.has(candidate.toLowerCase()); n++) candidate = name.replace(/(\.[^./]*)?$/, (ext) => ` (${n})${ext}`);
      used.add(candidate.toLowerCase());
      return candidate;
    };
    for (const h of handins.sort((a, b) => (names.get(a.pupil_id) ?? '').localeCompare(names.get(b.pupil_id) ?? '', 'fr'))) {
      const folder = zipSafeName(`${names.get(h.pupil_id) ?? h.pupil_id}${h.late ? ' (en retard)' : ''}`);
      if (h.text) {
        const bytes = Buffer.from(h.text, 'utf8');
        entries.push({ name: unique(`${folder}/texte.txt`), sizeBytes: bytes.length, crc32: crc32(bytes), modifiedMs: h.submitted_at, open: async () => [bytes] });
      }
      for (const f of files.filter((x) => x.handin_id === h.id)) {
        entries.push({
          name: unique(`${folder}/${zipSafeName(f.file_name)}`), sizeBytes: f.size_bytes, crc32: f.crc32, modifiedMs: h.submitted_at,
          open: async () => {
            const stream = await this.blobs.open(f.blob_sha256);
            if (!stream) throw new Error(`blob ${f.blob_sha256} missing from the store`);
            return stream;
          },
        });
      }
    }
    let sizeBytes: number;
    try {
      sizeBytes = zipSizeBytes(entries);
    } catch (err) {
      if (err instanceof ZipLimitError) throw new AppError('handin.zip_too_large');
      throw err;
    }
    if (sizeBytes > MAX_ZIP_BYTES) throw new AppError('handin.zip_too_large');
    return { entry, entries, sizeBytes };
  }

  /** The teacher returns a hand-in: a comment and, optionally, a file (a corrected copy). Replaces an earlier return. */
  async giveFeedback(actor: Scope, entryId: string, pupilId: string, upload: () => Promise<Upload>): Promise<FeedbackRow> {
    const entry = await this.homework.readable(actor, entryId);
    if (!canReview(actor, entry)) throw new AppError('access.forbidden');
    if (!(await this.repo.inAudience(entry.class_id, entry.group_id, pupilId))) throw new AppError('person.not_found');
    const handin = await this.repo.current(entry.id, pupilId);
    if (!handin) throw new AppError('handin.not_found');
    const { fields, files } = await upload();
    const comment = (fields.comment ?? '').trim();
    const file = files[0];
    if (!comment && !file) throw new AppError('request.invalid', { details: { in: 'body', field: 'comment', rule: 'required' } });
    const now = this.clock.nowMs();
    const row: FeedbackRow = {
      entry_id: entry.id, pupil_id: pupilId, teacher_id: actor.id, comment, blob_sha256: file?.sha256 ?? null, file_name: file?.fileName ?? null,
      size_bytes: file?.sizeBytes ?? null, content_type: file?.contentType ?? null, returned_at: now,
    };
    await this.repo.upsertFeedback(row, file ? { sha256: file.sha256, size_bytes: file.sizeBytes, crc32: file.crc32, content_type: file.contentType, created_at: now } : undefined);
    await this.notifier.notify({
      kind: 'handin.returned', schoolId: entry.school_id, actorId: actor.id, title: entry.title, link: `/cahier-de-textes?travail=${entry.id}`, subjectId: handin.id,
      recipientIds: () => this.homework.familyOf(pupilId),
    });
    return row;
  }

  async feedbackFile(actor: Scope, entryId: string, pupilId: string): Promise<FeedbackRow & { blob_sha256: string; file_name: string; size_bytes: number; content_type: string }> {
    const entry = await this.homework.readable(actor, entryId);
    if (!canSeeHandinOf(actor, entry, pupilId, this.clock.nowMs())) throw new AppError('access.forbidden');
    const f = await this.repo.feedback(entry.id, pupilId);
    if (!f || !f.blob_sha256 || !f.file_name || f.size_bytes === null || !f.content_type) throw new AppError('file.not_found');
    return { ...f, blob_sha256: f.blob_sha256, file_name: f.file_name, size_bytes: f.size_bytes, content_type: f.content_type };
  }
}

/** The receipt as a text file the pupil can keep (French: it is shown to families). */
export function receiptText(r: Receipt, publicUrl: string): string {
  const when = (ms: number) => new Intl.DateTimeFormat('fr-FR', { timeZone: 'Europe/Paris', dateStyle: 'full', timeStyle: 'medium' }).format(ms);
  const lines = [
    'Préau — reçu de rendu',
    '=====================',
    '',
    `Reçu n° : ${r.handin.id}`,
    `Élève : ${r.pupil.first_name} ${r.pupil.last_name}`,
    `Travail : ${r.entry.title}${r.entry.subject_label ? ` (${r.entry.subject_label})` : ''}${r.entry.audience_name ? ` — ${r.entry.audience_name}` : ''}`,
    `Rendu le : ${when(r.handin.submitted_at)} (heure de Paris)`,
    ...(r.entry.due_at !== null ? [`Date limite : ${when(r.entry.due_at)}`] : []),
    `Statut : ${r.handin.late ? 'rendu en retard' : 'rendu à temps'}${r.handin.superseded_at ? ` — remplacé le ${when(r.handin.superseded_at)}` : ''}`,
    '',
  ];
  if (r.handin.text) lines.push(`Texte : ${[...r.handin.text].length} caractères, SHA-256 ${r.handin.text_sha256}`);
  if (r.files.length === 0) lines.push('Fichiers : aucun');
  else {
    lines.push(`Fichiers (${r.files.length}) :`);
    for (const f of r.files) lines.push(`  - ${f.file_name} — ${f.size_bytes} octets — SHA-256 ${f.blob_sha256}`);
  }
  lines.push('', 'L’empreinte SHA-256 d’un fichier prouve son contenu exact : calculez-la sur votre copie (par exemple « sha256sum fichier ») pour la comparer.');
  lines.push(`Vérifier en ligne : ${publicUrl}/api/v1/handins/${r.handin.id}/receipt`, '');
  return lines.join('\n');
}
