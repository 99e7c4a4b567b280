/** What other modules may use from Documents. */
export { DocumentsRepository } from './documents.repository.js';
export { DocumentsService } from './documents.service.js';
export { registerDocumentsRoutes } from './documents.routes.js';
export { TRASH_RETENTION_DAYS } from './documents.schema.js';
