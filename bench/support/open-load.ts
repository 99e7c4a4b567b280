/**
 * An open-loop load generator, run as a child pinned to the load CPU: requests arrive at a fixed
 * rate whatever the server answers (as pupils do at 8:30), unlike autocannon's closed loop where
 * a slow server slows its own load. Each request has a deadline: an answer after it is late, not
 * goodput. Latency is measured from the scheduled arrival, so queueing in the client counts.
 *
 *   node --import tsx bench/support/open-load.ts <spec.json>   (see OpenLoadSpec in protocol.ts)
 */
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { emit, type OpenClassResult, type OpenLoadSpec } from './protocol.js';

const spec = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as OpenLoadSpec;
const agents = spec.localAddresses.map((localAddress) => new http.Agent({ keepAlive: true, maxSockets: spec.socketsPerAddress, localAddress } as http.AgentOptions));
const totalWeight = spec.classes.reduce((n, c) => n + c.weight, 0);

interface Tally {
  r: OpenClassResult;
  latencies: number[];
  next: number;
}
const tallies = new Map<string, Tally>(spec.classes.map((c) => [c.name, { r: { sent: 0, good: 0, refused: 0, otherStatus: 0, late: 0, errors: 0, p50Ms: 0, p99Ms: 0 }, latencies: [], next: 0 }]));
let inFlight = 0;
let sent = 0;
let agentTurn = 0;

function pick(): (typeof spec.classes)[number] {
  let x = Math.random() * totalWeight;
  for (const c of spec.classes) if ((x -= c.weight) <= 0) return c;
  return spec.classes[spec.classes.length - 1]!;
}

function fire(scheduledMs: number): void {
  const c = pick();
  const t = tallies.get(c.name)!;
  const headers = c.headerSets[t.next++ % c.headerSets.length] ?? {};
  t.r.sent++;
  sent++;
  inFlight++;
  let done = false;
  const finish = (outcome: 'good' | 'refused' | 'otherStatus' | 'late' | 'errors') => {
    if (done) return;
    done = true;
    inFlight--;
    t.r[outcome]++;
    if (outcome === 'good') t.latencies.push(performance.now() - scheduledMs);
  };
  const req = http.request({ host: spec.host, port: spec.port, path: c.path, method: 'GET', headers, agent: agents[agentTurn++ % agents.length] }, (res) => {
    res.resume();
    res.on('end', () => {
      const s = res.statusCode ?? 0;
      const late = performance.now() - scheduledMs > spec.deadlineMs;
      finish(s >= 200 && s < 300 ? (late ? 'late' : 'good') : s === 503 || s === 429 ? 'refused' : 'otherStatus');
    });
    res.on('error', () => finish('errors'));
  });
  req.setTimeout(Math.max(1, spec.deadlineMs - (performance.now() - scheduledMs)), () => {
    finish('late');
    req.destroy();
  });
  req.on('error', () => finish('errors'));
  req.end();
}

const startMs = performance.now();
const endMs = startMs + spec.durationS * 1000;
let lastTickS = 0;
await new Promise<void>((resolve) => {
  const timer = setInterval(() => {
    const now = performance.now();
    const until = Math.min(now, endMs);
    const due = Math.floor(((until - startMs) / 1000) * spec.ratePerS) - sent;
    // Each arrival keeps its own scheduled time, so a late generator tick does not hide latency.
    for (let i = 0; i < due; i++) fire(startMs + ((sent + 1) / spec.ratePerS) * 1000);
    const s = Math.floor((now - startMs) / 1000);
    if (s > lastTickS && s <= spec.durationS) {
      lastTickS = s;
      emit({ type: 'progress', phase: 'measure', elapsedS: s, totalS: spec.durationS, count: sent });
    }
    if (now >= endMs) {
      clearInterval(timer);
      resolve();
    }
  }, 2);
});
const drainUntil = performance.now() + spec.deadlineMs + 500;
while (inFlight > 0 && performance.now() < drainUntil) await new Promise((r) => setTimeout(r, 20));

const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const classes: Record<string, OpenClassResult> = {};
for (const [name, t] of tallies) {
  // Requests still unanswered after the drain are late.
  const unanswered = t.r.sent - t.r.good - t.r.refused - t.r.otherStatus - t.r.late - t.r.errors;
  classes[name] = { ...t.r, late: t.r.late + unanswered, p50Ms: pct(t.latencies, 50), p99Ms: pct(t.latencies, 99) };
}
emit({ type: 'open-load-result', durationS: spec.durationS, offeredPerS: sent / spec.durationS, classes });
for (const a of agents) a.destroy();
process.exit(0);
