/**
 * `npm run bench:classroom [-- --workers 1 --measure-s 20 --step-s 10 --audio-steps 30,60,90,119 --profile --join-only]`:
 * the embedded media engine (issue 8) under a class, synthetic werift clients on the other CPU.
 *
 *  1. A class: 1 teacher (Opus-sized audio every 20 ms + 360p VP8-like video at ≈ 500 kbit/s) and
 *     30 pupils joining in the same second, 4 of them with a camera on (≈ 200 kbit/s), every pupil
 *     receiving the teacher and the 4 cameras. Figures: join time p50/p95 (join call → first media
 *     packet, signalling included; target p95 ≤ 4 s), keyframe requests reaching the teacher per
 *     second of the burst (each joiner asks for one on its first video packet; target ≤ 1/s),
 *     forwarded packets/s per worker, server CPU (the engine host process, all threads), event-loop
 *     delay p99 of the host's main thread — where Préau's HTTP runs — (target ≤ 20 ms), loss seen by
 *     the clients (target ≤ 0.5 %; on loopback nothing else drops, though an overloaded client
 *     could: its own event-loop delay is printed).
 *     The join time is broken down per step of each pupil's first connection, measured at the
 *     client (join answered → offer received → answer accepted → ICE connected → DTLS connected →
 *     first RTP): p50/p95 of each step and of the time since the join call, and the slowest
 *     joiners' timelines. `--join-only` stops there (no measured window, audio steps or relay).
 *  2. The largest audio-only class one worker carries with loss ≤ 0.5 %: steps of pupils.
 *  3. Baseline, same run: the class's streams (same sizes, same pacing, same 30 receivers) through
 *     a bare node:dgram relay (bench/support/udp-relay.ts) — no ICE/DTLS/SRTP/RTCP. Ratio: server
 *     CPU per forwarded packet, SFU ÷ relay — the price of WebRTC forwarding in TypeScript.
 *
 * Engine host and relay pinned on CPU 0, clients on CPU 1 (taskset). JSON report under
 * $TMPDIR/preau-bench/.
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { profileFlags, topSelfTime } from './support/cpuprofile.js';
import type { ClassroomResult } from './support/classroom-protocol.js';
import { LOAD_CPU, pinningMode, startPinned, startServer } from './support/proc.js';
import { num, step, writeResults } from './support/report.js';

const { values } = parseArgs({
  options: {
    workers: { type: 'string', default: '1' },
    pupils: { type: 'string', default: '30' },
    cameras: { type: 'string', default: '4' },
    'measure-s': { type: 'string', default: '20' },
    'step-s': { type: 'string', default: '10' },
    'audio-steps': { type: 'string', default: '30,60,90,119' },
    /** Profile the engine host (`--cpu-prof`: its main thread and its room worker) and print the worker's hottest functions. */
    profile: { type: 'boolean', default: false },
    /** Only the join burst and its breakdown (no measured window, audio steps or relay). */
    'join-only': { type: 'boolean', default: false },
  },
});
const profiling = profileFlags(values.profile);

console.log('Banc classe virtuelle — moteur média embarqué (werift) contre un relais UDP nu');
console.log(pinningMode() === 'taskset' ? 'Épinglage : moteur et relais sur le CPU 0, clients synthétiques sur le CPU 1 (taskset).' : 'Épinglage : AUCUN.');
const engineHost = await startServer('classroom-engine-host.ts', ['--workers', String(values.workers)], profiling.flags);
const relay = await startServer('udp-relay.ts');
step(`moteur prêt (${values.workers} worker(s)), relais prêt`);
const clients = startPinned(LOAD_CPU, 'classroom-clients.ts', [
  '--host-port', String(engineHost.ready.port),
  '--relay-port', String(relay.ready.port),
  '--workers', String(values.workers),
  '--pupils', String(values.pupils),
  '--cameras', String(values.cameras),
  '--measure-s', String(values['measure-s']),
  '--step-s', String(values['step-s']),
  '--audio-steps', String(values['audio-steps']),
  ...(values['join-only'] ? ['--join-only'] : []),
]);
clients.onMessage((m) => {
  if (m.type === 'classroom-progress') step(m.text);
});
let result: ClassroomResult;
try {
  result = (await clients.next('classroom-result', 15 * 60_000)).result;
} finally {
  await clients.stop();
  await engineHost.child.stop();
  await relay.child.stop();
}

