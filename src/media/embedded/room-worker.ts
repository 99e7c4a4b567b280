/**
 * A room worker thread: carries whole rooms (every participant of a room on the same worker, so a
 * packet never crosses threads), answers the engine's requests, and reports its own load — event-
 * loop delay p99 (monitorEventLoopDelay, per thread) and event-loop utilisation, the share of time
 * the thread was busy (Node 20 has no per-thread CPU clock; a busy JavaScript thread is busy on CPU).
 *
 * An error thrown by werift outside a request (a malformed packet deep in a library callback) is
 * counted and the worker goes on: failing open keeps every other room of the worker talking. A
 * request that fails is answered with its error and never takes the room down.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import type { PeerConfig } from 'werift';
import { EMBEDDED_LIMITS } from './limits.js';
import { messageBytes, type FromWorker, type ToWorker, type WorkerOptions, type WorkerRequest } from './protocol.js';
import { RoomError, SfuRoom } from './sfu-room.js';

const port = parentPort;
if (!port) throw new Error('room-worker.ts se lance comme worker thread');
const options = workerData as WorkerOptions;

const peerConfig: Partial<PeerConfig> = {
  icePortRange: options.icePortRange,
  iceAdditionalHostAddresses: options.iceAdditionalHostAddresses,
  iceUseIpv6: false,
  iceInterfaceAddresses: options.iceBindAddress ? { udp4: options.iceBindAddress } : undefined,
  iceServers: options.iceServers,
};

const rooms = new Map<string, SfuRoom>();
let strayErrors = 0;

function post(message: FromWorker): void {
  if (messageBytes(message) > EMBEDDED_LIMITS.maxWorkerMessageBytes) {
    if (message.type === 'response') port!.postMessage({ type: 'response', id: message.id, ok: false, code: 'unavailable', message: 'réponse trop grande' } satisfies FromWorker);
    return;
  }
  port!.postMessage(message);
}

process.on('uncaughtException', (err) => {
  strayErrors += 1;
  if (strayErrors <= 10) console.error(`[média worker ${options.workerId}] erreur hors requête (le worker continue) :`, err);
});
process.on('unhandledRejection', () => {
  strayErrors += 1;
});

function roomOf(roomId: string): SfuRoom {
  const room = rooms.get(roomId);
  if (!room) throw new RoomErrorUnknown(roomId);
  return room;
}

class RoomErrorUnknown extends Error {
  constructor(roomId: string) {
    super(`salle ${roomId} inconnue`);
  }
}

async function handle(request: WorkerRequest): Promise<FromWorker | undefined> {
  switch (request.op) {
    case 'openRoom': {
      if (rooms.has(request.spec.roomId)) return undefined;
      if (rooms.size >= EMBEDDED_LIMITS.roomsPerWorker) throw new RoomError('full', 'ce worker porte déjà son maximum de salles');
      const roomId = request.spec.roomId;
      rooms.set(
        roomId,
        new SfuRoom(request.spec, {
          peerConfig,
          now: Date.now,
          emitSignal: (participantId, message) => post({ type: 'signal', roomId, participantId, message }),
          emitEvent: (event) => post({ type: 'event', event }),
        }),
      );
      return undefined;
    }
    case 'closeRoom': {
      const room = rooms.get(request.roomId);
      rooms.delete(request.roomId);
      await room?.close();
      return undefined;
    }
    case 'join':
      await roomOf(request.roomId).join(request.participantId, request.media);
      return undefined;
    case 'update':
      await roomOf(request.roomId).update(request.participantId, request.media);
      return undefined;
    case 'signal':
      await roomOf(request.roomId).signal(request.participantId, request.message);
      return undefined;
    case 'leave':
      await rooms.get(request.roomId)?.leave(request.participantId);
      return undefined;
    case 'stats':
      return { type: 'response', id: 0, ok: true, stats: roomOf(request.roomId).stats() };
  }
}

port.on('message', (message: ToWorker) => {
  if (message.type === 'shutdown') {
    void Promise.all([...rooms.values()].map((r) => r.close())).finally(() => process.exit(0));
    return;
  }
  const { id, request } = message;
  handle(request).then(
    (answer) => post(answer?.type === 'response' ? { ...answer, id } : { type: 'response', id, ok: true }),
    (err: unknown) => {
      if (err instanceof RoomError) post({ type: 'response', id, ok: false, code: err.code, message: err.message });
      else if (err instanceof RoomErrorUnknown) post({ type: 'response', id, ok: false, code: 'room_unknown', message: err.message });
      else post({ type: 'response', id, ok: false, code: 'unavailable', message: err instanceof Error ? err.message.slice(0, 300) : 'erreur' });
    },
  );
});

const lag = monitorEventLoopDelay({ resolution: 10 });
lag.enable();
let elu = performance.eventLoopUtilization();
setInterval(() => {
  const now = performance.eventLoopUtilization();
  const delta = performance.eventLoopUtilization(now, elu);
  elu = now;
  let participants = 0;
  for (const r of rooms.values()) participants += r.size;
  post({ type: 'load', rooms: rooms.size, participants, eventLoopLagP99Ms: lag.percentile(99) / 1e6, cpu: delta.utilization });
  lag.reset();
}, EMBEDDED_LIMITS.loadReportIntervalMs).unref();

post({ type: 'ready' });
