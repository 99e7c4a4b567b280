/** What other parts may use from the classe virtuelle. */
export { ClassroomRepository } from './classroom.repository.js';
export { ClassroomService, type ClassSignals, type SchoolCaps } from './classroom.service.js';
export { registerClassroomRoutes } from './classroom.routes.js';
export { registerClassroomSignalling } from './classroom.signalling.js';
export { ClassroomRuntime, RUNTIME_TICK_MS, type RuntimeCaps } from './room.runtime.js';
export { DEFAULT_ROOM_LIMITS, type RoomLimits } from './room.state.js';
export { DEFAULT_DEGRADATION_SETTINGS, type DegradationSettings } from './degradation.policy.js';
export { RoomRelay, DEFAULT_RELAY_SETTINGS, type RelaySettings } from './room.relay.js';
export { RedisSchoolCounts } from './school-counts.js';
