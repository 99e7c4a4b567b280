/**
 * Client pieces shared by the flood and surge generators (flood-load.ts, surge-load.ts): many
 * clients, each from its own loopback address (any of 127.0.0.0/8 can be bound, and the server
 * sees it as the peer), with node:http — slower than autocannon, but autocannon cannot bind an
 * address per client.
 */
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

/** `count` distinct addresses 127.<second>.x.y, `perNetwork` per /24 (so networks are spread too). */
export function loopbackAddresses(second: number, count: number, perNetwork = 250): string[] {
  return Array.from({ length: count }, (_, i) => `127.${second}.${Math.floor(i / perNetwork)}.${1 + (i % perNetwork)}`);
}

/** Value at quantile q (0..1) of an ascending list; NaN when empty. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export function countInto(map: Record<string, number>, key: string | number): void {
  map[key] = (map[key] ?? 0) + 1;
}

/** A process's soft limit on open files, from /proc (Linux); Infinity when unknown or unlimited. */
export function fdLimit(pid: number | 'self' = 'self'): number {
  try {
    const line = readFileSync(`/proc/${pid}/limits`, 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    return soft === undefined || soft === 'unlimited' ? Infinity : Number(soft);
  } catch {
    return Infinity;
  }
}

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  ms: number;
}

export interface CallOptions {
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
  localAddress: string;
  timeoutMs: number;
  /** A keep-alive agent (its pool is keyed on the local address too); none: one connection per request. */
  agent?: http.Agent;
}

/**
 * One request; rejects on a connection error or after `timeoutMs` (the error's `code` says which:
 * 'TIMEOUT' for ours). A GET that fails on a reused keep-alive connection before any answer is
 * sent once more on a fresh one, as browsers do (the server may close an idle connection just as
 * it is reused).
 */
export function call(origin: URL, o: CallOptions, retried = false): Promise<Answer> {
  const start = performance.now();
  return new Promise<Answer>((resolve, reject) => {
    const headers: Record<string, string> = { ...o.headers };
    if (o.body !== undefined) headers['content-length'] = String(Buffer.byteLength(o.body));
    const req = http.request({ host: origin.hostname, port: origin.port, method: o.method, path: o.path, headers, localAddress: o.localAddress, agent: o.agent ?? false });
    const timer = setTimeout(() => {
      const err = Object.assign(new Error('délai dépassé'), { code: 'TIMEOUT' });
      req.destroy(err);
    }, o.timeoutMs);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - start });
      });
      res.on('error', () => undefined);
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (!retried && req.reusedSocket && o.method === 'GET' && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) {
        call(origin, o, true).then(resolve, reject);
        return;
      }
      reject(err);
    });
    req.end(o.body);
  });
}

export interface ReadersResult {
  sent: number;
  /** 2xx within the deadline. */
  ok: number;
  /** 2xx after the deadline. */
  late: number;
  byStatus: Record<string, number>;
  errors: number;
  /** Errors by code (TIMEOUT: ours; ECONNRESET, ECONNREFUSED…: the connection's). */
  byError: Record<string, number>;
  /** Every answered request's time, and a timed-out one's `timeoutMs` (ascending once `stop` resolves). */
  latenciesMs: number[];
}

/**
 * Signed-in readers at a fixed overall rate (open loop: a request is sent on time whether or not
 * the previous ones were answered), each request from the next reader's address with its cookie.
 * Returns a stop function that waits for the requests in flight (bounded by `timeoutMs`).
 */
export function startReaders(origin: URL, r: { path: string; ratePerS: number; cookies: string[]; addresses: string[]; deadlineMs: number; timeoutMs: number }): { result: ReadersResult; stop(): Promise<ReadersResult> } {
  const result: ReadersResult = { sent: 0, ok: 0, late: 0, byStatus: {}, errors: 0, byError: {}, latenciesMs: [] };
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  const inFlight = new Set<Promise<void>>();
  const startMs = performance.now();
  let next = 0;
  const send = () => {
    const i = next++ % r.cookies.length;
    result.sent++;
    const p = call(origin, { method: 'GET', path: r.path, headers: { cookie: r.cookies[i]! }, localAddress: r.addresses[i % r.addresses.length]!, timeoutMs: r.timeoutMs, agent })
      .then((a) => {
        countInto(result.byStatus, a.status);
        result.latenciesMs.push(a.ms);
        if (a.status >= 200 && a.status < 300) {
          if (a.ms <= r.deadlineMs) result.ok++;
          else result.late++;
        }
      })
      .catch((err: NodeJS.ErrnoException) => {
        result.errors++;
        countInto(result.byError, err.code ?? 'autre');
        if (err.code === 'TIMEOUT') result.latenciesMs.push(r.timeoutMs);
      })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  };
  const timer = setInterval(() => {
    const due = Math.floor(((performance.now() - startMs) / 1000) * r.ratePerS) - result.sent;
    for (let k = 0; k < due; k++) send();
  }, 10);
  return {
    result,
    async stop() {
      clearInterval(timer);
      await Promise.all([...inFlight]);
      agent.destroy();
      result.latenciesMs.sort((a, b) => a - b);
      return result;
    },
  };
}

/** Watches this process's event-loop delay; `p99Ms()` reads it (a generator that lags sets the pace itself). */
export function watchLag(): { p99Ms(): number } {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  return { p99Ms: () => h.percentile(99) / 1e6 };
}
