/** What other parts may use from the suivi du décrochage. */
export { EngagementRepository } from './engagement.repository.js';
export { EngagementService, purgeEngagement, type ClassAttendanceSignal, type ClassSessionSignal } from './engagement.service.js';
export { EngagementRecorder, DEFAULT_RECORDER_SETTINGS, type RecorderSettings } from './engagement.recorder.js';
export { registerEngagementRoutes } from './engagement.routes.js';
