import type { ExpressionBuilder, Kysely, Selectable } from 'kysely';
import type { Database, IdempotencyKeysTable } from '../storage/schema.js';

export type IdempotencyRow = Selectable<IdempotencyKeysTable>;

/** SQL of idempotency keys; the rules are in idempotency.ts. */
/** The claim made at `claimedAt` on (person, key), still in flight: what complete and renew may touch, and nothing a later claim made. */
const thisClaim = (eb: ExpressionBuilder<Database, 'idempotency_keys'>, personId: string, key: string, claimedAt: number) =>
  eb.and([eb('person_id', '=', personId), eb('key', '=', key), eb('status_code', '=', 0), eb('created_at', '=', claimedAt)]);

export class IdempotencyRepository {
  constructor(private readonly db: Kysely<Database>) {}

  find(personId: string, key: string): Promise<IdempotencyRow | undefined> {
    return this.db.selectFrom('idempotency_keys').selectAll().where('person_id', '=', personId).where('key', '=', key).executeTakeFirst();
  }

  /** Inserts the in-flight marker; false when another request holds this key (the primary key decides, on every node). */
  async claim(row: IdempotencyRow): Promise<boolean> {
    const result = await this.db
      .insertInto('idempotency_keys')
      .values(row)
      .onConflict((oc) => oc.columns(['person_id', 'key']).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
  }

  /**
   * Keeps the first answer of the claim made at `claimedAt` (and its 24 h expiry); false when that
   * claim is no longer there (its lease lapsed and another request took the key over: that one's answer wins).
   */
  async complete(personId: string, key: string, claimedAt: number, answer: { statusCode: number; contentType: string | null; body: string | null; expiresAt: number }): Promise<boolean> {
    const result = await this.db
      .updateTable('idempotency_keys')
      .set({ status_code: answer.statusCode, content_type: answer.contentType, body: answer.body, expires_at: answer.expiresAt })
      .where((eb) => thisClaim(eb, personId, key, claimedAt))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /**
   * Extends the lease of the claim made at `claimedAt` (in flight: `expires_at` is the lease's end);
   * false when that claim is gone (released, completed, or taken over after its lease lapsed).
   */
  async renew(personId: string, key: string, claimedAt: number, leaseUntilMs: number): Promise<boolean> {
    const result = await this.db
      .updateTable('idempotency_keys')
      .set({ expires_at: leaseUntilMs })
      .where((eb) => thisClaim(eb, personId, key, claimedAt))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /**
   * Removes the key when it is dead: a kept answer past its 24 h, a claim whose lease lapsed (both:
   * `expires_at` passed), or a claim older than `staleBeforeMs` however renewed (a bound on renewals).
   */
  async deleteIfDead(personId: string, key: string, nowMs: number, staleBeforeMs: number): Promise<void> {
    await this.db
      .deleteFrom('idempotency_keys')
      .where('person_id', '=', personId)
      .where('key', '=', key)
      .where((eb) => eb.or([eb('expires_at', '<=', nowMs), eb.and([eb('status_code', '=', 0), eb('created_at', '<', staleBeforeMs)])]))
      .execute();
  }

  /** Frees a key in flight; `claimedAt`: only the claim made then (a late retry never frees a newer claim nor a kept answer). */
  async release(personId: string, key: string, claimedAt?: number): Promise<void> {
    let q = this.db.deleteFrom('idempotency_keys').where('person_id', '=', personId).where('key', '=', key);
    if (claimedAt !== undefined) q = q.where('status_code', '=', 0).where('created_at', '=', claimedAt);
    await q.execute();
  }

  async deleteExpired(nowMs: number): Promise<number> {
    const result = await this.db.deleteFrom('idempotency_keys').where('expires_at', '<=', nowMs).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