const c = result.classPhase;
const phaseNames: Record<string, string> = { join: 'join (réponse du moteur)', offer: 'offre reçue', answer: 'réponse acceptée', ice: 'ICE connecté', dtls: 'DTLS connecté', rtp: 'premier paquet RTP' };
const breakdown = () => {
  console.log(`\nArrivée de ${c.pupils} élèves, étape par étape (mesuré chez les clients ; ms) :`);
  console.log(`  ${'étape'.padEnd(26)}  ${'atteinte'.padStart(8)}  ${'étape p50'.padStart(9)}  ${'étape p95'.padStart(9)}  ${'depuis join p50'.padStart(15)}  ${'depuis join p95'.padStart(15)}`);
  for (const ph of c.joinPhases) console.log(`  ${(phaseNames[ph.name] ?? ph.name).padEnd(26)}  ${String(ph.reached).padStart(8)}  ${num(ph.stepP50Ms, 0).padStart(9)}  ${num(ph.stepP95Ms, 0).padStart(9)}  ${num(ph.sinceJoinP50Ms, 0).padStart(15)}  ${num(ph.sinceJoinP95Ms, 0).padStart(15)}`);
  console.log('  Les plus lents (ms depuis leur join) :');
  for (const s of c.slowestJoins) console.log(`    ${s.id.padEnd(10)} ${Object.entries(s.ms).map(([k, v]) => `${k} ${v === undefined ? '—' : v}`).join(' · ')}`);
};
if (values['join-only']) {
  console.log(`\nArrivée : p50 ${num(c.joinP50Ms / 1000, 2)} s, p95 ${num(c.joinP95Ms / 1000, 2)} s${c.joinFailures ? ` (${c.joinFailures} échecs)` : ''} (objectif p95 ≤ 4 s) ; demandes d’image clé au professeur ${num(c.keyframeRequestsToTeacherPerS, 2)} /s`);
  breakdown();
  for (const f of c.joinFailureStates) console.log(`  arrivée échouée — ${f}`);
  console.log(`Retard de boucle p99 du générateur de clients : ${num(result.clientLagP99Ms, 1)} ms.`);
  printProfiles();
  const file = writeResults('classroom-join', { when: new Date().toISOString(), pinning: pinningMode(), options: values, ...result });
  console.log(`Rapport JSON : ${file}`);
  process.exit(0);
}
function printProfiles(): void {
  if (profiling.dir) {
    // One profile per thread: the worker's is the one that is not thread 0 (and not tsx's loader, which is small).
    const files = readdirSync(profiling.dir).filter((f) => f.endsWith('.cpuprofile')).map((f) => path.join(profiling.dir!, f));
    const biggest = files.sort((a, b) => statSync(b).size - statSync(a).size);
    for (const f of biggest.slice(0, 2)) {
      console.log(`\nProfil ${f} — fonctions les plus coûteuses (temps propre) :`);
      for (const t of topSelfTime(f, 20)) console.log(`  ${t.percent.toFixed(1).padStart(5)} %  ${t.name}`);
    }
  }
}
const relayResult = result.relay!;
const verdict = (ok: boolean) => (ok ? 'OK' : 'SOUS L’OBJECTIF');
const largestAudio = result.audioSteps.filter((s) => s.ok && !s.generatorLate).at(-1)?.pupils;
const generatorLate = result.audioSteps.find((s) => s.generatorLate);
const lastAudio = result.audioSteps.at(-1);
const ratio = c.serverCpuUsPerForwarded / relayResult.serverCpuUsPerForwarded;
const rows: [string, string, string, string][] = [
  [`Arrivée de ${c.pupils} élèves dans la même seconde : p50 / p95`, `${num(c.joinP50Ms / 1000, 2)} s / ${num(c.joinP95Ms / 1000, 2)} s${c.joinFailures ? ` (${c.joinFailures} échecs)` : ''}`, 'p95 ≤ 4 s', verdict(c.joinP95Ms <= 4_000 && c.joinFailures === 0)],
  ['Demandes d’image clé au professeur', `${num(c.keyframeRequestsToTeacherPerS, 2)} /s (sur ${num(c.burstS, 1)} s ; ${c.keyframeRequestsFromPupils} demandées)`, '≤ 1 /s', verdict(c.keyframeRequestsToTeacherPerS <= 1)],
  ['Paquets relayés par worker', `${num(c.forwardedPerSPerWorker, 0)} /s (${num(c.offeredShare * 100, 0)} % du débit nominal des émetteurs)`, '—', c.offeredShare < 0.9 ? 'GÉNÉRATEUR EN RETARD' : '—'],
  ['CPU du serveur (hôte du moteur)', `${num(c.serverCpu * 100, 0)} % d’un cœur (worker occupé ${num(c.workerBusy * 100, 0)} %)`, '—', '—'],
  ['Retard de boucle p99, fil principal', `${num(c.mainLagP99Ms, 1)} ms (worker : ${num(c.workerLagP99Ms, 1)} ms)`, '≤ 20 ms', verdict(c.mainLagP99Ms <= 20)],
  ['Perte due au serveur', `${num(c.lossPct, 3)} % (${c.lossPackets} / ${c.expectedPackets})`, '≤ 0,5 %', verdict(c.lossPct <= 0.5)],
  ['Plus grande classe audio seul (1 worker)', `${largestAudio === undefined ? 'aucune mesurée' : `${largestAudio} élèves`}${generatorLate ? ` ; à ${generatorLate.pupils}, le générateur n’a offert que ${num(generatorLate.offeredShare * 100, 0)} % du débit nominal : non concluant` : lastAudio?.ok ? ' (dernier palier tenu : plus haut non essayé)' : ''}`, 'perte ≤ 0,5 %', '—'],
  ['CPU par paquet relayé : SFU / relais nu', `${num(c.serverCpuUsPerForwarded, 1)} µs / ${num(relayResult.serverCpuUsPerForwarded, 2)} µs`, `ratio ${num(ratio, 1)}×`, '—'],
];
console.log('\nRésultats (mesurés dans ce même lancement)\n');
const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i]!.length), ['Mesure', 'Valeur', 'Objectif', 'Verdict'][i]!.length));
const line = (cells: string[]) => `  ${cells.map((x, i) => x.padEnd(widths[i]!)).join('  ')}`;
console.log(line(['Mesure', 'Valeur', 'Objectif', 'Verdict']));
console.log(`  ${widths.map((w) => '─'.repeat(w)).join('  ')}`);
for (const r of rows) console.log(line(r));
for (const f of c.joinFailureStates) console.log(`  arrivée échouée — ${f}`);
breakdown();
console.log('\nPaliers audio seul :');
for (const s of result.audioSteps) console.log(`  ${String(s.pupils).padStart(4)} élèves : perte ${num(s.lossPct, 3)} %, ${num(s.forwardedPerS, 0)} paquets/s (${num(s.offeredShare * 100, 0)} % du nominal), CPU serveur ${num(s.serverCpu * 100, 0)} %, retard worker p99 ${num(s.workerLagP99Ms, 1)} ms${s.joinFailures ? `, ${s.joinFailures} arrivées échouées` : ''} — ${s.generatorLate ? 'NON CONCLUANT (générateur en retard)' : s.ok ? 'tenu' : 'NON tenu'}`);
console.log(`\nRelais nu : ${num(relayResult.forwardedPerS, 0)} paquets/s, CPU ${num(relayResult.serverCpu * 100, 0)} %, perte ${num(relayResult.lossPct, 3)} %.`);
console.log(`Retard de boucle p99 du générateur de clients : ${num(result.clientLagP99Ms, 1)} ms (au-delà de ~50 ms, la perte mesurée peut venir des clients).`);
printProfiles();
const file = writeResults('classroom', { when: new Date().toISOString(), pinning: pinningMode(), options: values, ratioCpuPerPacket: ratio, ...result });
console.log(`Rapport JSON : ${file}`);
