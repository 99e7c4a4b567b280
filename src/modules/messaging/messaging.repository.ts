import { sql, type Kysely, type Selectable } from 'kysely';
import { chunkForInsert, type StorageCapabilities } from '../../storage/db.js';
import type { Database, MessageAttachmentsTable, MessageRecipientsTable, MessagesTable } from '../../storage/schema.js';

export type MessageRow = Selectable<MessagesTable>;
export type DeliveryRow = Selectable<MessageRecipientsTable>;
export type MessageAttachmentRow = Selectable<MessageAttachmentsTable>;

/** A message in a box, with what a list shows. */
export interface MessageSummary {
  id: string;
  thread_id: string;
  sender_id: string;
  sender_first_name: string | null;
  sender_last_name: string | null;
  sender_title: string | null;
  subject: string;
  to_json: string;
  sent_at: number | null;
  updated_at: number;
  read_at: number | null;
  attachment_count: number;
}

export type Box = 'inbox' | 'sent' | 'drafts';

export interface BoxFilter {
  personId: string;
  box: Box;
  /** Folded search words (already lower case without accents). */
  search?: string;
  after?: { atMs: number; id: string };
  limit: number;
}

export interface PersonName {
  id: string;
  first_name: string;
  last_name: string;
  title: string | null;
  profile: string;
}

