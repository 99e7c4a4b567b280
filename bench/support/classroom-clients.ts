/**
 * The classroom bench's client child, pinned on the load CPU: synthetic werift participants
 * (src/media/testing/synthetic-client.ts) driven through the engine host, then the same packet
 * schedule through the bare UDP relay. Prints `classroom-progress` lines and one `classroom-result`.
 *
 * argv: --host-port P --relay-port P --workers N --pupils 30 --cameras 4 --measure-s 20
 *       --step-s 10 --audio-steps 30,60,90,120
 */
import { createSocket, type Socket } from 'node:dgram';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { EMBEDDED_LIMITS } from '../../src/media/embedded/limits.js';
import type { ParticipantMedia, RoomMediaStats } from '../../src/media/media-engine.js';
import { AUDIO_PACKET_BYTES, AUDIO_PACKET_MS, SyntheticClient, VIDEO_360P, VIDEO_PUPIL, type SyntheticClientOptions, type VideoProfile } from '../../src/media/testing/synthetic-client.js';
import type { AudioStep, ClassPhase, ClassroomResult, FromHost, HostMeasure, JoinPhase, RelayPhase, ToHost } from './classroom-protocol.js';
import { emit } from './protocol.js';

const { values } = parseArgs({
  options: {
    'host-port': { type: 'string' },
    'relay-port': { type: 'string' },
    workers: { type: 'string', default: '1' },
    pupils: { type: 'string', default: '30' },
    cameras: { type: 'string', default: '4' },
    'measure-s': { type: 'string', default: '20' },
    'step-s': { type: 'string', default: '10' },
    'audio-steps': { type: 'string', default: '30,60,90,120' },
    /** Only the join burst: no measured window, no audio steps, no relay (to study join time). */
    'join-only': { type: 'boolean', default: false },
  },
});
const JOIN_ONLY = values['join-only'] === true;
const PUPILS = Number(values.pupils);
const CAMERAS = Number(values.cameras);
const MEASURE_S = Number(values['measure-s']);
const STEP_S = Number(values['step-s']);
// A class is one room: its size stops at the engine's per-room bound (the teacher included).
const AUDIO_STEPS = String(values['audio-steps']).split(',').filter((n) => n.trim() !== '').map((n) => Math.min(Number(n), EMBEDDED_LIMITS.participantsPerRoom - 1));
/** Loss the issue accepts from the server. */
const MAX_LOSS = 0.005;
/** Below this share of the nominal packet rate, an audio step measured the generator, not the engine. */
const MIN_OFFERED_SHARE = 0.9;
/** A pupil whose first packet has not come after this is counted as a failed join. */
const JOIN_GIVE_UP_MS = 30_000;

const progress = (text: string) => emit({ type: 'classroom-progress', text });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const clientLag = monitorEventLoopDelay({ resolution: 10 });
clientLag.enable();

// ── The host connection: requests with ids, signals routed to clients ─────────────────────────
const ws = new WebSocket(`ws://127.0.0.1:${values['host-port']}`);
await new Promise<void>((resolve, reject) => {
  ws.once('open', () => resolve());
  ws.once('error', reject);
});
const pending = new Map<number, (m: FromHost) => void>();
const clients = new Map<string, SyntheticClient>();
let nextId = 1;
ws.on('message', (data) => {
  const m = JSON.parse(String(data)) as FromHost;
  if (m.op === 'signal') void clients.get(`${m.roomId}/${m.participantId}`)?.handle(m.message).catch(() => undefined);
  else pending.get(m.id)?.(m);
});
type Request = ToHost extends infer T ? (T extends { id: number } ? Omit<T, 'id'> : never) : never;
function host(request: Request): Promise<Extract<FromHost, { op: 'reply'; ok: true }>> {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, (m) => {
      pending.delete(id);
      if (m.op === 'reply' && m.ok) resolve(m);
      else reject(new Error(m.op === 'reply' && !m.ok ? m.error : 'réponse inattendue'));
    });
    ws.send(JSON.stringify({ ...request, id }));
  });
}

