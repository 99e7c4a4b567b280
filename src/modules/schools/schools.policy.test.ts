import { describe, expect, it } from 'vitest';
import type { Profile, StaffFunction } from '../../storage/schema.js';
import { canManageAccounts, canViewClass, canViewPerson, canListClassMembers, relations, type Scope } from './schools.policy.js';
import { canWrite, type Recipient } from './communication.policy.js';

function scope(id: string, profile: Profile, s: Partial<Omit<Scope, 'id' | 'profile'>> & { fn?: StaffFunction } = {}): Scope {
  const set = (v?: ReadonlySet<string>) => v ?? new Set<string>();
  return {
    id, profile, staffFunction: s.fn ?? null, status: s.status ?? 'active',
    schoolIds: set(s.schoolIds), classIds: set(s.classIds), groupIds: set(s.groupIds), taughtClassIds: set(s.taughtClassIds),
    taughtGroupIds: set(s.taughtGroupIds), childIds: set(s.childIds), childClassIds: set(s.childClassIds), childGroupIds: set(s.childGroupIds),
  };
}
const S = (...v: string[]) => new Set(v);

// Two schools: A (classes a1, a2, group gA) and B (class b1).
const W = {
  pupilA1: scope('pupilA1', 'eleve', { schoolIds: S('A'), classIds: S('a1'), groupIds: S('gA') }),
  pupilA1b: scope('pupilA1b', 'eleve', { schoolIds: S('A'), classIds: S('a1') }),
  pupilA2: scope('pupilA2', 'eleve', { schoolIds: S('A'), classIds: S('a2'), groupIds: S('gA') }),
  pupilB: scope('pupilB', 'eleve', { schoolIds: S('B'), classIds: S('b1') }),
  parentA1: scope('parentA1', 'parent', { schoolIds: S('A'), childIds: S('pupilA1'), childClassIds: S('a1'), childGroupIds: S('gA') }),
  parentB: scope('parentB', 'parent', { schoolIds: S('B'), childIds: S('pupilB'), childClassIds: S('b1') }),
  teacherA1: scope('teacherA1', 'enseignant', { schoolIds: S('A'), taughtClassIds: S('a1') }),
  teacherA2: scope('teacherA2', 'enseignant', { schoolIds: S('A'), taughtClassIds: S('a2') }),
  teacherB: scope('teacherB', 'enseignant', { schoolIds: S('B'), taughtClassIds: S('b1') }),
  cpeA: scope('cpeA', 'personnel', { schoolIds: S('A'), fn: 'cpe' }),
  dirA: scope('dirA', 'personnel', { schoolIds: S('A'), fn: 'direction' }),
  adminA: scope('adminA', 'admin_etablissement', { schoolIds: S('A') }),
  root: scope('root', 'admin_plateforme'),
  gone: scope('gone', 'eleve', { schoolIds: S('A'), classIds: S('a1'), status: 'departed' }),
};
type Key = keyof typeof W;
const KEYS = Object.keys(W) as Key[];

describe('relations', () => {
  it('derives teaching, classmates, and family links', () => {
    expect(relations(W.teacherA1, W.pupilA1).teaches).toBe(true);
    expect(relations(W.pupilA1, W.teacherA1).taughtBy).toBe(true);
    expect(relations(W.pupilA1, W.pupilA2).classmate).toBe(true); // same group gA
    expect(relations(W.pupilA1, W.pupilB).classmate).toBe(false);
    expect(relations(W.parentA1, W.pupilA1).parentOf).toBe(true);
    expect(relations(W.pupilA1, W.parentA1).childOf).toBe(true);
    expect(relations(W.teacherA1, W.parentA1).teachesChildOf).toBe(true);
    expect(relations(W.parentA1, W.teacherA1).teachesMyChild).toBe(true);
    expect(relations(W.parentA1, W.teacherA2).teachesMyChild).toBe(false);
  });
});

/** Who may see whom, written out in full: each row is the viewer, the list who they may see. */
const VIEW: Record<Key, Key[]> = {
  pupilA1: ['pupilA1', 'pupilA1b', 'pupilA2', 'parentA1', 'teacherA1', 'teacherA2', 'cpeA', 'dirA', 'adminA'],
  pupilA1b: ['pupilA1', 'pupilA1b', 'teacherA1', 'teacherA2', 'cpeA', 'dirA', 'adminA'],
  pupilA2: ['pupilA1', 'pupilA2', 'teacherA1', 'teacherA2', 'cpeA', 'dirA', 'adminA'],
  pupilB: ['pupilB', 'parentB', 'teacherB'],
  parentA1: ['pupilA1', 'parentA1', 'teacherA1', 'teacherA2', 'cpeA', 'dirA', 'adminA'],
  parentB: ['pupilB', 'parentB', 'teacherB'],
  teacherA1: ['pupilA1', 'pupilA1b', 'parentA1', 'teacherA1', 'teacherA2', 'cpeA', 'dirA', 'adminA', 'gone'],
  teacherA2: ['pupilA2', 'teacherA1', 'teacherA2', 'cpeA', 'dirA', 'adminA'],
  teacherB: ['pupilB', 'parentB', 'teacherB'],
  cpeA: ['pupilA1', 'pupilA1b', 'pupilA2', 'parentA1', 'teacherA1', 'teacherA2', 'cpeA', 'dirA', 'adminA', 'gone'],
  dirA: ['pupilA1', 'pupilA1b', 'pupilA2', 'parentA1', 'teacherA1', 'teacherA2', 'cpeA', 'dirA', 'adminA', 'gone'],
  adminA: ['pupilA1', 'pupilA1b', 'pupilA2', 'parentA1', 'teacherA1', 'teacherA2', 'cpeA', 'dirA', 'adminA', 'gone'],
  root: KEYS,
  gone: ['gone'],
};

