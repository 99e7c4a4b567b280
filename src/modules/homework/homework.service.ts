import { VersionedCache } from '../../platform/versioned-cache.js';
import type { Clock } from '../../platform/clock.js';
import { addDays, parisDayBounds, parisWallTimeToUtcMs } from '../../platform/clock.js';
import { AppError } from '../../platform/errors.js';
import { newId } from '../../platform/ids.js';
import { silentNotifier, type Notifier } from '../../platform/notify.js';
import { silentSignals, type EngagementSignals } from '../../platform/engagement-signals.js';
import { safeHref, sanitizeRichText } from '../../platform/rich-text.js';
import type { Upload } from '../../http/uploads.js';
import type { SchoolsService, Scope } from '../schools/index.js';
import type { AttachmentRow, DueView, EntryRow, EntryView, HomeworkRepository } from './homework.repository.js';
import { canEdit, canPostTo, canRead, canReadCahierOf, canTick, canVisa, isPublished, type AudienceRef } from './homework.policy.js';
import {
  DEFAULT_PAGE_SIZE, MAX_ATTACHMENTS_PER_ENTRY, MAX_BODY_HTML_CHARS, MAX_PAGE_SIZE,
  type CahierQuery, type CopyBody, type CreateEntryBody, type ListQuery, type UpdateEntryBody,
} from './homework.schema.js';

/** Entries are dated within this distance of today (a school year and a bit, either way). */
const MAX_DATE_DISTANCE_DAYS = 400;
/** A list spans at most this many days (it is paginated within). */
const MAX_LIST_RANGE_DAYS = 400;
const MAX_SCHEDULE_AHEAD_MS = 366 * 86_400_000;
/** "Now" as the client meant it: a publication time a little in the past is not an error. */
const PUBLISH_CLOCK_SKEW_MS = 5 * 60_000;
const DEFAULT_DUE_TIME = '08:00';

export function isValidDate(date: string): boolean {
  const ms = Date.parse(`${date}T12:00:00Z`);
  return Number.isFinite(ms) && new Date(ms).toISOString().slice(0, 10) === date;
}

export interface EntryDetail {
  entry: EntryView;
  attachments: AttachmentRow[];
  doneAtMs?: number | null;
}

export interface EntryPage {
  entries: EntryDetail[];
  nextCursor: string | null;
}

export const READER_PAGE_TTL_MS = 10_000;
const READER_PAGE_MAX_ENTRIES = 20_000;

/** The cahier de textes: entries, their publication, "fait", visas and attachments. */
export class HomeworkService {
  /**
   * Pages of the cahier as pupils and parents read them, shared by everyone of the same classes and
   * groups (the crisis morning's second hottest read, after Aujourd'hui): good until a write on this
   * node (the version) or READER_PAGE_TTL_MS (another node's write, a scheduled publication
   * becoming visible — the same delay as Aujourd'hui's).
   */
  private readonly readerPages = new VersionedCache<{ rows: EntryView[]; attachments: AttachmentRow[] }>(READER_PAGE_TTL_MS, READER_PAGE_MAX_ENTRIES);

  constructor(
    private readonly repo: HomeworkRepository,
    private readonly schools: SchoolsService,
    private readonly clock: Clock,
    private readonly notifier: Notifier = silentNotifier,
    private readonly signals: EngagementSignals = silentSignals,
  ) {}

  version(): number {
    return this.repo.version();
  }

  private today(): string {
    return parisDayBounds(this.clock.nowMs()).date;
  }

  private checkDate(date: string): void {
    const today = this.today();
    if (!isValidDate(date) || date < addDays(today, -MAX_DATE_DISTANCE_DAYS) || date > addDays(today, MAX_DATE_DISTANCE_DAYS)) throw new AppError('homework.invalid_date');
  }

  private publishAt(value: string | null | undefined, current: number | null): number | null {
    if (value === undefined) return current;
    if (value === null) return null;
    const now = this.clock.nowMs();
    if (value === 'now') return now;
    const at = Date.parse(value);
    if (!Number.isFinite(at) || at < now - PUBLISH_CLOCK_SKEW_MS || at > now + MAX_SCHEDULE_AHEAD_MS) throw new AppError('homework.invalid_publication');
    return Math.max(at, now);
  }

