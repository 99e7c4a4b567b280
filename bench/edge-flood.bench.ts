/**
 * Part "flood" of `npm run bench:edge`: the flood from abroad with slow clients, Préau with its
 * edge on (crisis mode on, real rate limits) and with it off (PREAU_EDGE=off: the same routes on
 * plain Fastify), one side after the other in the same run, servers pinned to the server CPU and
 * the generator (bench/support/flood-load.ts) to the other.
 *
 * Capacity of the node for the flood's target, the login: its raw Argon2id verification rate
 * (every password check is one), measured here. Load on each side, for `durationS`:
 *  - password guesses on unknown accounts from 127.66.0.0/16 ("abroad": the bench server's
 *    `--abroad-networks` seam) at `multiple` × that capacity, open loop;
 *  - 3,000 slow-header connections (127.77.x.y) and 500 slow-read connections (127.78.x.y),
 *    watched `slowWatchS` from their opening (the edge's cuts are at 10 s and 30 s);
 *  - signed-in pupils (127.10.x.y, one address each) reading GET /me/today at a modest rate.
 * Figures: pupils' success rate (2xx within 2 s; target ≥ 99 %) and p95 (target ≤ 1 s), edge on
 * and off; slow connections cut, and when; the flood's answers by status.
 */
import { fdLimit, loopbackAddresses } from './support/loopback-client.js';
import { rawVerifyRate } from './login.bench.js';
import { runGenerator, signInMany, startPreau, type Server } from './support/edge-servers.js';
import type { BenchResult, FloodResultMessage, FloodSpec, SlowCutSummary } from './support/protocol.js';
import { num, step } from './support/report.js';
import { cpuTimeMs, runQueueWaitMs } from './support/run-load.js';

export interface FloodOptions {
  durationS: number;
  slowWatchS: number;
  /** The flood's rate, in multiples of the node's password-check capacity. */
  multiple: number;
  slowHeaders: number;
  slowReads: number;
  pupils: number;
  pupilRatePerS: number;
}

export const DEFAULT_FLOOD: FloodOptions = { durationS: 25, slowWatchS: 40, multiple: 20, slowHeaders: 3_000, slowReads: 500, pupils: 200, pupilRatePerS: 100 };

const ABROAD = '127.66.0.0/16';
// A botnet opens connections as it needs them: a low cap here would turn the flood into a closed
// loop (no free connection while the server is slow: fewer arrivals) and spare the slowest side.
const FLOOD_CONNECTIONS = 4_000;
const PUPIL_SOCKETS = 4;

const statuses = (m: Record<string, number>) => Object.entries(m).map(([s, n]) => `${s}×${n}`).join(' ') || '—';
const cutLine = (name: string, s: SlowCutSummary) =>
  `${name} : ${s.opened} ouvertes${s.failedToOpen ? ` (${s.failedToOpen} refusées à l’ouverture)` : ''}, ${s.cutByServer} coupées par le serveur` +
  (s.cutByServer > 0 ? ` entre ${num(s.cutMinS, 1)} et ${num(s.cutMaxS, 1)} s (médiane ${num(s.cutP50S, 1)} s ; réponses avant coupure : ${statuses(s.answered)})` : '') +
  `, ${s.stillOpen} encore ouvertes à la fin (fermées par le banc)`;

