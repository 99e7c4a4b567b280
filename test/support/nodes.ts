import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/**
 * Several Préau processes behind the shipped `deploy/haproxy.cfg` (the HAProxy test, the nodes
 * bench). HAProxy is Debian's package: outside CI a missing `haproxy` skips with a loud message,
 * in CI (`CI=true`) it is a failure (.ci/run installs it).
 */
let available: boolean | undefined;
export function haproxyAvailable(): boolean {
  if (available !== undefined) return available;
  available = spawnSync('haproxy', ['-v'], { encoding: 'utf8' }).status === 0;
  if (!available) {
    if (process.env.CI === 'true') throw new Error('haproxy absent alors que CI=true : .ci/run doit l’installer (apt-get install haproxy).');
    console.warn('\n!!! haproxy absent (apt-get install -y haproxy) : les tests HAProxy sont SAUTÉS (ils tournent en CI). !!!\n');
  }
  return available;
}

/** A free TCP port on 127.0.0.1 now (HAProxy needs a number in its configuration). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export interface PreauNode {
  child: ChildProcess;
  port: number;
  /** Demo accounts printed at start (only by a node that created the demo school). */
  demoLogins: { login: string; password: string }[];
  /** Everything the process wrote (for failure messages). */
  output(): string;
  exited: Promise<number | null>;
}

/**
 * `preau serve` as an operator runs it (a real process from source), on port 0; resolves once it
 * prints its ready line (and, with `demoLogins`, the demo accounts it creates on an empty database).
 */
export function startPreauNode(env: Record<string, string>, options: { demoLogins?: boolean; nodeArgs?: string[] } = {}): Promise<PreauNode> {
  const extraNodeArgs = options.nodeArgs ?? [];
  const args = options.demoLogins ? ['--demo', 'auto'] : ['--demo', 'off'];
  const child = spawn(process.execPath, [...extraNodeArgs, '--import', 'tsx', path.resolve('src/cli.ts'), 'serve', '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
  });
  let out = '';
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Préau n’a pas démarré : ${out}`)), 90_000);
    child.once('exit', (code) => reject(new Error(`Préau s’est arrêté (${code}) : ${out}`)));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const ready = /Préau est prêt : http:\/\/[^\s]+:(\d+)/.exec(out);
      // The demo accounts come right after the ready line: wait for the blank line that ends them.
      if (ready && (!options.demoLogins || /mot de passe : \S+\s*\n\n/.test(out))) {
        clearTimeout(timer);
        const demoLogins = [...out.matchAll(/identifiant : (\S+)\s+mot de passe : (\S+)/g)].map((m) => ({ login: m[1]!, password: m[2]! }));
        resolve({ child, port: Number(ready[1]), demoLogins, output: () => out, exited });
      }
    });
  });
}

/**
 * The shipped deploy/haproxy.cfg with only its lines marked `# test: substituted` changed: the
 * admin socket under `dir`, the listener on 127.0.0.1:`port`, one `server` line per node (a port on
 * 127.0.0.1, or `host:port`: the morning drill's nodes in network namespaces).
 */
export function haproxyConfig(dir: string, port: number, nodePorts: (number | string)[]): string {
  const lines = readFileSync(path.resolve('deploy/haproxy.cfg'), 'utf8').split('\n');
  const out: string[] = [];
  let serversWritten = false;
  for (const line of lines) {
    if (!/\S.*# test: substituted\b/.test(line) || line.trimStart().startsWith('#')) {
      out.push(line);
      continue;
    }
    const indent = /^\s*/.exec(line)![0];
    if (/^\s*maxconn /.test(line)) out.push(`${indent}maxconn 2000`);
    else if (/^\s*stats socket /.test(line)) out.push(`${indent}stats socket ${path.join(dir, 'admin.sock')} mode 600 level admin`);
    else if (/^\s*bind /.test(line)) out.push(`${indent}bind 127.0.0.1:${port}`);
    else if (/^\s*server /.test(line)) {
      if (!serversWritten) nodePorts.forEach((p, i) => out.push(`${indent}server node${i + 1} ${typeof p === 'number' ? `127.0.0.1:${p}` : p}`));
      serversWritten = true;
    } else throw new Error(`ligne marquée inconnue dans deploy/haproxy.cfg : ${line}`);
  }
  return out.join('\n');
}

export interface Haproxy {
  child: ChildProcess;
  port: number;
  /** `show stat` of the admin socket: per server, its state and the 2xx answers it has given. */
  servers(): Promise<Map<string, { status: string; answered2xx: number }>>;
  /** One command on the admin socket (e.g. `set server preau_nodes/node2 state maint`), its answer. */
  admin(command: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startHaproxy(dir: string, nodePorts: (number | string)[], port?: number): Promise<Haproxy> {
  port ??= await freePort();
  const file = path.join(dir, 'haproxy.cfg');
  writeFileSync(file, haproxyConfig(dir, port, nodePorts));
  const listenPort = port;
  // -db: foreground, no daemon; the test owns the process.
  const child = spawn('haproxy', ['-db', '-f', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const socketPath = path.join(dir, 'admin.sock');
  const admin = (command: string) =>
    new Promise<string>((resolve, reject) => {
      const s = net.connect(socketPath);
      let t = '';
      s.on('data', (d: Buffer) => (t += d.toString()));
      s.on('error', reject);
      s.on('close', () => resolve(t));
      s.write(`${command}\n`);
    });
  const servers = async () => {
    const text = await admin('show stat');
    const [header = '', ...rows] = text.trim().split('\n');
    const cols = header.replace(/^# /, '').split(',');
    const at = (name: string) => cols.indexOf(name);
    const map = new Map<string, { status: string; answered2xx: number }>();
    for (const row of rows) {
      const f = row.split(',');
      if (f[at('pxname')] !== 'preau_nodes' || f[at('svname')] === 'BACKEND') continue;
      map.set(f[at('svname')]!, { status: f[at('status')]!, answered2xx: Number(f[at('hrsp_2xx')]) });
    }
    return map;
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`haproxy s’est arrêté : ${err}`);
    try {
      const s = await servers();
      if (s.size === nodePorts.length && [...s.values()].every((v) => v.status.startsWith('UP'))) break;
    } catch {
      // The admin socket is not there yet.
    }
    if (Date.now() > deadline) throw new Error(`haproxy : serveurs pas prêts à temps : ${err}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    child,
    port: listenPort,
    servers,
    admin,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