  private body(html: string): string {
    const clean = sanitizeRichText(html);
    if (clean.length > MAX_BODY_HTML_CHARS) throw new AppError('homework.body_too_long', { params: { max: MAX_BODY_HTML_CHARS } });
    return clean;
  }

  private links(links: { url: string; label?: string }[] | undefined): string {
    const out = (links ?? []).map((l, i) => {
      const url = safeHref(l.url);
      if (!url) throw new AppError('request.invalid', { details: { in: 'body', field: `links.${i}.url`, rule: 'http, https ou mailto' } });
      const label = (l.label ?? '').replace(/[\u0000-\u001f\u007f]/g, ' ').trim();
      return { url, label: label || url };
    });
    return JSON.stringify(out);
  }

  private async resolveAudience(actor: Scope, classId: string | undefined, groupId: string | undefined): Promise<AudienceRef & { name: string }> {
    if ((classId ? 1 : 0) + (groupId ? 1 : 0) !== 1) throw new AppError('homework.invalid_audience');
    const found = await this.repo.audience(classId, groupId);
    const au = found && { schoolId: found.schoolId, classId: classId ?? null, groupId: groupId ?? null, name: found.name };
    if (!au || !canPostTo(actor, au)) throw new AppError('homework.invalid_audience');
    return au;
  }

  private async subject(actor: Scope, au: AudienceRef, subjectId: string | null | undefined): Promise<string | null> {
    if (subjectId === undefined) return this.repo.taughtSubject(actor.id, au.classId, au.groupId);
    if (subjectId !== null && !(await this.repo.subjectExists(subjectId))) throw new AppError('homework.invalid_subject');
    return subjectId;
  }

  private dueAt(kind: string, date: string, dueTime: string | undefined): number | null {
    if (kind !== 'travail') return null;
    const [h, m] = (dueTime ?? DEFAULT_DUE_TIME).split(':').map(Number) as [number, number];
    return parisWallTimeToUtcMs(date, h, m);
  }

  async create(actor: Scope, body: CreateEntryBody): Promise<EntryDetail> {
    const au = await this.resolveAudience(actor, body.classId, body.groupId);
    this.checkDate(body.date);
    const now = this.clock.nowMs();
    const travail = body.kind === 'travail';
    const row: EntryRow = {
      id: newId(), school_id: au.schoolId, teacher_id: actor.id, class_id: au.classId, group_id: au.groupId,
      subject_id: await this.subject(actor, au, body.subjectId), kind: body.kind, title: body.title.trim() || body.title,
      body_html: this.body(body.bodyHtml), links: this.links(body.links), on_date: body.date, due_at: this.dueAt(body.kind, body.date, body.dueTime),
      estimated_minutes: travail ? (body.estimatedMinutes ?? null) : null, online_handin: travail && body.onlineHandin ? 1 : 0,
      publish_at: this.publishAt(body.publishAt, null), copied_from: null, created_at: now, updated_at: now, deleted_at: null,
    };
    await this.repo.insertEntry(row);
    await this.announce(actor, row);
    return this.get(actor, row.id);
  }

  /**
   * After commit: travail à faire published (or scheduled: visible from its publication time) is
   * announced to the audience's pupils and their parents; unpublished or deleted, it is withdrawn.
   * Séances are not announced (what was done in class is no news to those who were there).
   */
  private async announce(actor: Scope, entry: Pick<EntryRow, 'id' | 'kind' | 'title' | 'school_id' | 'class_id' | 'group_id' | 'publish_at'>): Promise<void> {
    if (entry.kind !== 'travail') return;
    if (entry.publish_at === null) return this.notifier.withdraw('work.posted', entry.id);
    await this.notifier.notify({
      kind: 'work.posted', schoolId: entry.school_id, actorId: actor.id, title: entry.title, link: `/cahier-de-textes?travail=${entry.id}`, subjectId: entry.id,
      recipientIds: () => this.schools.familiesOf({ classId: entry.class_id, groupId: entry.group_id }), visibleAtMs: entry.publish_at,
    });
  }

