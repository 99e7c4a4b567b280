export { TodayService } from './today.service.js';
export { registerTodayRoutes, type PersonalCounters } from './today.routes.js';
