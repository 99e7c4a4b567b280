import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { BenchControl, ChildMessage, ReadyMessage } from './protocol.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SUPPORT_DIR = path.join(REPO_ROOT, 'bench', 'support');

/** Where the server (and its baseline) runs, and where the load generator runs: never the same core. */
export const SERVER_CPU = 0;
export const LOAD_CPU = 1;

let pinning: 'taskset' | 'none' | undefined;

/**
 * Pinning needs `taskset` (util-linux) and two cores. Without them the bench still runs, with a
 * printed warning: its ratios are then less trustworthy (load generator and server compete).
 */
export function pinningMode(): 'taskset' | 'none' {
  if (pinning) return pinning;
  const probe = spawnSync('taskset', ['-c', String(SERVER_CPU), 'true'], { stdio: 'ignore' });
  if (probe.error || probe.status !== 0) {
    console.warn('⚠ taskset (util-linux) est introuvable ou refuse l’épinglage : serveur et générateur de charge NE sont PAS séparés sur des cœurs distincts ; les ratios sont moins fiables.');
    pinning = 'none';
  } else if (availableParallelism() < 2) {
    console.warn('⚠ moins de deux cœurs disponibles : serveur et générateur de charge partagent le même cœur ; les ratios sont moins fiables.');
    pinning = 'none';
  } else {
    pinning = 'taskset';
  }
  return pinning;
}

/**
 * V8 flags of every bench server (Préau and its baselines alike) and load generator; not of the
 * drill's children, which play Préau as shipped.
 *
 * `--no-allocation-site-pretenuring`: with V8's default, a Préau child under GET /me/today at 50
 * connections settles for its whole life in one of two states, about one process in two: either
 * young objects die young (scavenges free ≈ 13 MB of ≈ 13.5, no Mark-Compact, ≈ 30 µs of CPU per
 * request) or V8 has decided, from the survival it sampled at some scavenge, to allocate an
 * allocation site's objects directly in the old generation ("pretenuring"); they die there, the
 * old generation fills ≈ 5 MB per scavenge and a Mark-Compact runs about every second: ≈ 55 µs per
 * request, half the throughput. The decision is per process and not undone, so two identical
 * children differed by up to 2× (docs/STATUS.md, issue 9). Without pretenuring every child is in
 * the first state. `PREAU_BENCH_V8=default` runs the benches with V8's default (to see the two
 * states again).
 */
export function benchNodeFlags(): string[] {
  return process.env.PREAU_BENCH_V8 === 'default' ? [] : ['--no-allocation-site-pretenuring'];
}

const children = new Set<ChildProcess>();

function killAll(): void {
  for (const c of children) if (c.exitCode === null && c.pid !== undefined) c.kill('SIGKILL');
}
process.once('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    killAll();
    process.exit(130);
  });
}

export interface BenchChild {
  process: ChildProcess;
  /** Resolves with the next message of this type (rejects if the child exits first). */
  next<T extends ChildMessage['type']>(type: T, timeoutMs?: number): Promise<Extract<ChildMessage, { type: T }>>;
  onMessage(listener: (m: ChildMessage) => void): void;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  /** SIGTERM (graceful: the Préau server closes and writes its CPU profile), SIGKILL after a grace delay. */
  stop(graceMs?: number): Promise<void>;
  /** Sends a message over the fork channel (children started with `ipc: true` only; see BenchControl in protocol.ts). */
  send(message: BenchControl): void;
}

export interface StartOptions {
  /**
   * Opens Node's IPC channel to the child (fd 3): the parent can then steer a bench-only switch
   * of the child's (`send`). Children without it cannot be steered, whatever they listen for.
   */
  ipc?: boolean;
  /** Receives the child's stdout lines that are not protocol messages (e.g. `--trace-gc`'s), instead of our stderr. */
  onOtherLine?: (line: string) => void;
}

/**
 * Starts a TypeScript script of bench/support as a Node child pinned to one CPU. Its stdout is
 * read as JSON lines (see protocol.ts); its stderr goes to ours.
 */
export function startPinned(cpu: number, script: string, args: string[] = [], nodeFlags: string[] = [], options: StartOptions = {}): BenchChild {
  // A path relative to bench/support, or absolute (the drill's children live in tools/drill).
  const nodeArgs = [...nodeFlags, '--import', 'tsx', path.isAbsolute(script) ? script : path.join(SUPPORT_DIR, script), ...args];
  const [cmd, argv] = pinningMode() === 'taskset' ? ['taskset', ['-c', String(cpu), process.execPath, ...nodeArgs]] : [process.execPath, nodeArgs];
  // taskset execs node with the same descriptors and environment: the channel (fd 3, NODE_CHANNEL_FD) reaches it.
  const child = spawn(cmd as string, argv as string[], { cwd: REPO_ROOT, stdio: options.ipc ? ['ignore', 'pipe', 'inherit', 'ipc'] : ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  const listeners = new Set<(m: ChildMessage) => void>();
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      children.delete(child);
      resolve(code);
    });
    child.once('error', (err) => {
      console.error(`impossible de lancer ${script} : ${err.message}`);
      children.delete(child);
      resolve(-1);
    });
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let message: ChildMessage;
    try {
      message = JSON.parse(line) as ChildMessage;
    } catch {
      if (options.onOtherLine) options.onOtherLine(line);
      else process.stderr.write(`[${script}] ${line}\n`);
      return;
    }
    // A log line of the child's (pino, see PREAU_BENCH_LOG_LEVEL), not a protocol message.
    if (typeof (message as { level?: unknown }).level === 'number') {
      process.stderr.write(`[${script}] ${line}\n`);
      return;
    }
    for (const l of listeners) l(message);
  });

  return {
    process: child,
    exited,
    onMessage: (l) => listeners.add(l),
    next(type, timeoutMs = 120_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          listeners.delete(l);
          reject(new Error(`${script} : pas de message « ${type} » après ${timeoutMs / 1000} s`));
        }, timeoutMs);
        const l = (m: ChildMessage) => {
          if (m.type !== type) return;
          clearTimeout(timer);
          listeners.delete(l);
          resolve(m as Extract<ChildMessage, { type: typeof type }>);
        };
        listeners.add(l);
        void exited.then((code) => {
          clearTimeout(timer);
          listeners.delete(l);
          reject(new Error(`${script} s’est arrêté (code ${code}) avant d’envoyer « ${type} »`));
        });
      });
    },
    send(message) {
      if (!options.ipc || !child.connected) throw new Error(`${script} : pas de canal de contrôle (démarré sans ipc, ou arrêté)`);
      child.send(message);
    },
    async stop(graceMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Starts a server script pinned to the server CPU and waits until it listens. */
export async function startServer(script: string, args: string[] = [], nodeFlags: string[] = [], options: StartOptions = {}): Promise<{ child: BenchChild; ready: ReadyMessage }> {
  const child = startPinned(SERVER_CPU, script, args, [...benchNodeFlags(), ...nodeFlags], options);
  try {
    const ready = await child.next('ready');
    return { child, ready };
  } catch (err) {
    await child.stop();
    throw err;
  }
}