  /** The pupil and their parents (hand-in returns are told to them). */
  familyOf(pupilId: string): Promise<string[]> {
    return this.schools.familiesOf({ pupilId });
  }

  /** The entry if this actor may edit it; 404 when they may not even read it. */
  private async editable(actor: Scope, entryId: string): Promise<EntryView> {
    const entry = await this.repo.findEntry(entryId);
    if (!entry || !canRead(actor, entry, this.clock.nowMs())) throw new AppError('homework.not_found');
    if (!canEdit(actor, entry)) throw new AppError('access.forbidden');
    return entry;
  }

  /** The entry if this actor may read it (404 otherwise: existence is not theirs to know). */
  async readable(actor: Scope, entryId: string): Promise<EntryView> {
    const entry = await this.repo.findEntry(entryId);
    if (!entry || !canRead(actor, entry, this.clock.nowMs())) throw new AppError('homework.not_found');
    return entry;
  }

  async update(actor: Scope, entryId: string, body: UpdateEntryBody): Promise<EntryDetail> {
    const entry = await this.editable(actor, entryId);
    const date = body.date ?? entry.on_date;
    if (body.date !== undefined) this.checkDate(body.date);
    const travail = entry.kind === 'travail';
    const patch: Partial<EntryRow> = { updated_at: this.clock.nowMs() };
    if (body.title !== undefined) patch.title = body.title;
    if (body.bodyHtml !== undefined) patch.body_html = this.body(body.bodyHtml);
    if (body.links !== undefined) patch.links = this.links(body.links);
    if (body.subjectId !== undefined) patch.subject_id = await this.subject(actor, { schoolId: entry.school_id, classId: entry.class_id, groupId: entry.group_id }, body.subjectId);
    if (body.date !== undefined || body.dueTime !== undefined) {
      patch.on_date = date;
      const previousTime = entry.due_at !== null ? new Intl.DateTimeFormat('fr-FR', { timeZone: 'Europe/Paris', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(entry.due_at) : undefined;
      patch.due_at = this.dueAt(entry.kind, date, body.dueTime ?? previousTime);
    }
    if (body.estimatedMinutes !== undefined && travail) patch.estimated_minutes = body.estimatedMinutes;
    if (body.onlineHandin !== undefined && travail) patch.online_handin = body.onlineHandin ? 1 : 0;
    if (body.publishAt !== undefined) patch.publish_at = this.publishAt(body.publishAt, entry.publish_at);
    await this.repo.updateEntry(entry.id, patch);
    if (body.publishAt !== undefined) await this.announce(actor, { ...entry, ...patch });
    return this.get(actor, entry.id);
  }

  async publish(actor: Scope, entryId: string, at: string | undefined): Promise<EntryDetail> {
    const entry = await this.editable(actor, entryId);
    const publishAt = this.publishAt(at ?? 'now', entry.publish_at);
    await this.repo.updateEntry(entry.id, { publish_at: publishAt, updated_at: this.clock.nowMs() });
    await this.announce(actor, { ...entry, publish_at: publishAt });
    return this.get(actor, entry.id);
  }

  /** Soft delete: the cahier de textes is kept for the school year, but nobody sees the entry any more. */
  async remove(actor: Scope, entryId: string): Promise<void> {
    const entry = await this.editable(actor, entryId);
    const now = this.clock.nowMs();
    await this.repo.updateEntry(entry.id, { deleted_at: now, updated_at: now });
    await this.notifier.withdraw('work.posted', entry.id);
  }

  /** Copies an entry to another class or group the author teaches; attachments are shared (same blobs). */
  async copy(actor: Scope, entryId: string, body: CopyBody): Promise<EntryDetail> {
    const entry = await this.editable(actor, entryId);
    const au = await this.resolveAudience(actor, body.classId, body.groupId);
    if (au.classId === entry.class_id && au.groupId === entry.group_id) throw new AppError('homework.invalid_audience');
    const date = body.date ?? entry.on_date;
    this.checkDate(date);
    const now = this.clock.nowMs();
    const dueTime = entry.due_at !== null ? new Intl.DateTimeFormat('fr-FR', { timeZone: 'Europe/Paris', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(entry.due_at) : undefined;
    const row: EntryRow = {
      ...stripView(entry), id: newId(), school_id: au.schoolId, class_id: au.classId, group_id: au.groupId,
      subject_id: entry.subject_id ?? (await this.repo.taughtSubject(actor.id, au.classId, au.groupId)),
      on_date: date, due_at: this.dueAt(entry.kind, date, dueTime), publish_at: this.publishAt(body.publishAt ?? null, null),
      copied_from: entry.id, created_at: now, updated_at: now, deleted_at: null,
    };
    const attachments = (await this.repo.attachmentsOf([entry.id])).map((a) => ({ ...a, id: newId(), entry_id: row.id, created_at: now }));
    await this.repo.insertEntry(row, attachments);
    await this.announce(actor, row);
    return this.get(actor, row.id);
  }

  async get(actor: Scope, entryId: string): Promise<EntryDetail> {
    const entry = await this.readable(actor, entryId);
    const attachments = await this.repo.attachmentsOf([entry.id]);
    if (actor.profile !== 'eleve') return { entry, attachments };
    // The suivi: the pupil opened this work (kept once per work; batched, no write here).
    if (entry.kind === 'travail') this.signals.workOpened(actor.id, entry.id, this.clock.nowMs());
    const done = await this.repo.doneOf(actor.id, [entry.id]);
    return { entry, attachments, doneAtMs: done.get(entry.id) ?? null };
  }

  private range(from: string | undefined, to: string | undefined, defaultBackDays: number, defaultAheadDays: number): { fromDate: string; toDate: string } {
    const today = this.today();
    const fromDate = from ?? addDays(today, -defaultBackDays);
    const toDate = to ?? addDays(today, defaultAheadDays);
    if (!isValidDate(fromDate) || !isValidDate(toDate) || fromDate > toDate || toDate > addDays(fromDate, MAX_LIST_RANGE_DAYS)) throw new AppError('homework.invalid_date');
    return { fromDate, toDate };
  }

  private page(cursor: string | undefined, limit: string | undefined) {
    const size = Math.min(MAX_PAGE_SIZE, Math.max(1, limit ? Number(limit) : DEFAULT_PAGE_SIZE));
    const after = cursor ? { date: cursor.slice(0, 10), id: cursor.slice(11) } : undefined;
    return { size, after };
  }

  private async detailed(rows: readonly EntryView[], size: number, pupilForDone: string | undefined, knownAttachments?: readonly AttachmentRow[]): Promise<EntryPage> {
    const ids = rows.map((r) => r.id);
    const [attachments, done] = await Promise.all([knownAttachments ?? this.repo.attachmentsOf(ids), pupilForDone ? this.repo.doneOf(pupilForDone, ids) : Promise.resolve(undefined)]);
    const byEntry = new Map<string, AttachmentRow[]>();
    for (const a of attachments) byEntry.set(a.entry_id, [...(byEntry.get(a.entry_id) ?? []), a]);
    const last = rows.length === size ? rows[rows.length - 1] : undefined;
    return {
      entries: rows.map((entry) => ({ entry, attachments: byEntry.get(entry.id) ?? [], ...(done ? { doneAtMs: done.get(entry.id) ?? null } : {}) })),
      nextCursor: last ? `${last.on_date}~${last.id}` : null,
    };
  }


  /**
   * The cahier de textes as a reader sees it, by day (sorted by date) and filterable by subject:
   * a pupil their classes and groups; a parent their children's (or one child's); a teacher a
   * class or group they teach (or, without one, their own entries, drafts included); school staff
   * any class or group of their school.
   */
  async list(actor: Scope, q: ListQuery): Promise<EntryPage & { fromDate: string; toDate: string }> {
    const { fromDate, toDate } = this.range(q.from, q.to, 0, 14);
    // The window goes back with the page: a client learns the school's "today" from it and can ask for the weeks before.
    return { ...(await this.listWithin(actor, q, fromDate, toDate)), fromDate, toDate };
  }

  private async listWithin(actor: Scope, q: ListQuery, fromDate: string, toDate: string): Promise<EntryPage> {
    const now = this.clock.nowMs();
    const { size, after } = this.page(q.cursor, q.limit);
    const base = { fromDate, toDate, limit: size, ...(after ? { after } : {}), ...(q.subjectId ? { subjectId: q.subjectId } : {}), ...(q.kind ? { kind: q.kind } : {}) };
    let classIds: string[] = [];
    let groupIds: string[] = [];
    let pupilForDone: string | undefined;
    if (q.pupilId) {
      const pupil = await this.pupilScope(actor, q.pupilId);
      classIds = [...pupil.classIds];
      groupIds = [...pupil.groupIds];
      if (actor.id === pupil.id) pupilForDone = pupil.id;
    } else if (q.classId || q.groupId) {
      const found = await this.repo.audience(q.classId, q.groupId);
      const au = found && { schoolId: found.schoolId, classId: q.classId ?? null, groupId: q.groupId ?? null };
      const probe = au && { school_id: au.schoolId, teacher_id: null, class_id: au.classId, group_id: au.groupId, kind: 'travail', publish_at: now, deleted_at: null, online_handin: 0 };
      if (!probe || q.classId && q.groupId || !canRead(actor, probe, now)) throw new AppError('class.not_found');
      classIds = q.classId ? [q.classId] : [];
      groupIds = q.groupId ? [q.groupId] : [];
      if (actor.profile === 'eleve') pupilForDone = actor.id;
    } else if (actor.profile === 'eleve') {
      classIds = [...actor.classIds];
      groupIds = [...actor.groupIds];
      pupilForDone = actor.id;
    } else if (actor.profile === 'parent') {
      classIds = [...actor.childClassIds];
      groupIds = [...actor.childGroupIds];
    } else if (actor.profile === 'enseignant') {
      const rows = await this.repo.list({ ...base, teacherId: actor.id });
      return this.detailed(rows, size, undefined);
    } else {
      throw new AppError('homework.invalid_audience');
    }
    // What readers of the same classes and groups see is the same page: shared, only "fait" is personal.
    const key = JSON.stringify([[...classIds].sort(), [...groupIds].sort(), fromDate, toDate, size, q.subjectId ?? '', q.kind ?? '', q.cursor ?? '']);
    const shared = await this.readerPages.get(key, this.repo.version(), now, async () => {
      const rows = await this.repo.list({ ...base, classIds, groupIds, publishedAtMs: now });
      return { rows, attachments: await this.repo.attachmentsOf(rows.map((r) => r.id)) };
    });
    return this.detailed(shared.rows, size, pupilForDone, shared.attachments);
  }

  /** A pupil whose cahier this actor may read: themselves, or a child of theirs. */
  private async pupilScope(actor: Scope, pupilId: string): Promise<Scope> {
    if (actor.status === 'departed' || (actor.id !== pupilId && !(actor.profile === 'parent' && actor.childIds.has(pupilId)))) throw new AppError('person.not_found');
    const pupil = await this.schools.scopeOf(pupilId);
    if (pupil.profile !== 'eleve') throw new AppError('person.not_found');
    return pupil;
  }

  /** A teacher's whole cahier (published entries, all their classes), with its visas: for the teacher and the direction. */
  async cahierOf(actor: Scope, teacherId: string, q: CahierQuery) {
    const teacher = await this.schools.scopeOf(teacherId).catch(() => undefined);
    if (!teacher || !canReadCahierOf(actor, teacher)) throw new AppError('person.not_found');
    const { fromDate, toDate } = this.range(q.from, q.to, 60, 30);
    const { size, after } = this.page(q.cursor, q.limit);
    const rows = await this.repo.list({ teacherId, fromDate, toDate, limit: size, ...(after ? { after } : {}), publishedAtMs: this.clock.nowMs() });
    const [page, visas] = await Promise.all([this.detailed(rows, size, undefined), this.repo.visasOf(teacherId, 20)]);
    return { ...page, visas };
  }

  async visa(actor: Scope, teacherId: string, comment: string | undefined) {
    const teacher = await this.schools.scopeOf(teacherId).catch(() => undefined);
    if (!teacher || !canReadCahierOf(actor, teacher)) throw new AppError('person.not_found');
    if (!canVisa(actor, teacher)) throw new AppError('access.forbidden');
    const schoolId = [...teacher.schoolIds].find((s) => actor.profile === 'admin_plateforme' || actor.schoolIds.has(s))!;
    const row = { id: newId(), school_id: schoolId, teacher_id: teacherId, visa_by: actor.id, visa_at: this.clock.nowMs(), comment: comment?.trim() || null };
    await this.repo.insertVisa(row);
    return row;
  }

  async setDone(actor: Scope, entryId: string, done: boolean): Promise<{ done: boolean; doneAtMs: number | null }> {
    const entry = await this.readable(actor, entryId);
    const now = this.clock.nowMs();
    if (!canTick(actor, entry, now)) throw new AppError('access.forbidden');
    await this.repo.setDone(entry.id, actor.id, done, now);
    const at = (await this.repo.doneOf(actor.id, [entry.id])).get(entry.id) ?? null;
    // Ticked now (not a repeat of an earlier tick, which keeps its first time): one signal.
    if (done && at === now) this.signals.workDone(actor.id, now);
    return { done: at !== null, doneAtMs: at };
  }

  async addAttachment(actor: Scope, entryId: string, upload: () => Promise<Upload>): Promise<AttachmentRow> {
    const entry = await this.editable(actor, entryId);
    if ((await this.repo.countAttachments(entry.id)) >= MAX_ATTACHMENTS_PER_ENTRY) throw new AppError('homework.too_many_attachments', { params: { max: MAX_ATTACHMENTS_PER_ENTRY } });
    const { files } = await upload();
    const file = files[0];
    if (!file) throw new AppError('request.invalid', { details: { in: 'body', field: 'file', rule: 'required' } });
    const now = this.clock.nowMs();
    await this.repo.recordBlob({ sha256: file.sha256, size_bytes: file.sizeBytes, crc32: file.crc32, content_type: file.contentType, created_at: now });
    const row: AttachmentRow = { id: newId(), entry_id: entry.id, blob_sha256: file.sha256, file_name: file.fileName, size_bytes: file.sizeBytes, content_type: file.contentType, created_at: now };
    await this.repo.insertAttachment(row);
    await this.repo.updateEntry(entry.id, { updated_at: now });
    return row;
  }

  async attachment(actor: Scope, entryId: string, attachmentId: string) {
    const entry = await this.readable(actor, entryId);
    const a = await this.repo.findAttachment(entry.id, attachmentId);
    if (!a) throw new AppError('file.not_found');
    return a;
  }

  async deleteAttachment(actor: Scope, entryId: string, attachmentId: string): Promise<void> {
    const entry = await this.editable(actor, entryId);
    if (!(await this.repo.deleteAttachment(entry.id, attachmentId))) throw new AppError('file.not_found');
  }

  /** Work due on these days for a pupil's classes and groups (what "Aujourd'hui" shows). */
  dueFor(scope: Pick<Scope, 'classIds' | 'groupIds'>, fromDate: string, toDate: string): Promise<DueView[]> {
    return this.repo.dueBetween([...scope.classIds], [...scope.groupIds], fromDate, toDate, this.clock.nowMs());
  }

  isPublished(entry: EntryRow): boolean {
    return isPublished(entry, this.clock.nowMs());
  }
}

function stripView(v: EntryView): EntryRow {
  const { subject_label: _s, audience_name: _a, teacher_title: _t, teacher_last_name: _l, ...row } = v;
  return row;
}