/** `%` and `_` are LIKE wildcards; `\` is the escape declared in every LIKE of this file. */
export function likeContains(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** SQL of the messagerie. Reads other modules' directory tables (people, enrolments) only to expand recipients. */
export class MessagingRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly caps: StorageCapabilities,
  ) {}

  findMessage(id: string): Promise<MessageRow | undefined> {
    return this.db.selectFrom('messages').selectAll().where('id', '=', id).executeTakeFirst();
  }

  findDelivery(messageId: string, personId: string): Promise<DeliveryRow | undefined> {
    return this.db.selectFrom('message_recipients').selectAll().where('message_id', '=', messageId).where('person_id', '=', personId).executeTakeFirst();
  }

  async insertMessage(row: MessageRow): Promise<void> {
    await this.db.insertInto('messages').values(row).execute();
  }

  async updateMessage(id: string, patch: Partial<MessageRow>): Promise<void> {
    await this.db.updateTable('messages').set(patch).where('id', '=', id).execute();
  }

  /** Sends: the message row (new or a draft) and every delivery, in one transaction. */
  async send(row: MessageRow, isNew: boolean, deliveries: DeliveryRow[]): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      if (isNew) await tx.insertInto('messages').values(row).execute();
      else await tx.updateTable('messages').set(row).where('id', '=', row.id).where('sent_at', 'is', null).execute();
      for (const chunk of chunkForInsert(deliveries, 7, this.caps)) await tx.insertInto('message_recipients').values(chunk).execute();
    });
  }

  async setRead(messageId: string, personId: string, readAtMs: number | null): Promise<void> {
    await this.db.updateTable('message_recipients').set({ read_at: readAtMs }).where('message_id', '=', messageId).where('person_id', '=', personId).execute();
  }

  async deleteDelivery(messageId: string, personId: string, atMs: number): Promise<void> {
    await this.db.updateTable('message_recipients').set({ deleted_at: atMs }).where('message_id', '=', messageId).where('person_id', '=', personId).execute();
  }

  async unreadCount(personId: string): Promise<number> {
    const row = await this.db
      .selectFrom('message_recipients')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('person_id', '=', personId)
      .where('read_at', 'is', null)
      .where('deleted_at', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** One page of a box, newest first (keyset on the instant and id). */
  async box(f: BoxFilter): Promise<MessageSummary[]> {
    const attachments = sql<number | string>`(select count(*) from message_attachments a where a.message_id = m.id)`.as('attachment_count');
    if (f.box === 'inbox') {
      let q = this.base()
        .innerJoin('message_recipients as r', 'r.message_id', 'm.id')
        .select(['r.read_at', 'r.sent_at as box_at'])
        .select(attachments)
        .where('r.person_id', '=', f.personId)
        .where('r.deleted_at', 'is', null);
      if (f.search) q = q.where(sql<boolean>`m.search_text like ${likeContains(f.search)} escape '\\'`);
      if (f.after) {
        const { atMs, id } = f.after;
        q = q.where((eb) => eb.or([eb('r.sent_at', '<', atMs), eb.and([eb('r.sent_at', '=', atMs), eb('m.id', '<', id)])]));
      }
      const rows = await q.orderBy('r.sent_at', 'desc').orderBy('m.id', 'desc').limit(f.limit).execute();
      return rows.map((r) => ({ ...r, attachment_count: Number(r.attachment_count) }));
    }
    const at = f.box === 'sent' ? 'm.sent_at' : 'm.updated_at';
    let q = this.base()
      .select([sql<number | null>`null`.as('read_at'), attachments])
      .where('m.sender_id', '=', f.personId)
      .where('m.sender_deleted_at', 'is', null)
      .where('m.sent_at', f.box === 'sent' ? 'is not' : 'is', null);
    if (f.search) q = q.where(sql<boolean>`m.search_text like ${likeContains(f.search)} escape '\\'`);
    if (f.after) {
      const { atMs, id } = f.after;
      q = q.where((eb) => eb.or([eb(at, '<', atMs), eb.and([eb(at, '=', atMs), eb('m.id', '<', id)])]));
    }
    const rows = await q.orderBy(at, 'desc').orderBy('m.id', 'desc').limit(f.limit).execute();
    return rows.map((r) => ({ ...r, attachment_count: Number(r.attachment_count) }));
  }

  private base() {
    return this.db
      .selectFrom('messages as m')
      .leftJoin('people as s', 's.id', 'm.sender_id')
      .select(['m.id', 'm.thread_id', 'm.sender_id', 's.first_name as sender_first_name', 's.last_name as sender_last_name', 's.title as sender_title', 'm.subject', 'm.to_json', 'm.sent_at', 'm.updated_at']);
  }

  /** The messages of a conversation this person still has (sent by them or delivered to them), oldest first. */
  thread(threadId: string, personId: string, limit: number) {
    return this.db
      .selectFrom('messages as m')
      .leftJoin('people as s', 's.id', 'm.sender_id')
      .leftJoin('message_recipients as r', (j) => j.onRef('r.message_id', '=', 'm.id').on('r.person_id', '=', personId))
      .select(['m.id', 'm.sender_id', 's.first_name as sender_first_name', 's.last_name as sender_last_name', 's.title as sender_title', 'm.subject', 'm.sent_at', 'r.read_at'])
      .where('m.thread_id', '=', threadId)
      .where('m.sent_at', 'is not', null)
      .where((eb) => eb.or([eb.and([eb('m.sender_id', '=', personId), eb('m.sender_deleted_at', 'is', null)]), eb.and([eb('r.person_id', '=', personId), eb('r.deleted_at', 'is', null)])]))
      .orderBy('m.sent_at')
      .orderBy('m.id')
      .limit(limit)
      .execute();
  }

  senderName(personId: string): Promise<PersonName | undefined> {
    return this.db.selectFrom('people').select(['id', 'first_name', 'last_name', 'title', 'profile']).where('id', '=', personId).executeTakeFirst();
  }

  /** Names of the chosen people, classes, groups and schools (for "À : parents de 6e A"). */
  async names(kind: 'person' | 'class' | 'group' | 'school', ids: readonly string[]): Promise<Map<string, { name: string; schoolId: string | null }>> {
    if (ids.length === 0) return new Map();
    const list = [...ids];
    switch (kind) {
      case 'person': {
        const rows = await this.db.selectFrom('people').select(['id', 'first_name', 'last_name', 'title']).where('id', 'in', list).execute();
        return new Map(rows.map((r) => [r.id, { name: [r.title, r.first_name, r.last_name].filter(Boolean).join(' '), schoolId: null }]));
      }
      case 'class': {
        const rows = await this.db.selectFrom('classes').select(['id', 'name', 'school_id']).where('id', 'in', list).execute();
        return new Map(rows.map((r) => [r.id, { name: r.name, schoolId: r.school_id }]));
      }
      case 'group': {
        const rows = await this.db.selectFrom('teaching_groups').select(['id', 'name', 'school_id']).where('id', 'in', list).execute();
        return new Map(rows.map((r) => [r.id, { name: r.name, schoolId: r.school_id }]));
      }
      case 'school': {
        const rows = await this.db.selectFrom('schools').select(['id', 'name']).where('id', 'in', list).execute();
        return new Map(rows.map((r) => [r.id, { name: r.name, schoolId: r.id }]));
      }
    }
  }

  /** Everyone (not departed) a class or group reaches: its pupils, or their parents. Bounded by `limit`. */
  async audienceOf(kind: 'class' | 'group', id: string, audience: 'pupils' | 'parents', limit: number): Promise<string[]> {
    const pupils =
      kind === 'class'
        ? this.db.selectFrom('class_enrolments').select('person_id').where('class_id', '=', id)
        : this.db.selectFrom('group_members').select('person_id').where('group_id', '=', id);
    const rows =
      audience === 'pupils'
        ? await this.db.selectFrom('people').select('id').where('id', 'in', pupils).where('status', '!=', 'departed').limit(limit).execute()
        : await this.db
            .selectFrom('people')
            .select('id')
            .where('id', 'in', this.db.selectFrom('guardianships').select('parent_id').where('child_id', 'in', pupils))
            .where('status', '!=', 'departed')
            .limit(limit)
            .execute();
    return rows.map((r) => r.id);
  }

  /** Everyone (not departed) who is a member of the school. Bounded by `limit`. */
  async membersOf(schoolId: string, limit: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('people')
      .select('id')
      .where('id', 'in', this.db.selectFrom('school_members').select('person_id').where('school_id', '=', schoolId))
      .where('status', '!=', 'departed')
      .limit(limit)
      .execute();
    return rows.map((r) => r.id);
  }

  /**
   * Directory candidates: members of these schools and the parents of their pupils, by last name,
   * after the cursor. Who among them the actor may write to is decided by the service (policy).
   */
  directoryCandidates(schoolIds: readonly string[], excludeId: string, search: string | undefined, after: { lastName: string; id: string } | undefined, limit: number): Promise<PersonName[]> {
    if (schoolIds.length === 0) return Promise.resolve([]);
    const members = this.db.selectFrom('school_members').select('person_id').where('school_id', 'in', [...schoolIds]);
    let q = this.db
      .selectFrom('people as p')
      .select(['p.id', 'p.first_name', 'p.last_name', 'p.title', 'p.profile'])
      .where('p.status', '!=', 'departed')
      .where('p.id', '!=', excludeId)
      .where((eb) => eb.or([eb('p.id', 'in', members), eb('p.id', 'in', eb.selectFrom('guardianships').select('parent_id').where('child_id', 'in', members))]));
    if (search) {
      const pattern = likeContains(search);
      q = q.where(sql<boolean>`(lower(p.last_name) like ${pattern} escape '\\' or lower(p.first_name) like ${pattern} escape '\\')`);
    }
    if (after) q = q.where((eb) => eb.or([eb('p.last_name', '>', after.lastName), eb.and([eb('p.last_name', '=', after.lastName), eb('p.id', '>', after.id)])]));
    return q.orderBy('p.last_name').orderBy('p.id').limit(limit).execute();
  }

  /** Classes and groups of these schools (the directory's "a class's pupils / parents"). */
  async classesOf(schoolIds: readonly string[], limit: number) {
    if (schoolIds.length === 0) return { classes: [], groups: [] };
    const [classes, groups] = await Promise.all([
      this.db.selectFrom('classes').select(['id', 'name', 'school_id']).where('school_id', 'in', [...schoolIds]).orderBy('name').limit(limit).execute(),
      this.db.selectFrom('teaching_groups').select(['id', 'name', 'school_id']).where('school_id', 'in', [...schoolIds]).orderBy('name').limit(limit).execute(),
    ]);
    return { classes, groups };
  }

  schoolsNamed(ids: readonly string[]) {
    if (ids.length === 0) return Promise.resolve([]);
    return this.db.selectFrom('schools').select(['id', 'name']).where('id', 'in', [...ids]).orderBy('name').execute();
  }

  attachments(messageId: string): Promise<MessageAttachmentRow[]> {
    return this.db.selectFrom('message_attachments').selectAll().where('message_id', '=', messageId).orderBy('created_at').orderBy('id').execute();
  }

  findAttachment(messageId: string, id: string): Promise<MessageAttachmentRow | undefined> {
    return this.db.selectFrom('message_attachments').selectAll().where('message_id', '=', messageId).where('id', '=', id).executeTakeFirst();
  }

  /** Records the blob and the attachment together (the blob row may already exist: content-addressed). */
  async insertAttachment(blob: Database['blobs'], row: MessageAttachmentRow): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx.insertInto('blobs').values(blob).onConflict((oc) => oc.column('sha256').doNothing()).execute();
      await tx.insertInto('message_attachments').values(row).execute();
    });
  }

  async deleteAttachment(messageId: string, id: string): Promise<boolean> {
    const r = await this.db.deleteFrom('message_attachments').where('message_id', '=', messageId).where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
}
