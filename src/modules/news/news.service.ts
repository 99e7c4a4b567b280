import type { Clock } from '../../platform/clock.js';
import { AppError } from '../../platform/errors.js';
import { newId } from '../../platform/ids.js';
import type { Notifier } from '../../platform/notify.js';
import type { Upload } from '../../http/uploads.js';
import { sanitizeRichText } from '../../platform/rich-text.js';
import type { Scope } from '../schools/index.js';
import { canAcknowledge, canManage, canRead, canWriteFor, isInAudience, readerAudience, stateOf } from './news.policy.js';
import type { NewsAttachmentRow, NewsRepository, NewsRow } from './news.repository.js';
import {
  MAX_ATTACHMENTS_PER_NEWS, MAX_BODY_HTML_CHARS, MAX_PINNED_PER_AUDIENCE, MAX_RECIPIENTS, MAX_SCHEDULE_AHEAD_MS, MAX_WINDOW_MS, TODAY_NEWS_COUNT, page,
  type AcksQuery, type CreateNewsBody, type ListQuery, type UpdateNewsBody,
} from './news.schema.js';

/** A start a little in the past (the author's clock, the time to send) means "now". */
const PUBLISH_CLOCK_SKEW_MS = 5 * 60_000;
/** Acknowledged current news returned to one person for "Aujourd'hui": more than it ever shows. */
const MAX_ACKNOWLEDGED_CURRENT = 100;

export interface NewsDetail {
  news: NewsRow;
  nowMs: number;
  /** When the actor acknowledged it (null: not yet); undefined when it is not theirs to acknowledge. */
  myAck: number | null | undefined;
  /** For whoever manages a news that asks for acknowledgement. */
  acks: { total: number; done: number } | null;
  /** The actor may edit, publish and withdraw it. */
  manage: boolean;
  attachments: NewsAttachmentRow[];
}

const plain = (text: string) => text.replace(/[\u0000-\u001f\u007f]/g, ' ').trim();

/**
 * Actualités: school and class news with a publication window, optional acknowledgement, pins,
 * soft withdrawal. Tells the notifier after each publication (and its withdrawal) has committed.
 */
export class NewsService {
  constructor(
    private readonly repo: NewsRepository,
    private readonly clock: Clock,
    private readonly notifier: Notifier,
  ) {}

  /** Changes whenever a write changes what readers see ("Aujourd'hui" caches on it). */
  version(): number {
    return this.repo.version();
  }

  async create(actor: Scope, body: CreateNewsBody): Promise<NewsDetail> {
    const { kind, id } = body.audience;
    const audience = await this.repo.audienceName(kind, id);
    // An unknown audience and a forbidden one are refused alike: ids are not probed.
    if (!audience || !canWriteFor(actor, { kind, id, schoolId: audience.school_id })) throw new AppError('access.forbidden');
    const now = this.clock.nowMs();
    const from = this.publishFrom(body.publishFrom, null);
    const news: NewsRow = {
      id: newId(), school_id: audience.school_id, author_id: actor.id, audience_kind: kind, audience_id: id, audience_name: audience.name,
      headline: this.headline(body.headline), body_html: this.body(body.bodyHtml), publish_from: from, publish_until: this.publishUntil(body.publishUntil, null, from),
      pinned: body.pinned ? 1 : 0, requires_ack: body.requiresAck ? 1 : 0, created_at: now, updated_at: now, edited_at: null, withdrawn_at: null,
    };
    if (news.pinned) await this.checkPins(news, null);
    await this.repo.insert(news);
    if (news.publish_from !== null) await this.notifyPublished(news, actor);
    return this.detail(actor, news.id);
  }

  async update(actor: Scope, newsId: string, body: UpdateNewsBody): Promise<NewsDetail> {
    const news = await this.editable(actor, newsId);
    const now = this.clock.nowMs();
    const state = stateOf(news, now);
    const from = this.publishFrom(body.publishFrom, news.publish_from);
    const next: NewsRow = {
      ...news,
      headline: body.headline === undefined ? news.headline : this.headline(body.headline),
      body_html: body.bodyHtml === undefined ? news.body_html : this.body(body.bodyHtml),
      publish_from: from,
      publish_until: this.publishUntil(body.publishUntil, news.publish_until, from),
      pinned: body.pinned === undefined ? news.pinned : body.pinned ? 1 : 0,
      requires_ack: body.requiresAck === undefined ? news.requires_ack : body.requiresAck ? 1 : 0,
      updated_at: now,
      // Readers may have read the earlier text: an edit after publication says so.
      edited_at: state === 'published' ? now : news.edited_at,
    };
    if (next.pinned && !news.pinned) await this.checkPins(next, news.id);
    const { id: _id, ...patch } = next;
    await this.repo.update(news.id, patch);
    // A new publication time replaces the notification (a draft published, a schedule moved).
    if (next.publish_from !== news.publish_from) {
      if (news.publish_from !== null) await this.notifier.withdraw('news.published', news.id);
      if (next.publish_from !== null) await this.notifyPublished(next, actor);
    }
    return this.detail(actor, news.id);
  }

