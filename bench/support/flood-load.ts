/**
 * The crisis morning's attack, run as a child pinned to the load CPU (see edge-flood.bench.ts):
 *  - a flood "from abroad" of password guesses (POST /api/v1/auth/login) at a fixed rate (open
 *    loop: sent on time whether or not earlier ones were answered), over raw keep-alive
 *    connections spread over the abroad addresses — much cheaper than node:http, so one core can
 *    offer many times the node's capacity; a request with no free connection and none left to
 *    open is counted as not sent (the generator's own limit, printed);
 *  - slow-header connections: a partial request (line and a header started), one more byte now
 *    and then, never finished;
 *  - slow-read connections with a tiny receive window, many pipelined requests of a static page,
 *    never read (bench/support/slow-readers.py: Node cannot set a socket's receive buffer);
 *  - signed-in pupils reading GET /me/today, each from its own address (startReaders).
 * Everything is bounded in count and time; every socket is closed at the end.
 *
 *   node --import tsx bench/support/flood-load.ts <spec.json>   (see FloodSpec in protocol.ts)
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { countInto, fdLimit, quantile, startReaders, watchLag } from './loopback-client.js';
import { emit, exitWhenFlushed, type FloodSpec, type SlowCutSummary } from './protocol.js';

const spec = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as FloodSpec;
const origin = new URL(spec.origin);
const host = origin.hostname;
const port = Number(origin.port);
const t0 = performance.now();
const lag = watchLag();
const sinceStartS = () => (performance.now() - t0) / 1000;
const FLOOD_TIMEOUT_MS = 10_000;

/** A complete response at the head of `buf`: its status, its length, whether the server closes after it; undefined if incomplete. */
function parseResponse(buf: Buffer): { status: number; length: number; close: boolean } | undefined {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const head = buf.subarray(0, end).toString('latin1');
  const status = Number(head.slice(9, 12));
  const close = /\r\nconnection:\s*close/i.test(head);
  const cl = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  if (cl) {
    const length = end + 4 + Number(cl[1]);
    return buf.length >= length ? { status, length, close } : undefined;
  }
  if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
    const last = buf.indexOf('0\r\n\r\n', end + 4);
    return last >= 0 ? { status, length: last + 5, close } : undefined;
  }
  return undefined;
}

// ── The flood (and, in the drill, credential stuffing): open-loop streams of password guesses ──
/** A stream's answers: by status and by reason (the error id in the body, `http-<status>` otherwise). */
interface StreamCounters { sent: number; notSent: number; byStatus: Record<string, number>; byReason: Record<string, number>; errors: number; timeouts: number; pending: number }
/** Per second since the start, answers by reason, per stream (the drill's "attack traffic" chart). */
const series: { sec: number; flood: Record<string, number>; stuffing: Record<string, number> }[] = [];
const secondOf = (name: 'flood' | 'stuffing'): Record<string, number> => {
  const sec = Math.floor(sinceStartS());
  while (series.length <= sec) series.push({ sec: series.length, flood: {}, stuffing: {} });
  return series[sec]![name];
};
const REASON = /"id":"([a-z_.]+)"/;

interface FloodConn {
  socket: net.Socket;
  buf: Buffer;
  sentAtMs: number | undefined;
}

interface Stream {
  counters: StreamCounters;
  conns: Set<FloodConn>;
  /** Sends what is due at `ratePerS` since the start; answers that never come count as timeouts. */
  pump(): void;
  settle(): Promise<void>;
}

