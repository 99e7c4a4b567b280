/**
 * The overload generator, run as a child pinned to the load CPU: one autocannon instance per
 * class of request (critical, normal), each at its own overall rate over many connections, all
 * with the same deadline (`timeout`): an answer after it is a timeout, not goodput. Autocannon's
 * client is much cheaper than node:http, so one core can offer several times the node's capacity.
 * It is rate-limited closed-loop per connection: when every connection waits, arrivals wait too
 * (the rate it really offered is reported).
 *
 *   node --import tsx bench/support/mix-load.ts <spec.json>   (see MixLoadSpec in protocol.ts)
 */
import { readFileSync } from 'node:fs';
import autocannon, { type Result } from 'autocannon';
import { emit, type MixLoadSpec, type OpenClassResult } from './protocol.js';

const spec = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as MixLoadSpec;

const runs = spec.classes.map((c) => {
  let next = 0;
  return {
    name: c.name,
    instance: autocannon({
      url: `${spec.origin}${c.path}`,
      connections: c.connections,
      overallRate: c.ratePerS,
      duration: spec.durationS,
      timeout: spec.deadlineS,
      requests: [{ setupRequest: (request) => ({ ...request, headers: { ...(request.headers ?? {}), ...(c.headerSets[next++ % c.headerSets.length] ?? {}) } }) }],
    }),
  };
});
let elapsedS = 0;
runs[0]?.instance.on('tick', () => {
  elapsedS++;
  emit({ type: 'progress', phase: 'measure', elapsedS, totalS: spec.durationS, count: 0 });
});
const results: [string, Result][] = await Promise.all(runs.map(async (r) => [r.name, await r.instance] as [string, Result]));
const classes: Record<string, OpenClassResult> = {};
let offered = 0;
for (const [name, r] of results) {
  const count = (pred: (code: number) => boolean) => Object.entries(r.statusCodeStats).reduce((n, [code, s]) => (pred(Number(code)) ? n + Number(s.count) : n), 0);
  const good = count((c) => c >= 200 && c < 300);
  const refused = count((c) => c === 503 || c === 429);
  const answered = count(() => true);
  classes[name] = { sent: answered + r.timeouts + r.errors, good, refused, otherStatus: answered - good - refused, late: r.timeouts, errors: r.errors - r.timeouts, p50Ms: r.latency.p50, p99Ms: r.latency.p99 };
  offered += answered + r.errors;
}
emit({ type: 'open-load-result', durationS: spec.durationS, offeredPerS: offered / spec.durationS, classes });
process.exit(0);
