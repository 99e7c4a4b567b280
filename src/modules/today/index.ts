export { TodayService } from './today.service.js';
export { registerTodayRoutes } from './today.routes.js';
