/** What other modules may use from the carnet de liaison. */
export { LiaisonRepository } from './liaison.repository.js';
export { LiaisonService } from './liaison.service.js';
export { registerLiaisonRoutes } from './liaison.routes.js';
