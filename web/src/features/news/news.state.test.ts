import { describe, expect, it } from 'vitest';
import { localToIso, newsHref, readState, textToHtml } from './news.state.js';

describe('news client logic', () => {
  it('tells "à lire" from "lu" only for news asking for acknowledgement, once the personal part is known', () => {
    const acked = new Set(['a']);
    expect(readState({ id: 'a', requiresAck: true }, acked)).toBe('read');
    expect(readState({ id: 'b', requiresAck: true }, acked)).toBe('toRead');
    expect(readState({ id: 'b', requiresAck: false }, acked)).toBeUndefined();
    expect(readState({ id: 'b', requiresAck: true }, undefined)).toBeUndefined();
  });

  it('turns typed text into escaped paragraphs', () => {
    expect(textToHtml('Bonjour <b>\nà tous\n\n\nFin')).toBe('<p>Bonjour &#60;b&#62;<br>à tous</p><p>Fin</p>');
    expect(textToHtml('  \n\n ')).toBe('');
  });

  it('reads form values and builds links', () => {
    expect(localToIso('')).toBeUndefined();
    expect(localToIso('pas une date')).toBeUndefined();
    expect(localToIso('2026-09-07T08:00')).toMatch(/^2026-09-07T\d\d:00:00.000Z$/);
    expect(newsHref('x y')).toBe('/actualites?id=x%20y');
  });
});
