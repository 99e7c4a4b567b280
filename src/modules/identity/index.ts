/** What other modules may use from identity. Everything else in this folder is internal. */
export { baseLogin, uniqueLogin, normaliseLogin, MAX_LOGIN_LENGTH } from './login-name.js';
export type { Authenticated, NewSession, ClientInfo } from './identity.service.js';
export { IdentityService, purgeDeparted, type OnPurged } from './identity.service.js';
export { IdentityRepository } from './identity.repository.js';
