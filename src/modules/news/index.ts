/** What other modules may use from the actualités. */
export { NewsRepository } from './news.repository.js';
export { NewsService } from './news.service.js';
export { registerNewsRoutes } from './news.routes.js';
export { presentNewsItem } from './news.presenter.js';
