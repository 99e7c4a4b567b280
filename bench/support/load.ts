/**
 * The load generator, run as a child pinned to the load CPU: autocannon's API against one URL,
 * a warm-up then the measured run, progress as JSON lines every second, then a `load-result`.
 *
 *   node --import tsx bench/support/load.ts <spec.json>   (see LoadSpec in protocol.ts)
 */
import { readFileSync } from 'node:fs';
import autocannon, { type RequestSpec, type Result } from 'autocannon';
import { emit, type LoadSpec } from './protocol.js';

const spec = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as LoadSpec;

/** The mix: request n is mix[n % length]; uploads get a unique body and idempotency key each. */
function mixRequests(): RequestSpec[] {
  const mix = spec.mix!.map((m) => ({ ...m, body: m.bodyBase64 ? Buffer.from(m.bodyBase64, 'base64') : undefined }));
  const run = `${process.pid}-${Date.now()}`;
  let next = 0;
  return [
    {
      setupRequest: (request) => {
        const n = next++;
        const m = mix[n % mix.length]!;
        let body = m.body;
        const headers = { ...request.headers, ...(m.headers ?? {}) };
        if (body && m.uniqueAt !== undefined) {
          body = Buffer.from(body);
          body.write(String(n).padStart(16, '0'), m.uniqueAt, 'latin1');
          headers['idempotency-key'] = `bench-${run}-${n}`;
        }
        return { ...request, method: m.method, path: m.path, headers, ...(body ? { body } : {}) };
      },
    },
  ];
}

function requests(): RequestSpec[] | undefined {
  if (spec.mix) return mixRequests();
  const bodies = spec.bodies;
  if (!bodies || bodies.length === 0) return undefined;
  let next = 0;
  // Each request takes the next body in turn (all connections share the counter).
  return [{ setupRequest: (request) => ({ ...request, body: bodies[next++ % bodies.length]! }) }];
}

async function phase(name: 'warmup' | 'measure', durationS: number): Promise<Result> {
  const instance = autocannon({
    url: spec.url,
    method: spec.method,
    connections: spec.connections,
    duration: durationS,
    timeout: 10,
    headers: spec.headers,
    ...(spec.bodies || spec.mix ? { requests: requests()! } : {}),
  });
  let count = 0;
  let elapsedS = 0;
  instance.on('tick', (t: { counter: number }) => {
    count += t.counter;
    elapsedS++;
    emit({ type: 'progress', phase: name, elapsedS, totalS: durationS, count });
  });
  return instance;
}

const sum2xx = (r: Result) => Object.entries(r.statusCodeStats).reduce((n, [code, s]) => (code.startsWith('2') ? n + Number(s.count) : n), 0);

const warm = spec.warmupS > 0 ? await phase('warmup', spec.warmupS) : undefined;
const r = await phase(spec.phaseName ?? 'measure', spec.durationS);
const ok2xx = sum2xx(r);
emit({
  type: 'load-result',
  durationS: r.duration,
  ok2xx,
  non2xx: r.non2xx,
  errors: r.errors,
  timeouts: r.timeouts,
  statusCodes: Object.fromEntries(Object.entries(r.statusCodeStats).map(([code, s]) => [code, Number(s.count)])),
  requestsPerSecond: ok2xx / r.duration,
  latencyP50Ms: r.latency.p50,
  latencyP99Ms: r.latency.p99,
  latencyAvgMs: r.latency.average,
  warmup2xx: warm ? sum2xx(warm) : 0,
  warmupNon2xx: warm ? warm.non2xx : 0,
});
