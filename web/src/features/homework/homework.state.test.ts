import { describe, expect, it } from 'vitest';
import type { HomeworkEntry } from '../../api/types.js';
import { addDays, contentSignature, formatBytes, groupByDay, groupBySubject, HandinAttempt, parisToday } from './homework.state.js';

const entry = (id: string, date: string, subject: string | null, title = id): HomeworkEntry => ({
  id, kind: 'travail', title, bodyHtml: '', links: [], date, dueAt: null, estimatedMinutes: null, onlineHandin: false,
  subject: subject ? { id: subject, label: subject } : null, audience: { kind: 'class', id: 'c', name: '4e B' }, teacher: null, state: 'published', publishAt: null, attachments: [],
});

describe('cahier de textes state', () => {
  it('groups by day in date order and by subject with unlabelled last', () => {
    const list = [entry('a', '2026-09-09', 'Maths'), entry('b', '2026-09-08', 'Histoire'), entry('c', '2026-09-08', null), entry('d', '2026-09-09', 'Anglais')];
    expect(groupByDay(list).map((g) => [g.key, g.entries.map((e) => e.id)])).toEqual([
      ['2026-09-08', ['c', 'b']],
      ['2026-09-09', ['d', 'a']],
    ]);
    expect(groupBySubject(list, 'Autre').map((g) => g.key)).toEqual(['Anglais', 'Histoire', 'Maths', 'Autre']);
  });

  it('knows the Paris day around midnight UTC and adds days across months', () => {
    expect(parisToday(Date.parse('2026-09-07T22:30:00Z'))).toBe('2026-09-08');
    expect(parisToday(Date.parse('2026-12-31T22:59:00Z'))).toBe('2026-12-31');
    expect(addDays('2026-09-30', 1)).toBe('2026-10-01');
    expect(addDays('2026-03-02', -2)).toBe('2026-02-28');
  });

  it('keeps one Idempotency-Key through retries of the same content, a new one after a receipt or a change', () => {
    let n = 0;
    const attempt = new HandinAttempt(() => `key-${++n}`);
    const sig = contentSignature('Exercice 1', [{ name: 'copie.jpg', size: 1000, lastModified: 1 }]);
    expect(attempt.keyFor(sig)).toBe('key-1');
    expect(attempt.keyFor(sig)).toBe('key-1');
    expect(attempt.keyFor(contentSignature('Exercice 1 et 2', []))).toBe('key-2');
    attempt.succeeded();
    expect(attempt.keyFor(sig)).toBe('key-3');
  });

  it('writes sizes the French way', () => {
    expect(formatBytes(12, 'fr')).toBe('12 octets');
    expect(formatBytes(1536, 'fr')).toBe('1,5 Ko');
    expect(formatBytes(2.5 * 1024 * 1024, 'en')).toBe('2.5 MB');
  });
});
