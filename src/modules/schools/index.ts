/** What other modules may use from schools. */
export { SchoolsService } from './schools.service.js';
export { SchoolsRepository } from './schools.repository.js';
export type { Scope } from './schools.policy.js';
export { canViewClass, canViewPerson, canViewSchool, canManageAccounts } from './schools.policy.js';
export { canWrite, type Recipient } from './communication.policy.js';
export { registerSchoolsRoutes } from './schools.routes.js';
export { forgetPendingLinksOf } from './aaf/aaf.purge.js';
