import { describe, expect, it } from 'vitest';
import type { Scope } from '../schools/index.js';
import { scope, set } from '../../../test/support/scopes.js';
import { canAcknowledge, canManage, canRead, canWriteFor, stateOf, type NewsRef } from './news.policy.js';

const NOW = 1_000_000;

/** Everyone the policy must tell apart (school S, class C, group G; school T is another school). */
const WHO = {
  pupilC: scope('pupilC', 'eleve', { classIds: set('C'), groupIds: set('G') }),
  pupilD: scope('pupilD', 'eleve', { classIds: set('D') }),
  departedPupilC: scope('departedPupilC', 'eleve', { status: 'departed', classIds: set('C'), groupIds: set('G') }),
  parentC: scope('parentC', 'parent', { childIds: set('pupilC'), childClassIds: set('C'), childGroupIds: set('G') }),
  parentD: scope('parentD', 'parent', { childIds: set('pupilD'), childClassIds: set('D') }),
  parentOtherSchool: scope('parentOtherSchool', 'parent', { schoolIds: set('T'), childClassIds: set('X') }),
  teacherC: scope('teacherC', 'enseignant', { taughtClassIds: set('C'), taughtGroupIds: set('G') }),
  teacherD: scope('teacherD', 'enseignant', { taughtClassIds: set('D') }),
  teacherOtherSchool: scope('teacherOtherSchool', 'enseignant', { schoolIds: set('T'), taughtClassIds: set('C') }),
  cpe: scope('cpe', 'personnel', { staffFunction: 'cpe' }),
  direction: scope('direction', 'personnel', { staffFunction: 'direction' }),
  adminS: scope('adminS', 'admin_etablissement'),
  staffOtherSchool: scope('staffOtherSchool', 'personnel', { schoolIds: set('T') }),
  platform: scope('platform', 'admin_plateforme', { schoolIds: set() }),
};
type Who = keyof typeof WHO;
const ALL = Object.keys(WHO) as Who[];

const news = (kind: string, audienceId: string, o: Partial<NewsRef> = {}): NewsRef => ({
  school_id: 'S', author_id: 'teacherC', audience_kind: kind, audience_id: audienceId, publish_from: NOW - 1, publish_until: null, requires_ack: 1, withdrawn_at: null, ...o,
});
const SCHOOL = news('school', 'S', { author_id: 'direction' });
const CLASS = news('class', 'C');
const GROUP = news('group', 'G');

// The matrix written out: who is expected to be allowed, everyone else is refused.
const STAFF: Who[] = ['cpe', 'direction', 'adminS'];
const ROWS: [string, (a: Scope) => boolean, Who[]][] = [
  ['write a school news', (a) => canWriteFor(a, { kind: 'school', id: 'S', schoolId: 'S' }), STAFF],
  ['write a class C news', (a) => canWriteFor(a, { kind: 'class', id: 'C', schoolId: 'S' }), ['teacherC', ...STAFF]],
  ['write a group G news', (a) => canWriteFor(a, { kind: 'group', id: 'G', schoolId: 'S' }), ['teacherC', ...STAFF]],
  ['read the school news', (a) => canRead(a, SCHOOL, NOW), ['pupilC', 'pupilD', 'parentC', 'parentD', 'teacherC', 'teacherD', ...STAFF]],
  ['read the class C news', (a) => canRead(a, CLASS, NOW), ['pupilC', 'parentC', 'teacherC', ...STAFF]],
  ['read the group G news', (a) => canRead(a, GROUP, NOW), ['pupilC', 'parentC', 'teacherC', ...STAFF]],
  ['read a scheduled class C news', (a) => canRead(a, { ...CLASS, publish_from: NOW + 1 }, NOW), ['teacherC', ...STAFF]],
  ['read a draft', (a) => canRead(a, { ...CLASS, publish_from: null }, NOW), ['teacherC', ...STAFF]],
  ['read an expired news', (a) => canRead(a, { ...CLASS, publish_until: NOW }, NOW), ['teacherC', ...STAFF]],
  ['read a withdrawn news', (a) => canRead(a, { ...CLASS, withdrawn_at: NOW - 1 }, NOW), ['teacherC', ...STAFF]],
  ['manage the class C news', (a) => canManage(a, CLASS), ['teacherC', ...STAFF]],
  ['acknowledge the class C news', (a) => canAcknowledge(a, CLASS, NOW), ['pupilC', 'parentC', ...STAFF]],
  ['acknowledge the school news', (a) => canAcknowledge(a, SCHOOL, NOW), ['pupilC', 'pupilD', 'parentC', 'parentD', 'teacherC', 'teacherD', 'cpe', 'adminS']],
  ['acknowledge a news that does not ask for it', (a) => canAcknowledge(a, { ...SCHOOL, requires_ack: 0 }, NOW), []],
];

describe('actualités policy matrix', () => {
  it.each(ROWS)('%s', (_name, decide, allowed) => {
    const got = ALL.filter((who) => decide(WHO[who]));
    expect(got.sort()).toEqual([...allowed].sort());
  });

  it('states of the publication window', () => {
    expect(stateOf({ ...CLASS, publish_from: null }, NOW)).toBe('draft');
    expect(stateOf({ ...CLASS, publish_from: NOW + 1 }, NOW)).toBe('scheduled');
    expect(stateOf({ ...CLASS, publish_from: NOW }, NOW)).toBe('published');
    expect(stateOf({ ...CLASS, publish_until: NOW + 1 }, NOW)).toBe('published');
    expect(stateOf({ ...CLASS, publish_until: NOW }, NOW)).toBe('expired');
    expect(stateOf({ ...CLASS, withdrawn_at: 1 }, NOW)).toBe('withdrawn');
  });
});
