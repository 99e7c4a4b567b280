import { silentNotifier, type Notifier } from '../../platform/notify.js';
import { silentSignals, type EngagementSignals } from '../../platform/engagement-signals.js';
import type { Upload } from '../../http/uploads.js';
import { describeBytes } from '../../http/uploads.js';
import type { Clock } from '../../platform/clock.js';
import { AppError } from '../../platform/errors.js';
import { newId } from '../../platform/ids.js';
import { plainTextOf, sanitizeRichText } from '../../platform/rich-text.js';
import { canWrite, type Recipient, type SchoolsService, type Scope } from '../schools/index.js';
import { canEditDraft, canMarkRead, canReadMessage } from './messaging.policy.js';
import { SendRateLimit } from './messaging.rate-limit.js';
import type { Box, DeliveryRow, MessageAttachmentRow, MessageRow, MessageSummary, MessagingRepository, PersonName } from './messaging.repository.js';
import {
  MAX_ATTACHMENTS_PER_MESSAGE, MAX_ATTACHMENTS_TOTAL_BYTES, MAX_BODY_HTML_CHARS, MAX_EXPANDED_RECIPIENTS, MAX_THREAD_MESSAGES, pageSize,
  type DraftBody, type DraftPatch, type RecipientRef, type SendBody,
} from './messaging.schema.js';

/** A recipient as chosen, with the name shown in "À :" (stored with the message). */
export interface ChosenRecipient {
  kind: RecipientRef['kind'];
  id: string;
  audience?: 'pupils' | 'parents';
  name: string;
}

export interface MessageDetail {
  message: MessageRow;
  sender: PersonName | undefined;
  delivery: DeliveryRow | undefined;
  attachments: MessageAttachmentRow[];
  thread: Awaited<ReturnType<MessagingRepository['thread']>>;
}

export interface DirectoryEntry {
  kind: 'person' | 'class' | 'group' | 'school';
  id: string;
  name: string;
  profile?: string;
  audience?: 'pupils' | 'parents';
}

/** Candidates examined per directory request at most (each needs its scope): bounds the work of one call. */
export const DIRECTORY_SCAN_BUDGET = 200;
const DIRECTORY_BATCH = 50;
/** Classes and groups listed in the directory at most (a large lycée has about a hundred). */
const DIRECTORY_MAX_CLASSES = 300;

/** Lower case without accents: "Éléonore" and "eleonore" find each other, in SQL as plain LIKE. */
export function fold(text: string): string {
  return text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}

function parseCursor(cursor: string | undefined): { atMs: number; id: string } | undefined {
  if (!cursor) return undefined;
  const [at, id] = cursor.split('~') as [string, string];
  return { atMs: Number(at), id };
}

/** Messagerie: conversations, drafts, read state, search, the recipient directory and abuse control. */
export class MessagingService {
  private readonly rateLimit = new SendRateLimit();

  constructor(
    private readonly repo: MessagingRepository,
    private readonly schools: SchoolsService,
    private readonly clock: Clock,
    private readonly notifier: Notifier = silentNotifier,
    private readonly signals: EngagementSignals = silentSignals,
  ) {}

  /**
   * Checks every chosen recipient against the communication rules of the core and names it.
   * Unknown ids and forbidden ones are refused alike (ids are not probed). `index` says which.
   */
  private async resolve(actor: Scope, refs: readonly RecipientRef[], field: 'to' | 'cc'): Promise<ChosenRecipient[]> {
    const byKind = (k: RecipientRef['kind']) => [...new Set(refs.filter((r) => r.kind === k).map((r) => r.id))];
    const [people, classes, groups, schoolsNamed] = await Promise.all([
      this.repo.names('person', byKind('person')), this.repo.names('class', byKind('class')), this.repo.names('group', byKind('group')), this.repo.names('school', byKind('school')),
    ]);
    const out: ChosenRecipient[] = [];
    for (const [index, ref] of refs.entries()) {
      const forbidden = () => new AppError('message.recipient_forbidden', { details: { field, index } });
      let allowed = false;
      let name: string | undefined;
      if (ref.kind === 'person') {
        name = people.get(ref.id)?.name;
        if (name) {
          const target = await this.schools.scopeOf(ref.id).catch(() => undefined);
          allowed = target !== undefined && canWrite(actor, { kind: 'person', scope: target });
        }
      } else if (ref.kind === 'school') {
        name = schoolsNamed.get(ref.id)?.name;
        allowed = name !== undefined && canWrite(actor, { kind: 'school', schoolId: ref.id });
      } else {
        const found = (ref.kind === 'class' ? classes : groups).get(ref.id);
        if (found) {
          name = found.name;
          const to: Recipient = { kind: 'class', id: ref.id, schoolId: found.schoolId!, group: ref.kind === 'group', audience: ref.audience };
          allowed = canWrite(actor, to);
        }
      }
      if (!allowed || name === undefined) throw forbidden();
      out.push({ kind: ref.kind, id: ref.id, ...(ref.kind === 'class' || ref.kind === 'group' ? { audience: ref.audience } : {}), name });
    }
    return out;
  }