async function side(label: string, server: Server, cookies: string[], o: FloodOptions, ratePerS: number): Promise<FloodResultMessage & { serverRunQueueWaitS: number }> {
  const spec: FloodSpec = {
    origin: server.origin,
    durationS: o.durationS,
    slowWatchS: o.slowWatchS,
    flood: {
      path: '/api/v1/auth/login',
      ratePerS,
      bodies: Array.from({ length: 5_000 }, (_, i) => JSON.stringify({ login: `inconnu.${i}`, password: `devine-${i}` })),
      addresses: loopbackAddresses(66, 1_000),
      maxConnections: FLOOD_CONNECTIONS,
    },
    slowHeaders: { count: o.slowHeaders, addresses: loopbackAddresses(77, o.slowHeaders), byteEveryMs: 3_000 },
    slowReads: { count: o.slowReads, addresses: loopbackAddresses(78, o.slowReads), path: '/attente.js', pipelined: 100, receiveBufferBytes: 2_048 },
    pupils: { path: '/api/v1/me/today', ratePerS: o.pupilRatePerS, cookies, addresses: loopbackAddresses(10, cookies.length), deadlineMs: 2_000, timeoutMs: 5_000 },
  };
  const pid = server.child.process.pid;
  const [cpu0, wait0] = [cpuTimeMs(pid), runQueueWaitMs(pid)];
  const r = await runGenerator(label, 'flood-load.ts', spec, 'flood-result', (Math.max(o.durationS, o.slowWatchS) + 90) * 1000);
  const [cpu1, wait1] = [cpuTimeMs(pid), runQueueWaitMs(pid)];
  const p = r.pupils;
  console.log(`    ${label} — élèves : ${p.ok}/${p.sent} servis en moins de 2 s (${num((100 * p.ok) / Math.max(1, p.sent), 2)} %), p50 ${num(p.p50Ms, 0)} ms, p95 ${num(p.p95Ms, 0)} ms, p99 ${num(p.p99Ms, 0)} ms ; statuts ${statuses(p.byStatus)}, erreurs ${statuses(p.byError)}`);
  const f = r.flood;
  console.log(`      inondation : ${f.sent} envoyées (${num(f.sent / r.durationS, 0)}/s)${f.notSent ? `, ${f.notSent} non envoyées faute de connexion libre (limite du générateur : ${FLOOD_CONNECTIONS})` : ''} ; réponses ${statuses(f.byStatus)} ; erreurs ${f.errors}, délais dépassés ${f.timeouts}, sans réponse à la fin ${f.pending}`);
  console.log(`      ${cutLine('en-têtes lents', r.slowHeaders)}`);
  console.log(`      ${r.slowReadsSkipped ? `⚠ lectures lentes NON MESURÉES : ${r.slowReadsSkipped}` : cutLine('lectures lentes (fenêtre de réception 2 Ko)', r.slowReads)}`);
  const busy = cpu0 !== undefined && cpu1 !== undefined ? `${num((cpu1 - cpu0) / 10 / Math.max(o.durationS, o.slowWatchS), 0)} % d’un cœur` : 'inconnu';
  const waitedS = wait0 !== undefined && wait1 !== undefined ? (wait1 - wait0) / 1000 : NaN;
  const starved = waitedS > 0.25 * Math.max(o.durationS, o.slowWatchS) ? ' (⚠ la machine, pas le serveur, a réglé le rythme : chiffres à reprendre sur une machine calme)' : '';
  console.log(`      CPU du serveur sur la durée : ${busy} ; sa boucle a attendu le CPU (autres processus) ${num(waitedS, 1)} s${starved} ; retard p99 de la boucle du générateur ${num(r.generatorLagP99Ms, 0)} ms${r.generatorLagP99Ms > 200 ? ' (⚠ générateur saturé : il a réglé le rythme lui-même)' : ''}`);
  return { ...r, serverRunQueueWaitS: waitedS };
}

