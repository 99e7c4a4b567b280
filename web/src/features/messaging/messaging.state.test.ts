import { describe, expect, it } from 'vitest';
import { ApiError } from '../../api/client.js';
import { errorMessage } from '../../app/errors.js';
import {
  addPick, attachmentProblem, budget, composeProblem, MAX_BODY_HTML_CHARS, MAX_CHOSEN_RECIPIENTS, MAX_SUBJECT_CHARS, moveActive, optionsOf, refsOf, removePick, replySubject, searchOf,
  textToHtml, htmlToText, viewOf, type Choice,
} from './messaging.state.js';

const teacher: Choice = { kind: 'person', id: 'teacherA', name: 'M. Prof' };
const parents6A: Choice = { kind: 'class', id: 'class6A', name: '6e A', audience: 'parents' };
const pupils6A: Choice = { kind: 'class', id: 'class6A', name: '6e A', audience: 'pupils' };

describe('the address of a messagerie view', () => {
  it('reads folders, a conversation, the form and a search, and writes them back', () => {
    expect(viewOf('')).toEqual({ box: 'inbox', conversation: undefined, compose: false, search: undefined });
    expect(viewOf('?dossier=envoyes')).toMatchObject({ box: 'sent' });
    expect(viewOf('?dossier=brouillons&ecrire')).toMatchObject({ box: 'drafts', compose: true });
    expect(viewOf('?dossier=nimporte')).toMatchObject({ box: 'inbox' });
    expect(viewOf('?conversation=m1')).toMatchObject({ conversation: 'm1' });
    // A one-letter search is not sent (the server needs two).
    expect(viewOf('?recherche=a').search).toBeUndefined();
    expect(viewOf('?recherche=%20sortie%20').search).toBe('sortie');
    expect(searchOf({ box: 'inbox' })).toBe('');
    expect(searchOf({ box: 'sent', conversation: 'm1' })).toBe('?dossier=envoyes&conversation=m1');
    expect(searchOf({ compose: true })).toBe('?ecrire');
    expect(viewOf(searchOf({ box: 'drafts', search: 'musée' }))).toMatchObject({ box: 'drafts', search: 'musée' });
    // The suivi opens the form with the pupil and their parents chosen; malformed entries are ignored.
    const prefill = [{ kind: 'person' as const, id: 'p1', name: 'Léa Martin' }, { kind: 'person' as const, id: 'r1', name: 'Parent de Léa Martin' }];
    expect(viewOf(searchOf({ compose: true, prefill }))).toMatchObject({ compose: true, prefill });
    expect(viewOf('?ecrire&a=bad%20id~X&a=ok~').prefill).toBeUndefined();
  });
});

describe('choosing recipients', () => {
  it('adds each once, tells a class’s parents from its pupils, removes, and stops at the server’s limit', () => {
    let to = addPick([], [], teacher);
    to = addPick(to, [], teacher);
    expect(to).toEqual([teacher]);
    to = addPick(to, [], parents6A);
    to = addPick(to, [], pupils6A);
    expect(to).toHaveLength(3);
    expect(removePick(to, 'class:class6A:pupils')).toEqual([teacher, parents6A]);
    const many: Choice[] = Array.from({ length: MAX_CHOSEN_RECIPIENTS - 1 }, (_, i) => ({ kind: 'person', id: `p${i}`, name: `P${i}` }));
    // to + cc together: the 50th fits, the 51st does not.
    expect(addPick([teacher], many, parents6A)).toEqual([teacher]);
    expect(addPick([], many, teacher)).toEqual([teacher]);
  });

  it('sends references as the server’s schema wants them', () => {
    expect(refsOf([teacher, parents6A])).toEqual([{ kind: 'person', id: 'teacherA' }, { kind: 'class', id: 'class6A', audience: 'parents' }]);
  });

  it('offers classes then people, without those already chosen', () => {
    const directory = { people: [{ kind: 'person' as const, id: 'teacherA', name: 'M. Prof', profile: 'enseignant' }, { kind: 'person' as const, id: 'cpeA', name: 'Mme CPE', profile: 'personnel' }], audiences: [parents6A, pupils6A], nextCursor: null };
    expect(optionsOf(directory, [teacher, pupils6A]).map((o) => o.id)).toEqual(['class6A', 'cpeA']);
  });

  it('moves the active option with the arrow keys, wrapping, and Home/End', () => {
    expect(moveActive(-1, 3, 'ArrowDown')).toBe(0);
    expect(moveActive(-1, 3, 'ArrowUp')).toBe(2);
    expect(moveActive(2, 3, 'ArrowDown')).toBe(0);
    expect(moveActive(0, 3, 'ArrowUp')).toBe(2);
    expect(moveActive(1, 3, 'Home')).toBe(0);
    expect(moveActive(1, 3, 'End')).toBe(2);
    expect(moveActive(0, 0, 'ArrowDown')).toBe(-1);
  });
});

