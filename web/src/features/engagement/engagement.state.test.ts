import { describe, expect, it } from 'vitest';
import type { PupilLine } from './engagement.api.js';
import { sortLines, trendPoints, writeLink } from './engagement.state.js';

const line = (id: string, o: { lastSeenDay?: string | null; missing?: number; concern?: boolean } = {}): PupilLine => ({
  pupil: { id, firstName: id, lastName: 'X', classId: 'c', className: '6e A' },
  lastSeenDay: o.lastSeenDay ?? null, schoolDays: 4, daysSeen: 0,
  works: { due: 2, onTime: 0, late: 0, missing: o.missing ?? 0, opened: 0, done: 0 },
  classes: { held: 0, attended: 0, minutes: 0, audioOnly: 0, missedDays: [] },
  messagesRead: 0, parents: { ids: [], count: 0, everConnected: 0, liaisonsSigned: 0, liaisonsTotal: 0 },
  concerns: o.concern ? [{ rule: 'inactive', value: 3, threshold: 3 }] : [],
});

describe('the suivi table', () => {
  it('puts pupils of concern first whatever the column, then sorts by it', () => {
    const lines = [line('b', { lastSeenDay: '2026-09-08', missing: 1 }), line('a', { lastSeenDay: '2026-09-09' }), line('z', { concern: true })];
    expect(sortLines(lines, { key: 'name', descending: false }).map((l) => l.pupil.id)).toEqual(['z', 'a', 'b']);
    expect(sortLines(lines, { key: 'lastSeen', descending: false }).map((l) => l.pupil.id)).toEqual(['z', 'b', 'a']);
    expect(sortLines(lines, { key: 'works', descending: true }).map((l) => l.pupil.id)).toEqual(['z', 'b', 'a']);
  });
  it('writes to the pupil and their parents through the messagerie’s form', () => {
    expect(writeLink([{ id: 'p1', name: 'Léa Martin' }])).toBe('/messagerie?ecrire&a=p1%7EL%C3%A9a+Martin');
  });
  it('draws the trend in its box', () => {
    expect(trendPoints([0, 5, 10], 10, 100, 50)).toEqual([{ x: 0, y: 50 }, { x: 50, y: 25 }, { x: 100, y: 0 }]);
    expect(trendPoints([3], 0, 100, 50)).toEqual([{ x: 0, y: 0 }]);
  });
});
