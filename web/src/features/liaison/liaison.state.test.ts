import { describe, expect, it } from 'vitest';
import type { LiaisonNote } from '../../api/types.js';
import { afterReminder, liaisonAudiences, MIN_REMINDER_INTERVAL_MS, parentNotes, reminderAvailability, signedAtOf, signedShare, splitToSign } from './liaison.state.js';

const T0 = Date.parse('2026-09-07T06:00:00Z');
const note = (over: Partial<LiaisonNote> = {}): LiaisonNote => ({
  id: 'n1', title: 'Sortie', audience: { kind: 'class', id: 'c', name: '6e A' }, createdAt: '2026-09-07T05:00:00.000Z', reminders: 0, lastRemindedAt: null, signed: 1, total: 3, ...over,
});

describe('Relancer: when it is allowed, and why not', () => {
  it('allowed at first, with three reminders left', () => {
    expect(reminderAvailability(note(), T0)).toEqual({ allowed: true, left: 3 });
  });

  it('not again within a day of the last one, and says when', () => {
    const reminded = afterReminder(note(), T0);
    expect(reminded).toMatchObject({ reminders: 1, lastRemindedAt: new Date(T0).toISOString() });
    expect(reminderAvailability(reminded, T0 + 3600_000)).toEqual({ allowed: false, reason: 'tooSoon', atMs: T0 + MIN_REMINDER_INTERVAL_MS });
    expect(reminderAvailability(reminded, T0 + MIN_REMINDER_INTERVAL_MS)).toEqual({ allowed: true, left: 2 });
  });

  it('never after the third, nor when everybody has signed', () => {
    expect(reminderAvailability(note({ reminders: 3, lastRemindedAt: new Date(T0 - 5 * MIN_REMINDER_INTERVAL_MS).toISOString() }), T0)).toEqual({ allowed: false, reason: 'exhausted' });
    expect(reminderAvailability(note({ signed: 3, total: 3 }), T0)).toEqual({ allowed: false, reason: 'allSigned' });
  });
});

describe('a parent’s notes', () => {
  it('one line per note however many children; signed only when signed for each', () => {
    const rows = [
      note({ id: 'n1', pupilId: 'a', signedAt: '2026-09-07T07:00:00.000Z' }),
      note({ id: 'n1', pupilId: 'b', signedAt: null }),
      note({ id: 'n2', pupilId: 'a', signedAt: '2026-09-07T07:00:00.000Z' }),
    ];
    const notes = parentNotes(rows);
    expect(notes.map((n) => [n.note.id, n.pupilIds, n.signedAt])).toEqual([['n1', ['a', 'b'], null], ['n2', ['a'], '2026-09-07T07:00:00.000Z']]);
    const { toSign, signed } = splitToSign(notes);
    expect(toSign.map((n) => n.note.id)).toEqual(['n1']);
    expect(signed.map((n) => n.note.id)).toEqual(['n2']);
  });

  it('the signing time is the latest of the children’s', () => {
    expect(signedAtOf(['2026-09-07T07:00:00.000Z', '2026-09-07T08:00:00.000Z'])).toBe('2026-09-07T08:00:00.000Z');
    expect(signedAtOf([])).toBeNull();
  });
});

describe('who a note can go to', () => {
  it('classes’ and groups’ parents and pupils from the directory; not pupils as an audience, not the school, not adults', () => {
    const directory = {
      people: [{ kind: 'person' as const, id: 'pupilA1', name: 'Élève A1', profile: 'eleve' }, { kind: 'person' as const, id: 'parentA1', name: 'Parent', profile: 'parent' }],
      audiences: [
        { kind: 'class' as const, id: 'class6A', name: '6e A', audience: 'parents' as const },
        { kind: 'class' as const, id: 'class6A', name: '6e A', audience: 'pupils' as const },
        { kind: 'group' as const, id: 'latin', name: 'Latin', audience: 'parents' as const },
        { kind: 'school' as const, id: 'schoolA', name: 'Collège' },
      ],
      nextCursor: null,
    };
    expect(liaisonAudiences(directory)).toEqual([
      { kind: 'class', id: 'class6A', name: '6e A' },
      { kind: 'group', id: 'latin', name: 'Latin' },
      { kind: 'pupil', id: 'pupilA1', name: 'Élève A1' },
    ]);
  });

  it('share signed in whole percent', () => {
    expect(signedShare(1, 3)).toBe(33);
    expect(signedShare(0, 0)).toBe(0);
  });
});