const rights = (audio: boolean, camera: boolean) => ({ audio, camera, screen: false });
const until = async (cond: () => boolean, maxMs: number) => {
  const deadline = Date.now() + maxMs;
  while (!cond() && Date.now() < deadline) await sleep(20);
  return cond();
};

async function participant(roomId: string, id: string, media: ParticipantMedia, send: SyntheticClientOptions['send'], extra: Partial<SyntheticClientOptions> = {}): Promise<SyntheticClient> {
  const c = new SyntheticClient({ id, send, iceBindAddress: '127.0.0.1', iceAdditionalHostAddresses: ['127.0.0.1'], ...extra });
  c.sendSignal = async (message) => {
    await host({ op: 'signal', roomId, participantId: id, message });
  };
  clients.set(`${roomId}/${id}`, c);
  await host({ op: 'join', roomId, participantId: id, media });
  return c;
}

async function startWhenConnected(c: SyntheticClient): Promise<void> {
  await until(() => c.pc.connectionState === 'connected', 20_000);
  c.startMedia();
}

function lossOf(list: SyntheticClient[]) {
  let expected = 0;
  let received = 0;
  for (const c of list) {
    const l = c.loss();
    expected += l.expected;
    received += l.received;
  }
  return { expected, received };
}

const percentile = (xs: number[], p: number) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

/** Packets per second of a synthetic video stream (frames split at packetBytes, a keyframe 4× bigger every keyframeIntervalMs). */
function videoPacketsPerS(p: VideoProfile): number {
  const frameBytes = p.bitrateBps / 8 / p.fps;
  const framesPerKey = (p.keyframeIntervalMs / 1000) * p.fps;
  const perFrame = Math.ceil(frameBytes / p.packetBytes);
  const perKey = Math.ceil((frameBytes * 4) / p.packetBytes);
  return (p.fps * ((framesPerKey - 1) * perFrame + perKey)) / framesPerKey;
}

async function measureWindow(seconds: number, label: string): Promise<HostMeasure> {
  await host({ op: 'measure-start' });
  for (let s = 1; s <= seconds; s += 1) {
    await sleep(1_000);
    if (s % 5 === 0 || s === seconds) progress(`${label} : mesure ${s}/${seconds} s`);
  }
  return (await host({ op: 'measure-end' })).measure!;
}

async function closeRoom(roomId: string): Promise<void> {
  await host({ op: 'close', roomId });
  const mine = [...clients.entries()].filter(([k]) => k.startsWith(`${roomId}/`));
  await Promise.all(mine.map(([, c]) => c.close()));
  for (const [k] of mine) clients.delete(k);
}

// ── Join breakdown: each pupil's steps, from its client's timestamps ─────────────────────────
const PHASES: JoinPhase['name'][] = ['join', 'offer', 'answer', 'ice', 'dtls', 'rtp'];

/** Times since the join call of each step this client reached (undefined: not reached). */
function joinTimeline(started: number, joinedAt: number, c: SyntheticClient): Record<JoinPhase['name'], number | undefined> {
  const since = (at: number | undefined) => (at === undefined ? undefined : at - started);
  return {
    join: joinedAt - started,
    offer: since(c.phases.offerAtMs),
    answer: since(c.phases.answerAcceptedAtMs),
    ice: since(c.phases.iceConnectedAtMs),
    dtls: since(c.phases.dtlsConnectedAtMs),
    rtp: since(c.firstPacketAtMs),
  };
}

function joinBreakdown(timelines: Record<JoinPhase['name'], number | undefined>[]): JoinPhase[] {
  return PHASES.map((name, i) => {
    const since: number[] = [];
    const steps: number[] = [];
    for (const t of timelines) {
      const at = t[name];
      if (at === undefined) continue;
      since.push(at);
      // The previous step this pupil reached (a step may be missed: e.g. no ICE event before DTLS).
      const before = PHASES.slice(0, i).map((p) => t[p]).filter((x): x is number => x !== undefined).at(-1) ?? 0;
      steps.push(at - before);
    }
    return { name, reached: since.length, stepP50Ms: percentile(steps, 50), stepP95Ms: percentile(steps, 95), sinceJoinP50Ms: percentile(since, 50), sinceJoinP95Ms: percentile(since, 95) };
  });
}