  /** The people a set of chosen recipients reaches (without the sender), bounded. */
  private async expand(actor: Scope, chosen: readonly ChosenRecipient[]): Promise<Set<string>> {
    const people = new Set<string>();
    const room = () => MAX_EXPANDED_RECIPIENTS + 1 - people.size;
    for (const c of chosen) {
      const ids =
        c.kind === 'person' ? [c.id]
        : c.kind === 'school' ? await this.repo.membersOf(c.id, room() + 1)
        : await this.repo.audienceOf(c.kind, c.id, c.audience!, room() + 1);
      for (const id of ids) if (id !== actor.id) people.add(id);
      if (people.size > MAX_EXPANDED_RECIPIENTS) throw new AppError('message.too_many_recipients', { params: { max: MAX_EXPANDED_RECIPIENTS } });
    }
    return people;
  }

  private sanitise(subject: string, bodyHtml: string) {
    const html = sanitizeRichText(bodyHtml);
    if (html.length > MAX_BODY_HTML_CHARS) throw new AppError('message.body_too_long', { params: { max: MAX_BODY_HTML_CHARS } });
    const cleanSubject = subject.replace(/[\u0000-\u001f\u007f]/g, ' ').trim();
    return { subject: cleanSubject, html, searchText: fold(`${cleanSubject} ${plainTextOf(html)}`) };
  }

  /** The conversation a reply joins: a message the actor can read, already sent. */
  private async threadOf(actor: Scope, replyTo: string | undefined): Promise<{ threadId: string; inReplyTo: string | null }> {
    if (!replyTo) return { threadId: newId(), inReplyTo: null };
    const parent = await this.repo.findMessage(replyTo);
    const delivery = parent && (await this.repo.findDelivery(parent.id, actor.id));
    if (!parent || parent.sent_at === null || !canReadMessage(actor, parent, delivery)) throw new AppError('message.not_found');
    return { threadId: parent.thread_id, inReplyTo: parent.id };
  }

  private checkRate(actor: Scope, nowMs: number): void {
    const d = this.rateLimit.check(actor.id, actor.profile, nowMs);
    if (!d.allow) throw new AppError('message.rate_limited', { retryAfterSeconds: Math.ceil(d.retryAfterMs / 1000) });
  }

  /** Sends a new message at once. */
  async send(actor: Scope, body: SendBody): Promise<MessageDetail> {
    const now = this.clock.nowMs();
    this.checkRate(actor, now);
    const { threadId, inReplyTo } = await this.threadOf(actor, body.replyTo);
    const row: MessageRow = {
      id: newId(), thread_id: threadId, in_reply_to: inReplyTo, sender_id: actor.id, subject: '', body_html: '', search_text: '', to_json: '[]', cc_json: '[]',
      created_at: now, updated_at: now, sent_at: null, sender_deleted_at: null,
    };
    return this.deliver(actor, row, true, body.to, body.cc ?? [], body.subject, body.bodyHtml, now);
  }

