import type { Kysely, Selectable } from 'kysely';
import type { Database, PeopleTable, SessionsTable } from '../../storage/schema.js';
import { newId } from '../../platform/ids.js';

export type PersonRow = Selectable<PeopleTable>;
export type SessionRow = Selectable<SessionsTable>;

/** SQL of the identity module: people's credentials, sessions, activation codes, audit. */
export class IdentityRepository {
  constructor(private readonly db: Kysely<Database>) {}

  findPersonByLogin(login: string): Promise<PersonRow | undefined> {
    return this.db.selectFrom('people').selectAll().where('login', '=', login).executeTakeFirst();
  }

  findPersonById(id: string): Promise<PersonRow | undefined> {
    return this.db.selectFrom('people').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async findSessionWithPerson(tokenHash: string): Promise<{ session: SessionRow; person: PersonRow } | undefined> {
    const row = await this.db
      .selectFrom('sessions as s')
      .innerJoin('people as p', 'p.id', 's.person_id')
      .select([
        's.id as s_id', 's.token_hash as s_token_hash', 's.person_id as s_person_id', 's.remember as s_remember',
        's.created_at as s_created_at', 's.last_seen_at as s_last_seen_at', 's.expires_at as s_expires_at',
        's.user_agent as s_user_agent', 's.ip as s_ip',
      ])
      .selectAll('p')
      .where('s.token_hash', '=', tokenHash)
      .executeTakeFirst();
    if (!row) return undefined;
    const { s_id, s_token_hash, s_person_id, s_remember, s_created_at, s_last_seen_at, s_expires_at, s_user_agent, s_ip, ...person } = row;
    return {
      session: {
        id: s_id, token_hash: s_token_hash, person_id: s_person_id, remember: s_remember, created_at: s_created_at,
        last_seen_at: s_last_seen_at, expires_at: s_expires_at, user_agent: s_user_agent, ip: s_ip,
      },
      person,
    };
  }

  async setPreferredLang(personId: string, lang: string, nowMs: number): Promise<void> {
    await this.db.updateTable('people').set({ preferred_lang: lang, updated_at: nowMs }).where('id', '=', personId).execute();
  }

  async insertSession(session: SessionRow): Promise<void> {
    await this.db.insertInto('sessions').values(session).execute();
  }

  async touchSession(id: string, lastSeenAt: number, expiresAt: number): Promise<void> {
    await this.db.updateTable('sessions').set({ last_seen_at: lastSeenAt, expires_at: expiresAt }).where('id', '=', id).execute();
  }

  listSessions(personId: string, nowMs: number): Promise<SessionRow[]> {
    return this.db
      .selectFrom('sessions')
      .selectAll()
      .where('person_id', '=', personId)
      .where('expires_at', '>', nowMs)
      .orderBy('last_seen_at', 'desc')
      .execute();
  }

  /** Returns the token hashes removed, so that caches can forget them. */
  async deleteSessions(filter: { personId: string; sessionId?: string; exceptSessionId?: string }): Promise<string[]> {
    let q = this.db.deleteFrom('sessions').where('person_id', '=', filter.personId);
    if (filter.sessionId) q = q.where('id', '=', filter.sessionId);
    if (filter.exceptSessionId) q = q.where('id', '!=', filter.exceptSessionId);
    const rows = await q.returning('token_hash').execute();
    return rows.map((r) => r.token_hash);
  }

  async deleteExpiredSessions(nowMs: number): Promise<number> {
    const r = await this.db.deleteFrom('sessions').where('expires_at', '<=', nowMs).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async setPassword(personId: string, passwordHash: string | null, status: PeopleTable['status'], nowMs: number): Promise<void> {
    await this.db.updateTable('people').set({ password_hash: passwordHash, status, updated_at: nowMs }).where('id', '=', personId).execute();
  }

  async insertActivationCode(row: { person_id: string; code_hash: string; created_at: number; expires_at: number; created_by: string | null }): Promise<void> {
    // One live code per person: a new code replaces any earlier one.
    await this.db.deleteFrom('activation_codes').where('person_id', '=', row.person_id).where('used_at', 'is', null).execute();
    await this.db.insertInto('activation_codes').values({ id: newId(), used_at: null, ...row }).execute();
  }

  findLiveActivationCode(personId: string, codeHash: string, nowMs: number) {
    return this.db
      .selectFrom('activation_codes')
      .selectAll()
      .where('person_id', '=', personId)
      .where('code_hash', '=', codeHash)
      .where('used_at', 'is', null)
      .where('expires_at', '>', nowMs)
      .executeTakeFirst();
  }

  async markActivationCodeUsed(id: string, nowMs: number): Promise<boolean> {
    const r = await this.db.updateTable('activation_codes').set({ used_at: nowMs }).where('id', '=', id).where('used_at', 'is', null).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async audit(event: { at: number; actorId: string | null; action: string; targetId: string | null; details?: unknown }): Promise<void> {
    await this.db
      .insertInto('audit_events')
      .values({
        id: newId(),
        at: event.at,
        actor_id: event.actorId,
        action: event.action,
        target_id: event.targetId,
        details: event.details === undefined ? null : JSON.stringify(event.details),
      })
      .execute();
  }

  /** People departed before `cutoffMs`: their rows go, cascading to every link, session and code. */
  /** Returns the directory (AAF) jointures of the people deleted, for the import's own bookkeeping. */
  async purgeDepartedBefore(cutoffMs: number): Promise<{ count: number; jointures: string[] }> {
    const rows = await this.db.deleteFrom('people').where('status', '=', 'departed').where('departed_at', '<', cutoffMs).returning('aaf_jointure').execute();
    return { count: rows.length, jointures: rows.flatMap((r) => (r.aaf_jointure ? [r.aaf_jointure] : [])) };
  }
}
