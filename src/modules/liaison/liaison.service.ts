import { silentNotifier, type Notifier } from '../../platform/notify.js';
import { silentSignals, type EngagementSignals } from '../../platform/engagement-signals.js';
import type { Clock } from '../../platform/clock.js';
import { AppError } from '../../platform/errors.js';
import { newId } from '../../platform/ids.js';
import { plainTextOf, sanitizeRichText } from '../../platform/rich-text.js';
import type { SchoolsService, Scope } from '../schools/index.js';
import { canDelete, canFollow, canRead, canSendToClass, canSendToParents, canSign } from './liaison.policy.js';
import type { LiaisonRepository, NoteRow, ParentNoteView, TargetRow } from './liaison.repository.js';
import { MAX_BODY_HTML_CHARS, MAX_REMINDERS, MAX_TARGETS, MIN_REMINDER_INTERVAL_MS, pageSize, type CreateNoteBody } from './liaison.schema.js';

export interface NoteDetail {
  note: NoteRow;
  /** The actor's own signature rows (parents), one per child concerned. */
  mine: { pupil_id: string; signed_at: number | null; reminded_at: number | null }[];
  /** Totals for who follows the note (author, staff). */
  counts: { total: number; signed: number } | null;
  /** May the actor withdraw the note (its author only): the web client offers "Retirer ce mot" only then. */
  canWithdraw: boolean;
}

function parseCursor(cursor: string | undefined): { atMs: number; id: string } | undefined {
  if (!cursor) return undefined;
  const [at, id] = cursor.split('~') as [string, string];
  return { atMs: Number(at), id };
}

/** Carnet de liaison: notes to families to be "lu et signé", who signed, bounded reminders. */
export class LiaisonService {
  constructor(
    private readonly repo: LiaisonRepository,
    private readonly schools: SchoolsService,
    private readonly clock: Clock,
    private readonly notifier: Notifier = silentNotifier,
    private readonly signals: EngagementSignals = silentSignals,
  ) {}

  async create(actor: Scope, body: CreateNoteBody): Promise<NoteDetail> {
    const { kind, id } = body.audience;
    const audience = await this.repo.audience(kind, id);
    // An unknown audience and a forbidden one are refused alike: ids are not probed.
    if (!audience) throw new AppError('access.forbidden');
    let schoolId: string | null = audience.school_id;
    if (kind === 'pupil') {
      const pupil = await this.schools.scopeOf(id);
      const parents = await Promise.all((await this.repo.parentsOf(id)).map((p) => this.schools.scopeOf(p)));
      if (parents.length === 0) throw new AppError('liaison.no_parent');
      if (!canSendToParents(actor, parents)) throw new AppError('access.forbidden');
      schoolId = [...pupil.schoolIds].find((s) => actor.schoolIds.has(s)) ?? schoolId;
    } else if (!schoolId || !canSendToClass(actor, { id, schoolId, group: kind === 'group' })) {
      throw new AppError('access.forbidden');
    }
    if (!schoolId) throw new AppError('access.forbidden');
    const html = sanitizeRichText(body.bodyHtml);
    if (html.length > MAX_BODY_HTML_CHARS) throw new AppError('liaison.body_too_long', { params: { max: MAX_BODY_HTML_CHARS } });
    const families = await this.repo.familiesOf(kind, id, MAX_TARGETS + 1);
    if (families.length > MAX_TARGETS) throw new AppError('message.too_many_recipients', { params: { max: MAX_TARGETS } });
    if (families.length === 0) throw new AppError('liaison.no_parent');
    const now = this.clock.nowMs();
    const note: NoteRow = {
      id: newId(), school_id: schoolId, author_id: actor.id, audience_kind: kind, audience_id: id, audience_name: audience.name,
      title: body.title.replace(/[\u0000-\u001f\u007f]/g, ' ').trim() || plainTextOf(html).slice(0, 80), body_html: html, created_at: now, reminder_count: 0, last_reminded_at: null, deleted_at: null,
    };
    const targets: TargetRow[] = families.map((f) => ({ note_id: note.id, parent_id: f.parent_id, pupil_id: f.pupil_id, created_at: now, signed_at: null, reminded_at: null }));
    await this.repo.insert(note, targets);
    await this.notifier.notify({
      kind: 'liaison.to_sign', schoolId, actorId: actor.id, title: note.title, link: `/carnet-de-liaison?note=${note.id}`, subjectId: note.id,
      recipientIds: targets.map((t) => t.parent_id),
    });
    return this.detail(actor, note.id);
  }

