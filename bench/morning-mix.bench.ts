/**
 * The morning mix: what a crisis morning asks of the embedded store once sessions exist.
 * 90 % reads (Aujourd'hui and the cahier de textes), 8 % document downloads (a 200 KB PDF attached
 * to the work), 2 % hand-ins of 500 KB (multipart, each a new file with its own Idempotency-Key).
 * Three loads in alternating slices, same connections, same CPU pinning:
 *  - the mix on Préau;
 *  - the same mix on bare node:http moving the same bytes (bytes-server.ts: Préau's own answers
 *    from memory, the same file streamed from disk, hand-ins written with fsync) — the judged ratio,
 *    what Préau's features (sessions, policies, database, validation, receipts) cost on top of the
 *    I/O the mix needs anyway;
 *  - the session-resume load on Préau (GET /me/today only), side by side as the issue asks: what the
 *    heavier mix costs relative to the hot read.
 *
 * Then hand-in throughput: 500 KB hand-ins one after the other over HTTP (MB/s stored, fsync'ed
 * and recorded) against a raw write of the same files with fsync on the same disk, in this process.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { FIXTURE_PASSWORD } from '../test/support/fixtures.js';
import { pinningMode, startServer } from './support/proc.js';
import type { BenchResult, LoadSpec, MixRequest } from './support/protocol.js';
import { num, step } from './support/report.js';
import { alternate, assertAllOk, combineLoads, roundRatios, runLoad } from './support/run-load.js';

export interface MorningMixOptions {
  durationS: number;
  warmupS: number;
  rounds: number;
  connections: number;
  /** Hand-ins of the throughput measure. */
  handins?: number;
}

/**
 * Préau's mix against bare node:http moving the same bytes: at least half as fast. Our own bar (the
 * issue sets none): below it, Préau's work per request, not the bytes, would be what limits the morning.
 */
export const MORNING_MIX_TARGET = 0.5;
const HANDIN_BYTES = 500 * 1024;
const ATTACHMENT_BYTES = 200 * 1024;

interface Session {
  cookie: string;
  csrf: string;
}

async function signIn(base: string, login: string): Promise<Session> {
  const res = await fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ login, password: FIXTURE_PASSWORD, remember: true }) });
  if (res.status !== 200) throw new Error(`connexion de ${login} refusée : ${res.status} ${await res.text()}`);
  const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]!).find((c) => c.startsWith('preau_session='));
  if (!cookie) throw new Error('pas de cookie de session');
  return { cookie, csrf: ((await res.json()) as { csrfToken: string }).csrfToken };
}

