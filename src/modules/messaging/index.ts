/** What other modules may use from the messagerie. */
export { MessagingRepository } from './messaging.repository.js';
export { MessagingService } from './messaging.service.js';
export { registerMessagingRoutes, SEARCH_RATE_COST } from './messaging.routes.js';
