import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activeBackends } from '../../../test/support/backends.js';
import { startTestPreau, type TestPreau } from '../../../test/support/app.js';
import { PEOPLE, type PersonKey } from '../../../test/support/fixtures.js';
import { describeMatrix, type MatrixRow } from '../../../test/support/matrix.js';
import { multipart, PDF_BYTES } from '../../../test/support/multipart.js';
import { decideSend } from './messaging.rate-limit.js';
import { likeContains } from './messaging.repository.js';
import { fold } from './messaging.service.js';

const backends = await activeBackends();

const SIGNED_IN: PersonKey[] = [...PEOPLE].filter((p) => p !== 'departedPupil' && p !== 'pendingPupil');
const STAFF_A: PersonKey[] = ['cpeA', 'directionA', 'adminA'];
const mail = (to: object[], extra: object = {}) => ({ to, subject: 'Bonjour', bodyHtml: '<p>Un mot.</p>', ...extra });

/**
 * The authorisation matrix of the messagerie: who may write to whom is the core's communication
 * rules (schools/communication.policy.ts), so a refused recipient is a 403 with an id; who may
 * see a message is this module's policy, and a message one may not see does not exist (404).
 * Includes a parent of another pupil (parentB1), a teacher of another class (teacherB) and of
 * another school (teacherOther), a pupil of another class (pupilB1); the departed pupil below.
 */
const MATRIX: MatrixRow[] = [
  { name: 'the recipient directory', method: 'GET', url: '/api/v1/messages/directory', allowed: SIGNED_IN },
  { name: 'the unread count', method: 'GET', url: '/api/v1/messages/unread', allowed: SIGNED_IN },
  {
    name: 'write to teacher A', method: 'POST', url: '/api/v1/messages', payload: mail([{ kind: 'person', id: 'teacherA' }]), ok: 201, denied: 403,
    allowed: ['pupilA1', 'pupilA2', 'parentA1', 'teacherB', ...STAFF_A, 'platformAdmin'],
  },
  { name: 'write to the parents of 6e A', method: 'POST', url: '/api/v1/messages', payload: mail([{ kind: 'class', id: 'class6A', audience: 'parents' }]), ok: 201, denied: 403, allowed: ['teacherA', ...STAFF_A] },
  { name: 'write to the Latin group', method: 'POST', url: '/api/v1/messages', payload: mail([{ kind: 'group', id: 'groupLatin', audience: 'pupils' }]), ok: 201, denied: 403, allowed: ['teacherA', ...STAFF_A] },
  { name: 'write to the whole school', method: 'POST', url: '/api/v1/messages', payload: mail([{ kind: 'school', id: 'schoolA' }]), ok: 201, denied: 403, allowed: STAFF_A },
  { name: 'write to the departed pupil', method: 'POST', url: '/api/v1/messages', payload: mail([{ kind: 'person', id: 'departedPupil' }]), ok: 201, denied: 403, allowed: [] },
  { name: 'write to an unknown person', method: 'POST', url: '/api/v1/messages', payload: mail([{ kind: 'person', id: 'nobody' }]), ok: 201, denied: 403, allowed: [] },
  { name: 'read teacher A’s message to the parents of 6e A', method: 'GET', url: '/api/v1/messages/msgParents6A', allowed: ['teacherA', 'parentA1'] },
  { name: 'read teacher A’s draft', method: 'GET', url: '/api/v1/messages/msgDraftTeacherA', allowed: ['teacherA'] },
  { name: 'mark it read', method: 'PUT', url: '/api/v1/messages/msgParents6A/read', payload: { read: false }, allowed: ['parentA1'], forbidden: ['teacherA'] },
  { name: 'edit the draft', method: 'PATCH', url: '/api/v1/messages/drafts/msgDraftTeacherA', payload: { subject: 'Brouillon (suite)' }, allowed: ['teacherA'] },
  { name: 'edit a sent message', method: 'PATCH', url: '/api/v1/messages/drafts/msgParents6A', payload: { subject: 'Changé' }, allowed: ['teacherA'], ok: 409, forbidden: ['parentA1'] },
  {
    name: 'reply to it', method: 'POST', url: '/api/v1/messages', payload: mail([{ kind: 'person', id: 'teacherA' }], { replyTo: 'msgParents6A' }), ok: 201,
    allowed: ['parentA1'], forbidden: ['teacherA'],
  },
];