/** Who may write to whom (messagerie). */
const WRITE: Record<Key, Key[]> = {
  pupilA1: ['pupilA1b', 'pupilA2', 'parentA1', 'teacherA1', 'cpeA', 'dirA', 'adminA'],
  pupilA1b: ['pupilA1', 'teacherA1', 'cpeA', 'dirA', 'adminA'],
  pupilA2: ['pupilA1', 'teacherA2', 'cpeA', 'dirA', 'adminA'],
  pupilB: ['parentB', 'teacherB'],
  parentA1: ['pupilA1', 'teacherA1', 'cpeA', 'dirA', 'adminA'],
  parentB: ['pupilB', 'teacherB'],
  teacherA1: ['pupilA1', 'pupilA1b', 'parentA1', 'teacherA2', 'cpeA', 'dirA', 'adminA'],
  teacherA2: ['pupilA2', 'teacherA1', 'cpeA', 'dirA', 'adminA'],
  teacherB: ['pupilB', 'parentB'],
  cpeA: ['pupilA1', 'pupilA1b', 'pupilA2', 'parentA1', 'teacherA1', 'teacherA2', 'dirA', 'adminA'],
  dirA: ['pupilA1', 'pupilA1b', 'pupilA2', 'parentA1', 'teacherA1', 'teacherA2', 'cpeA', 'adminA'],
  adminA: ['pupilA1', 'pupilA1b', 'pupilA2', 'parentA1', 'teacherA1', 'teacherA2', 'cpeA', 'dirA'],
  root: ['teacherA1', 'teacherA2', 'teacherB', 'cpeA', 'dirA', 'adminA'],
  gone: [],
};

describe('canViewPerson matrix', () => {
  for (const viewer of KEYS) {
    it(`${viewer} sees exactly ${VIEW[viewer].length} people`, () => {
      expect(KEYS.filter((t) => canViewPerson(W[viewer], W[t]))).toEqual(KEYS.filter((k) => VIEW[viewer].includes(k)));
    });
  }
});

describe('communication rules (canWrite) matrix', () => {
  for (const from of KEYS) {
    it(`${from} may write to exactly ${WRITE[from].length} people`, () => {
      expect(KEYS.filter((t) => canWrite(W[from], { kind: 'person', scope: W[t] }))).toEqual(KEYS.filter((k) => WRITE[from].includes(k)));
    });
  }

  it('only school staff reach a whole school, never pupils or parents or another school', () => {
    const school: Recipient = { kind: 'school', schoolId: 'A' };
    expect(KEYS.filter((k) => canWrite(W[k], school))).toEqual(['cpeA', 'dirA', 'adminA']);
  });

  it('teachers reach the classes they teach (pupils or parents); pupils reach no class as a whole', () => {
    const a1Parents: Recipient = { kind: 'class', id: 'a1', schoolId: 'A', group: false, audience: 'parents' };
    expect(KEYS.filter((k) => canWrite(W[k], a1Parents))).toEqual(['teacherA1', 'cpeA', 'dirA', 'adminA']);
    const groupA: Recipient = { kind: 'class', id: 'gA', schoolId: 'A', group: true, audience: 'pupils' };
    expect(KEYS.filter((k) => canWrite(W[k], groupA))).toEqual(['cpeA', 'dirA', 'adminA']);
  });
});

describe('classes and accounts', () => {
  it('parents see their child’s class but not its list of pupils', () => {
    const a1 = { id: 'a1', schoolId: 'A', kind: 'class' as const };
    expect(canViewClass(W.parentA1, a1)).toBe(true);
    expect(canListClassMembers(W.parentA1, a1)).toBe(false);
    expect(canListClassMembers(W.pupilA1, a1)).toBe(true);
    expect(canViewClass(W.teacherA2, a1)).toBe(false);
    expect(canViewClass(W.teacherB, a1)).toBe(false);
  });

  it('accounts are managed by the school admin, the direction and the platform admin only', () => {
    expect(KEYS.filter((k) => canManageAccounts(W[k], 'A'))).toEqual(['dirA', 'adminA', 'root']);
  });
});