describe('limits before sending', () => {
  it('says what is missing or too long', () => {
    const base = { to: [teacher], cc: [], subject: 'Sortie', body: 'Bonjour' };
    expect(composeProblem(base)).toBeUndefined();
    expect(composeProblem({ ...base, to: [] })).toBe('noRecipient');
    expect(composeProblem({ ...base, to: [], cc: [teacher] })).toBeUndefined();
    expect(composeProblem({ ...base, subject: ' ', body: '\n' })).toBe('empty');
    expect(composeProblem({ ...base, subject: 'x'.repeat(MAX_SUBJECT_CHARS + 1) })).toBe('subjectTooLong');
    expect(composeProblem({ ...base, body: 'x'.repeat(MAX_BODY_HTML_CHARS) })).toBe('bodyTooLong');
    // Escaping counts: "<" typed becomes 5 characters in HTML.
    expect(composeProblem({ ...base, body: '<'.repeat(MAX_BODY_HTML_CHARS / 4) })).toBe('bodyTooLong');
  });

  it('counts what is left', () => {
    expect(budget(190, 200)).toEqual({ used: 190, max: 200, left: 10, over: false });
    expect(budget(201, 200)).toMatchObject({ left: -1, over: true });
  });

  it('turns typed text into paragraphs, escaped', () => {
    expect(textToHtml('Bonjour,\nmerci.\n\n<b>A</b> & co')).toBe('<p>Bonjour,<br>merci.</p><p>&#60;b&#62;A&#60;/b&#62; &#38; co</p>');
    expect(textToHtml('  \n\n ')).toBe('');
  });

  it('turns a saved draft back into the text typed', () => {
    const typed = 'Bonjour,\nmerci.\n\n<b>A</b> & co';
    expect(htmlToText(textToHtml(typed))).toBe(typed);
    expect(htmlToText('<p>Un &amp; <strong>deux</strong></p><ul><li>trois</li></ul>')).toBe('Un & deux\n\ntrois');
  });

  it('refuses a sixth file or one over 10 MB or beyond 20 MB in all', () => {
    const mb = 1024 * 1024;
    expect(attachmentProblem([], { size: mb })).toBeUndefined();
    expect(attachmentProblem(Array.from({ length: 5 }, () => ({ sizeBytes: 1 })), { size: 1 })).toBe('tooMany');
    expect(attachmentProblem([], { size: 10 * mb + 1 })).toBe('fileTooLarge');
    expect(attachmentProblem([{ sizeBytes: 10 * mb }, { sizeBytes: 9 * mb }], { size: 2 * mb })).toBe('totalTooLarge');
  });
});

describe('replying', () => {
  it('replies say RE once', () => {
    expect(replySubject('Sortie')).toBe('RE : Sortie');
    expect(replySubject('RE : re: Sortie')).toBe('RE : Sortie');
    expect(replySubject('x'.repeat(MAX_SUBJECT_CHARS)).length).toBe(MAX_SUBJECT_CHARS);
  });
});

describe('refusals of the server, in French', () => {
  it('the send window and the reminder interval say how long to wait; an unknown id falls back to the server’s own words', () => {
    expect(errorMessage(new ApiError('http', 429, 'message.rate_limited', 'ignored', 90), 'fr')).toBe('Vous avez envoyé beaucoup de messages. Réessayez dans 2 minutes.');
    expect(errorMessage(new ApiError('http', 429, 'liaison.remind_too_soon', 'ignored', 3600), 'fr')).toBe('Un rappel vient d’être envoyé. Nouveau rappel possible dans 60 minutes.');
    expect(errorMessage(new ApiError('http', 403, 'message.recipient_forbidden', 'ignored', undefined), 'fr')).toBe('Vous ne pouvez pas écrire à l’un des destinataires choisis.');
    expect(errorMessage(new ApiError('http', 413, 'message.attachments_too_large', 'Les pièces jointes sont trop volumineuses (maximum 20 Mo en tout).', undefined), 'fr')).toBe('Les pièces jointes sont trop volumineuses (maximum 20 Mo en tout).');
  });
});
