/**
 * Many nodes (`npm run bench -- --only nodes`): the morning mix through the shipped
 * deploy/haproxy.cfg, in alternating slices, to one Préau process and to two (one per core)
 * sharing one database and one blob directory. The judged figure is 2 nodes / 1 node; the issue's
 * ideal on a 2-core machine is about 2×, minus what HAProxy and the load generator take from the
 * same cores (on such a machine they share CPU 1 with the second node: the ratio is a floor).
 *
 * Both sides go through HAProxy (PROXY v2, health checks), so the ratio is what the second node adds.
 * Node 1 is pinned to CPU 0 and node 2 to CPU 1; for the 1-node side node 2 is taken out through the
 * admin socket (`set server … state maint`), so the same processes serve both sides.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { haproxyAvailable, startHaproxy } from '../test/support/nodes.js';
import { prepareMorningMix } from './morning-mix.bench.js';
import { benchNodeFlags, LOAD_CPU, pinningMode, startPinned, startServer } from './support/proc.js';
import type { BenchResult, LoadSpec, MixRequest } from './support/protocol.js';
import { num, step } from './support/report.js';
import { alternate, assertAllOk, combineLoads, roundRatios, runLoad } from './support/run-load.js';

export interface NodesBenchOptions {
  durationS: number;
  warmupS: number;
  rounds: number;
  connections: number;
}

/** Our bar, not the (it states the ideal, ~2×): the second node must add at least 40 %. */
export const NODES_TARGET = 1.4;

export async function runNodesBench(options: NodesBenchOptions): Promise<BenchResult> {
  if (!haproxyAvailable()) throw new Error('haproxy absent : apt-get install -y haproxy');
  const sliceS = Math.max(1, Math.ceil(options.durationS / options.rounds));
  const dir = mkdtempSync(path.join(tmpdir(), 'preau-nodes-'));
  const shared = ['--dir', dir, '--trusted-proxies', '127.0.0.1'];
  step('deux Préau sur une même base SQLite (WAL) et un même dossier de fichiers : nœud 1 sur le CPU 0, nœud 2 sur le CPU 1 ; HAProxy devant (deploy/haproxy.cfg)');
  const node1 = await startServer('preau-server.ts', shared);
  // Node 2 lives on the load CPU (not startServer's): it gets the bench's V8 flags all the same (proc.ts, benchNodeFlags).
  const node2Child = startPinned(LOAD_CPU, 'preau-server.ts', [...shared, '--seed', 'off'], benchNodeFlags());
  let haproxy: Awaited<ReturnType<typeof startHaproxy>> | undefined;
  try {
    const node2 = await node2Child.next('ready');
    haproxy = await startHaproxy(dir, [node1.ready.port, node2.port]);
    const origin = `http://127.0.0.1:${haproxy.port}`;
    const { pupil, mix } = await prepareMorningMix(origin);
    const nodesUp = async (n: 1 | 2) => {
      await haproxy!.admin(`set server preau_nodes/node2 state ${n === 2 ? 'ready' : 'maint'}`);
      const servers = await haproxy!.servers();
      const state = servers.get('node2')!.status;
      if (n === 1 ? !state.startsWith('MAINT') : !state.startsWith('UP')) throw new Error(`node2 : état ${state}`);
    };
    const spec = (warmupS: number, m: MixRequest[]): LoadSpec => ({
      url: `${origin}/api/v1/me/today`, method: 'GET', connections: options.connections, warmupS, durationS: sliceS, headers: { cookie: pupil.cookie }, mix: m,
    });
    step(`${options.rounds} tranches de ${sliceS} s, ${options.connections} connexions, par HAProxy : le mélange sur un nœud puis sur deux, en alternance`);
    const tag = (r: number) => `[${r + 1}/${options.rounds}]`;
    const slices = await alternate(
      options.rounds,
      async (r) => {
        await nodesUp(1);
        const res = await runLoad(`1 nœud  ${tag(r)}`, spec(r === 0 ? options.warmupS : 0, mix), node1.child.process.pid);
        assertAllOk('le mélange sur un nœud', res);
        return res;
      },
      async (r) => {
        await nodesUp(2);
        const res = await runLoad(`2 nœuds ${tag(r)}`, spec(r === 0 ? options.warmupS : 0, mix), node1.child.process.pid);
        assertAllOk('le mélange sur deux nœuds', res);
        return res;
      },
    );
    const one = combineLoads(slices.baseline);
    const two = combineLoads(slices.preau);
    const spread = roundRatios(slices.preau.map((s) => s.requestsPerSecond), slices.baseline.map((s) => s.requestsPerSecond));
    const result: BenchResult = {
      name: 'nodes',
      title: 'Deux nœuds contre un derrière HAProxy (mélange du matin)',
      unit: 'req/s',
      preau: two.requestsPerSecond,
      baseline: one.requestsPerSecond,
      baselineLabel: 'un nœud derrière le même HAProxy',
      ratio: two.requestsPerSecond / one.requestsPerSecond,
      target: NODES_TARGET,
      details: {
        twoP50Ms: two.latencyP50Ms, twoP99Ms: two.latencyP99Ms, oneP50Ms: one.latencyP50Ms, oneP99Ms: one.latencyP99Ms,
        ratioPerRound: spread.perRound.map((x) => x.toFixed(3)).join(' '), connections: options.connections, sliceS, rounds: options.rounds,
        pinning: pinningMode(), cpus: cpus().length, cpu: cpus()[0]?.model ?? 'inconnu', node: process.version,
        note: 'HAProxy et le générateur de charge partagent les CPU des nœuds',
      },
    };
    console.log(`    1 nœud   ${num(one.requestsPerSecond, 1)} req/s   p50 ${num(one.latencyP50Ms, 2)} ms   p99 (pire tranche) ${num(one.latencyP99Ms, 0)} ms`);
    console.log(`    2 nœuds  ${num(two.requestsPerSecond, 1)} req/s   p50 ${num(two.latencyP50Ms, 2)} ms   p99 (pire tranche) ${num(two.latencyP99Ms, 0)} ms`);
    console.log(`    ratio    ${num(result.ratio, 3)} (idéal ≈ 2 sur 2 cœurs, objectif ≥ ${NODES_TARGET}) ; par tranche : ${spread.perRound.map((x) => num(x, 3)).join(' · ')}`);
    return result;
  } finally {
    await haproxy?.stop();
    await node2Child.stop();
    await node1.child.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
