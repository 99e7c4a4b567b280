/** What other modules may use from the messagerie. */
export { MessagingRepository } from './messaging.repository.js';
export { MessagingService } from './messaging.service.js';
export { registerMessagingRoutes } from './messaging.routes.js';
