import type { Kysely } from 'kysely';
import type { Database } from '../../../storage/schema.js';

/**
 * When departed people are purged, the links their AAF records named and that still wait for
 * their other end are dropped too: nothing about a purged person stays behind.
 */
export async function forgetPendingLinksOf(db: Kysely<Database>, jointures: string[]): Promise<void> {
  for (let i = 0; i < jointures.length; i += 1000) {
    await db.deleteFrom('aaf_pending_links').where('person_jointure', 'in', jointures.slice(i, i + 1000)).execute();
  }
}
