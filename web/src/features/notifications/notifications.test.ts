import { describe, expect, it } from 'vitest';
import { loadCatalogue, translate, type MessageKey } from '../../i18n/index.js';
import { sentenceOf, type Notification } from './live.js';
import { mergeFeed } from './notifications.api.js';

const n = (id: string, at: string, o: Partial<Notification> = {}): Notification => ({ id, kind: 'message.received', title: id, link: '/', subjectId: id, at, read: false, ...o });

describe('notifications (client logic)', () => {
  it('merges pushed items and loaded pages: newest first, each id once, the pushed copy kept', () => {
    const pushed = [n('c', '2026-09-07T08:00:00.000Z', { title: 'poussée' }), n('b', '2026-09-07T07:00:00.000Z')];
    const loaded = [n('b', '2026-09-07T07:00:00.000Z', { title: 'chargée' }), n('a', '2026-09-07T06:00:00.000Z'), n('d', '2026-09-07T09:00:00.000Z')];
    expect(mergeFeed(pushed, loaded).map((x) => x.id)).toEqual(['d', 'c', 'b', 'a']);
    expect(mergeFeed(pushed, loaded).find((x) => x.id === 'b')?.title).toBe('b');
  });

  it('says each kind in French and in English; an unknown kind or an empty title still reads well', async () => {
    await loadCatalogue('en');
    const fr = (key: MessageKey, params?: Record<string, string>) => translate('fr', key, params);
    const en = (key: MessageKey, params?: Record<string, string>) => translate('en', key, params);
    expect(sentenceOf({ kind: 'work.posted', title: 'Exposé' }, fr)).toBe('Nouveau travail à faire : « Exposé »');
    expect(sentenceOf({ kind: 'liaison.to_sign', title: 'Sortie' }, fr)).toBe('Mot du carnet de liaison à signer : « Sortie »');
    expect(sentenceOf({ kind: 'message.received', title: '' }, fr)).toBe('Nouveau message : « (sans titre) »');
    expect(sentenceOf({ kind: 'handin.returned', title: 'Fractions' }, en)).toBe('Your teacher returned the work “Fractions”');
    expect(sentenceOf({ kind: 'something.new', title: 'x' }, fr)).toBe('Nouveauté : « x »');
  });
});