  private async deliver(actor: Scope, row: MessageRow, isNew: boolean, toRefs: readonly RecipientRef[], ccRefs: readonly RecipientRef[], subject: string, bodyHtml: string, now: number): Promise<MessageDetail> {
    const clean = this.sanitise(subject, bodyHtml);
    if (!clean.subject && !plainTextOf(clean.html)) throw new AppError('message.empty');
    if (toRefs.length + ccRefs.length === 0) throw new AppError('message.no_recipient');
    const [to, cc] = [await this.resolve(actor, toRefs, 'to'), await this.resolve(actor, ccRefs, 'cc')];
    const toPeople = await this.expand(actor, to);
    const ccPeople = await this.expand(actor, cc);
    for (const id of toPeople) ccPeople.delete(id);
    if (toPeople.size + ccPeople.size > MAX_EXPANDED_RECIPIENTS) throw new AppError('message.too_many_recipients', { params: { max: MAX_EXPANDED_RECIPIENTS } });
    // A class with nobody in it yet (or only the sender): nothing would be delivered.
    if (toPeople.size + ccPeople.size === 0) throw new AppError('message.no_recipient');
    const sent: MessageRow = {
      ...row, subject: clean.subject, body_html: clean.html, search_text: clean.searchText, to_json: JSON.stringify(to), cc_json: JSON.stringify(cc), updated_at: now, sent_at: now,
    };
    const deliveries: DeliveryRow[] = [
      ...[...toPeople].map((person_id) => ({ message_id: sent.id, person_id, kind: 'to', sent_at: now, read_at: null, deleted_at: null })),
      ...[...ccPeople].map((person_id) => ({ message_id: sent.id, person_id, kind: 'cc', sent_at: now, read_at: null, deleted_at: null })),
    ];
    await this.repo.send(sent, isNew, deliveries);
    this.rateLimit.record(actor.id, actor.profile, now);
    await this.notifier.notify({
      kind: 'message.received', schoolId: null, actorId: actor.id, title: sent.subject, link: `/messagerie?conversation=${sent.thread_id}`, subjectId: sent.id,
      recipientIds: deliveries.map((d) => d.person_id),
    });
    return this.detail(actor, sent.id);
  }

  async createDraft(actor: Scope, body: DraftBody): Promise<MessageDetail> {
    if (actor.status === 'departed') throw new AppError('access.forbidden');
    const now = this.clock.nowMs();
    const { threadId, inReplyTo } = await this.threadOf(actor, body.replyTo);
    const clean = this.sanitise(body.subject ?? '', body.bodyHtml ?? '');
    const [to, cc] = [await this.resolve(actor, body.to ?? [], 'to'), await this.resolve(actor, body.cc ?? [], 'cc')];
    const row: MessageRow = {
      id: newId(), thread_id: threadId, in_reply_to: inReplyTo, sender_id: actor.id, subject: clean.subject, body_html: clean.html, search_text: clean.searchText,
      to_json: JSON.stringify(to), cc_json: JSON.stringify(cc), created_at: now, updated_at: now, sent_at: null, sender_deleted_at: null,
    };
    await this.repo.insertMessage(row);
    return this.detail(actor, row.id);
  }

  private async draft(actor: Scope, messageId: string): Promise<MessageRow> {
    const m = await this.repo.findMessage(messageId);
    if (!m || !canReadMessage(actor, m, await this.repo.findDelivery(messageId, actor.id))) throw new AppError('message.not_found');
    // The author of a sent message is told why; a recipient may see it but never change it.
    if (m.sender_id !== actor.id) throw new AppError('access.forbidden');
    if (!canEditDraft(actor, m)) throw new AppError('message.not_draft');
    return m;
  }

  async updateDraft(actor: Scope, messageId: string, patch: DraftPatch): Promise<MessageDetail> {
    const m = await this.draft(actor, messageId);
    const clean = this.sanitise(patch.subject ?? m.subject, patch.bodyHtml ?? m.body_html);
    const to = patch.to ? await this.resolve(actor, patch.to, 'to') : undefined;
    const cc = patch.cc ? await this.resolve(actor, patch.cc, 'cc') : undefined;
    await this.repo.updateMessage(m.id, {
      subject: clean.subject, body_html: clean.html, search_text: clean.searchText, updated_at: this.clock.nowMs(),
      ...(to ? { to_json: JSON.stringify(to) } : {}), ...(cc ? { cc_json: JSON.stringify(cc) } : {}),
    });
    return this.detail(actor, m.id);
  }

  /** Sends a draft: its recipients are checked again (the rules may have changed since it was saved). */
  async sendDraft(actor: Scope, messageId: string): Promise<MessageDetail> {
    const m = await this.draft(actor, messageId);
    const now = this.clock.nowMs();
    this.checkRate(actor, now);
    const refs = (json: string) => (JSON.parse(json) as ChosenRecipient[]).map((c): RecipientRef => (c.kind === 'class' || c.kind === 'group' ? { kind: c.kind, id: c.id, audience: c.audience! } : { kind: c.kind, id: c.id }));
    return this.deliver(actor, m, false, refs(m.to_json), refs(m.cc_json), m.subject, m.body_html, now);
  }