function slowest(timelines: ({ id: string; total: number } & Record<JoinPhase['name'], number | undefined>)[]): ClassPhase['slowestJoins'] {
  return [...timelines]
    .sort((a, b) => b.total - a.total)
    .slice(0, 5)
    .map((t) => ({ id: t.id, ms: Object.fromEntries(PHASES.map((p) => [p, t[p]])) }));
}

function emptyClassPhase(): ClassPhase {
  const stats: RoomMediaStats = { roomId: '', participants: 0, forwardedPackets: 0, droppedPackets: 0, retransmittedPackets: 0, keyframeRequestsReceived: 0, keyframeRequestsSent: 0 };
  return { pupils: 0, pupilCameras: 0, joinP50Ms: NaN, joinP95Ms: NaN, joinFailures: 0, joinFailureStates: [], joinPhases: [], slowestJoins: [], keyframeRequestsToTeacherPerS: NaN, burstS: NaN, keyframeRequestsFromPupils: 0, measureS: 0, forwardedPerS: NaN, offeredShare: NaN, forwardedPerSPerWorker: NaN, serverCpu: NaN, mainLagP99Ms: NaN, workerLagP99Ms: NaN, workerBusy: NaN, lossPct: NaN, lossPackets: 0, expectedPackets: 0, stats, serverCpuUsPerForwarded: NaN };
}

