import { describe, expect, it } from 'vitest';
import { parisWallTimeToUtcMs } from '../../platform/clock.js';
import type { SchoolCalendar } from '../timetable/index.js';
import { concernsOf, consecutiveMissedClasses, DEFAULT_THRESHOLDS, isSchoolDay, lastSchoolDays, missingWorks, ruleText, schoolDaysWithoutConnection } from './engagement.rules.js';

// 2026-2027: Toussaint holidays from Saturday 17 October to Sunday 1 November 2026.
const CAL: SchoolCalendar = {
  yearStart: '2026-09-01', yearEnd: '2027-07-03', weekAMonday: '2026-09-07',
  holidays: [{ label: 'Toussaint', firstDay: '2026-10-17', lastDay: '2026-11-01' }, { label: 'Armistice', firstDay: '2026-11-11', lastDay: '2026-11-11' }],
};

describe('school days', () => {
  it('are Monday to Friday, inside the year, outside holidays', () => {
    expect(isSchoolDay(CAL, '2026-09-07')).toBe(true); // lundi
    expect(isSchoolDay(CAL, '2026-09-12')).toBe(false); // samedi
    expect(isSchoolDay(CAL, '2026-09-13')).toBe(false); // dimanche
    expect(isSchoolDay(CAL, '2026-10-19')).toBe(false); // Toussaint
    expect(isSchoolDay(CAL, '2026-11-11')).toBe(false); // férié
    expect(isSchoolDay(CAL, '2026-08-31')).toBe(false); // avant la rentrée
    expect(isSchoolDay(undefined, '2026-10-19')).toBe(true); // no calendar: Monday to Friday
  });
  it('the last 10 school days skip weekends and holidays', () => {
    expect(lastSchoolDays(CAL, '2026-11-03', 4)).toEqual(['2026-10-15', '2026-10-16', '2026-11-02', '2026-11-03']);
    expect(lastSchoolDays(CAL, '2026-11-13', 10)).toHaveLength(10);
    expect(lastSchoolDays(CAL, '2026-11-13', 10)).not.toContain('2026-11-11');
  });
});

describe('pas connecté depuis N jours d’école', () => {
  it('counts school days only, today once the day is over', () => {
    // Last seen Thursday 10 September; today Monday 14 after school: Friday and Monday count, the weekend does not.
    expect(schoolDaysWithoutConnection({ cal: CAL, today: '2026-09-14', todayOver: true, lastSeenDay: '2026-09-10' })).toBe(2);
    // Same Monday morning: today does not count yet.
    expect(schoolDaysWithoutConnection({ cal: CAL, today: '2026-09-14', todayOver: false, lastSeenDay: '2026-09-10' })).toBe(1);
    // Seen on Saturday: a connection on any day stops the count.
    expect(schoolDaysWithoutConnection({ cal: CAL, today: '2026-09-14', todayOver: true, lastSeenDay: '2026-09-12' })).toBe(1);
    // Seen today.
    expect(schoolDaysWithoutConnection({ cal: CAL, today: '2026-09-14', todayOver: true, lastSeenDay: '2026-09-14' })).toBe(0);
  });
  it('holidays never count: the last Friday before Toussaint, then the Monday after', () => {
    expect(schoolDaysWithoutConnection({ cal: CAL, today: '2026-11-02', todayOver: true, lastSeenDay: '2026-10-16' })).toBe(1);
    expect(schoolDaysWithoutConnection({ cal: CAL, today: '2026-11-04', todayOver: true, lastSeenDay: '2026-10-16' })).toBe(3);
  });
  it('never seen: bounded by the days walked', () => {
    const n = schoolDaysWithoutConnection({ cal: CAL, today: '2026-09-30', todayOver: true, lastSeenDay: undefined });
    expect(n).toBe(22); // 1 to 30 September, weekdays
  });
});

describe('travaux non rendus, classes virtuelles manquées', () => {
  const now = parisWallTimeToUtcMs('2026-09-10', 12);
  const due = [
    { id: 'w1', due_at: parisWallTimeToUtcMs('2026-09-08', 8) },
    { id: 'w2', due_at: parisWallTimeToUtcMs('2026-09-09', 8) },
    { id: 'w3', due_at: parisWallTimeToUtcMs('2026-09-11', 8) }, // not due yet
  ];
  it('counts works due and not handed in', () => {
    expect(missingWorks(due, new Set(), now)).toBe(2);
    expect(missingWorks(due, new Set(['w1']), now)).toBe(1);
    expect(missingWorks(due, new Set(['w1', 'w2', 'w3']), now)).toBe(0);
  });
  it('counts the latest classes missed in a row', () => {
    const sessions = [{ id: 's3' }, { id: 's2' }, { id: 's1' }];
    expect(consecutiveMissedClasses(sessions, new Set())).toBe(3);
    expect(consecutiveMissedClasses(sessions, new Set(['s2']))).toBe(1);
    expect(consecutiveMissedClasses(sessions, new Set(['s3']))).toBe(0);
    expect(consecutiveMissedClasses([], new Set())).toBe(0);
  });
});

describe('concerns', () => {
  it('fire at their thresholds, stated in words, no score', () => {
    expect(concernsOf({ schoolDaysWithoutConnection: 2, missingWorks: 1, missedClassesInARow: 1 }, DEFAULT_THRESHOLDS)).toEqual([]);
    expect(concernsOf({ schoolDaysWithoutConnection: 3, missingWorks: 2, missedClassesInARow: 2 }, DEFAULT_THRESHOLDS).map((c) => c.rule)).toEqual(['inactive', 'missing_works', 'missed_classes']);
    expect(concernsOf({ schoolDaysWithoutConnection: 1, missingWorks: 0, missedClassesInARow: 0 }, { ...DEFAULT_THRESHOLDS, inactiveSchoolDays: 1 })).toEqual([{ rule: 'inactive', value: 1, threshold: 1 }]);
    expect(ruleText('inactive', 3)).toBe('pas connecté depuis 3 jours d’école');
    expect(ruleText('missing_works', 2)).toBe('2 travaux non rendus cette semaine');
    expect(ruleText('missed_classes', 2)).toBe('absent des 2 dernières classes virtuelles');
  });
});
