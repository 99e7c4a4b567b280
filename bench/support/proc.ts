import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ChildMessage, ReadyMessage } from './protocol.js';

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
}

/**
 * Starts a TypeScript script of bench/support as a Node child pinned to one CPU. Its stdout is
 * read as JSON lines (see protocol.ts); its stderr goes to ours.
 */
export function startPinned(cpu: number, script: string, args: string[] = [], nodeFlags: string[] = []): BenchChild {
  // A path relative to bench/support, or absolute (the drill's children live in tools/drill).
  const nodeArgs = [...nodeFlags, '--import', 'tsx', path.isAbsolute(script) ? script : path.join(SUPPORT_DIR, script), ...args];
  const [cmd, argv] = pinningMode() === 'taskset' ? ['taskset', ['-c', String(cpu), process.execPath, ...nodeArgs]] : [process.execPath, nodeArgs];
  const child = spawn(cmd as string, argv as string[], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
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
      process.stderr.write(`[${script}] ${line}\n`);
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
export async function startServer(script: string, args: string[] = [], nodeFlags: string[] = []): Promise<{ child: BenchChild; ready: ReadyMessage }> {
  const child = startPinned(SERVER_CPU, script, args, nodeFlags);
  try {
    const ready = await child.next('ready');
    return { child, ready };
  } catch (err) {
    await child.stop();
    throw err;
  }
}