// ── 1. The class: 1 teacher (audio + 360p), 30 pupils joining in the same second, 4 cameras on ──
async function classPhase(): Promise<ClassPhase> {
  const roomId = 'classe';
  await host({ op: 'open', roomId, maxParticipants: PUPILS + 1 });
  const teacher = await participant(roomId, 'prof', { role: 'teacher', send: rights(true, true), camerasOf: [], level: 'full' }, { audio: true, camera: VIDEO_360P }, { speaking: true });
  await startWhenConnected(teacher);
  progress(`classe : le professeur émet ; ${PUPILS} élèves rejoignent dans la même seconde`);
  const cameraIds = Array.from({ length: CAMERAS }, (_, i) => `eleve-${i}`);
  const pliBefore = teacher.pliReceived.camera;
  const t0 = Date.now();
  const joins = await Promise.all(
    Array.from({ length: PUPILS }, async (_, i) => {
      const id = `eleve-${i}`;
      const camera = i < CAMERAS;
      const started = Date.now();
      const c = await participant(roomId, id, { role: 'pupil', send: rights(false, camera), camerasOf: cameraIds.filter((x) => x !== id), level: 'full' }, camera ? { camera: VIDEO_PUPIL } : {}, { pliOnFirstVideo: true });
      const joinedAt = Date.now();
      const ok = await Promise.race([c.firstPacket().then(() => true), sleep(JOIN_GIVE_UP_MS).then(() => false)]);
      return { c, camera, started, joinedAt, ms: ok ? (c.firstPacketAtMs ?? Date.now()) - started : undefined };
    }),
  );
  // The burst lasts until the last pupil who got media got it (a failed join would stretch it by its give-up delay).
  const lastFirst = Math.max(t0, ...joins.map((j) => j.c.firstPacketAtMs ?? 0));
  const burstS = Math.max(1, (lastFirst - t0) / 1000);
  const failed = joins.filter((j) => j.ms === undefined).map((j) => `${j.c.id}: connexion ${j.c.pc.connectionState}, signalisation ${j.c.pc.signalingState}, ${j.c.pc.getTransceivers().length} m-lines`);
  // Requests from joiners still trickle in after the last first packet (video starts later than audio).
  await sleep(1_000);
  const pliDuringBurst = teacher.pliReceived.camera - pliBefore;
  const burstWindowS = burstS + 1;
  const pupils = joins.map((j) => j.c);
  if (JOIN_ONLY) {
    const joinMs = joins.map((j) => j.ms).filter((x): x is number => x !== undefined);
    const timelines = joins.map((j) => ({ id: j.c.id, total: j.ms ?? Infinity, ...joinTimeline(j.started, j.joinedAt, j.c) }));
    await closeRoom(roomId);
    return { ...emptyClassPhase(), pupils: PUPILS, pupilCameras: CAMERAS, joinP50Ms: percentile(joinMs, 50), joinP95Ms: percentile(joinMs, 95), joinFailures: joins.length - joinMs.length, joinFailureStates: failed, joinPhases: joinBreakdown(timelines), slowestJoins: slowest(timelines), keyframeRequestsToTeacherPerS: pliDuringBurst / burstWindowS, burstS: burstWindowS, keyframeRequestsFromPupils: pupils.reduce((n, c) => n + c.keyframeRequestsSent, 0) };
  }
  await Promise.all(joins.filter((j) => j.camera).map((j) => startWhenConnected(j.c)));
  progress('classe : caméras des élèves allumées ; stabilisation 3 s');
  await sleep(3_000);
  const all = [teacher, ...pupils];
  const lossBefore = lossOf(all);
  const statsBefore = (await host({ op: 'stats', roomId })).stats!;
  const m = await measureWindow(MEASURE_S, 'classe');
  const statsAfter = (await host({ op: 'stats', roomId })).stats!;
  const lossAfter = lossOf(all);
  const expected = lossAfter.expected - lossBefore.expected;
  const lost = Math.max(0, expected - (lossAfter.received - lossBefore.received));
  const forwarded = statsAfter.forwardedPackets - statsBefore.forwardedPackets;
  const workers = m.load.workers.length;
  // What the senders make at their nominal pace, times who receives it: teacher audio and camera to every pupil, each pupil camera to the other pupils.
  const nominal = PUPILS * (1000 / AUDIO_PACKET_MS + videoPacketsPerS(VIDEO_360P)) + CAMERAS * (PUPILS - 1) * videoPacketsPerS(VIDEO_PUPIL);
  const joinMs = joins.map((j) => j.ms).filter((x): x is number => x !== undefined);
  const timelines = joins.map((j) => ({ id: j.c.id, total: j.ms ?? Infinity, ...joinTimeline(j.started, j.joinedAt, j.c) }));
  const result: ClassPhase = {
    pupils: PUPILS,
    pupilCameras: CAMERAS,
    joinP50Ms: percentile(joinMs, 50),
    joinP95Ms: percentile(joinMs, 95),
    joinFailures: joins.length - joinMs.length,
    joinFailureStates: failed,
    joinPhases: joinBreakdown(timelines),
    slowestJoins: slowest(timelines),
    keyframeRequestsToTeacherPerS: pliDuringBurst / burstWindowS,
    burstS: burstWindowS,
    keyframeRequestsFromPupils: pupils.reduce((n, c) => n + c.keyframeRequestsSent, 0),
    measureS: m.wallMs / 1000,
    forwardedPerS: forwarded / (m.wallMs / 1000),
    offeredShare: forwarded / (m.wallMs / 1000) / nominal,
    forwardedPerSPerWorker: forwarded / (m.wallMs / 1000) / Math.max(1, workers),
    serverCpu: m.cpuMs / m.wallMs,
    mainLagP99Ms: m.mainLagP99Ms,
    workerLagP99Ms: Math.max(...m.load.workers.map((w) => w.eventLoopLagP99Ms)),
    workerBusy: Math.max(...m.load.workers.map((w) => w.cpu)),
    lossPct: expected > 0 ? (100 * lost) / expected : 0,
    lossPackets: lost,
    expectedPackets: expected,
    stats: statsAfter satisfies RoomMediaStats,
    serverCpuUsPerForwarded: forwarded > 0 ? (m.cpuMs * 1000) / forwarded : NaN,
  };
  await closeRoom(roomId);
  return result;
}