  async detail(actor: Scope, messageId: string): Promise<MessageDetail> {
    const message = await this.repo.findMessage(messageId);
    const delivery = message && (await this.repo.findDelivery(message.id, actor.id));
    if (!message || !canReadMessage(actor, message, delivery)) throw new AppError('message.not_found');
    const [sender, attachments, thread] = await Promise.all([
      this.repo.senderName(message.sender_id),
      this.repo.attachments(message.id),
      message.sent_at === null ? Promise.resolve([]) : this.repo.thread(message.thread_id, actor.id, MAX_THREAD_MESSAGES),
    ]);
    return { message, sender, delivery, attachments, thread };
  }

  async markRead(actor: Scope, messageId: string, read: boolean): Promise<void> {
    const m = await this.repo.findMessage(messageId);
    const delivery = m && (await this.repo.findDelivery(m.id, actor.id));
    if (!m || !canReadMessage(actor, m, delivery)) throw new AppError('message.not_found');
    if (!canMarkRead(actor, m, delivery)) throw new AppError('access.forbidden');
    // Marking read twice keeps the first reading time.
    if (read && delivery!.read_at !== null) return;
    await this.repo.setRead(m.id, actor.id, read ? this.clock.nowMs() : null);
    if (read) {
      this.signals.messageRead(actor.id, this.clock.nowMs());
      await this.notifier.seen(actor.id, 'message.received', m.id);
    }
  }

  /** Removes the message from the actor's boxes (soft: the other side keeps theirs). */
  async remove(actor: Scope, messageId: string): Promise<void> {
    const m = await this.repo.findMessage(messageId);
    const delivery = m && (await this.repo.findDelivery(m.id, actor.id));
    if (!m || !canReadMessage(actor, m, delivery)) throw new AppError('message.not_found');
    const now = this.clock.nowMs();
    if (m.sender_id === actor.id && m.sender_deleted_at === null) await this.repo.updateMessage(m.id, { sender_deleted_at: now });
    if (delivery && delivery.deleted_at === null) await this.repo.deleteDelivery(m.id, actor.id, now);
  }

  async box(actor: Scope, box: Box, query: { cursor?: string | undefined; limit?: string | undefined; search?: string | undefined }): Promise<{ messages: MessageSummary[]; nextCursor: string | null }> {
    if (actor.status === 'departed') throw new AppError('access.forbidden');
    const limit = pageSize(query.limit);
    const search = query.search === undefined ? undefined : fold(query.search.trim());
    if (query.search !== undefined && (search ?? '').length < 2) throw new AppError('request.invalid', { details: { in: 'querystring', field: 'q', rule: 'minLength' } });
    const after = parseCursor(query.cursor);
    const messages = await this.repo.box({ personId: actor.id, box, limit, ...(search ? { search } : {}), ...(after ? { after } : {}) });
    const last = messages[messages.length - 1];
    const at = (m: MessageSummary) => (box === 'drafts' ? m.updated_at : m.sent_at!);
    return { messages, nextCursor: messages.length === limit && last ? `${at(last)}~${last.id}` : null };
  }

  unreadCount(actor: Scope): Promise<number> {
    return this.repo.unreadCount(actor.id);
  }

