import type { Clock } from '../../platform/clock.js';
import { AppError } from '../../platform/errors.js';
import { newId } from '../../platform/ids.js';
import type { Logger } from '../../platform/logger.js';
import type { NewNotification, NotificationKind, Notifier } from '../../platform/notify.js';
import { personChannel, type PubSub } from '../../realtime/index.js';
import type { Scope } from '../schools/index.js';
import { canMark, canUseFeed } from './notifications.policy.js';
import { pushNotification, pushUnread } from './notifications.presenter.js';
import type { NotificationRow, NotificationsRepository } from './notifications.repository.js';
import { MAX_LINK_CHARS, MAX_RECIPIENTS_PER_CALL, MAX_TITLE_CHARS, pageSize, type FeedQuery } from './notifications.schema.js';

const DAY_MS = 24 * 3600_000;

/** Titles are plain text on one line: control characters become spaces, long ones are cut. */
function cleanTitle(title: string): string {
  const flat = title.replace(/[\u0000-\u001f\u007f]/g, ' ').trim();
  return flat.length > MAX_TITLE_CHARS ? `${flat.slice(0, MAX_TITLE_CHARS - 1)}…` : flat;
}

/** Only the client's own routes: a path, never a URL to elsewhere. */
function cleanLink(link: string): string {
  return link.startsWith('/') && !link.startsWith('//') && link.length <= MAX_LINK_CHARS ? link : '/';
}

/**
 * The notifications feed, and the `Notifier` every feature is given: feed rows per recipient in the
 * database, then a push on each recipient's realtime channel. Fails open (see platform/notify.ts):
 * an error is logged, never thrown to the feature whose write has already committed.
 */
