import type { RealtimeGateway } from '../../realtime/index.js';
import { INCOMING_MAX_BYTES } from '../../realtime/index.js';
import { CLASSROOM_MESSAGE_BUDGET, ClassroomMessage } from './classroom.schema.js';
import type { ClassroomService } from './classroom.service.js';
import type { RoomRelay } from './room.relay.js';
import type { ClassroomRuntime } from './room.runtime.js';

/**
 * The classe virtuelle over the realtime gateway: `{type:'classroom', roomId, op, …}` messages
 * (schema in classroom.schema.ts, protocol in docs/CLASSE-VIRTUELLE.md) go to the service, which
 * authorises them by the socket's person and the room's policy; a closed socket leaves the room's
 * participant away for the reconnection grace. Several nodes: the relay carries messages of a room
 * hosted elsewhere to its node, and that node's answers back (room.relay.ts).
 */
export function registerClassroomSignalling(gateway: RealtimeGateway, classroom: ClassroomService, runtime: ClassroomRuntime, relay?: RoomRelay): void {
  gateway.route('classroom', { schema: ClassroomMessage, maxBytes: INCOMING_MAX_BYTES, budget: CLASSROOM_MESSAGE_BUDGET, handle: (ctx, message) => classroom.onMessage(ctx, message) });
  gateway.onClose((_personId, connectionId) => {
    runtime.disconnected(connectionId);
    relay?.socketClosed(connectionId);
  });
  relay?.start({
    onRelayed: (ctx, message) => classroom.onMessage(ctx, message),
    onCall: (personId, roomId, call) => classroom.onRelayedCall(personId, roomId, call),
    disconnected: (connectionId) => runtime.disconnected(connectionId),
  });
}
