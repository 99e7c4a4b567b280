import type { Kysely } from 'kysely';
import { newId } from '../../platform/ids.js';
import type { Database } from '../../storage/schema.js';

const INCIDENT_KEY = 'status.incident';
const READ_ONLY_KEY = 'status.read_only';

export interface StoredStatus {
  incident: string | null;
  readOnly: boolean;
}

/** The platform status lives in the settings table, so that every node reads the same. */
export class StatusRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async read(): Promise<StoredStatus> {
    const rows = await this.db.selectFrom('settings').select(['key', 'value']).where('key', 'in', [INCIDENT_KEY, READ_ONLY_KEY]).execute();
    const value = (key: string) => rows.find((r) => r.key === key)?.value;
    const incident = value(INCIDENT_KEY);
    return { incident: incident ? incident : null, readOnly: value(READ_ONLY_KEY) === '1' };
  }

  async write(status: StoredStatus, actorId: string, nowMs: number): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      for (const [key, value] of [[INCIDENT_KEY, status.incident ?? ''], [READ_ONLY_KEY, status.readOnly ? '1' : '0']] as const) {
        await trx.insertInto('settings').values({ key, value }).onConflict((oc) => oc.column('key').doUpdateSet({ value })).execute();
      }
      await trx
        .insertInto('audit_events')
        .values({ id: newId(), at: nowMs, actor_id: actorId, action: 'status.update', target_id: null, details: JSON.stringify(status) })
        .execute();
    });
  }
}