// ── 2. Audio-only classes of growing size on one worker ───────────────────────────────────────
async function audioStep(n: number): Promise<AudioStep> {
  const roomId = `audio-${n}`;
  await host({ op: 'open', roomId, maxParticipants: n + 1 });
  const teacher = await participant(roomId, 'prof', { role: 'teacher', send: rights(true, false), camerasOf: [], level: 'audio-only' }, { audio: true }, { speaking: true });
  await startWhenConnected(teacher);
  const pupils: SyntheticClient[] = [];
  // Joins in waves of 10 (a class arriving over a few seconds), each wave waiting for its audio.
  for (let i = 0; i < n; i += 10) {
    const wave = await Promise.all(
      Array.from({ length: Math.min(10, n - i) }, (_, k) => participant(roomId, `eleve-${i + k}`, { role: 'pupil', send: rights(false, false), camerasOf: [], level: 'audio-only' }, {})),
    );
    pupils.push(...wave);
    await Promise.all(wave.map((c) => Promise.race([c.firstPacket(), sleep(JOIN_GIVE_UP_MS)])));
  }
  const joinFailures = pupils.filter((c) => c.firstPacketAtMs === undefined).length;
  await sleep(2_000);
  const before = lossOf(pupils);
  const statsBefore = (await host({ op: 'stats', roomId })).stats!;
  const m = await measureWindow(STEP_S, `audio seul, ${n} élèves`);
  const statsAfter = (await host({ op: 'stats', roomId })).stats!;
  const after = lossOf(pupils);
  const expected = after.expected - before.expected;
  const lost = Math.max(0, expected - (after.received - before.received));
  const lossPct = expected > 0 ? (100 * lost) / expected : 100;
  const forwardedPerS = (statsAfter.forwardedPackets - statsBefore.forwardedPackets) / (m.wallMs / 1000);
  const offeredShare = forwardedPerS / ((n * 1000) / AUDIO_PACKET_MS);
  await closeRoom(roomId);
  return {
    pupils: n,
    offeredShare,
    generatorLate: offeredShare < MIN_OFFERED_SHARE,
    lossPct,
    forwardedPerS,
    serverCpu: m.cpuMs / m.wallMs,
    workerLagP99Ms: Math.max(...m.load.workers.map((w) => w.eventLoopLagP99Ms)),
    joinFailures,
    ok: lossPct <= MAX_LOSS * 100 && joinFailures === 0,
  };
}