describe('messagerie: pure parts', () => {
  it('search text is folded (accents, case) and LIKE wildcards are escaped', () => {
    expect(fold('Éléonore À LA Plage')).toBe('eleonore a la plage');
    expect(likeContains('100%_a\\b')).toBe('%100\\%\\_a\\\\b%');
  });
  it('the send limit allows up to maxSends in the window, then says when to retry', () => {
    const limit = { windowMs: 60_000, maxSends: 2 };
    expect(decideSend([], 1_000_000, limit)).toEqual({ allow: true });
    expect(decideSend([999_000], 1_000_000, limit)).toEqual({ allow: true });
    expect(decideSend([990_000, 999_000], 1_000_000, limit)).toEqual({ allow: false, retryAfterMs: 50_000 });
    expect(decideSend([900_000, 999_000], 1_000_000, limit)).toEqual({ allow: true });
  });
});

describe.each(backends)('messagerie API on %s', (backend) => {
  let t: TestPreau;
  beforeAll(async () => {
    t = await startTestPreau(backend);
  });
  afterAll(async () => {
    await t?.close();
  });
  const as = (who: PersonKey) => t.as(who);
  const recipientsOf = async (messageId: string) =>
    (await t.preau.storage.db.selectFrom('message_recipients').select('person_id').where('message_id', '=', messageId).orderBy('person_id').execute()).map((r) => r.person_id);

  describeMatrix(MATRIX, SIGNED_IN, () => t);

  it('a class’s parents and pupils are expanded to people, never to departed ones nor the sender', async () => {
    const teacher = await as('teacherA');
    const parents = await teacher.request({ method: 'POST', url: '/api/v1/messages', payload: mail([{ kind: 'class', id: 'class6A', audience: 'parents' }]) });
    expect(parents.statusCode, parents.body).toBe(201);
    expect(await recipientsOf(parents.json().message.id)).toEqual(['parentA1']);
    const pupils = await teacher.request({ method: 'POST', url: '/api/v1/messages', payload: mail([{ kind: 'class', id: 'class6A', audience: 'pupils' }], { cc: [{ kind: 'person', id: 'pupilA1' }] }) });
    expect(pupils.statusCode, pupils.body).toBe(201);
    // pupilA1 is both in "to" (the class) and in "cc": delivered once, as "to".
    expect(await recipientsOf(pupils.json().message.id)).toEqual(['pendingPupil', 'pupilA1', 'pupilA2']);
    const kinds = await t.preau.storage.db.selectFrom('message_recipients').select(['person_id', 'kind']).where('message_id', '=', pupils.json().message.id).where('person_id', '=', 'pupilA1').execute();
    expect(kinds).toEqual([{ person_id: 'pupilA1', kind: 'to' }]);
    expect(pupils.json().message.to).toEqual([{ kind: 'class', id: 'class6A', name: '6e A', audience: 'pupils' }]);
  });

  it('a conversation: a parent writes to the teacher, who answers; read state and unread counts follow', async () => {
    const parent = await as('parentA1');
    const teacher = await as('teacherA');
    t.clock.advance(1_000);
    const unreadBefore = (await teacher.request({ method: 'GET', url: '/api/v1/messages/unread' })).json().unread as number;
    const sent = await parent.request({
      method: 'POST', url: '/api/v1/messages',
      payload: { to: [{ kind: 'person', id: 'teacherA' }], subject: 'Absence de Léa', bodyHtml: '<p>Léa sera absente <script>alert(1)</script><b>mardi</b>.</p><img src=x onerror=alert(1)>' },
    });
    expect(sent.statusCode, sent.body).toBe(201);
    const id = sent.json().message.id as string;
    expect(sent.json().message.bodyHtml).not.toMatch(/script|onerror|<img/);
    expect(sent.json().message.bodyHtml).toContain('<b>mardi</b>');

    expect((await teacher.request({ method: 'GET', url: '/api/v1/messages/unread' })).json().unread).toBe(unreadBefore + 1);
    const inbox = (await teacher.request({ method: 'GET', url: '/api/v1/messages?box=inbox&limit=5' })).json();
    expect(inbox.messages[0]).toMatchObject({ id, subject: 'Absence de Léa', read: false, from: { id: 'parentA1' } });
    expect((await teacher.request({ method: 'PUT', url: `/api/v1/messages/${id}/read`, payload: { read: true } })).statusCode).toBe(200);
    expect((await teacher.request({ method: 'GET', url: '/api/v1/messages/unread' })).json().unread).toBe(unreadBefore);

    t.clock.advance(1_000);
    const reply = await teacher.request({ method: 'POST', url: '/api/v1/messages', payload: { to: [{ kind: 'person', id: 'parentA1' }], subject: 'Re: Absence de Léa', bodyHtml: 'Bien noté.', replyTo: id } });
    expect(reply.statusCode, reply.body).toBe(201);
    expect(reply.json().message).toMatchObject({ threadId: sent.json().message.threadId, inReplyTo: id });
    const thread = (await parent.request({ method: 'GET', url: `/api/v1/messages/${reply.json().message.id}` })).json().message.thread as { id: string; read: boolean }[];
    expect(thread.map((m) => m.id)).toEqual([id, reply.json().message.id]);
    expect(thread.map((m) => m.read)).toEqual([true, false]);

    const sentBox = (await parent.request({ method: 'GET', url: '/api/v1/messages?box=sent' })).json();
    expect(sentBox.messages.map((m: { id: string }) => m.id)).toContain(id);
  });

  it('drafts: saved, edited, given an attachment, sent; then frozen', async () => {
    const teacher = await as('teacherA');
    const draft = await teacher.request({ method: 'POST', url: '/api/v1/messages/drafts', payload: { subject: 'Sortie', to: [{ kind: 'class', id: 'class6A', audience: 'parents' }] } });
    expect(draft.statusCode, draft.body).toBe(201);
    const id = draft.json().message.id as string;
    expect(draft.json().message.state).toBe('draft');
    const drafts = (await teacher.request({ method: 'GET', url: '/api/v1/messages?box=drafts' })).json();
    expect(drafts.messages.map((m: { id: string }) => m.id)).toContain(id);
    // Nobody receives a draft.
    expect(await recipientsOf(id)).toEqual([]);
    expect((await teacher.request({ method: 'PATCH', url: `/api/v1/messages/drafts/${id}`, payload: { bodyHtml: '<p>Autorisation jointe.</p>' } })).statusCode).toBe(200);
    const file = multipart([{ name: 'file', file: { fileName: 'autorisation.pdf', data: PDF_BYTES } }]);
    const att = await teacher.request({ method: 'POST', url: `/api/v1/messages/drafts/${id}/attachments`, payload: file.payload, headers: file.headers });
    expect(att.statusCode, att.body).toBe(201);
    expect(att.json().attachment).toMatchObject({ fileName: 'autorisation.pdf', contentType: 'application/pdf' });

    const sent = await teacher.request({ method: 'POST', url: `/api/v1/messages/drafts/${id}/send` });
    expect(sent.statusCode, sent.body).toBe(200);
    expect(sent.json().message).toMatchObject({ state: 'sent', bodyHtml: '<p>Autorisation jointe.</p>' });
    expect(await recipientsOf(id)).toEqual(['parentA1']);

    const parent = await as('parentA1');
    const got = (await parent.request({ method: 'GET', url: `/api/v1/messages/${id}` })).json().message;
    expect(got.attachments).toHaveLength(1);
    const download = await parent.request({ method: 'GET', url: got.attachments[0].url });
    expect(download.statusCode).toBe(200);
    expect(download.rawPayload.equals(PDF_BYTES)).toBe(true);
    // Another parent does not get the file.
    expect((await (await as('parentB1')).request({ method: 'GET', url: got.attachments[0].url })).statusCode).toBe(404);

    expect((await teacher.request({ method: 'PATCH', url: `/api/v1/messages/drafts/${id}`, payload: { subject: 'Trop tard' } })).json().error.id).toBe('message.not_draft');
    expect((await teacher.request({ method: 'POST', url: `/api/v1/messages/drafts/${id}/send` })).json().error.id).toBe('message.not_draft');
    const again = multipart([{ name: 'file', file: { fileName: 'b.pdf', data: PDF_BYTES } }]);
    expect((await teacher.request({ method: 'POST', url: `/api/v1/messages/drafts/${id}/attachments`, payload: again.payload, headers: again.headers })).json().error.id).toBe('message.not_draft');
  });

  it('search in one’s own mail: accents and case ignored, wildcards literal, nobody else’s mail', async () => {
    const parent = await as('parentA1');
    const found = (await parent.request({ method: 'GET', url: '/api/v1/messages/search?q=MUSÉE' })).json();
    expect(found.messages.map((m: { id: string }) => m.id)).toContain('msgParents6A');
    expect((await parent.request({ method: 'GET', url: '/api/v1/messages/search?q=%25%25' })).json().messages).toEqual([]);
    expect((await parent.request({ method: 'GET', url: '/api/v1/messages/search?q=__' })).json().messages).toEqual([]);
    const other = (await (await as('parentB1')).request({ method: 'GET', url: '/api/v1/messages/search?q=musee' })).json();
    expect(other.messages).toEqual([]);
    const tooShort = await parent.request({ method: 'GET', url: '/api/v1/messages/search?q=a' });
    expect(tooShort.statusCode).toBe(400);
  });

  it('boxes are paginated with a maximum page size', async () => {
    const staff = await as('cpeA');
    for (let i = 0; i < 3; i++) {
      t.clock.advance(1_000);
      expect((await staff.request({ method: 'POST', url: '/api/v1/messages', payload: mail([{ kind: 'person', id: 'directionA' }], { subject: `Page ${i}` }) })).statusCode).toBe(201);
    }
    const direction = await as('directionA');
    const first = (await direction.request({ method: 'GET', url: '/api/v1/messages?limit=2' })).json();
    expect(first.messages.map((m: { subject: string }) => m.subject)).toEqual(['Page 2', 'Page 1']);
    const second = (await direction.request({ method: 'GET', url: `/api/v1/messages?limit=2&cursor=${encodeURIComponent(first.nextCursor)}` })).json();
    expect(second.messages[0].subject).toBe('Page 0');
    const big = (await direction.request({ method: 'GET', url: '/api/v1/messages?limit=999' })).json();
    expect(big.messages.length).toBeLessThanOrEqual(50);
  });

  it('the directory follows the communication rules', async () => {
    const names = async (who: PersonKey) => {
      const d = (await (await as(who)).request({ method: 'GET', url: '/api/v1/messages/directory?limit=50' })).json();
      return { people: d.people.map((p: { id: string }) => p.id).sort(), audiences: d.audiences.map((a: { kind: string; id: string; audience?: string }) => `${a.kind}:${a.id}:${a.audience ?? ''}`).sort() };
    };
    const parent = await names('parentA1');
    expect(parent.people).toEqual(expect.arrayContaining(['pupilA1', 'teacherA', 'cpeA', 'directionA', 'adminA']));
    expect(parent.people).not.toContain('teacherB');
    expect(parent.people).not.toContain('pupilA2');
    expect(parent.people).not.toContain('departedPupil');
    expect(parent.audiences).toEqual([]);
    const teacher = await names('teacherA');
    expect(teacher.people).toEqual(expect.arrayContaining(['pupilA1', 'pupilA2', 'parentA1', 'teacherB']));
    expect(teacher.people).not.toContain('pupilB1');
    expect(teacher.people).not.toContain('parentB1');
    expect(teacher.audiences).toEqual(['class:class6A:parents', 'class:class6A:pupils', 'group:groupLatin:parents', 'group:groupLatin:pupils']);
    expect((await names('directionA')).audiences).toContain('school:schoolA:');
    const filtered = (await (await as('teacherA')).request({ method: 'GET', url: '/api/v1/messages/directory?q=pupila' })).json();
    expect(filtered.people.map((p: { id: string }) => p.id).sort()).toEqual(['pupilA1', 'pupilA2']);
    const page = (await (await as('teacherA')).request({ method: 'GET', url: '/api/v1/messages/directory?limit=1' })).json();
    expect(page.people).toHaveLength(1);
    expect(page.nextCursor).toBeTruthy();
    const next = (await (await as('teacherA')).request({ method: 'GET', url: `/api/v1/messages/directory?limit=1&cursor=${encodeURIComponent(page.nextCursor)}` })).json();
    expect(next.people[0].id).not.toBe(page.people[0].id);
    expect(next.audiences).toEqual([]);
  });

  it('limits: recipients, empty messages, body size, send rate', async () => {
    const teacher = await as('teacherB');
    const tooMany = Array.from({ length: 51 }, () => ({ kind: 'person', id: 'cpeA' }));
    expect((await teacher.request({ method: 'POST', url: '/api/v1/messages', payload: mail(tooMany) })).json().error.id).toBe('request.invalid');
    expect((await teacher.request({ method: 'POST', url: '/api/v1/messages', payload: mail([]) })).json().error.id).toBe('message.no_recipient');
    expect((await teacher.request({ method: 'POST', url: '/api/v1/messages', payload: mail([{ kind: 'person', id: 'cpeA' }], { subject: ' ', bodyHtml: '<p> </p>' }) })).json().error.id).toBe('message.empty');
    // Under the input limit, but over the sanitised limit once escaped (each "<" becomes "&lt;").
    const body = '<'.repeat(59_000);
    const long = await teacher.request({ method: 'POST', url: '/api/v1/messages', payload: mail([{ kind: 'person', id: 'cpeA' }], { bodyHtml: body }) });
    expect(long.statusCode).toBe(413);
    expect(long.json().error.id).toBe('message.body_too_long');
    // A teacher in a class cannot send to another's class parents.
    expect((await teacher.request({ method: 'POST', url: '/api/v1/messages', payload: mail([{ kind: 'class', id: 'class6A', audience: 'parents' }]) })).json().error).toMatchObject({ id: 'message.recipient_forbidden', details: { field: 'to', index: 0 } });

    const pupil = await as('pupilA2');
    t.clock.advance(11 * 60_000);
    let refused: { statusCode: number; headers: Record<string, unknown>; json(): { error: { id: string } } } | undefined;
    for (let i = 0; i < 11 && !refused; i++) {
      const res = await pupil.request({ method: 'POST', url: '/api/v1/messages', payload: mail([{ kind: 'person', id: 'teacherA' }]) });
      if (res.statusCode !== 201) refused = res;
      else expect(i).toBeLessThan(10);
    }
    expect(refused?.statusCode).toBe(429);
    expect(refused?.json().error.id).toBe('message.rate_limited');
    expect(Number(refused?.headers['retry-after'])).toBeGreaterThan(0);
    t.clock.advance(11 * 60_000);
    expect((await pupil.request({ method: 'POST', url: '/api/v1/messages', payload: mail([{ kind: 'person', id: 'teacherA' }]) })).statusCode).toBe(201);
  });

  it('deleting removes the message from one’s own box only', async () => {
    const parent = await as('parentA1');
    const teacher = await as('teacherA');
    const sent = await parent.request({ method: 'POST', url: '/api/v1/messages', payload: mail([{ kind: 'person', id: 'teacherA' }], { subject: 'À supprimer' }) });
    const id = sent.json().message.id as string;
    expect((await teacher.request({ method: 'DELETE', url: `/api/v1/messages/${id}` })).statusCode).toBe(204);
    expect((await teacher.request({ method: 'GET', url: `/api/v1/messages/${id}` })).statusCode).toBe(404);
    expect((await parent.request({ method: 'GET', url: `/api/v1/messages/${id}` })).statusCode).toBe(200);
    // Soft: the row stays (retention), only the teacher's delivery is marked.
    expect(await recipientsOf(id)).toEqual(['teacherA']);
  });

  it('a pupil who has left can neither send nor receive', async () => {
    const pupil = await as('pupilB1');
    const teacherB = await as('teacherB');
    expect((await teacherB.request({ method: 'POST', url: '/api/v1/messages', payload: mail([{ kind: 'person', id: 'pupilB1' }]) })).statusCode).toBe(201);
    await t.preau.storage.db.updateTable('people').set({ status: 'departed', departed_at: t.clock.nowMs() }).where('id', '=', 'pupilB1').execute();
    t.preau.schools.forgetScopes();
    const res = await pupil.request({ method: 'POST', url: '/api/v1/messages', payload: mail([{ kind: 'person', id: 'teacherB' }]) });
    expect([401, 403]).toContain(res.statusCode);
    const inbox = await pupil.request({ method: 'GET', url: '/api/v1/messages' });
    expect([401, 403]).toContain(inbox.statusCode);
    const toDeparted = await teacherB.request({ method: 'POST', url: '/api/v1/messages', payload: mail([{ kind: 'person', id: 'pupilB1' }]) });
    expect(toDeparted.json().error.id).toBe('message.recipient_forbidden');
    const toClass = await teacherB.request({ method: 'POST', url: '/api/v1/messages', payload: mail([{ kind: 'class', id: 'class6B', audience: 'pupils' }]) });
    // 6e B has no one else: nothing to deliver.
    expect(toClass.json().error.id).toBe('message.no_recipient');
    await t.preau.storage.db.updateTable('people').set({ status: 'active', departed_at: null }).where('id', '=', 'pupilB1').execute();
    t.preau.schools.forgetScopes();
  });
});
