/**
 * The morning drill on the two-site layout (`--fault primary|site`): the fire drill's sites
 * (tools/drill-fire/sites.ts: etcd ×3, Patroni + PostgreSQL 15 synchronous, HAProxy per site with
 * deploy/haproxy-postgres.cfg) under their own names — namespaces `pm*`, 10.78.0.0/16 —, a Redis
 * of its own in the witness (the edge's shared state), one drill Préau node per site (drill-server.ts `--resume` on the database, files in the database),
 * and in front of both a HAProxy in the root namespace on 127.0.0.1 with the shipped
 * deploy/haproxy.cfg (readiness checks on /readyz, PROXY protocol v2), as a national load
 * balancer would be: the drill's clients keep their own 127.0.0.0/8 addresses and the nodes see
 * them (PREAU_TRUSTED_PROXIES is the front's address on the layout's link). Needs root.
 *
 * Clean-up: `destroy()`; on exit (an error, SIGINT/SIGTERM through bench/support/proc.ts's
 * handlers, which exit) everything of the layout is removed; `npm run drill -- --clean` removes
 * what a SIGKILLed drill left — only `pm*`, never the fire drill's `pf*`.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SERVER_CPU, startPinned } from '../../bench/support/proc.js';
import { freePort, startHaproxy, type Haproxy } from '../../test/support/nodes.js';
import { destroyLeftovers, PREAU_PORT, siteLayout, Sites } from '../drill-fire/sites.js';
import type { Roster } from './roster.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** The morning drill's own names and addresses: never the fire drill's (`pf`, 10.77.0.0/16). */
export const MORNING_LAYOUT = siteLayout('pm', '10.78.0.0/16');
/** Where the nodes reach PostgreSQL: their site's HAProxy (deploy/haproxy-postgres.cfg), the drill's schema. */
const NODE_DATABASE = 'postgres://postgres@127.0.0.1:5000/postgres';
const SCHEMA = 'public';
/** Set-up bounds: etcd, Patroni's pair, a node's start (tsx compiles the server on a loaded machine). */
const SETUP_TIMEOUT_MS = { etcd: 60_000, primary: 90_000, pair: 120_000, node: 180_000 } as const;
/** After the fault, site B's Patroni is waited for this long at most. */
const NEW_PRIMARY_TIMEOUT_MS = 120_000;

const REDIS_PORT = 6379;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves once something accepts TCP connections on host:port. */
async function waitForPort(host: string, port: number, timeoutMs: number, log: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host, port, timeout: 1_000 }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
      s.on('timeout', () => {
        s.destroy();
        resolve(false);
      });
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`rien n’écoute sur ${host}:${port} après ${timeoutMs / 1000} s : ${log()}`);
    await sleep(200);
  }
}

export interface SitesMorning {
  /** The front load balancer: http://127.0.0.1:PORT. */
  origin: string;
  roster: Roster;
  /** Site B's node (the survivor of every fault): its CPU and memory are the report's server samples. */
  pidOf: () => number | undefined;
  /** Plays the fault; resolves once site B's Patroni is primary (or its wait ran out). */
  fault(kind: 'primary' | 'site'): Promise<{ killed: number; newPrimaryAfterMs: number | null }>;
  /** Patroni's leader now, asked of site B (null when it does not answer). */
  leader(): Promise<string | null>;
  /** Everything stopped and removed (the work directory kept with `keep`). */
  destroy(): Promise<void>;
}

/** The layout being played, and the drill's work directory (the evening's and the nodes' data), for the exit hook. */
let active: { sites: Sites; front?: Haproxy; keep: boolean; work: string } | undefined;
let exitHook = false;

/** Whatever happens to the drill (an error, SIGINT, SIGTERM: proc.ts's handlers exit), the layout does not outlive it. */
function destroyOnExit(): void {
  if (exitHook) return;
  exitHook = true;
  // Persistent listeners: bench/support/proc.ts's are `once`, and a second signal (npm, tsx and
  // `timeout` each pass one on) would then kill the process in the middle of the clean-up below.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => process.exit(signal === 'SIGHUP' ? 129 : 130));
  process.on('exit', () => {
    if (!active) return;
    if (active.front?.child.exitCode === null) active.front.child.kill('SIGKILL');
    active.sites.destroy(active.keep);
    // runMorning's own clean-up does not run when a signal ends the process: its directory goes here.
    if (!active.keep) rmSync(active.work, { recursive: true, force: true });
    active = undefined;
  });
}

/** `npm run drill -- --clean`: what a killed morning drill left (namespaces and links `pm*` only). */
export function cleanSitesMorning(): string[] {
  return destroyLeftovers(MORNING_LAYOUT);
}

/**
 * Builds the layout, prepares the evening before on site A's primary (drill-server.ts, as for
 * `--database postgres`), starts a node per site and the front; resolves when the front has both
 * nodes up. `academyArgs` are drill-server.ts's options for the académie and the edge.
 */
