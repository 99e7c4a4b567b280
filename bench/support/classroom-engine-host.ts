/**
 * The classroom bench's engine host, pinned on the server CPU: the embedded media engine (its
 * main thread — where Préau's HTTP would run — and its room workers) behind a WebSocket on
 * loopback that relays signals like room logic does. Measures its own CPU (all threads) and its
 * main thread's event-loop delay p99 between `measure-start` and `measure-end`.
 *
 * argv: --workers N (default 1).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { WebSocketServer, type WebSocket } from 'ws';
import { EmbeddedMediaEngine } from '../../src/media/embedded/embedded-engine.js';
import type { FromHost, ToHost } from './classroom-protocol.js';
import { emit } from './protocol.js';

const { values } = parseArgs({ options: { workers: { type: 'string', default: '1' } } });
// PREAU_MEDIA_ICE_PORTS (first-last) moves the engine's ICE ports, e.g. when benches run side by side.
const icePorts = /^(\d+)-(\d+)$/.exec(process.env.PREAU_MEDIA_ICE_PORTS ?? '');
const engine = new EmbeddedMediaEngine({
  workers: Number(values.workers),
  icePortRange: icePorts ? [Number(icePorts[1]), Number(icePorts[2])] : [42_000, 42_999],
  iceAdditionalHostAddresses: ['127.0.0.1'],
  iceBindAddress: '127.0.0.1',
});
await engine.ready();

const lag = monitorEventLoopDelay({ resolution: 10 });
lag.enable();
let measureFrom: { wall: number; cpu: NodeJS.CpuUsage } | undefined;

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 256 * 1024 });
let client: WebSocket | undefined;
const send = (m: FromHost) => client?.send(JSON.stringify(m));
engine.onSignal((roomId, participantId, message) => send({ op: 'signal', roomId, participantId, message }));

async function handle(m: ToHost): Promise<FromHost> {
  switch (m.op) {
    case 'open':
      await engine.openRoom({ roomId: m.roomId, maxParticipants: m.maxParticipants, lowBandwidth: false });
      return { op: 'reply', id: m.id, ok: true };
    case 'close':
      await engine.closeRoom(m.roomId);
      return { op: 'reply', id: m.id, ok: true };
    case 'join':
      await engine.join(m.roomId, m.participantId, m.media);
      return { op: 'reply', id: m.id, ok: true };
    case 'signal':
      await engine.signal(m.roomId, m.participantId, m.message);
      return { op: 'reply', id: m.id, ok: true };
    case 'stats':
      return { op: 'reply', id: m.id, ok: true, stats: await engine.stats(m.roomId) };
    case 'measure-start':
      lag.reset();
      measureFrom = { wall: performance.now(), cpu: process.cpuUsage() };
      return { op: 'reply', id: m.id, ok: true };
    case 'measure-end': {
      const from = measureFrom ?? { wall: performance.now(), cpu: process.cpuUsage() };
      const cpu = process.cpuUsage(from.cpu);
      return {
        op: 'reply',
        id: m.id,
        ok: true,
        measure: { wallMs: performance.now() - from.wall, cpuMs: (cpu.user + cpu.system) / 1000, mainLagP99Ms: lag.percentile(99) / 1e6, load: engine.load() },
      };
    }
  }
}

wss.on('connection', (ws) => {
  client = ws;
  ws.on('message', (data) => {
    const m = JSON.parse(String(data)) as ToHost;
    handle(m).then(send, (err: unknown) => send({ op: 'reply', id: m.id, ok: false, error: err instanceof Error ? err.message : String(err) }));
  });
});

await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
const address = wss.address();
emit({ type: 'ready', port: address && typeof address === 'object' ? address.port : 0 });

const stop = () => {
  void engine.close().finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