  /**
   * Who the actor may write to: people (filtered one by one by the communication rules), and on
   * the first page the classes, groups and schools they may write to. Bounded work per call: at
   * most DIRECTORY_SCAN_BUDGET candidates are examined; `nextCursor` continues after the last.
   */
  async directory(actor: Scope, query: { q?: string | undefined; cursor?: string | undefined; limit?: string | undefined }) {
    if (actor.status === 'departed') throw new AppError('access.forbidden');
    const limit = pageSize(query.limit);
    const search = query.q?.trim() ? query.q.trim().toLowerCase() : undefined;
    let after: { lastName: string; id: string } | undefined;
    if (query.cursor) {
      const cut = query.cursor.lastIndexOf('~');
      after = { lastName: query.cursor.slice(0, cut), id: query.cursor.slice(cut + 1) };
    }
    const schoolIds = [...actor.schoolIds];
    const people: DirectoryEntry[] = [];
    let scanned = 0;
    let exhausted = false;
    scan: while (people.length < limit && scanned < DIRECTORY_SCAN_BUDGET) {
      const batch = await this.repo.directoryCandidates(schoolIds, actor.id, search, after, DIRECTORY_BATCH);
      for (const p of batch) {
        scanned++;
        after = { lastName: p.last_name, id: p.id };
        const target = await this.schools.scopeOf(p.id).catch(() => undefined);
        if (target && canWrite(actor, { kind: 'person', scope: target })) {
          people.push({ kind: 'person', id: p.id, name: [p.title, p.first_name, p.last_name].filter(Boolean).join(' '), profile: p.profile });
        }
        if (people.length >= limit) break scan;
      }
      if (batch.length < DIRECTORY_BATCH) {
        exhausted = true;
        break;
      }
    }
    const audiences: DirectoryEntry[] = [];
    if (!query.cursor) {
      const { classes, groups } = await this.repo.classesOf(schoolIds, DIRECTORY_MAX_CLASSES);
      const needle = search ? fold(search) : undefined;
      const matches = (name: string) => !needle || fold(name).includes(needle);
      for (const [list, group] of [[classes, false], [groups, true]] as const) {
        for (const c of list) {
          if (!matches(c.name)) continue;
          for (const audience of ['pupils', 'parents'] as const) {
            if (canWrite(actor, { kind: 'class', id: c.id, schoolId: c.school_id, group, audience })) audiences.push({ kind: group ? 'group' : 'class', id: c.id, name: c.name, audience });
          }
        }
      }
      for (const s of await this.repo.schoolsNamed(schoolIds)) {
        if (matches(s.name) && canWrite(actor, { kind: 'school', schoolId: s.id })) audiences.push({ kind: 'school', id: s.id, name: s.name });
      }
    }
    return { people, audiences, nextCursor: exhausted || !after ? null : `${after.lastName}~${after.id}` };
  }

  async addAttachment(actor: Scope, messageId: string, upload: () => Promise<Upload>): Promise<MessageAttachmentRow> {
    const m = await this.draft(actor, messageId);
    const existing = await this.repo.attachments(m.id);
    if (existing.length >= MAX_ATTACHMENTS_PER_MESSAGE) throw new AppError('message.too_many_attachments', { params: { max: MAX_ATTACHMENTS_PER_MESSAGE } });
    const { files } = await upload();
    const file = files[0];
    if (!file) throw new AppError('request.invalid', { details: { in: 'body', field: 'file', rule: 'required' } });
    // The blob may stay in the store unreferenced when refused here; blobs are content-addressed and a sweep can collect them.
    const used = existing.reduce((sum, a) => sum + a.size_bytes, 0);
    if (used + file.sizeBytes > MAX_ATTACHMENTS_TOTAL_BYTES) throw new AppError('message.attachments_too_large', { params: { max: describeBytes(MAX_ATTACHMENTS_TOTAL_BYTES) } });
    const now = this.clock.nowMs();
    const row: MessageAttachmentRow = { id: newId(), message_id: m.id, blob_sha256: file.sha256, file_name: file.fileName, size_bytes: file.sizeBytes, content_type: file.contentType, created_at: now };
    await this.repo.insertAttachment({ sha256: file.sha256, size_bytes: file.sizeBytes, crc32: file.crc32, content_type: file.contentType, created_at: now }, row);
    await this.repo.updateMessage(m.id, { updated_at: now });
    return row;
  }

  async attachment(actor: Scope, messageId: string, attachmentId: string): Promise<MessageAttachmentRow> {
    await this.detailAccess(actor, messageId);
    const a = await this.repo.findAttachment(messageId, attachmentId);
    if (!a) throw new AppError('file.not_found');
    return a;
  }

  async deleteAttachment(actor: Scope, messageId: string, attachmentId: string): Promise<void> {
    const m = await this.draft(actor, messageId);
    if (!(await this.repo.deleteAttachment(m.id, attachmentId))) throw new AppError('file.not_found');
  }

  private async detailAccess(actor: Scope, messageId: string): Promise<void> {
    const m = await this.repo.findMessage(messageId);
    if (!m || !canReadMessage(actor, m, await this.repo.findDelivery(messageId, actor.id))) throw new AppError('message.not_found');
  }
}