function startStream(name: 'flood' | 'stuffing', s: FloodSpec['flood']): Stream {
  const counters: StreamCounters = { sent: 0, notSent: 0, byStatus: {}, byReason: {}, errors: 0, timeouts: 0, pending: 0 };
  const requests = s.bodies.map((body) =>
    Buffer.from(`POST ${s.path} HTTP/1.1\r\nHost: ${origin.host}\r\nUser-Agent: ${name}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`),
  );
  const conns = new Set<FloodConn>();
  const idle: FloodConn[] = [];
  let opened = 0;
  const startedAt = performance.now();
  const open = (): FloodConn => {
    const c: FloodConn = { socket: net.connect({ host, port, localAddress: s.addresses[opened++ % s.addresses.length]! }), buf: Buffer.alloc(0), sentAtMs: undefined };
    conns.add(c);
    c.socket.setNoDelay(true);
    c.socket.on('data', (chunk: Buffer) => {
      c.buf = c.buf.length === 0 ? chunk : Buffer.concat([c.buf, chunk]);
      const r = parseResponse(c.buf);
      if (!r || c.sentAtMs === undefined) return;
      countInto(counters.byStatus, r.status);
      const id = REASON.exec(c.buf.subarray(0, Math.min(r.length, 2_048)).toString('latin1'))?.[1];
      const reason = id ?? `http-${r.status}`;
      countInto(counters.byReason, reason);
      countInto(secondOf(name), reason);
      c.buf = c.buf.subarray(r.length);
      c.sentAtMs = undefined;
      if (r.close) c.socket.destroy();
      else idle.push(c);
    });
    c.socket.on('error', () => undefined);
    c.socket.on('close', () => {
      conns.delete(c);
      const i = idle.indexOf(c);
      if (i >= 0) idle.splice(i, 1);
      if (c.sentAtMs !== undefined) {
        counters.errors++;
        countInto(secondOf(name), 'réseau');
      }
    });
    return c;
  };
  const send = () => {
    let c = idle.pop();
    if (!c && conns.size < s.maxConnections) c = open();
    if (!c) {
      counters.notSent++;
      return;
    }
    c.sentAtMs = performance.now();
    c.socket.write(requests[counters.sent++ % requests.length]!);
  };
  return {
    counters,
    conns,
    pump() {
      const due = Math.floor(((performance.now() - startedAt) / 1000) * s.ratePerS) - counters.sent - counters.notSent;
      for (let k = 0; k < due; k++) send();
      const now = performance.now();
      for (const c of conns) {
        if (c.sentAtMs !== undefined && now - c.sentAtMs > FLOOD_TIMEOUT_MS) {
          counters.timeouts++;
          countInto(secondOf(name), 'délai');
          c.sentAtMs = undefined;
          c.socket.destroy();
        }
      }
    },
    // Answers still due get a moment, then count as pending.
    async settle() {
      for (let waited = 0; waited < 3_000 && [...conns].some((c) => c.sentAtMs !== undefined); waited += 100) await new Promise((r) => setTimeout(r, 100));
      counters.pending = [...conns].filter((c) => c.sentAtMs !== undefined).length;
      for (const c of conns) c.socket.destroy();
    },
  };
}

// ── Slow clients ─────────────────────────────────────────────────────────────────────────────
interface Slow {
  socket: net.Socket;
  openedAtS: number | undefined;
  cutAtS: number | undefined;
  answered: number | undefined;
  mine: boolean;
}

/** What is known of one slow connection at the end. */
type SlowRecord = Pick<Slow, 'openedAtS' | 'cutAtS' | 'answered'>;

function openSlowHeader(address: string): Slow {
  const s: Slow = { socket: net.connect({ host, port, localAddress: address }), openedAtS: undefined, cutAtS: undefined, answered: undefined, mine: false };
  s.socket.on('connect', () => {
    s.openedAtS = sinceStartS();
    s.socket.write(`GET /api/v1/status HTTP/1.1\r\nHost: ${origin.host}\r\nX-Lent: `);
  });
  s.socket.on('data', (chunk: Buffer) => {
    if (s.answered === undefined && chunk.subarray(0, 5).toString('latin1') === 'HTTP/') s.answered = Number(chunk.subarray(9, 12).toString('latin1'));
  });
  s.socket.on('error', () => undefined);
  s.socket.on('close', () => {
    if (!s.mine && s.openedAtS !== undefined) s.cutAtS = sinceStartS();
  });
  return s;
}

function summarise(list: readonly SlowRecord[]): SlowCutSummary {
  const cut = list.filter((s) => s.cutAtS !== undefined && s.openedAtS !== undefined);
  const after = cut.map((s) => s.cutAtS! - s.openedAtS!).sort((a, b) => a - b);
  const answered: Record<string, number> = {};
  for (const s of cut) if (s.answered !== undefined) countInto(answered, s.answered);
  return {
    opened: list.filter((s) => s.openedAtS !== undefined).length,
    failedToOpen: list.filter((s) => s.openedAtS === undefined).length,
    cutByServer: cut.length,
    stillOpen: list.filter((s) => s.openedAtS !== undefined && s.cutAtS === undefined).length,
    answered,
    cutP50S: quantile(after, 0.5),
    cutMinS: after[0] ?? NaN,
    cutMaxS: after.at(-1) ?? NaN,
  };
}

