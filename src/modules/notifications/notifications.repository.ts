import type { Kysely, Selectable } from 'kysely';
import { chunkForInsert, type StorageCapabilities } from '../../storage/db.js';
import type { Database, NotificationsTable } from '../../storage/schema.js';

export type NotificationRow = Selectable<NotificationsTable>;

const COLUMNS = 11;

/** SQL of the notifications feed. Every read is by recipient: a person's feed is theirs alone. */
export class NotificationsRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly caps: StorageCapabilities,
  ) {}

  /**
   * Inserts the rows in one transaction, in chunks under the backend's bind-parameter limit. A row
   * for the same (recipient, kind, subject) is refreshed instead (a re-publication is unread again).
   * Returns the stored rows (their ids, for the push).
   */
  async upsert(rows: readonly NotificationRow[]): Promise<NotificationRow[]> {
    if (rows.length === 0) return [];
    return this.db.transaction().execute(async (tx) => {
      const out: NotificationRow[] = [];
      for (const chunk of chunkForInsert(rows, COLUMNS, this.caps)) {
        const stored = await tx
          .insertInto('notifications')
          .values(chunk)
          .onConflict((oc) =>
            oc.columns(['recipient_id', 'kind', 'subject_id']).doUpdateSet((eb) => ({
              title: eb.ref('excluded.title'),
              link: eb.ref('excluded.link'),
              actor_id: eb.ref('excluded.actor_id'),
              created_at: eb.ref('excluded.created_at'),
              visible_at: eb.ref('excluded.visible_at'),
              read_at: null,
            })),
          )
          .returningAll()
          .execute();
        out.push(...stored);
      }
      return out;
    });
  }

  async withdraw(kind: string, subjectId: string): Promise<string[]> {
    const rows = await this.db.deleteFrom('notifications').where('kind', '=', kind).where('subject_id', '=', subjectId).returning('recipient_id').execute();
    return rows.map((r) => r.recipient_id);
  }

  /** The visible feed, newest first (keyset pagination on visible_at, id). */
  feed(recipientId: string, nowMs: number, after: { atMs: number; id: string } | undefined, limit: number): Promise<NotificationRow[]> {
    let q = this.db.selectFrom('notifications').selectAll().where('recipient_id', '=', recipientId).where('visible_at', '<=', nowMs);
    if (after) q = q.where((eb) => eb.or([eb('visible_at', '<', after.atMs), eb.and([eb('visible_at', '=', after.atMs), eb('id', '<', after.id)])]));
    return q.orderBy('visible_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
  }

  /** Unread visible counts for these people (absent: zero). */
  async unreadCounts(recipientIds: readonly string[], nowMs: number): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const chunk of chunkForInsert(recipientIds, 1, this.caps)) {
      const rows = await this.db
        .selectFrom('notifications')
        .select((eb) => ['recipient_id', eb.fn.countAll<number | string>().as('n')])
        .where('recipient_id', 'in', chunk)
        .where('read_at', 'is', null)
        .where('visible_at', '<=', nowMs)
        .groupBy('recipient_id')
        .execute();
      for (const r of rows) out.set(r.recipient_id, Number(r.n));
    }
    return out;
  }

  async find(id: string): Promise<NotificationRow | undefined> {
    return this.db.selectFrom('notifications').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Read at this instant, or unread again (null). Reading twice keeps the first time. */
  async setRead(id: string, atMs: number | null): Promise<void> {
    let q = this.db.updateTable('notifications').set({ read_at: atMs }).where('id', '=', id);
    if (atMs !== null) q = q.where('read_at', 'is', null);
    await q.execute();
  }

  /** The person's unread notification of this thing, if any, is read now. */
  async markSeen(recipientId: string, kind: string, subjectId: string, atMs: number): Promise<number> {
    const r = await this.db
      .updateTable('notifications')
      .set({ read_at: atMs })
      .where('recipient_id', '=', recipientId)
      .where('kind', '=', kind)
      .where('subject_id', '=', subjectId)
      .where('read_at', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  /** Marks read the unread rows visible at `upToMs` (what the person had seen). */
  async markAllRead(recipientId: string, upToMs: number, atMs: number): Promise<number> {
    const r = await this.db.updateTable('notifications').set({ read_at: atMs }).where('recipient_id', '=', recipientId).where('read_at', 'is', null).where('visible_at', '<=', upToMs).executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  async purgeCreatedBefore(beforeMs: number): Promise<number> {
    const r = await this.db.deleteFrom('notifications').where('created_at', '<', beforeMs).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
