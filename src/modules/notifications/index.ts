/** What other parts may use from the notifications feed. */
export { NotificationsRepository } from './notifications.repository.js';
export { NotificationsService, purgeNotifications } from './notifications.service.js';
export { registerNotificationsRoutes } from './notifications.routes.js';