// ── 3. The baseline: the same streams through a bare UDP relay ────────────────────────────────
async function relayPhase(): Promise<RelayPhase> {
  const relayPort = Number(values['relay-port']);
  const streams: { audio: boolean; profile?: VideoProfile }[] = [{ audio: true }, { audio: false, profile: VIDEO_360P }, ...Array.from({ length: CAMERAS }, () => ({ audio: false, profile: VIDEO_PUPIL }))];
  const receivers: { socket: Socket; highest: number[]; first: number[]; received: number[] }[] = [];
  for (let i = 0; i < PUPILS; i += 1) {
    const socket = createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
    const r = { socket, highest: streams.map(() => -1), first: streams.map(() => -1), received: streams.map(() => 0) };
    socket.on('message', (msg) => {
      if (msg.length < 6) return;
      const s = msg.readUInt16BE(0);
      const seq = msg.readUInt32BE(2);
      if (r.first[s] === -1) r.first[s] = seq;
      if (seq > r.highest[s]!) r.highest[s] = seq;
      r.received[s]! += 1;
    });
    socket.send('REG', relayPort, '127.0.0.1');
    receivers.push(r);
  }
  const control = createSocket('udp4');
  await new Promise<void>((r) => control.bind(0, '127.0.0.1', () => r()));
  const sender = createSocket('udp4');
  await new Promise<void>((r) => sender.bind(0, '127.0.0.1', () => r()));
  await sleep(200);
  const seqs = streams.map(() => 0);
  const packet = (s: number, bytes: number) => {
    const b = Buffer.alloc(bytes + 12 + 6);
    b.writeUInt16BE(s, 0);
    b.writeUInt32BE(seqs[s]!, 2);
    seqs[s]! += 1;
    sender.send(b, relayPort, '127.0.0.1');
  };
  const timers = streams.map((st, s) => {
    if (st.audio) return setInterval(() => packet(s, AUDIO_PACKET_BYTES), AUDIO_PACKET_MS);
    const p = st.profile!;
    const frameBytes = p.bitrateBps / 8 / p.fps;
    let frame = 0;
    return setInterval(() => {
      const key = frame % Math.round((p.keyframeIntervalMs / 1000) * p.fps) === 0;
      frame += 1;
      const bytes = Math.round(key ? frameBytes * 4 : frameBytes);
      for (let i = 0; i * p.packetBytes < bytes; i += 1) packet(s, Math.min(p.packetBytes, bytes - i * p.packetBytes));
    }, Math.round(1000 / p.fps));
  });
  await sleep(2_000);
  const snapshot = () => receivers.map((r) => ({ highest: [...r.highest], received: [...r.received] }));
  const before = snapshot();
  control.send('MS', relayPort, '127.0.0.1');
  for (let s = 1; s <= MEASURE_S; s += 1) {
    await sleep(1_000);
    if (s % 5 === 0 || s === MEASURE_S) progress(`relais UDP nu : mesure ${s}/${MEASURE_S} s`);
  }
  const reply = new Promise<{ wallMs: number; cpuMs: number; forwarded: number }>((resolve) => control.once('message', (msg) => resolve(JSON.parse(String(msg)) as { wallMs: number; cpuMs: number; forwarded: number })));
  control.send('ME', relayPort, '127.0.0.1');
  const m = await reply;
  const after = snapshot();
  for (const t of timers) clearInterval(t);
  let expected = 0;
  let received = 0;
  after.forEach((a, i) =>
    a.highest.forEach((h, s) => {
      expected += h - before[i]!.highest[s]!;
      received += a.received[s]! - before[i]!.received[s]!;
    }),
  );
  for (const r of receivers) r.socket.close();
  control.close();
  sender.close();
  return {
    receivers: PUPILS,
    streams: streams.length,
    measureS: m.wallMs / 1000,
    forwardedPerS: m.forwarded / (m.wallMs / 1000),
    serverCpu: m.cpuMs / m.wallMs,
    serverCpuUsPerForwarded: m.forwarded > 0 ? (m.cpuMs * 1000) / m.forwarded : NaN,
    lossPct: expected > 0 ? (100 * Math.max(0, expected - received)) / expected : 0,
  };
}

const classResult = await classPhase();
if (!JOIN_ONLY) progress(`classe : ${classResult.forwardedPerS.toFixed(0)} paquets/s relayés, perte ${classResult.lossPct.toFixed(2)} %`);
const audioSteps: AudioStep[] = [];
for (const n of JOIN_ONLY ? [] : AUDIO_STEPS) {
  progress(`audio seul : ${n} élèves`);
  const step = await audioStep(n).catch((err: unknown): AudioStep => {
    progress(`audio seul, ${n} élèves : palier interrompu (${err instanceof Error ? err.message : String(err)})`);
    return { pupils: n, offeredShare: 0, generatorLate: false, lossPct: 100, forwardedPerS: 0, serverCpu: 0, workerLagP99Ms: 0, joinFailures: n, ok: false };
  });
  audioSteps.push(step);
  progress(`audio seul, ${n} élèves : perte ${step.lossPct.toFixed(2)} %, CPU serveur ${(step.serverCpu * 100).toFixed(0)} %`);
  if (!step.ok || step.generatorLate) break;
}
let relay: RelayPhase | undefined;
if (!JOIN_ONLY) {
  progress('référence : le même flux par un relais UDP nu');
  relay = await relayPhase();
}
const result: ClassroomResult = { workers: Number(values.workers), classPhase: classResult, audioSteps, relay, clientLagP99Ms: clientLag.percentile(99) / 1e6 };
emit({ type: 'classroom-result', result });
ws.close();
process.exit(0);