function multipartBody(fileName: string, bytes: Buffer): { body: Buffer; contentType: string; dataOffset: number } {
  const boundary = `----preaubench${randomBytes(6).toString('hex')}`;
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="${fileName}"\r\nContent-Type: application/octet-stream\r\n\r\n`);
  return { body: Buffer.concat([head, bytes, Buffer.from(`\r\n--${boundary}--\r\n`)]), contentType: `multipart/form-data; boundary=${boundary}`, dataOffset: head.length };
}

/**
 * Signs the pupil and the teacher in at `origin`, attaches the PDF everyone downloads, and composes
 * the 50-request mix (45 reads, 4 downloads, 1 hand-in). Shared with the nodes bench (same mix
 * through HAProxy).
 */
export async function prepareMorningMix(origin: string): Promise<{ pupil: Session; pdf: Buffer; attachmentUrl: string; handin: ReturnType<typeof multipartBody>; mix: MixRequest[] }> {
  const pupil = await signIn(origin, 'pupila1');
  const teacher = await signIn(origin, 'teachera');

  // The document everyone downloads: a 200 KB PDF attached to tomorrow's maths.
  const pdf = Buffer.concat([Buffer.from('%PDF-1.4\n'), randomBytes(ATTACHMENT_BYTES - 9)]);
  const form = new FormData();
  form.append('file', new Blob([pdf]), 'fiche.pdf');
  const up = await fetch(`${origin}/api/v1/homework/hwMaths6A/attachments`, { method: 'POST', headers: { cookie: teacher.cookie, 'x-csrf-token': teacher.csrf }, body: form });
  if (up.status !== 201) throw new Error(`pièce jointe refusée : ${up.status} ${await up.text()}`);
  const attachmentUrl = ((await up.json()) as { attachment: { url: string } }).attachment.url;

  const handin = multipartBody('copie.jpg', Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(HANDIN_BYTES - 4)]));
  const read = (p: string): MixRequest => ({ method: 'GET', path: p, headers: { cookie: pupil.cookie } });
  // 50 requests: 45 reads (Aujourd'hui and the cahier in turn), 4 downloads, 1 hand-in = 90 / 8 / 2 %.
  const reads = [read('/api/v1/me/today'), read('/api/v1/homework')];
  const mix: MixRequest[] = [];
  for (let i = 0; i < 50; i++) {
    if (i === 25) mix.push({ method: 'POST', path: '/api/v1/homework/hwMaths6A/handins', headers: { cookie: pupil.cookie, 'x-csrf-token': pupil.csrf, 'content-type': handin.contentType }, bodyBase64: handin.body.toString('base64'), uniqueAt: handin.dataOffset + 100 });
    else if (i % 12 === 6) mix.push(read(attachmentUrl));
    else mix.push(reads[i % 2]!);
  }
  if (mix.length !== 50 || mix.filter((m) => m.method === 'POST').length !== 1 || mix.filter((m) => m.path === attachmentUrl).length !== 4) throw new Error('mélange mal composé');
  return { pupil, pdf, attachmentUrl, handin, mix };
}

export async function runMorningMixBench(options: MorningMixOptions): Promise<BenchResult> {
  const sliceS = Math.max(1, Math.ceil(options.durationS / options.rounds));
  step('Préau : composition sur SQLite (fichier, WAL), jeu d’essai + emploi du temps + cahier de textes (CPU 0)');
  const preau = await startServer('preau-server.ts');
  try {
    const origin = `http://127.0.0.1:${preau.ready.port}`;
    const { pupil, pdf, attachmentUrl, handin, mix } = await prepareMorningMix(origin);

    // The baseline moves the same bytes: Préau's own answers to the two reads, the same file, the same hand-in body.
    const bytesDir = mkdtempSync(path.join(tmpdir(), 'preau-mixbytes-'));
    for (const [file, p] of [['today.json', '/api/v1/me/today'], ['homework.json', '/api/v1/homework']] as const) {
      const res = await fetch(`${origin}${p}`, { headers: { cookie: pupil.cookie } });
      if (res.status !== 200) throw new Error(`${p} : ${res.status}`);
      writeFileSync(path.join(bytesDir, file), Buffer.from(await res.arrayBuffer()));
    }
    writeFileSync(path.join(bytesDir, 'attachment.bin'), pdf);
    const bare = await startServer('bytes-server.ts', ['--dir', bytesDir]);
    const bareOrigin = `http://127.0.0.1:${bare.ready.port}`;
    const bareMix: MixRequest[] = mix.map((m) => ({
      ...m,
      path: m.method === 'POST' ? '/handin' : m.path === attachmentUrl ? '/attachment' : m.path === '/api/v1/homework' ? '/homework' : '/me/today',
      headers: (m.method === 'POST' ? { 'content-type': handin.contentType } : {}) as Record<string, string>,
    }));

    const spec = (at: string, warmupS: number, m?: MixRequest[]): LoadSpec => ({
      url: `${at}/api/v1/me/today`, method: 'GET', connections: options.connections, warmupS, durationS: sliceS, headers: { cookie: pupil.cookie }, ...(m ? { mix: m } : {}),
    });
    step(`${options.rounds} tranches de ${sliceS} s, ${options.connections} connexions : le mélange sur node:http nu (mêmes octets) et sur Préau en alternance, puis GET /me/today seul sur Préau`);
    const tag = (r: number) => `[${r + 1}/${options.rounds}]`;
    const todaySlices: Awaited<ReturnType<typeof runLoad>>[] = [];
    let slices: Awaited<ReturnType<typeof alternate<Awaited<ReturnType<typeof runLoad>>, Awaited<ReturnType<typeof runLoad>>>>>;
    try {
      slices = await alternate(
        options.rounds,
        async (r) => {
          const res = await runLoad(`mélange nu ${tag(r)}`, spec(bareOrigin, r === 0 ? options.warmupS : 0, bareMix), bare.child.process.pid);
          assertAllOk('le mélange sur node:http nu', res);
          return res;
        },
        async (r) => {
          const res = await runLoad(`mélange    ${tag(r)}`, spec(origin, r === 0 ? options.warmupS : 0, mix), preau.child.process.pid);
          assertAllOk('le mélange du matin', res);
          const today = await runLoad(`/me/today  ${tag(r)}`, spec(origin, 0), preau.child.process.pid);
          assertAllOk('GET /me/today', today);
          todaySlices.push(today);
          return res;
        },
      );
    } catch (err) {
      await bare.child.stop();
      rmSync(bytesDir, { recursive: true, force: true });
      throw err;
    }
    const base = combineLoads(slices.baseline);
    const mine = combineLoads(slices.preau);
    const today = combineLoads(todaySlices);
    const spread = roundRatios(slices.preau.map((s) => s.requestsPerSecond), slices.baseline.map((s) => s.requestsPerSecond));

    // Hand-in throughput, one at a time: Préau; the same uploads to bare node:http writing each with
    // fsync (the same HTTP transfer, no features); a raw write of the same bytes with fsync in this process.
    const count = options.handins ?? 60;
    step(`débit des rendus : ${count} rendus de 500 Ko l’un après l’autre sur Préau, sur node:http nu (fsync), et ${count} écritures brutes (fsync)`);
    const uploadAll = async (url: string, headers: Record<string, string>, tagged: string): Promise<number> => {
      const t0 = performance.now();
      for (let i = 0; i < count; i++) {
        const body = Buffer.from(handin.body);
        body.write(`${tagged}-${String(i).padStart(8, '0')}`, handin.dataOffset + 100, 'latin1');
        const res = await fetch(url, { method: 'POST', headers: { ...headers, 'content-type': handin.contentType, 'idempotency-key': `${tagged}-${Date.now()}-${i}` }, body });
        if (res.status !== 201) throw new Error(`rendu refusé : ${res.status} ${await res.text()}`);
        await res.arrayBuffer();
      }
      return (performance.now() - t0) / 1000;
    };
    let handinS: number;
    let bareHandinS: number;
    try {
      bareHandinS = await uploadAll(`${bareOrigin}/handin`, {}, 'nu');
      handinS = await uploadAll(`${origin}/api/v1/homework/hwMaths6A/handins`, { cookie: pupil.cookie, 'x-csrf-token': pupil.csrf }, 'tp');
    } finally {
      await bare.child.stop();
      rmSync(bytesDir, { recursive: true, force: true });
    }
    const dir = mkdtempSync(path.join(tmpdir(), 'preau-rawwrite-'));
    const t1 = performance.now();
    try {
      for (let i = 0; i < count; i++) {
        const f = await open(path.join(dir, `${i}.bin`), 'wx');
        await f.write(handin.body.subarray(handin.dataOffset, handin.dataOffset + HANDIN_BYTES));
        await f.sync();
        await f.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const rawS = (performance.now() - t1) / 1000;
    const mb = (count * HANDIN_BYTES) / (1024 * 1024);
    const handinMBps = mb / handinS;
    const rawMBps = mb / rawS;
    const bareHandinMBps = mb / bareHandinS;

    const result: BenchResult = {
      name: 'morning-mix',
      title: 'Mélange du matin (90 % lectures, 8 % téléchargements, 2 % rendus 500 Ko)',
      unit: 'req/s',
      preau: mine.requestsPerSecond,
      baseline: base.requestsPerSecond,
      baselineLabel: 'node:http nu, mêmes octets',
      ratio: mine.requestsPerSecond / base.requestsPerSecond,
      target: MORNING_MIX_TARGET,
      details: {
        mixP50Ms: mine.latencyP50Ms, mixP99Ms: mine.latencyP99Ms, mixRequests: mine.ok2xx,
        bareMixRps: base.requestsPerSecond, bareMixP99Ms: base.latencyP99Ms,
        todayRps: today.requestsPerSecond, todayP50Ms: today.latencyP50Ms, todayP99Ms: today.latencyP99Ms, todayRequests: today.ok2xx,
        mixVsSessionResume: mine.requestsPerSecond / today.requestsPerSecond,
        handinMBps, rawWriteMBps: rawMBps, handinVsRawWrite: handinMBps / rawMBps, bareHttpHandinMBps: bareHandinMBps, handinVsBareHttp: handinMBps / bareHandinMBps, handinsMeasured: count,
        ratioPerRound: spread.perRound.map((r) => r.toFixed(3)).join(' '), connections: options.connections, sliceS, rounds: options.rounds,
        pinning: pinningMode(), cpu: cpus()[0]?.model ?? 'inconnu', node: process.version,
      },
    };
    console.log(`    mélange, Préau        ${num(mine.requestsPerSecond, 1)} req/s   p50 ${num(mine.latencyP50Ms, 2)} ms   p99 (pire tranche) ${num(mine.latencyP99Ms, 0)} ms`);
    console.log(`    mélange, node:http nu ${num(base.requestsPerSecond, 1)} req/s   p50 ${num(base.latencyP50Ms, 2)} ms   p99 (pire tranche) ${num(base.latencyP99Ms, 0)} ms`);
    console.log(`    ratio                 ${num(result.ratio, 3)} (objectif ≥ ${MORNING_MIX_TARGET}) ; par tranche : ${spread.perRound.map((r) => num(r, 3)).join(' · ')}`);
    console.log(`    /me/today seul, Préau ${num(today.requestsPerSecond, 1)} req/s   p50 ${num(today.latencyP50Ms, 2)} ms   p99 (pire tranche) ${num(today.latencyP99Ms, 0)} ms → le mélange en fait ${num(mine.requestsPerSecond / today.requestsPerSecond, 3)}`);
    console.log(`    rendus                ${num(handinMBps, 1)} Mo/s stockés (HTTP, multipart, SHA-256, fsync, base) contre ${num(rawMBps, 1)} Mo/s en écriture brute avec fsync → ${num(handinMBps / rawMBps, 2)}`);
    console.log(`                          et contre ${num(bareHandinMBps, 1)} Mo/s reçus et écrits avec fsync par node:http nu (le même transfert HTTP) → ${num(handinMBps / bareHandinMBps, 2)}`);
    return result;
  } finally {
    await preau.child.stop();
  }
}