  private async access(actor: Scope, noteId: string) {
    const note = await this.repo.findNote(noteId);
    const addressed = note !== undefined && actor.profile === 'parent' && (await this.repo.isAddressedTo(note.id, actor.id));
    if (!note || !canRead(actor, note, addressed)) throw new AppError('liaison.not_found');
    return { note, addressed };
  }

  async detail(actor: Scope, noteId: string): Promise<NoteDetail> {
    const { note, addressed } = await this.access(actor, noteId);
    const [mine, counts] = await Promise.all([
      addressed ? this.repo.parentSignature(note.id, actor.id) : Promise.resolve([]),
      canFollow(actor, note) ? this.repo.counts(note.id) : Promise.resolve(null),
    ]);
    return { note, mine, counts, canWithdraw: canDelete(actor, note) };
  }

  /** "Lu et signé", for every child of this parent the note concerns. Signing twice keeps the first time. */
  async sign(actor: Scope, noteId: string): Promise<NoteDetail> {
    const { note, addressed } = await this.access(actor, noteId);
    if (!canSign(actor, note, addressed)) throw new AppError('access.forbidden');
    await this.repo.sign(note.id, actor.id, this.clock.nowMs());
    this.signals.liaisonSigned(actor.id, this.clock.nowMs());
    await this.notifier.seen(actor.id, 'liaison.to_sign', note.id);
    return this.detail(actor, note.id);
  }

  async signatures(actor: Scope, noteId: string, query: { offset?: string | undefined; limit?: string | undefined }) {
    const { note } = await this.access(actor, noteId);
    if (!canFollow(actor, note)) throw new AppError('access.forbidden');
    const limit = pageSize(query.limit);
    const offset = Number(query.offset ?? 0);
    const [rows, counts] = await Promise.all([this.repo.signatures(note.id, offset, limit), this.repo.counts(note.id)]);
    return { rows, counts, nextOffset: rows.length === limit ? offset + limit : null };
  }

  /** Reminds the families who have not signed: at most MAX_REMINDERS per note, a day apart. */
  async remind(actor: Scope, noteId: string): Promise<{ reminded: number; remindersLeft: number }> {
    const { note } = await this.access(actor, noteId);
    if (!canFollow(actor, note)) throw new AppError('access.forbidden');
    if (note.reminder_count >= MAX_REMINDERS) throw new AppError('liaison.reminders_exhausted', { params: { max: MAX_REMINDERS } });
    const now = this.clock.nowMs();
    if (note.last_reminded_at !== null && now - note.last_reminded_at < MIN_REMINDER_INTERVAL_MS) {
      throw new AppError('liaison.remind_too_soon', { retryAfterSeconds: Math.ceil((note.last_reminded_at + MIN_REMINDER_INTERVAL_MS - now) / 1000) });
    }
    const reminded = await this.repo.remind(note.id, now);
    return { reminded, remindersLeft: MAX_REMINDERS - note.reminder_count - 1 };
  }

  async remove(actor: Scope, noteId: string): Promise<void> {
    const { note } = await this.access(actor, noteId);
    if (!canDelete(actor, note)) throw new AppError('access.forbidden');
    await this.repo.softDelete(note.id, this.clock.nowMs());
    await this.notifier.withdraw('liaison.to_sign', note.id);
  }

  /** Parents: the notes addressed to them (optionally only those to sign); others: the notes they wrote. */
  async list(actor: Scope, query: { toSign?: string | undefined; cursor?: string | undefined; limit?: string | undefined }) {
    if (actor.status === 'departed') throw new AppError('access.forbidden');
    const limit = pageSize(query.limit);
    const after = parseCursor(query.cursor);
    if (actor.profile === 'parent') {
      const rows: ParentNoteView[] = await this.repo.forParent(actor.id, query.toSign === 'true', after, limit);
      const last = rows[rows.length - 1];
      return { kind: 'parent' as const, rows, nextCursor: rows.length === limit && last ? `${last.created_at}~${last.id}` : null };
    }
    const rows = await this.repo.byAuthor(actor.id, after, limit);
    const last = rows[rows.length - 1];
    const withCounts = await Promise.all(rows.map(async (n) => ({ note: n, counts: await this.repo.counts(n.id), canWithdraw: canDelete(actor, n) })));
    return { kind: 'author' as const, rows: withCounts, nextCursor: rows.length === limit && last ? `${last.created_at}~${last.id}` : null };
  }

  toSignCount(actor: Scope): Promise<number> {
    return actor.profile === 'parent' ? this.repo.toSignCount(actor.id) : Promise.resolve(0);
  }
}
