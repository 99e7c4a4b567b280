import { describe, expect, it } from 'vitest';
import type { HomeworkEntry } from '../../api/types.js';
import { sanitizeRichText } from '../../../../src/platform/rich-text.js';
import * as schema from '../../../../src/modules/homework/homework.schema.js';
import {
  applyMark, createBody, emptyFields, fieldsOf, htmlToMarkup, LIMITS, markupToHtml, ofAudience, stateLabel, teacherListQuery, updateBody, validateEntry, type EntryFields,
} from './entry-form.js';

const NOW = Date.parse('2026-09-07T05:45:00Z');
const fields = (over: Partial<EntryFields> = {}): EntryFields => ({ ...emptyFields('travail', '2026-09-09'), title: 'Exercice 7', ...over });
const entry = (over: Partial<HomeworkEntry>): HomeworkEntry => ({
  id: 'e1', kind: 'travail', title: 'T', bodyHtml: '', links: [], date: '2026-09-09', dueAt: null, estimatedMinutes: null, onlineHandin: false,
  subject: null, audience: { kind: 'class', id: 'c6A', name: '6e A' }, teacher: null, state: 'published', publishAt: null, attachments: [], ...over,
});

describe('the editor’s text', () => {
  it('becomes paragraphs, bold, italic, lists and links that the server’s allow-list keeps as they are', () => {
    const html = markupToHtml('Lire la **page 12** et _résumer_.\nSur une copie.\n\n- question 1\n- question 2\n\n1. d’abord\n2. ensuite\n\nVoir [le cours](https://example.org/cours?a=1&b=2).');
    expect(html).toBe(
      '<p>Lire la <strong>page 12</strong> et <em>résumer</em>.<br>Sur une copie.</p><ul><li>question 1</li><li>question 2</li></ul><ol><li>d’abord</li><li>ensuite</li></ol>' +
        '<p>Voir <a href="https://example.org/cours?a=1&amp;b=2">le cours</a>.</p>',
    );
    // What the server keeps (it adds rel/target to links): nothing of the structure is lost.
    expect(sanitizeRichText(html).replace(/ rel="[^"]*" target="_blank"/g, '')).toBe(html);
  });

  it('escapes what the teacher types: markup in the text stays text, a javascript: link is not a link', () => {
    const html = markupToHtml('<script>alert(1)</script> & [x](javascript:alert(1))');
    expect(html).toBe('<p>&lt;script&gt;alert(1)&lt;/script&gt; &amp; [x](javascript:alert(1))</p>');
    expect(sanitizeRichText(html)).toBe(html);
  });

  it('comes back from the server’s HTML for editing, and round-trips', () => {
    const text = 'Lire la **page 12** et _résumer_.\nSur une copie.\n\n- question 1\n- question 2\n\n1. d’abord\n2. ensuite\n\nVoir [le cours](https://example.org/cours?a=1&b=2).';
    const served = sanitizeRichText(markupToHtml(text));
    expect(htmlToMarkup(served)).toBe(text);
    expect(htmlToMarkup('<p>Lire <b>chapitre 3</b></p><h3>Titre</h3><p>a &lt; b</p>')).toBe('Lire **chapitre 3**\n\nTitre\n\na < b');
  });

  it('toolbar buttons wrap the selection and select what to type next', () => {
    expect(applyMark('Lire la page 12', 8, 15, 'bold')).toEqual({ value: 'Lire la **page 12**', start: 10, end: 17 });
    expect(applyMark('Lire', 4, 4, 'italic')).toEqual({ value: 'Lire_texte en italique_', start: 5, end: 22 });
    expect(applyMark('a\nb\nc', 2, 5, 'list').value).toBe('a\n- b\n- c');
    const link = applyMark('Voir le cours', 5, 13, 'link');
    expect(link.value).toBe('Voir [le cours](https://)');
    expect(link.value.slice(link.start, link.end)).toBe('https://');
  });
});

describe('the entry form', () => {
  it('uses the server’s limits', () => {
    expect(LIMITS.titleChars).toBe(schema.MAX_TITLE_CHARS);
    expect(LIMITS.bodyInputChars).toBe(schema.MAX_BODY_INPUT_CHARS);
    expect(LIMITS.links).toBe(schema.MAX_LINKS);
    expect(LIMITS.attachments).toBe(schema.MAX_ATTACHMENTS_PER_ENTRY);
    expect(LIMITS.attachmentBytes).toBe(schema.MAX_ATTACHMENT_BYTES);
    expect(schema.CreateEntryBody.properties.estimatedMinutes.anyOf[0]).toMatchObject({ maximum: LIMITS.estimatedMinutesMax });
    expect(schema.VisaBody.properties.comment.maxLength).toBe(LIMITS.visaCommentChars);
  });

  it('refuses what the server would refuse, field by field', () => {
    expect(validateEntry(fields(), [], 0, NOW)).toEqual({});
    expect(validateEntry(fields({ title: '  ', date: '' }), [], 0, NOW)).toEqual({ title: 'entryForm.error.titleRequired', date: 'entryForm.error.dateRequired' });
    expect(validateEntry(fields({ title: 'x'.repeat(201) }), [], 0, NOW).title).toBe('entryForm.error.titleTooLong');
    expect(validateEntry(fields({ estimatedMinutes: '601' }), [], 0, NOW).estimatedMinutes).toBe('entryForm.error.minutes');
    expect(validateEntry(fields({ estimatedMinutes: '2.5' }), [], 0, NOW).estimatedMinutes).toBe('entryForm.error.minutes');
    expect(validateEntry(fields({ kind: 'seance', estimatedMinutes: '601' }), [], 0, NOW)).toEqual({});
    expect(validateEntry(fields({ links: [{ url: 'javascript:alert(1)', label: '' }] }), [], 0, NOW).links).toBe('entryForm.error.linkUrl');
    expect(validateEntry(fields({ links: Array.from({ length: 11 }, () => ({ url: 'https://a.fr', label: '' })) }), [], 0, NOW).links).toBe('entryForm.error.tooManyLinks');
    expect(validateEntry(fields(), [{ name: 'a.pdf', size: 20 * 1024 * 1024 + 1 }], 0, NOW).attachments).toBe('entryForm.error.fileTooLarge');
    expect(validateEntry(fields(), [{ name: 'a.pdf', size: 1 }], 10, NOW).attachments).toBe('entryForm.error.tooManyFiles');
    expect(validateEntry(fields({ publish: 'later', publishAt: '2026-09-07T07:00' }), [], 0, NOW).publishAt).toBe('entryForm.error.publishAt');
    expect(validateEntry(fields({ publish: 'later', publishAt: '2026-09-07T18:00' }), [], 0, NOW)).toEqual({});
  });

  it('makes the API’s bodies: a séance has no deadline, time or hand-in; a travail keeps them', () => {
    const audience = { classId: null, groupId: 'gLatin', subjectId: null };
    expect(createBody(fields({ kind: 'seance', text: 'Vu **Rome**', dueTime: '10:00', estimatedMinutes: '20', onlineHandin: true, links: [{ url: ' https://a.fr ', label: '' }, { url: '', label: '' }] }), audience)).toEqual({
      kind: 'seance', groupId: 'gLatin', title: 'Exercice 7', bodyHtml: '<p>Vu <strong>Rome</strong></p>', links: [{ url: 'https://a.fr' }], date: '2026-09-09', publishAt: 'now',
    });
    const travail = createBody(fields({ dueTime: '10:00', estimatedMinutes: '20', publish: 'later', publishAt: '2026-09-07T18:00' }), { classId: 'c6A', groupId: null, subjectId: 'maths' });
    expect(travail).toMatchObject({ kind: 'travail', classId: 'c6A', subjectId: 'maths', dueTime: '10:00', estimatedMinutes: 20, onlineHandin: false, publishAt: new Date('2026-09-07T18:00').toISOString() });
    expect(createBody(fields({ publish: 'draft' }), audience).publishAt).toBeNull();
    expect(updateBody(fields({ estimatedMinutes: '' }))).toMatchObject({ estimatedMinutes: null });
    expect(updateBody(fields())).not.toHaveProperty('publishAt');
  });

  it('fills the form from an entry, its deadline in Paris time', () => {
    const f = fieldsOf(entry({ bodyHtml: '<p><strong>A</strong></p>', dueAt: '2026-09-09T08:30:00.000Z', estimatedMinutes: 30, links: [{ url: 'https://a.fr/', label: 'https://a.fr/' }], state: 'draft' }));
    expect(f).toMatchObject({ text: '**A**', dueTime: '10:30', estimatedMinutes: '30', links: [{ url: 'https://a.fr/', label: '' }], publish: 'draft' });
  });

  it('labels each state and filters the teacher’s list', () => {
    expect(stateLabel({ state: 'draft', publishAt: null })).toEqual({ key: 'homework.state.draft' });
    expect(stateLabel({ state: 'scheduled', publishAt: '2026-09-08T16:00:00.000Z' })).toEqual({ key: 'homework.state.scheduledAt', publishAt: '2026-09-08T16:00:00.000Z' });
    expect(stateLabel({ state: 'published', publishAt: '2026-09-01T16:00:00.000Z' })).toEqual({ key: 'homework.state.published' });
    expect(teacherListQuery('seance')).toBe('kind=seance&limit=100');
    expect(teacherListQuery('')).toBe('limit=100');
    const list = [entry({ id: 'a' }), entry({ id: 'b', audience: { kind: 'group', id: 'gLatin', name: 'Latin' } })];
    expect(ofAudience(list, { classId: null, groupId: 'gLatin' }).map((e) => e.id)).toEqual(['b']);
    expect(ofAudience(list, { classId: 'c6A', groupId: null }).map((e) => e.id)).toEqual(['a']);
    expect(ofAudience(list, undefined)).toHaveLength(2);
  });
});
