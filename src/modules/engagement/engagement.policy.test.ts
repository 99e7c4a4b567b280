import { describe, expect, it } from 'vitest';
import type { Scope } from '../schools/index.js';
import { scope, set } from '../../../test/support/scopes.js';
import { canAdminister, canViewClass, canViewPupil, canViewSchool } from './engagement.policy.js';


/** Everyone the policy must tell apart (school S, class C, group G; school T is another school). */
const WHO = {
  pupilC: scope('pupilC', 'eleve', { classIds: set('C'), groupIds: set('G') }),
  classmateC: scope('classmateC', 'eleve', { classIds: set('C') }),
  pendingPupilC: scope('pendingPupilC', 'eleve', { status: 'pending_activation', classIds: set('C') }),
  parentC: scope('parentC', 'parent', { childIds: set('pupilC'), childClassIds: set('C'), childGroupIds: set('G') }),
  departedParentC: scope('departedParentC', 'parent', { status: 'departed', childIds: set('pupilC'), childClassIds: set('C') }),
  parentD: scope('parentD', 'parent', { childIds: set('pupilD'), childClassIds: set('D') }),
  teacherC: scope('teacherC', 'enseignant', { taughtClassIds: set('C') }),
  teacherG: scope('teacherG', 'enseignant', { taughtGroupIds: set('G') }),
  teacherD: scope('teacherD', 'enseignant', { taughtClassIds: set('D') }),
  teacherOtherSchool: scope('teacherOtherSchool', 'enseignant', { schoolIds: set('T'), taughtClassIds: set('C') }),
  cpe: scope('cpe', 'personnel', { staffFunction: 'cpe' }),
  direction: scope('direction', 'personnel', { staffFunction: 'direction' }),
  vieScolaire: scope('vieScolaire', 'personnel', { staffFunction: 'vie_scolaire' }),
  documentation: scope('documentation', 'personnel', { staffFunction: 'documentation' }),
  adminS: scope('adminS', 'admin_etablissement'),
  cpeOtherSchool: scope('cpeOtherSchool', 'personnel', { staffFunction: 'cpe', schoolIds: set('T') }),
  platform: scope('platform', 'admin_plateforme', { schoolIds: set() }),
};
type Who = keyof typeof WHO;
const ALL = Object.keys(WHO) as Who[];
const PUPIL_C = { id: 'pupilC', schoolIds: set('S'), classIds: set('C'), groupIds: set('G') };

// The matrix written out: who is allowed; everyone else is refused.
const EXPECTED: { name: string; allowed: Who[]; check: (a: Scope) => boolean }[] = [
  { name: 'see pupil C’s signals', allowed: ['pupilC', 'parentC', 'teacherC', 'teacherG', 'cpe', 'direction'], check: (a) => canViewPupil(a, PUPIL_C) },
  { name: 'see class C’s suivi', allowed: ['teacherC', 'cpe', 'direction'], check: (a) => canViewClass(a, { id: 'C', schoolId: 'S' }) },
  { name: 'see school S’s suivi', allowed: ['cpe', 'direction'], check: (a) => canViewSchool(a, 'S') },
  { name: 'read the access log and set the thresholds of S', allowed: ['direction'], check: (a) => canAdminister(a, 'S') },
];

describe.each(EXPECTED)('$name', ({ allowed, check }) => {
  it.each(ALL)('%s', (who) => {
    expect({ who, allowed: check(WHO[who]) }).toEqual({ who, allowed: allowed.includes(who) });
  });
});
