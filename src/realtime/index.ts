/** The realtime gateway: WebSocket pushes to signed-in people, over a pub/sub (memory | Redis). */
export { MemoryPubSub, type PubSub, type Unsubscribe } from './pubsub.js';
export { RedisPubSub } from './redis-pubsub.js';
export { RealtimeGateway, personChannel, CLOSE, type GatewayRoute, type RouteContext } from './gateway.js';
export { DEFAULT_GATEWAY_LIMITS, INCOMING_MAX_BYTES, type GatewayLimits, type RouteBudget } from './gateway.limits.js';
export { installUpgrades } from './upgrade.js';
export { registerRealtimeRoutes } from './realtime.routes.js';
export { MemoryPresence, RedisPresence, type PresenceStore } from './presence.js';