  /** Soft withdrawal: gone for readers, kept (with its acknowledgements) in the archive. */
  async withdraw(actor: Scope, newsId: string): Promise<void> {
    const news = await this.managed(actor, newsId);
    if (news.withdrawn_at !== null) return;
    const now = this.clock.nowMs();
    await this.repo.update(news.id, { withdrawn_at: now, updated_at: now });
    await this.notifier.withdraw('news.published', news.id);
  }

  async detail(actor: Scope, newsId: string): Promise<NewsDetail> {
    const news = await this.readable(actor, newsId);
    const nowMs = this.clock.nowMs();
    const concerned = news.requires_ack === 1 && news.author_id !== actor.id && isInAudience(actor, news);
    const manage = canManage(actor, news);
    const [myAck, acks, attachments] = await Promise.all([
      concerned ? this.repo.ackOf(news.id, actor.id) : Promise.resolve(undefined),
      news.requires_ack === 1 && manage ? this.repo.ackCounts(news) : Promise.resolve(null),
      this.repo.attachments(news.id),
    ]);
    return { news, nowMs, myAck, acks, manage, attachments };
  }

  /** "J'ai pris connaissance". Idempotent: a second time keeps the first. */
  async acknowledge(actor: Scope, newsId: string): Promise<NewsDetail> {
    const news = await this.readable(actor, newsId);
    if (news.requires_ack !== 1) throw new AppError('news.no_ack_required');
    if (!canAcknowledge(actor, news, this.clock.nowMs())) throw new AppError('access.forbidden');
    await this.repo.acknowledge(news.id, actor.id, this.clock.nowMs());
    await this.notifier.seen(actor.id, 'news.published', news.id);
    return this.detail(actor, news.id);
  }

  /** Who acknowledged and who has not (paginated), with the totals: the author and the school's staff. */
  async acknowledgements(actor: Scope, newsId: string, query: AcksQuery) {
    const news = await this.managed(actor, newsId);
    if (news.requires_ack !== 1) throw new AppError('news.no_ack_required');
    const { offset, limit } = page(query);
    const [rows, counts] = await Promise.all([this.repo.acks(news, query.state ?? 'all', offset, limit), this.repo.ackCounts(news)]);
    return { rows, counts, nextOffset: rows.length === limit ? offset + limit : null };
  }

  /** current: published news the actor reads; upcoming and archive: those they manage. */
  async list(actor: Scope, query: ListQuery): Promise<{ rows: NewsRow[]; nowMs: number; nextOffset: number | null }> {
    if (actor.status === 'departed') throw new AppError('access.forbidden');
    const { offset, limit } = page(query);
    const nowMs = this.clock.nowMs();
    const view = query.view ?? 'current';
    const rows =
      view === 'current'
        ? await this.repo.current(readerAudience(actor), nowMs, offset, limit)
        : await this.repo.managed(actor.id, readerAudience(actor).staffSchoolIds, view, nowMs, offset, limit);
    return { rows, nowMs, nextOffset: rows.length === limit ? offset + limit : null };
  }

  /** The few current news of "Aujourd'hui" (shared by everyone with the same audiences: cacheable). */
  async todayFor(actor: Scope): Promise<{ rows: NewsRow[]; nowMs: number }> {
    const nowMs = this.clock.nowMs();
    return { rows: await this.repo.current(readerAudience(actor), nowMs, 0, TODAY_NEWS_COUNT), nowMs };
  }

  /** Ids of current news this person has acknowledged (the personal part of "Aujourd'hui"). */
  acknowledgedCurrent(actor: Scope): Promise<string[]> {
    if (actor.status === 'departed') return Promise.resolve([]);
    return this.repo.acknowledgedCurrent(actor.id, this.clock.nowMs(), MAX_ACKNOWLEDGED_CURRENT);
  }

  private async readable(actor: Scope, newsId: string): Promise<NewsRow> {
    const news = await this.repo.find(newsId);
    if (!news || !canRead(actor, news, this.clock.nowMs())) throw new AppError('news.not_found');
    return news;
  }