const slowHeaders: Slow[] = [];
// Opened in batches: thousands of SYNs at once would overflow the listen backlog, which is not what is measured.
const BATCH = 250;
async function openSlowHeaders(): Promise<void> {
  for (let i = 0; i < spec.slowHeaders.count; i += BATCH) {
    for (let k = i; k < Math.min(i + BATCH, spec.slowHeaders.count); k++) slowHeaders.push(openSlowHeader(spec.slowHeaders.addresses[k % spec.slowHeaders.addresses.length]!));
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The slow readers run in python3 (see slow-readers.py); without it they are skipped, and the result says so. */
function runSlowReaders(): Promise<{ records: SlowRecord[]; skipped: string | undefined }> {
  if (spec.slowReads.count === 0) return Promise.resolve({ records: [], skipped: undefined });
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'slow-readers.py');
  const args = { host, port, addresses: spec.slowReads.addresses, count: spec.slowReads.count, request: `GET ${spec.slowReads.path} HTTP/1.1\r\nHost: ${origin.host}\r\n\r\n`, pipelined: spec.slowReads.pipelined, watchS: spec.slowWatchS, rcvbuf: spec.slowReads.receiveBufferBytes };
  return new Promise((resolve) => {
    const child = spawn('python3', [script, JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.on('error', (err) => resolve({ records: [], skipped: `python3 introuvable (${err.message}) : pas de lecteurs lents` }));
    child.on('close', (code) => {
      try {
        const rows = JSON.parse(out) as [number | null, number | null, number | null][];
        resolve({ records: rows.map(([o, c, a]) => ({ openedAtS: o ?? undefined, cutAtS: c ?? undefined, answered: a ?? undefined })), skipped: undefined });
      } catch {
        resolve({ records: [], skipped: `slow-readers.py a échoué (code ${code})` });
      }
    });
  });
}

let tick = 0;
const trickle = setInterval(() => {
  tick++;
  // A byte every byteEveryMs for each slow-header client, spread over the ticks.
  const spread = Math.max(1, Math.round(spec.slowHeaders.byteEveryMs / 250));
  for (let i = tick % spread; i < slowHeaders.length; i += spread) {
    const s = slowHeaders[i]!;
    if (s.openedAtS !== undefined && s.cutAtS === undefined && !s.socket.destroyed) s.socket.write('a');
  }
}, 250);

// ── The run ──────────────────────────────────────────────────────────────────────────────────
const slowReading = runSlowReaders();
const slowOpening = openSlowHeaders();
const readers = startReaders(origin, spec.pupils);
const streams = [startStream('flood', spec.flood), ...(spec.stuffing ? [startStream('stuffing', spec.stuffing)] : [])];
const floodTimer = setInterval(() => {
  for (const st of streams) st.pump();
}, 5);
const totalS = Math.max(spec.durationS, spec.slowWatchS);
let elapsedS = 0;
const progress = setInterval(() => emit({ type: 'progress', phase: 'measure', elapsedS: ++elapsedS, totalS, count: streams.reduce((n, st) => n + st.counters.sent, 0) + readers.result.sent }), 1000);

await new Promise((r) => setTimeout(r, spec.durationS * 1000));
clearInterval(floodTimer);
const pupils = await readers.stop();
await Promise.all(streams.map((st) => st.settle()));
await slowOpening;
const watchLeftMs = spec.slowWatchS * 1000 - (performance.now() - t0);
if (watchLeftMs > 0) await new Promise((r) => setTimeout(r, watchLeftMs));
clearInterval(trickle);
clearInterval(progress);
for (const s of slowHeaders) {
  s.mine = true;
  s.socket.destroy();
}
const slowReads = await slowReading;

emit({
  type: 'flood-result',
  durationS: spec.durationS,
  flood: streams[0]!.counters,
  ...(streams[1] ? { stuffing: streams[1].counters } : {}),
  series,
  pupils: {
    sent: pupils.sent, ok: pupils.ok, late: pupils.late, byStatus: pupils.byStatus, errors: pupils.errors, byError: pupils.byError,
    p50Ms: quantile(pupils.latenciesMs, 0.5), p95Ms: quantile(pupils.latenciesMs, 0.95), p99Ms: quantile(pupils.latenciesMs, 0.99),
  },
  slowHeaders: summarise(slowHeaders),
  slowReads: summarise(slowReads.records),
  slowReadsSkipped: slowReads.skipped,
  fdLimit: fdLimit(),
  generatorLagP99Ms: lag.p99Ms(),
});
exitWhenFlushed();
