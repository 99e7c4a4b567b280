/** What other modules may use from the cahier de textes and hand-ins. */
export { HomeworkRepository } from './homework.repository.js';
export { HomeworkService } from './homework.service.js';
export { HandinsRepository } from './handins.repository.js';
export { HandinsService } from './handins.service.js';
export { registerHomeworkRoutes } from './homework.routes.js';
export { registerHandinsRoutes } from './handins.routes.js';
export { presentDue } from './homework.presenter.js';
export type { DueView } from './homework.repository.js';
