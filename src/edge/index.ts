/** The crisis-morning edge: what a request meets before any feature (see docs/ARCHITECTURE.md). */
export { SocketGuards, DEFAULT_SOCKET_LIMITS, type SocketLimits } from './socket-guards.js';
export { Refusals, jitteredRetryAfterS } from './refusal.js';
export { Admission, DEFAULT_ADMISSION_SETTINGS, type AdmissionSettings } from './admission/admission.js';
export { RateLimiter, DEFAULT_RATE_LIMITS, type RateLimitSettings, type SessionProbe } from './rate-limit/rate-limit.js';
export { MemoryBucketStore, type BucketStore } from './rate-limit/bucket-store.js';
export { installEdge } from './edge.js';
export { WaitingRoom, DEFAULT_WAITING_ROOM_SETTINGS, TICKET_COOKIE, TICKET_HEADER, type WaitingRoomSettings, type LoginCapacity } from './waiting-room/waiting-room.js';
export { ticketKey } from './waiting-room/ticket.js';
export { createLaneResolver } from './waiting-room/lanes.js';
export { registerWaitingRoomRoutes } from './waiting-room/waiting-room.routes.js';
export { ChallengeGate, DEFAULT_CHALLENGE_SETTINGS, CHALLENGE_HEADER, NONCE_HEADER, type ChallengeSettings, type ChallengeMode } from './challenge/challenge-gate.js';
export { solveChallenge } from './challenge/proof-of-work.js';
export { deriveKey } from './signed-token.js';
export { EdgeControls } from './operator/controls.js';
export { registerOperatorRoutes } from './operator/operator.routes.js';
export { whereabouts, FRANCE, openCountryDatabase, type CountryLookup } from './geo/geo.js';
export { EdgeRedis, DEFAULT_EDGE_REDIS_SETTINGS, type EdgeRedisSettings, type SharedState } from './shared/edge-redis.js';
export { SyncedBucketStore, RedisSharedBuckets, MemorySharedBuckets, DEFAULT_SYNC_SETTINGS, type SharedBuckets } from './rate-limit/shared-buckets.js';
