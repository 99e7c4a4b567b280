import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startOwnDaemon } from './own-daemon.js';

/**
 * Debian's coturn (`turnserver`) running the SHIPPED configuration (deploy/coturn/turnserver.conf)
 * with only what a test must change: ports (plain and TLS), loopback addresses, the relay range, a
 * self-signed certificate made here with openssl, the realm and secret, logs and pid in a temporary
 * folder, no privilege drop. Every other line (use-auth-secret, denied peers, quotas, TLS versions…)
 * is the production one.
 *
 * Without the binary: `undefined` with a loud message, a failure with CI=true (.ci/run installs it).
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SHIPPED_TURN_CONF = path.join(ROOT, 'deploy', 'coturn', 'turnserver.conf');
const TURN_START_TIMEOUT_MS = 10_000;
const TURN_STOP_TIMEOUT_MS = 5_000;

export interface OwnCoturn {
  host: string;
  port: number;
  tlsPort: number;
  realm: string;
  secret: string;
  /** The self-signed certificate (PEM) a TLS client must trust. */
  certificate: Buffer;
  log(): string;
  stop(): Promise<void>;
}

export function coturnAvailable(): boolean {
  const ok = spawnSync('turnserver', ['-h'], { stdio: 'ignore' }).error === undefined && spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0;
  if (!ok) {
    if (process.env.CI === 'true') throw new Error('turnserver (coturn) ou openssl absent alors que CI=true (apt-get install coturn openssl)');
    console.warn('\n!!! turnserver (coturn) absent : le test de la configuration TURN est SAUTÉ (apt-get install coturn ; il tourne en CI). !!!\n');
  }
  return ok;
}

/** The shipped file with the test's replacements: `key=value` lines replaced, removed (undefined) or added. */
export function adaptTurnConf(shipped: string, replace: Record<string, string | undefined>, remove: readonly string[]): string {
  const seen = new Set<string>();
  const lines = shipped.split('\n').flatMap((line) => {
    const key = /^([a-z0-9_-]+)(?:=|$)/.exec(line.trim())?.[1];
    if (key === undefined) return [line];
    if (remove.includes(key)) return [];
    if (key in replace) {
      seen.add(key);
      const value = replace[key];
      return value === undefined ? [] : [`${key}=${value}`];
    }
    return [line];
  });
  for (const [key, value] of Object.entries(replace)) if (!seen.has(key) && value !== undefined) lines.push(`${key}=${value}`);
  return lines.join('\n');
}

export async function startOwnCoturn(options: {
  port: number;
  tlsPort: number;
  relayMinPort: number;
  relayMaxPort: number;
  /** The shipped file's one exception to the denied private ranges: media servers' own addresses. */
  allowedPeerIps?: readonly string[];
  /** The address relays are opened on (default 127.0.0.1); the host's own when peers are on it. */
  relayIp?: string;
}): Promise<OwnCoturn> {
  const dir = mkdtempSync(path.join(tmpdir(), 'preau-coturn-'));
  const cleanupDir = () => rmSync(dir, { recursive: true, force: true });
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'pipe' });
  if (made.status !== 0) {
    cleanupDir();
    throw new Error(`openssl n’a pas fait le certificat : ${made.stderr.toString()}`);
  }
  const realm = 'turn.preau.test';
  const secret = `secret-de-test-${Math.random().toString(36).slice(2)}-${Math.random().toString(36).slice(2)}`;
  const logFile = path.join(dir, 'turn.log');
  const conf = adaptTurnConf(
    readFileSync(SHIPPED_TURN_CONF, 'utf8'),
    {
      'listening-port': String(options.port),
      'tls-listening-port': String(options.tlsPort),
      'listening-ip': '127.0.0.1',
      'relay-ip': options.relayIp ?? '127.0.0.1',
      'min-port': String(options.relayMinPort),
      'max-port': String(options.relayMaxPort),
      'static-auth-secret': secret,
      realm,
      cert,
      pkey: key,
      'log-file': logFile,
      pidfile: path.join(dir, 'turnserver.pid'),
      userdb: path.join(dir, 'turndb'),
    },
    ['proc-user', 'proc-group', 'syslog'],
  );
  const confFile = path.join(dir, 'turnserver.conf');
  writeFileSync(confFile, `${conf}\n${(options.allowedPeerIps ?? []).map((ip) => `allowed-peer-ip=${ip}\n`).join('')}`);
  const daemon = await startOwnDaemon({
    name: 'turnserver', command: 'turnserver', args: ['-c', confFile, '--no-stdout-log'], dir,
    readyPort: options.tlsPort, startTimeoutMs: TURN_START_TIMEOUT_MS, stopTimeoutMs: TURN_STOP_TIMEOUT_MS,
    extraLog: () => {
      try {
        return readFileSync(logFile, 'utf8');
      } catch {
        return ''; // not written yet
      }
    },
  });
  return { host: '127.0.0.1', port: options.port, tlsPort: options.tlsPort, realm, secret, certificate: readFileSync(cert), log: daemon.output, stop: daemon.stop };
}
