import type { Kysely, Selectable } from 'kysely';
import type { Database, NewsAttachmentsTable, NewsTable } from '../../storage/schema.js';
import type { ReaderAudience } from './news.policy.js';

export type NewsRow = Selectable<NewsTable>;
export type NewsAttachmentRow = Selectable<NewsAttachmentsTable>;
type Audience = Pick<NewsRow, 'school_id' | 'audience_kind' | 'audience_id' | 'author_id'>;

const STAFF_PROFILES = ['personnel', 'admin_etablissement'] as const;

/**
 * SQL of the actualités. Writes that change what readers see bump `version()`, which "Aujourd'hui"
 * keys its cached page on. Reads the directory tables only to list a news' audience.
 */
export class NewsRepository {
  private writes = 0;
  constructor(private readonly db: Kysely<Database>) {}

  version(): number {
    return this.writes;
  }

  find(id: string): Promise<NewsRow | undefined> {
    return this.db.selectFrom('news').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async insert(row: NewsRow): Promise<void> {
    await this.db.insertInto('news').values(row).execute();
    this.writes++;
  }

  async update(id: string, patch: Partial<Omit<NewsRow, 'id'>>): Promise<void> {
    await this.db.updateTable('news').set(patch).where('id', '=', id).execute();
    this.writes++;
  }

  async audienceName(kind: 'school' | 'class' | 'group', id: string): Promise<{ name: string; school_id: string } | undefined> {
    switch (kind) {
      case 'school': {
        const s = await this.db.selectFrom('schools').select(['id', 'name']).where('id', '=', id).executeTakeFirst();
        return s && { name: s.name, school_id: s.id };
      }
      case 'class':
        return this.db.selectFrom('classes').select(['name', 'school_id']).where('id', '=', id).executeTakeFirst();
      case 'group':
        return this.db.selectFrom('teaching_groups').select(['name', 'school_id']).where('id', '=', id).executeTakeFirst();
    }
  }

  /** Pinned news of this audience that are not over (drafts, scheduled, published), other than `exceptId`. */
  async pinnedCount(kind: string, audienceId: string, nowMs: number, exceptId: string | null): Promise<number> {
    let q = this.db
      .selectFrom('news')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('audience_kind', '=', kind)
      .where('audience_id', '=', audienceId)
      .where('pinned', '=', 1)
      .where('withdrawn_at', 'is', null)
      .where((eb) => eb.or([eb('publish_until', 'is', null), eb('publish_until', '>', nowMs)]));
    if (exceptId) q = q.where('id', '!=', exceptId);
    return Number((await q.executeTakeFirstOrThrow()).n);
  }

  /** Published news these audiences read, pinned first then newest. One indexed query: "Aujourd'hui" calls it. */
  current(r: ReaderAudience, nowMs: number, offset: number, limit: number): Promise<NewsRow[]> {
    if (r.schoolIds.length + r.staffSchoolIds.length === 0) return Promise.resolve([]);
    return this.db
      .selectFrom('news')
      .selectAll()
      .where('school_id', 'in', [...r.schoolIds, ...r.staffSchoolIds])
      .where((eb) => {
        const any = [eb('audience_kind', '=', 'school')];
        if (r.classIds.length) any.push(eb.and([eb('audience_kind', '=', 'class'), eb('audience_id', 'in', r.classIds)]));
        if (r.groupIds.length) any.push(eb.and([eb('audience_kind', '=', 'group'), eb('audience_id', 'in', r.groupIds)]));
        if (r.staffSchoolIds.length) any.push(eb('school_id', 'in', r.staffSchoolIds));
        return eb.or(any);
      })
      .where('withdrawn_at', 'is', null)
      .where('publish_from', '<=', nowMs)
      .where((eb) => eb.or([eb('publish_until', 'is', null), eb('publish_until', '>', nowMs)]))
      .orderBy('pinned', 'desc')
      .orderBy('publish_from', 'desc')
      .orderBy('id', 'desc')
      .offset(offset)
      .limit(limit)
      .execute();
  }

  /** News this person manages (wrote, or of a school they are staff of), drafts and scheduled or expired and withdrawn. */
  managed(authorId: string, staffSchoolIds: string[], view: 'upcoming' | 'archive', nowMs: number, offset: number, limit: number): Promise<NewsRow[]> {
    return this.db
      .selectFrom('news')
      .selectAll()
      .where((eb) => (staffSchoolIds.length ? eb.or([eb('author_id', '=', authorId), eb('school_id', 'in', staffSchoolIds)]) : eb('author_id', '=', authorId)))
      .where((eb) =>
        view === 'upcoming'
          ? eb.and([eb('withdrawn_at', 'is', null), eb.or([eb('publish_from', 'is', null), eb('publish_from', '>', nowMs)])])
          : eb.or([eb('withdrawn_at', 'is not', null), eb('publish_until', '<=', nowMs)]),
      )
      .orderBy('updated_at', 'desc')
      .orderBy('id', 'desc')
      .offset(offset)
      .limit(limit)
      .execute();
  }

  /**
   * The ids of the people a news is for, as the directory says now (departed excluded, author
   * excluded): the SQL twin of the policy's `isInAudience`.
   */
  private audienceIds(n: Audience) {
    const db = this.db;
    const staff = db.selectFrom('school_members as sm').innerJoin('people as s', 's.id', 'sm.person_id').select('sm.person_id as id').where('sm.school_id', '=', n.school_id).where('s.profile', 'in', STAFF_PROFILES);
    const pupils =
      n.audience_kind === 'school' ? db.selectFrom('school_members').select('person_id as id').where('school_id', '=', n.school_id)
      : n.audience_kind === 'class' ? db.selectFrom('class_enrolments').select('person_id as id').where('class_id', '=', n.audience_id)
      : db.selectFrom('group_members').select('person_id as id').where('group_id', '=', n.audience_id);
    const parents = db
      .selectFrom('guardianships as g')
      .innerJoin('people as child', 'child.id', 'g.child_id')
      .select('g.parent_id as id')
      .where('child.status', '!=', 'departed')
      .where('child.profile', '=', 'eleve')
      .where('g.child_id', 'in', pupils);
    // A school's members are its pupils, teachers and staff already.
    if (n.audience_kind === 'school') return pupils.union(parents);
    const teachers = db.selectFrom('teachings').select('teacher_id as id').where(n.audience_kind === 'class' ? 'class_id' : 'group_id', '=', n.audience_id);
    return pupils.union(parents).union(teachers).union(staff);
  }

  private audiencePeople(n: Audience) {
    return this.db
      .selectFrom('people as p')
      .where('p.id', 'in', this.audienceIds(n))
      .where('p.status', '!=', 'departed')
      .where('p.profile', '!=', 'admin_plateforme')
      .where('p.id', '!=', n.author_id ?? '');
  }

  /** Whom to notify of a publication, bounded. */
  async recipients(n: Audience, limit: number): Promise<string[]> {
    const rows = await this.audiencePeople(n).select('p.id').orderBy('p.id').limit(limit).execute();
    return rows.map((r) => r.id);
  }

  async ackCounts(n: Audience & { id: string }): Promise<{ total: number; done: number }> {
    const row = await this.audiencePeople(n)
      .leftJoin('news_acks as a', (j) => j.onRef('a.person_id', '=', 'p.id').on('a.news_id', '=', n.id))
      .select((eb) => [eb.fn.countAll<number | string>().as('total'), eb.fn.count<number | string>('a.person_id').as('done')])
      .executeTakeFirstOrThrow();
    return { total: Number(row.total), done: Number(row.done) };
  }

  /** Who acknowledged and who has not, by name; a page. */
  acks(n: Audience & { id: string }, state: 'all' | 'done' | 'pending', offset: number, limit: number) {
    let q = this.audiencePeople(n)
      .leftJoin('news_acks as a', (j) => j.onRef('a.person_id', '=', 'p.id').on('a.news_id', '=', n.id))
      .select(['p.id', 'p.first_name', 'p.last_name', 'p.profile', 'a.acknowledged_at']);
    if (state === 'done') q = q.where('a.person_id', 'is not', null);
    if (state === 'pending') q = q.where('a.person_id', 'is', null);
    return q.orderBy('p.last_name').orderBy('p.first_name').orderBy('p.id').offset(offset).limit(limit).execute();
  }

  /** Idempotent: acknowledging twice keeps the first time. */
  async acknowledge(newsId: string, personId: string, atMs: number): Promise<void> {
    await this.db.insertInto('news_acks').values({ news_id: newsId, person_id: personId, acknowledged_at: atMs }).onConflict((oc) => oc.columns(['news_id', 'person_id']).doNothing()).execute();
  }

  async ackOf(newsId: string, personId: string): Promise<number | null> {
    const row = await this.db.selectFrom('news_acks').select('acknowledged_at').where('news_id', '=', newsId).where('person_id', '=', personId).executeTakeFirst();
    return row?.acknowledged_at ?? null;
  }

  /**
   * Published news asking for acknowledgement that this person has acknowledged (the personal part
   * of "Aujourd'hui"): starts from the person's own acknowledgements (index), bounded.
   */
  async acknowledgedCurrent(personId: string, nowMs: number, limit: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('news_acks as a')
      .innerJoin('news as n', 'n.id', 'a.news_id')
      .select('n.id')
      .where('a.person_id', '=', personId)
      .where('n.withdrawn_at', 'is', null)
      .where('n.publish_from', '<=', nowMs)
      .where((eb) => eb.or([eb('n.publish_until', 'is', null), eb('n.publish_until', '>', nowMs)]))
      .orderBy('a.acknowledged_at', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => r.id);
  }

  attachments(newsId: string): Promise<NewsAttachmentRow[]> {
    return this.db.selectFrom('news_attachments').selectAll().where('news_id', '=', newsId).orderBy('created_at').orderBy('id').execute();
  }

  findAttachment(newsId: string, id: string): Promise<NewsAttachmentRow | undefined> {
    return this.db.selectFrom('news_attachments').selectAll().where('news_id', '=', newsId).where('id', '=', id).executeTakeFirst();
  }

  /** Records the blob's description once (content-addressed) and the attachment, together. */
  async insertAttachment(blob: Database['blobs'], row: NewsAttachmentRow): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx.insertInto('blobs').values(blob).onConflict((oc) => oc.column('sha256').doNothing()).execute();
      await tx.insertInto('news_attachments').values(row).execute();
    });
  }

  async deleteAttachment(newsId: string, id: string): Promise<boolean> {
    const r = await this.db.deleteFrom('news_attachments').where('news_id', '=', newsId).where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
}
