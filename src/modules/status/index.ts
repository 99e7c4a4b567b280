/** What other modules and the composition root may use from status. */
export { StatusService, STATUS_CACHE_TTL_MS } from './status.service.js';
export { StatusRepository, type StoredStatus } from './status.repository.js';
export { registerStatusRoutes } from './status.routes.js';
