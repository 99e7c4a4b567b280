import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * Two sites and a witness on this machine, in network namespaces (root needed):
 *
 *   root ── pfH ──┐                       (the drill's clients, 10.77.0.1)
 *                 │ bridge pfbr, in namespace pfN (its own, empty packet filter)
 *   pfA 10.77.0.11: etcd member, Patroni + PostgreSQL, HAProxy (deploy/haproxy-postgres.cfg), Préau node(s) (ports 4300 + n)
 *   pfB 10.77.0.12: the same
 *   pfW 10.77.0.13: the third etcd member (the witness that makes a majority with either site)
 *
 * Every name starts with `pf` and every address is in 10.77.0.0/16: `destroyLeftovers()` removes
 * whatever a killed run left, by those names only. Another `SiteLayout` (the morning drill's `pm`
 * in 10.78.0.0/16) builds the same shape under its own names, its clean-up touching only them.
 */

export type SiteName = 'a' | 'b' | 'w';

/**
 * The names and addresses of one layout: every namespace and link starts with `prefix`, every
 * address is in `subnet` (a /16 of 10.0.0.0/8). Two layouts with different prefixes and subnets
 * live side by side (the fire drill's `pf` in 10.77.0.0/16, the morning drill's `pm` in
 * 10.78.0.0/16); each one's clean-up removes its own names only.
 */
export interface SiteLayout {
  prefix: string;
  /** The /16, as given: "10.78.0.0/16". */
  cidr: string;
  address: Record<SiteName | 'host', string>;
  ns: Record<SiteName, string>;
  bridgeNs: string;
  bridge: string;
  /** The root namespace's end of the link to the bridge (the drill's clients, or a front load balancer). */
  hostLink: string;
}

/** A layout from a prefix (2–4 lower-case letters: link names stay under 15 characters) and a 10.x.0.0/16. */
export function siteLayout(prefix = 'pf', cidr = '10.77.0.0/16'): SiteLayout {
  if (!/^[a-z]{2,4}$/.test(prefix)) throw new Error(`préfixe d’espaces de noms invalide « ${prefix} » : 2 à 4 lettres minuscules`);
  const m = /^10\.(\d{1,3})\.0\.0\/16$/.exec(cidr);
  if (!m || Number(m[1]) > 255) throw new Error(`sous-réseau invalide « ${cidr} » : 10.X.0.0/16 attendu`);
  const net = `10.${Number(m[1])}.0`;
  return {
    prefix,
    cidr,
    address: { host: `${net}.1`, a: `${net}.11`, b: `${net}.12`, w: `${net}.13` },
    ns: { a: `${prefix}A`, b: `${prefix}B`, w: `${prefix}W` },
    bridgeNs: `${prefix}N`,
    bridge: `${prefix}br`,
    hostLink: `${prefix}H`,
  };
}

/** The fire drill's layout (npm run drill:fire), the default. */
export const DEFAULT_LAYOUT = siteLayout();
export const ADDRESS: Record<SiteName | 'host', string> = DEFAULT_LAYOUT.address;
export const PREAU_PORT = 4300;
/** Préau node `node` (0-based) of a site listens on PREAU_PORT + node (several nodes per site: --nodes-per-site). */
export const preauPort = (node: number): number => PREAU_PORT + node;
export const PATRONI_PORT = 8008;
/** Where the Préau node of a site reaches PostgreSQL: its site's HAProxy (deploy/haproxy-postgres.cfg). */
const HAPROXY_PG = 'postgres://postgres@127.0.0.1:5000/postgres';
const PG_BIN = process.env.PREAU_TEST_PG_BIN ?? '/usr/lib/postgresql/15/bin';

/**
 * Patroni's timing (docs/OPERATIONS.md explains the arithmetic). The leader key lives `ttl` s after
 * its last renewal; the leader renews it every `loop_wait` s; a DCS or PostgreSQL call is retried
 * for `retry_timeout` s. Patroni requires loop_wait + 2 × retry_timeout ≤ ttl.
 */
export interface PatroniTiming {
  ttl: number;
  loop_wait: number;
  retry_timeout: number;
}
export const PATRONI_TIMING: PatroniTiming = { ttl: 6, loop_wait: 1, retry_timeout: 2 };
/** etcd: a heartbeat every 100 ms, a new etcd leader elected after 1 s without one. */
export const ETCD_TIMING = { heartbeatMs: 100, electionMs: 1000 } as const;

export interface SitesOptions {
  /** Where every log and data directory goes (removed at the end unless kept). */
  work?: string;
  /** Names and addresses (default: the fire drill's `pf` in 10.77.0.0/16). */
  layout?: SiteLayout;
  /** Préau's log level in the nodes. */
  logLevel?: string;
  /** Patroni's timing over PATRONI_TIMING (the drill's --ttl, --loop-wait, --retry-timeout). */
  patroni?: PatroniTiming;
  log?: (line: string) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function sh(cmd: string, args: string[], allowFail = false): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
  } catch (err) {
    if (allowFail) return '';
    const e = err as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} : ${e.stderr ?? e.message}`);
  }
}

/** Removes every `pf` namespace and link of this drill (a previous run killed before its clean-up). */
export function destroyLeftovers(layout: SiteLayout = DEFAULT_LAYOUT): string[] {
  const removed: string[] = [];
  const existing = sh('ip', ['netns', 'list'], true)
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => [...Object.values(layout.ns), layout.bridgeNs].includes(n));
  for (const ns of existing) {
    for (const pid of sh('ip', ['netns', 'pids', ns], true).split('\n').filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  for (const ns of existing) {
    sh('ip', ['netns', 'del', ns], true);
    removed.push(ns);
  }
  if (sh('ip', ['link', 'show', layout.hostLink], true)) {
    sh('ip', ['link', 'del', layout.hostLink], true);
    removed.push(layout.hostLink);
  }
  return removed;
}

function postgresUser(): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

export class Sites {
  readonly work: string;
  private readonly children: { site: SiteName; name: string; child: ChildProcess }[] = [];
  private readonly pg = postgresUser();
  private readonly log: (line: string) => void;
  private readonly cluster = `preau-fire-${process.pid}-${Date.now().toString(36)}`;

  readonly layout: SiteLayout;

  constructor(private readonly options: SitesOptions = {}) {
    this.layout = options.layout ?? DEFAULT_LAYOUT;
    this.work = options.work ?? mkdtempSync(path.join(tmpdir(), 'preau-fire-'));
    this.log = options.log ?? (() => undefined);
  }

  /** Namespaces, the bridge and the links. */
  network(): void {
    destroyLeftovers(this.layout);
    sh('ip', ['netns', 'add', this.layout.bridgeNs]);
    sh('ip', ['-n', this.layout.bridgeNs, 'link', 'add', this.layout.bridge, 'type', 'bridge']);
    sh('ip', ['-n', this.layout.bridgeNs, 'link', 'set', this.layout.bridge, 'up']);
    // The drill's own end, in the root namespace.
    sh('ip', ['link', 'add', this.layout.hostLink, 'type', 'veth', 'peer', 'name', `${this.layout.hostLink}-n`, 'netns', this.layout.bridgeNs]);
    sh('ip', ['-n', this.layout.bridgeNs, 'link', 'set', `${this.layout.hostLink}-n`, 'master', this.layout.bridge, 'up']);
    sh('ip', ['addr', 'add', `${this.layout.address.host}/24`, 'dev', this.layout.hostLink]);
    sh('ip', ['link', 'set', this.layout.hostLink, 'up']);
    for (const site of ['a', 'b', 'w'] as const) {
      const ns = this.layout.ns[site];
      sh('ip', ['netns', 'add', ns]);
      sh('ip', ['-n', this.layout.bridgeNs, 'link', 'add', `${ns}-n`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      sh('ip', ['-n', this.layout.bridgeNs, 'link', 'set', `${ns}-n`, 'master', this.layout.bridge, 'up']);
      sh('ip', ['-n', ns, 'addr', 'add', `${this.layout.address[site]}/24`, 'dev', 'eth0']);
      sh('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
      sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    }
  }

  private dir(...parts: string[]): string {
    const d = path.join(this.work, ...parts);
    mkdirSync(d, { recursive: true, mode: 0o700 });
    return d;
  }

  private spawnIn(site: SiteName, name: string, argv: string[], options: { asPostgres?: boolean; env?: Record<string, string> } = {}): ChildProcess {
    const logFile = path.join(this.dir(site), `${name}.log`);
    const prefix = options.asPostgres ? ['setpriv', '--reuid', String(this.pg.uid), '--regid', String(this.pg.gid), '--init-groups'] : [];
    const child = spawn('ip', ['netns', 'exec', this.layout.ns[site], ...prefix, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env } });
    // Both streams into one file, which neither may close (a killed process ends them in any order).
    const out = createWriteStream(logFile, { flags: 'a' });
    out.on('error', () => undefined);
    child.stdout!.pipe(out, { end: false });
    child.stderr!.pipe(out, { end: false });
    child.once('close', () => out.end());
    child.on('error', (err) => this.log(`${site}/${name} : ${err.message}`));
    this.children.push({ site, name, child });
    return child;
  }

  /** The output a site's process has written so far (for failure messages). */
  logOf(site: SiteName, name: string): string {
    try {
      return readFileSync(path.join(this.work, site, `${name}.log`), 'utf8').slice(-4000);
    } catch {
      return '';
    }
  }

  /** `state`: `existing` for a member added back to a running cluster (replaceEtcdMember). */
  startEtcd(site: SiteName, state: 'new' | 'existing' = 'new'): void {
    const ip = this.layout.address[site];
    const initialCluster = (['a', 'b', 'w'] as const).map((s) => `etcd-${s}=http://${this.layout.address[s]}:2380`).join(',');
    this.spawnIn(site, 'etcd', [
      'etcd', '--name', `etcd-${site}`, '--data-dir', this.dir(site, 'etcd'),
      '--listen-client-urls', `http://${ip}:2379`, '--advertise-client-urls', `http://${ip}:2379`,
      '--listen-peer-urls', `http://${ip}:2380`, '--initial-advertise-peer-urls', `http://${ip}:2380`,
      '--initial-cluster', initialCluster, '--initial-cluster-state', state, '--initial-cluster-token', this.cluster,
      '--heartbeat-interval', String(ETCD_TIMING.heartbeatMs), '--election-timeout', String(ETCD_TIMING.electionMs),
      '--log-level', 'warn',
    ]);
  }

  /**
   * Waits until the etcd cluster has a leader and a decided version (Patroni 3.0.2 stops at start
   * when etcd still answers "not_decided").
   */
  async waitForEtcd(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      try {
        const health = (await (await fetch(`http://${this.layout.address.a}:2379/health`, { signal: AbortSignal.timeout(1_000) })).json()) as { health?: string };
        const version = (await (await fetch(`http://${this.layout.address.a}:2379/version`, { signal: AbortSignal.timeout(1_000) })).json()) as { etcdcluster?: string };
        last = `${JSON.stringify(health)} ${JSON.stringify(version)}`;
        if (health.health === 'true' && version.etcdcluster && version.etcdcluster !== 'not_decided') return;
      } catch (err) {
        last = String(err);
      }
      await sleep(200);
    }
    throw new Error(`etcd pas prêt après ${timeoutMs} ms : ${last}\n${this.logOf('a', 'etcd')}`);
  }

  /** Patroni's configuration for a site (YAML is a superset of JSON: written as JSON). */
  patroniConfig(site: 'a' | 'b'): object {
    const ip = this.layout.address[site];
    const home = this.dir(site);
    return {
      scope: this.cluster,
      name: `pg-${site}`,
      restapi: { listen: `${ip}:${PATRONI_PORT}`, connect_address: `${ip}:${PATRONI_PORT}` },
      // Each Patroni talks to its own site's etcd member only (a full member: it forwards to the
      // etcd leader wherever it is); use_proxies keeps Patroni from switching to the other site's.
      etcd3: { hosts: [`${ip}:2379`], use_proxies: true },
      bootstrap: {
        dcs: {
          ...(this.options.patroni ?? PATRONI_TIMING),
          maximum_lag_on_failover: 1_048_576,
          // RPO 0: a commit is acknowledged once the standby of the other site has it on disk, and only
          // that synchronous standby may be promoted. Not strict: with two sites, strict mode leaves the
          // survivor unable to commit anything until the lost site is rebuilt (measured: writes never
          // came back); docs/OPERATIONS.md says what non-strict costs while one site is gone.
          synchronous_mode: true,
          synchronous_mode_strict: false,
          postgresql: {
            use_pg_rewind: true,
            parameters: { wal_level: 'replica', hot_standby: 'on', max_wal_senders: 5, max_replication_slots: 5, wal_log_hints: 'on', synchronous_commit: 'on', max_connections: 100 },
          },
        },
        initdb: [{ encoding: 'UTF8' }, { locale: 'C' }],
        pg_hba: ['local all all trust', `host replication replicator ${this.layout.cidr} trust`, `host all all ${this.layout.cidr} trust`, 'host all all 127.0.0.1/32 trust'],
      },
      postgresql: {
        listen: `${ip},127.0.0.1:5432`,
        connect_address: `${ip}:5432`,
        data_dir: path.join(home, 'pgdata'),
        bin_dir: PG_BIN,
        pgpass: path.join(home, 'pgpass'),
        authentication: { replication: { username: 'replicator', password: 'replicator' }, superuser: { username: 'postgres', password: 'postgres' } },
        // A replica made afresh (failback after a fire: empty disks) copies the primary at once, not
        // after a spread checkpoint (pg_basebackup's default waits up to checkpoint_timeout × 0.9).
        basebackup: [{ checkpoint: 'fast' }],
        parameters: { unix_socket_directories: home, shared_buffers: '32MB', dynamic_shared_memory_type: 'mmap' },
      },
      watchdog: { mode: 'off' },
      log: { level: 'WARNING' },
    };
  }

  startPatroni(site: 'a' | 'b'): void {
    const home = this.dir(site);
    chownSync(this.work, this.pg.uid, this.pg.gid);
    chownSync(home, this.pg.uid, this.pg.gid);
    const file = path.join(home, 'patroni.yml');
    writeFileSync(file, JSON.stringify(this.patroniConfig(site), null, 2));
    chownSync(file, this.pg.uid, this.pg.gid);
    this.spawnIn(site, 'patroni', ['patroni', file], { asPostgres: true });
  }

  startHaproxy(site: 'a' | 'b'): void {
    // The shipped file, as is: its addresses are the fire drill's (another layout gets a copy with its own).
    this.spawnIn(site, 'haproxy', ['haproxy', '-db', '-f', this.haproxyPostgresFile()]);
  }

  /** `preau serve` from source in the site's namespace, on its HAProxy; resolves when it listens. `node`: its index in the site (port preauPort(node)). */
  async startPreau(site: 'a' | 'b', secret: string, node = 0): Promise<void> {
    const port = preauPort(node);
    const name = node === 0 ? 'preau' : `preau-${node}`;
    const child = this.spawnIn(site, name, [process.execPath, '--import', 'tsx', path.resolve('src/cli.ts'), 'serve', '--demo', 'off'], {
      env: {
        DATABASE_URL: HAPROXY_PG,
        PREAU_HOST: this.layout.address[site],
        PREAU_PORT: String(port),
        PREAU_DATA_DIR: this.dir(site, node === 0 ? 'preau-data' : `preau-data-${node}`),
        PREAU_PUBLIC_URL: `http://${this.layout.address[site]}:${port}`,
        PREAU_SECRET: secret,
        PREAU_HASH_CONCURRENCY: '1',
        // The drill's clients all come from 10.77.0.1: the per-address caps are not what is tested.
        PREAU_MAX_CONNECTIONS_PER_ADDRESS: '10000',
        PREAU_ENGAGEMENT_RECORDING: 'off',
        LOG_LEVEL: this.options.logLevel ?? 'warn',
      },
    });
    const deadline = Date.now() + 120_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`Préau (site ${site}, nœud ${node}) s’est arrêté : ${this.logOf(site, name)}`);
      try {
        const r = await fetch(`http://${this.layout.address[site]}:${port}/readyz`, { signal: AbortSignal.timeout(1_000) });
        if (r.status === 200) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`Préau (site ${site}, nœud ${node}) pas prêt après 120 s : ${this.logOf(site, name)}`);
      await sleep(300);
    }
  }

  /** Patroni's view of the cluster, from a site's REST API (undefined when it does not answer). */
  async cluster_(site: 'a' | 'b'): Promise<{ members: { name: string; role: string; state: string; lag?: number | string }[] } | undefined> {
    try {
      const r = await fetch(`http://${this.layout.address[site]}:${PATRONI_PORT}/cluster`, { signal: AbortSignal.timeout(1_000) });
      return r.ok ? ((await r.json()) as { members: { name: string; role: string; state: string }[] }) : undefined;
    } catch {
      return undefined;
    }
  }

  /** Waits until `site` is the primary (leader) and the other site's PostgreSQL is its synchronous standby. */
  async waitForPair(primary: 'a' | 'b', timeoutMs: number): Promise<void> {
    const standby = primary === 'a' ? 'b' : 'a';
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      const c = await this.cluster_(primary);
      last = JSON.stringify(c?.members ?? 'no answer');
      const p = c?.members.find((m) => m.name === `pg-${primary}`);
      const s = c?.members.find((m) => m.name === `pg-${standby}`);
      if (p?.role === 'leader' && p.state === 'running' && s?.role === 'sync_standby' && (s.state === 'streaming' || s.state === 'running')) return;
      await sleep(500);
    }
    throw new Error(`pas de paire primaire ${primary} + standby synchrone après ${timeoutMs} ms : ${last}\n--- patroni ${primary}\n${this.logOf(primary, 'patroni')}`);
  }

  /** Waits until `site`'s Patroni answers /primary with 200. */
  async waitForPrimary(site: 'a' | 'b', timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      try {
        if ((await fetch(`http://${this.layout.address[site]}:${PATRONI_PORT}/primary`, { signal: AbortSignal.timeout(1_000) })).status === 200) return;
      } catch {
        // not up yet
      }
      await sleep(300);
    }
    throw new Error(`le site ${site} n’est pas devenu primaire en ${timeoutMs} ms : ${this.logOf(site, 'patroni')}`);
  }

  /** Which site's member leads etcd now (undefined when no member answers). */
  async etcdLeader(): Promise<SiteName | undefined> {
    const ids = new Map<string, SiteName>();
    let leader: string | undefined;
    for (const site of ['a', 'b', 'w'] as const) {
      try {
        const r = await fetch(`http://${this.layout.address[site]}:2379/v3/maintenance/status`, { method: 'POST', body: '{}', signal: AbortSignal.timeout(1_000) });
        const status = (await r.json()) as { header?: { member_id?: string }; leader?: string };
        if (status.header?.member_id) ids.set(status.header.member_id, site);
        leader ??= status.leader;
      } catch {
        // that member does not answer
      }
    }
    return leader === undefined ? undefined : ids.get(leader);
  }

  /** Site lost: every process in its namespace killed with SIGKILL, its link to the others down. */
  cut(site: SiteName): { killed: number } {
    sh('ip', ['-n', this.layout.bridgeNs, 'link', 'set', `${this.layout.ns[site]}-n`, 'down']);
    let killed = 0;
    for (const pid of sh('ip', ['netns', 'pids', this.layout.ns[site]], true).split('\n').filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
        killed++;
      } catch {
        // already gone
      }
    }
    return { killed };
  }

  /**
   * Failback, step 1: the lost site is rebuilt. Its disks burnt with it: its etcd and PostgreSQL data
   * are removed (Patroni then copies the primary with pg_basebackup: a reinit, not pg_rewind, which
   * needs the old data directory), and its link comes back up.
   */
  async rebuild(site: 'a' | 'b'): Promise<void> {
    for (const d of ['etcd', 'pgdata']) rmSync(path.join(this.work, site, d), { recursive: true, force: true });
    sh('ip', ['-n', this.layout.bridgeNs, 'link', 'set', `${this.layout.ns[site]}-n`, 'up']);
    // The link takes a moment to carry packets again (etcd gives up at once on "no route to host").
    const other = site === 'a' ? this.layout.address.b : this.layout.address.a;
    const deadline = Date.now() + 30_000;
    // No ping on a minimal host: a TCP connection to the other site's etcd peer port, from inside the site.
    while (!sh('ip', ['netns', 'exec', this.layout.ns[site], 'timeout', '2', 'bash', '-c', `exec 3<>/dev/tcp/${other}/2380 && echo ok`], true).includes('ok')) {
      if (Date.now() > deadline) throw new Error(`site ${site} : le lien rétabli ne passe pas (${other}:2380)`);
      await sleep(200);
    }
  }

  /**
   * The lost etcd member replaced (etcd's runbook): removed from the cluster, added back with the same
   * peer address, then started empty with `--initial-cluster-state existing`. Asked of a live member.
   */
  async replaceEtcdMember(site: SiteName, via: SiteName): Promise<void> {
    const api = async <T>(call: string, body: object): Promise<T> => {
      const r = await fetch(`http://${this.layout.address[via]}:2379/v3/cluster/member/${call}`, { method: 'POST', body: JSON.stringify(body), signal: AbortSignal.timeout(5_000) });
      if (!r.ok) throw new Error(`etcd member/${call} : ${r.status} ${await r.text()}`);
      return (await r.json()) as T;
    };
    const { members } = await api<{ members: { ID: string; name?: string; peerURLs?: string[] }[] }>('list', {});
    const peer = `http://${this.layout.address[site]}:2380`;
    const old = members.find((m) => m.name === `etcd-${site}` || m.peerURLs?.includes(peer));
    if (old) await api('remove', { ID: old.ID });
    await api('add', { peerURLs: [peer] });
    this.startEtcd(site, 'existing');
  }

  /** A planned switchover through Patroni's REST API (as `patronictl switchover` does), asked of the leader. */
  async switchover(leader: 'a' | 'b', candidate: 'a' | 'b'): Promise<void> {
    const r = await fetch(`http://${this.layout.address[leader]}:${PATRONI_PORT}/switchover`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ leader: `pg-${leader}`, candidate: `pg-${candidate}` }),
      signal: AbortSignal.timeout(30_000),
    });
    if (r.status !== 200) throw new Error(`switchover refusé par Patroni : ${r.status} ${await r.text()}`);
  }

  /** Everything removed: processes (SIGKILL), namespaces, links, and the work directory unless `keep`. */
  destroy(keep = false): void {
    for (const { child } of this.children) if (child.exitCode === null) child.kill('SIGKILL');
    destroyLeftovers(this.layout);
    if (!keep) rmSync(this.work, { recursive: true, force: true });
  }

  /** deploy/haproxy-postgres.cfg for this layout: the shipped file itself for the default, else a copy with this layout's addresses. */
  haproxyPostgresFile(): string {
    const shipped = path.resolve('deploy/haproxy-postgres.cfg');
    if (this.layout.cidr === DEFAULT_LAYOUT.cidr) return shipped;
    const text = readFileSync(shipped, 'utf8')
      .replaceAll(`${DEFAULT_LAYOUT.address.a}:`, `${this.layout.address.a}:`)
      .replaceAll(`${DEFAULT_LAYOUT.address.b}:`, `${this.layout.address.b}:`);
    const file = path.join(this.dir('haproxy'), 'haproxy-postgres.cfg');
    writeFileSync(file, text);
    return file;
  }

  /** Any command in a site's namespace, its output in `<work>/<site>/<name>.log`; killed with the rest by `destroy`. */
  spawnNode(site: SiteName, name: string, argv: string[], env: Record<string, string> = {}): ChildProcess {
    return this.spawnIn(site, name, argv, { env });
  }

  /**
   * The database of a site stopped without warning: its Patroni and every PostgreSQL process
   * (SIGKILL), nothing else of the site (etcd, HAProxy, Préau stay up, the link too).
   */
  stopDatabase(site: 'a' | 'b'): { killed: number } {
    let killed = 0;
    for (const pid of sh('ip', ['netns', 'pids', this.layout.ns[site]], true).split('\n').filter(Boolean)) {
      let argv: string[];
      try {
        argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
      } catch {
        continue; // already gone
      }
      if (!isDatabaseProcess(argv)) continue;
      try {
        process.kill(Number(pid), 'SIGKILL');
        killed++;
      } catch {
        // already gone
      }
    }
    return { killed };
  }
}

/**
 * Whether a process (its argv) is Patroni or PostgreSQL: by its program, never by its arguments
 * (a Préau node's `--postgres-url …` or HAProxy's `haproxy-postgres.cfg` must not match).
 */
export function isDatabaseProcess(argv: readonly string[]): boolean {
  const [first = '', second = ''] = argv;
  const base = (p: string) => path.basename(p.split(' ')[0]!);
  // PostgreSQL's children rename themselves ("postgres: checkpointer"); Patroni runs as `python3 /usr/bin/patroni`.
  if (first.startsWith('postgres:') || base(first) === 'postgres') return true;
  return base(first) === 'patroni' || (/^python3?(\.\d+)?$/.test(base(first)) && base(second) === 'patroni');
}
