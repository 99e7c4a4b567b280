import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import net from 'node:net';

/**
 * A Debian daemon a test runs for itself (janus, turnserver): spawned with a config folder of the
 * test's own, ready when its TCP port accepts, stopped with SIGTERM (SIGKILL after a bound) and its
 * folder removed, also when it fails to start.
 */
export interface OwnDaemon {
  /** The last of what it printed (for failure messages). */
  output(): string;
  /** Stops it and removes its folder. Idempotent. */
  stop(): Promise<void>;
}

const OUTPUT_KEPT_CHARS = 200_000;
const POLL_MS = 100;

export async function startOwnDaemon(options: {
  name: string;
  command: string;
  args: readonly string[];
  /** Removed when the daemon stops (or fails to start). */
  dir: string;
  readyPort: number;
  startTimeoutMs: number;
  stopTimeoutMs: number;
  /** More to show when it fails to start (a log file). */
  extraLog?: () => string;
}): Promise<OwnDaemon> {
  let output = '';
  const child = spawn(options.command, [...options.args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (d: Buffer) => (output = (output + d.toString()).slice(-OUTPUT_KEPT_CHARS));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let gone = false;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => (gone = true));
  const log = () => `${output}\n${options.extraLog?.() ?? ''}`;
  const stop = async () => {
    if (!gone) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), options.stopTimeoutMs);
      await exited;
      clearTimeout(timer);
    }
    rmSync(options.dir, { recursive: true, force: true });
  };
  const until = Date.now() + options.startTimeoutMs;
  for (;;) {
    if (gone) {
      const text = log();
      await stop();
      throw new Error(`${options.name} s’est arrêté au démarrage :\n${text.slice(-4000)}`);
    }
    if (await portOpen(options.readyPort)) break;
    if (Date.now() > until) {
      const text = log();
      await stop();
      throw new Error(`${options.name} n’écoute pas sur ${options.readyPort} après ${options.startTimeoutMs} ms :\n${text.slice(-4000)}`);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  return { output: log, stop };
}

export function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(500, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}