export async function startSitesMorning(options: { work: string; academyArgs: string[]; keep: boolean; say: (line: string) => void }): Promise<SitesMorning> {
  const { say } = options;
  const layout = MORNING_LAYOUT;
  const sites = new Sites({ layout, log: say });
  active = { sites, keep: options.keep, work: options.work };
  destroyOnExit();
  try {
    say(`deux sites : espaces de noms ${layout.ns.a}, ${layout.ns.b}, ${layout.ns.w} (${layout.cidr}) ; etcd ×3, Patroni + PostgreSQL (synchrone), HAProxy vers le primaire`);
    sites.network();
    for (const s of ['a', 'b', 'w'] as const) sites.startEtcd(s);
    await sites.waitForEtcd(SETUP_TIMEOUT_MS.etcd);
    sites.startPatroni('a');
    await sites.waitForPrimary('a', SETUP_TIMEOUT_MS.primary);
    sites.startPatroni('b');
    await sites.waitForPair('a', SETUP_TIMEOUT_MS.pair);
    sites.startHaproxy('a');
    sites.startHaproxy('b');
    // The edge's shared state (waiting-room line and tickets, rate limits) and the realtime pub/sub, as
    // in the scaled layout: one Redis of the drill's own, in the witness (it survives site A).
    sites.spawnNode('w', 'redis', ['redis-server', '--bind', layout.address.w, '--port', String(REDIS_PORT), '--save', '', '--appendonly', 'no', '--protected-mode', 'no']);
    await waitForPort(layout.address.w, REDIS_PORT, SETUP_TIMEOUT_MS.etcd, () => sites.logOf('w', 'redis'));

    // The evening before, on site A's primary (replicated synchronously to B), by the drill's own server; then it stops.
    const prepDir = path.join(options.work, 'veille');
    mkdirSync(prepDir, { recursive: true });
    say('la veille : académie importée sur le primaire (site A), puis un nœud Préau par site sur sa base');
    const prep = startPinned(SERVER_CPU, path.join(HERE, 'drill-server.ts'), [
      ...options.academyArgs, '--dir', prepDir, '--postgres-url', `postgres://postgres@${layout.address.a}:5432/postgres`, '--pg-schema', SCHEMA, '--blob-store', 'database',
    ]);
    await prep.next('ready', 300_000);
    await prep.stop(10_000);
    const roster = JSON.parse(readFileSync(path.join(prepDir, 'roster.json'), 'utf8')) as Roster;

    const nodes = new Map<'a' | 'b', ReturnType<Sites['spawnNode']>>();
    await Promise.all(
      (['a', 'b'] as const).map(async (site) => {
        const dir = path.join(options.work, `noeud-${site}`);
        mkdirSync(dir, { recursive: true });
        // --resume reads the moved clock from the roster; no preparation.
        copyFileSync(path.join(prepDir, 'roster.json'), path.join(dir, 'roster.json'));
        const argv = [
          ...(existsSync('/usr/bin/taskset') ? ['taskset', '-c', String(SERVER_CPU)] : []),
          process.execPath, '--import', 'tsx', path.join(HERE, 'drill-server.ts'),
          ...options.academyArgs, '--dir', dir, '--resume', '--port', String(PREAU_PORT), '--host', layout.address[site],
          '--trusted-proxies', layout.address.host, '--postgres-url', NODE_DATABASE, '--pg-schema', SCHEMA, '--blob-store', 'database',
          '--redis-url', `redis://${layout.address.w}:${REDIS_PORT}`,
        ];
        const child = sites.spawnNode(site, 'preau', argv);
        nodes.set(site, child);
        // drill-server.ts prints {"type":"ready"} once it listens (its output goes to the site's log).
        const deadline = Date.now() + SETUP_TIMEOUT_MS.node;
        while (!/"type":"ready"/.test(sites.logOf(site, 'preau'))) {
          if (child.exitCode !== null) throw new Error(`le nœud Préau du site ${site} s’est arrêté : ${sites.logOf(site, 'preau')}`);
          if (Date.now() > deadline) throw new Error(`le nœud Préau du site ${site} n’est pas prêt après ${SETUP_TIMEOUT_MS.node / 1000} s : ${sites.logOf(site, 'preau')}`);
          await sleep(300);
        }
      }),
    );
    const frontDir = path.join(options.work, 'frontal');
    mkdirSync(frontDir, { recursive: true });
    const front = await startHaproxy(frontDir, [`${layout.address.a}:${PREAU_PORT}`, `${layout.address.b}:${PREAU_PORT}`], await freePort());
    active.front = front;
    const origin = `http://127.0.0.1:${front.port}`;
    // What each node says of itself, asked through the front (two asks: leastconn spreads them).
    const ready = await Promise.all([0, 1].map(() => fetch(`${origin}/readyz`, { signal: AbortSignal.timeout(5_000) }).then((r) => r.text(), (err: unknown) => String(err))));
    say(`répartiteur frontal : HAProxy (deploy/haproxy.cfg) sur ${origin}, protocole PROXY v2 vers les nœuds ${layout.address.a} et ${layout.address.b} ; /readyz : ${ready.join(' ')}`);

    const leader = async () => (await sites.cluster_('b'))?.members.find((m) => m.role === 'leader')?.name ?? null;
    return {
      origin,
      roster,
      pidOf: () => nodes.get('b')?.pid,
      leader,
      async fault(kind) {
        const at = Date.now();
        const { killed } = kind === 'primary' ? sites.stopDatabase('a') : sites.cut('a');
        try {
          await sites.waitForPrimary('b', NEW_PRIMARY_TIMEOUT_MS);
          return { killed, newPrimaryAfterMs: Date.now() - at };
        } catch {
          return { killed, newPrimaryAfterMs: null };
        }
      },
      async destroy() {
        await front.stop().catch(() => undefined);
        if (options.keep) say(`journaux et données des deux sites gardés : ${sites.work}`);
        sites.destroy(options.keep);
        active = undefined;
      },
    };
  } catch (err) {
    if (active?.front?.child.exitCode === null) active.front.child.kill('SIGKILL');
    if (options.keep) say(`journaux et données des deux sites gardés : ${sites.work}`);
    sites.destroy(options.keep);
    active = undefined;
    throw err;
  }
}