export async function runFloodBench(options: FloodOptions): Promise<BenchResult[]> {
  const o = { ...options };
  // Every slow connection is a descriptor on both ends: scale down (and say so) rather than fail midway.
  const needed = o.slowHeaders + o.slowReads + FLOOD_CONNECTIONS + o.pupils * PUPIL_SOCKETS + 256;
  const limit = fdLimit();
  if (needed > limit) {
    const room = Math.max(0, limit - FLOOD_CONNECTIONS - o.pupils * PUPIL_SOCKETS - 256);
    const scale = room / (o.slowHeaders + o.slowReads);
    o.slowHeaders = Math.floor(o.slowHeaders * scale);
    o.slowReads = Math.floor(o.slowReads * scale);
    console.log(`    ⚠ limite de descripteurs (ulimit -n) ${limit} < ${needed} nécessaires : connexions lentes RÉDUITES à ${o.slowHeaders} en-têtes lents et ${o.slowReads} lectures lentes`);
  }
  step(`Préau avec l’entrée (mode crise, ${ABROAD} « à l’étranger », limites réelles) et sans (PREAU_EDGE=off), ${o.pupils} élèves chacun (CPU 0)`);
  const on = await startPreau(['--edge', 'on', '--rate-limits', 'default', '--crisis', 'on', '--abroad-networks', ABROAD, '--bench-users', String(o.pupils)]);
  const off = await startPreau(['--edge', 'off', '--bench-users', String(o.pupils)]);
  try {
    for (const s of [on, off]) {
      const serverLimit = fdLimit(s.child.process.pid ?? 'self');
      if (serverLimit < needed) console.log(`    ⚠ le serveur n’a que ${serverLimit} descripteurs (${needed} souhaités) : il refusera des connexions pour cette raison`);
    }
    step(`connexion de ${o.pupils} élèves sur chaque serveur ; capacité de vérification de mots de passe (argon2 brut, ${on.ready.hashConcurrency ?? 1} en parallèle, CPU 0)`);
    const [cookiesOn, cookiesOff] = [await signInMany(on.origin, o.pupils), await signInMany(off.origin, o.pupils)];
    const hash = await rawVerifyRate('argon2 brut', on.ready.hashConcurrency ?? 1, 1, 3);
    const rate = hash.verifiesPerSecond * o.multiple;
    console.log(`    capacité : ${num(hash.verifiesPerSecond, 1)} vérifications/s → inondation à ${o.multiple}× = ${num(rate, 0)} tentatives/s pendant ${o.durationS} s, connexions lentes observées ${o.slowWatchS} s`);
    const rOff = await side('sans entrée', off, cookiesOff, o, rate);
    const rOn = await side('avec entrée', on, cookiesOn, o, rate);
    const success = (r: FloodResultMessage) => r.pupils.ok / Math.max(1, r.pupils.sent);
    const details = (r: FloodResultMessage & { serverRunQueueWaitS: number }, tag: string) => ({
      [`pupilsSent${tag}`]: r.pupils.sent, [`pupilsOk${tag}`]: r.pupils.ok, [`pupilsP50Ms${tag}`]: r.pupils.p50Ms, [`pupilsP95Ms${tag}`]: r.pupils.p95Ms, [`pupilsP99Ms${tag}`]: r.pupils.p99Ms,
      [`generatorLagP99Ms${tag}`]: r.generatorLagP99Ms, [`serverRunQueueWaitS${tag}`]: r.serverRunQueueWaitS, [`floodSent${tag}`]: r.flood.sent, [`floodNotSent${tag}`]: r.flood.notSent, [`floodStatuses${tag}`]: statuses(r.flood.byStatus),
      [`slowHeadersCut${tag}`]: r.slowHeaders.cutByServer, [`slowHeadersCutP50S${tag}`]: r.slowHeaders.cutP50S, [`slowHeadersCutMaxS${tag}`]: r.slowHeaders.cutMaxS,
      [`slowReadsCut${tag}`]: r.slowReads.cutByServer, [`slowReadsCutP50S${tag}`]: r.slowReads.cutP50S, [`slowReadsCutMaxS${tag}`]: r.slowReads.cutMaxS,
    });
    const common = { capacityPerS: hash.verifiesPerSecond, floodRatePerS: rate, slowHeaders: o.slowHeaders, slowReads: o.slowReads, pupils: o.pupils, durationS: o.durationS, ...details(rOn, 'On'), ...details(rOff, 'Off') };
    return [
      {
        name: 'edge-flood-pupils-success', title: `Inondation ${o.multiple}× : élèves servis (< 2 s)`, unit: '%', preau: 100 * success(rOn), baseline: 100 * success(rOff), baselineLabel: 'sans entrée',
        ratio: success(rOn), target: 0.99, details: common,
      },
      {
        name: 'edge-flood-pupils-p95', title: `Inondation ${o.multiple}× : 1 s ÷ p95 des élèves`, unit: 'ms', preau: rOn.pupils.p95Ms, baseline: rOff.pupils.p95Ms, baselineLabel: 'sans entrée',
        ratio: 1_000 / rOn.pupils.p95Ms, target: 1, details: common,
      },
    ];
  } finally {
    await Promise.all([on.child.stop(), off.child.stop()]);
  }
}