export class NotificationsService implements Notifier {
  constructor(
    private readonly repo: NotificationsRepository,
    private readonly pubsub: PubSub,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  async notify(n: NewNotification): Promise<void> {
    try {
      const ids = typeof n.recipientIds === 'function' ? await n.recipientIds() : n.recipientIds;
      const recipients = [...new Set(ids)].filter((id) => id !== n.actorId);
      if (recipients.length > MAX_RECIPIENTS_PER_CALL) {
        this.logger.warn({ kind: n.kind, subjectId: n.subjectId, recipients: recipients.length, max: MAX_RECIPIENTS_PER_CALL }, 'notification : destinataires au-delà de la limite ignorés');
        recipients.length = MAX_RECIPIENTS_PER_CALL;
      }
      const now = this.clock.nowMs();
      const visibleAt = Math.max(now, n.visibleAtMs ?? now);
      const title = cleanTitle(n.title);
      const link = cleanLink(n.link);
      const rows: NotificationRow[] = recipients.map((recipient_id) => ({
        id: newId(), recipient_id, school_id: n.schoolId, kind: n.kind, title, link, subject_id: n.subjectId, actor_id: n.actorId, created_at: now, visible_at: visibleAt, read_at: null,
      }));
      const stored = await this.repo.upsert(rows);
      // A scheduled item (visible later) is not pushed now: nobody polls the clock for it; it simply
      // appears in the feed and the unread count when due (they only ever show visible rows).
      const due = stored.filter((r) => r.visible_at <= now);
      await this.push(due.map((r) => [r.recipient_id, pushNotification(r)] as const), now);
    } catch (err) {
      this.logger.error({ err, kind: n.kind, subjectId: n.subjectId }, 'notification non enregistrée');
    }
  }

  async withdraw(kind: NotificationKind, subjectId: string): Promise<void> {
    try {
      const recipients = await this.repo.withdraw(kind, subjectId);
      await this.push([], this.clock.nowMs(), recipients);
    } catch (err) {
      this.logger.error({ err, kind, subjectId }, 'notification non retirée');
    }
  }

  async seen(personId: string, kind: NotificationKind, subjectId: string): Promise<void> {
    try {
      if ((await this.repo.markSeen(personId, kind, subjectId, this.clock.nowMs())) > 0) await this.publishCount(personId);
    } catch (err) {
      this.logger.error({ err, kind, subjectId }, 'notification non marquée lue');
    }
  }

  /** Publishes each message, then the new unread count of everyone concerned. A failed publish is logged (fails open). */
  private async push(messages: readonly (readonly [string, string])[], nowMs: number, alsoCount: readonly string[] = []): Promise<void> {
    const people = [...new Set([...messages.map(([id]) => id), ...alsoCount])];
    if (people.length === 0) return;
    const counts = await this.repo.unreadCounts(people, nowMs);
    const results = await Promise.allSettled([
      ...messages.map(([id, message]) => this.pubsub.publish(personChannel(id), message)),
      ...people.map((id) => this.pubsub.publish(personChannel(id), pushUnread(counts.get(id) ?? 0))),
    ]);
    const failed = results.filter((r) => r.status === 'rejected');
    if (failed.length > 0) this.logger.warn({ failed: failed.length, err: (failed[0] as PromiseRejectedResult).reason }, 'notifications : envoi en direct impossible');
  }

  async feed(actor: Scope, q: FeedQuery): Promise<{ rows: NotificationRow[]; nextCursor: string | null }> {
    if (!canUseFeed(actor)) throw new AppError('access.forbidden');
    const limit = pageSize(q.limit);
    const [at, id] = q.cursor ? (q.cursor.split('~') as [string, string]) : [];
    const rows = await this.repo.feed(actor.id, this.clock.nowMs(), at !== undefined && id !== undefined ? { atMs: Number(at), id } : undefined, limit);
    const last = rows[rows.length - 1];
    return { rows, nextCursor: rows.length === limit && last ? `${last.visible_at}~${last.id}` : null };
  }

  async unreadCount(actor: Scope): Promise<number> {
    if (!canUseFeed(actor)) return 0;
    return (await this.repo.unreadCounts([actor.id], this.clock.nowMs())).get(actor.id) ?? 0;
  }

  /** Marks one read (or unread again); the person's other tabs get the new count. */
  async markRead(actor: Scope, notificationId: string, read: boolean): Promise<number> {
    const n = await this.repo.find(notificationId);
    const now = this.clock.nowMs();
    if (!n || n.visible_at > now || !canMark(actor, n)) throw new AppError('notification.not_found');
    await this.repo.setRead(n.id, read ? now : null);
    return this.publishCount(actor.id);
  }

  /** Marks read everything visible up to `upTo` (what the person saw), never what came after. */
  async markAllRead(actor: Scope, upTo: string): Promise<number> {
    if (!canUseFeed(actor)) throw new AppError('access.forbidden');
    const now = this.clock.nowMs();
    const seen = Date.parse(upTo);
    if (!Number.isFinite(seen)) throw new AppError('request.invalid', { details: { in: 'body', field: 'upTo', rule: 'date-time' } });
    await this.repo.markAllRead(actor.id, Math.min(seen, now), now);
    return this.publishCount(actor.id);
  }

  private async publishCount(personId: string): Promise<number> {
    const count = (await this.repo.unreadCounts([personId], this.clock.nowMs())).get(personId) ?? 0;
    await this.pubsub.publish(personChannel(personId), pushUnread(count)).catch((err: unknown) => this.logger.warn({ err }, 'notifications : envoi en direct impossible'));
    return count;
  }

  /** The server's daily purge (retention); `preau purge` does the same. */
  purge(retentionDays: number): Promise<number> {
    return purgeNotifications(this.repo, this.clock, retentionDays);
  }
}

/** Retention: notifications older than this many days are deleted (`preau purge`); returns how many. */
export function purgeNotifications(repo: NotificationsRepository, clock: Clock, retentionDays: number): Promise<number> {
  return repo.purgeCreatedBefore(clock.nowMs() - retentionDays * DAY_MS);
}
