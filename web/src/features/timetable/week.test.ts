import { describe, expect, it } from 'vitest';
import type { Slot } from '../../api/types.js';
import { mondayOf, shiftWeek, weekDays } from './week.js';

const slot = (id: string, startsAt: string): Slot => ({ id, startsAt, endsAt: startsAt, subject: null, teacher: null, room: null, status: 'normal', note: null, audience: null });

describe('week view', () => {
  it('finds the Monday and moves by weeks across months', () => {
    expect(mondayOf('2026-09-10')).toBe('2026-09-07');
    expect(mondayOf('2026-09-13')).toBe('2026-09-07');
    expect(mondayOf('2026-09-07')).toBe('2026-09-07');
    expect(shiftWeek('2026-09-28', 1)).toBe('2026-10-05');
    expect(shiftWeek('2026-09-07', -1)).toBe('2026-08-31');
  });

  it('puts lessons on their Paris day (late UTC evening is the next day), Monday to Friday, Saturday only when used', () => {
    const days = weekDays('2026-09-07', [slot('b', '2026-09-07T10:00:00Z'), slot('a', '2026-09-07T06:30:00Z'), slot('late', '2026-09-08T22:30:00Z')]);
    expect(days.map((d) => d.date)).toEqual(['2026-09-07', '2026-09-08', '2026-09-09', '2026-09-10', '2026-09-11']);
    expect(days[0]!.slots.map((s) => s.id)).toEqual(['a', 'b']);
    expect(days[2]!.slots.map((s) => s.id)).toEqual(['late']);
    expect(weekDays('2026-09-07', [slot('sat', '2026-09-12T08:00:00Z')]).length).toBe(6);
  });
});