  /** A news the actor manages and may still change (not withdrawn, not expired). */
  private async editable(actor: Scope, newsId: string): Promise<NewsRow> {
    const news = await this.managed(actor, newsId);
    const state = stateOf(news, this.clock.nowMs());
    if (state === 'withdrawn' || state === 'expired') throw new AppError('news.not_editable');
    return news;
  }

  /** Adds a file (stored in the blob store by the upload) to a news its author or staff may still change. */
  async addAttachment(actor: Scope, newsId: string, upload: () => Promise<Upload>): Promise<NewsAttachmentRow> {
    const news = await this.editable(actor, newsId);
    if ((await this.repo.attachments(news.id)).length >= MAX_ATTACHMENTS_PER_NEWS) throw new AppError('news.too_many_attachments', { params: { max: MAX_ATTACHMENTS_PER_NEWS } });
    const file = (await upload()).files[0];
    if (!file) throw new AppError('request.invalid', { details: { in: 'body', field: 'file', rule: 'required' } });
    const now = this.clock.nowMs();
    const row: NewsAttachmentRow = { id: newId(), news_id: news.id, blob_sha256: file.sha256, file_name: file.fileName, size_bytes: file.sizeBytes, content_type: file.contentType, created_at: now };
    await this.repo.insertAttachment({ sha256: file.sha256, size_bytes: file.sizeBytes, crc32: file.crc32, content_type: file.contentType, created_at: now }, row);
    return row;
  }

  /** A file of a news this person may read. */
  async attachment(actor: Scope, newsId: string, attachmentId: string): Promise<NewsAttachmentRow> {
    const news = await this.readable(actor, newsId);
    const a = await this.repo.findAttachment(news.id, attachmentId);
    if (!a) throw new AppError('file.not_found');
    return a;
  }

  async deleteAttachment(actor: Scope, newsId: string, attachmentId: string): Promise<void> {
    const news = await this.editable(actor, newsId);
    if (!(await this.repo.deleteAttachment(news.id, attachmentId))) throw new AppError('file.not_found');
  }

  /** A news the actor manages; a reader who may not manage it is told so, anyone else finds nothing. */
  private async managed(actor: Scope, newsId: string): Promise<NewsRow> {
    const news = await this.readable(actor, newsId);
    if (!canManage(actor, news)) throw new AppError('access.forbidden');
    return news;
  }

  private async notifyPublished(news: NewsRow, actor: Scope): Promise<void> {
    await this.notifier.notify({
      kind: 'news.published', schoolId: news.school_id, recipientIds: await this.repo.recipients(news, MAX_RECIPIENTS), actorId: actor.id,
      title: news.headline, link: `/actualites?id=${news.id}`, subjectId: news.id, visibleAtMs: news.publish_from ?? this.clock.nowMs(),
    });
  }

  private async checkPins(news: NewsRow, exceptId: string | null): Promise<void> {
    if ((await this.repo.pinnedCount(news.audience_kind, news.audience_id, this.clock.nowMs(), exceptId)) >= MAX_PINNED_PER_AUDIENCE) {
      throw new AppError('news.too_many_pinned', { params: { max: MAX_PINNED_PER_AUDIENCE } });
    }
  }

  private headline(text: string): string {
    const clean = plain(text);
    if (clean.length === 0) throw new AppError('request.invalid');
    return clean;
  }

  private body(html: string): string {
    const clean = sanitizeRichText(html);
    if (clean.length > MAX_BODY_HTML_CHARS) throw new AppError('news.body_too_long', { params: { max: MAX_BODY_HTML_CHARS } });
    return clean;
  }

  /** null: a draft; "now" or an instant within a year (a little in the past means now). Absent: unchanged. */
  private publishFrom(value: string | null | undefined, current: number | null): number | null {
    if (value === undefined) return current;
    if (value === null) return null;
    const now = this.clock.nowMs();
    if (value === 'now') return now;
    const at = Date.parse(value);
    if (!Number.isFinite(at) || at < now - PUBLISH_CLOCK_SKEW_MS || at > now + MAX_SCHEDULE_AHEAD_MS) throw new AppError('news.invalid_window');
    return Math.max(at, now);
  }

  /** The end must come after the start (or after now for a draft), at most a year later. Absent: unchanged but re-checked. */
  private publishUntil(value: string | null | undefined, current: number | null, from: number | null): number | null {
    const until = value === undefined ? current : value === null ? null : Date.parse(value);
    if (until === null) return null;
    const start = from ?? this.clock.nowMs();
    if (!Number.isFinite(until) || until <= Math.max(start, this.clock.nowMs()) || until > start + MAX_WINDOW_MS) throw new AppError('news.invalid_window');
    return until;
  }
}
