import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startOwnDaemon } from './own-daemon.js';

/**
 * A Janus (Debian's `janus` 1.1.x) of the test's own: a config folder in a temporary directory with
 * only the VideoRoom plugin and the HTTP and WebSocket transports, bound to loopback on the given
 * ports, RTP on the given range. The packaged service and /etc/janus are never used.
 *
 * Without the binary: `undefined` with a loud message, and a failure with CI=true (.ci/run installs it).
 */
export const JANUS_BIN = process.env.PREAU_TEST_JANUS_BIN ?? 'janus';
const JANUS_LIB = '/usr/lib/x86_64-linux-gnu/janus';
/** How long Janus gets to load its plugins and open its WebSocket port. */
const JANUS_START_TIMEOUT_MS = 15_000;
const JANUS_STOP_TIMEOUT_MS = 5_000;

export interface OwnJanus {
  wsUrl: string;
  httpUrl: string;
  apiSecret: string;
  adminKey: string;
  /** `ws://…` of the Admin API when `adminWsPort` was given. */
  adminWsUrl: string | undefined;
  adminSecret: string;
  /** Everything Janus logged (for failure messages). */
  log(): string;
  stop(): Promise<void>;
}

export interface OwnJanusOptions {
  wsPort: number;
  httpPort: number;
  /** Janus' Admin API over WebSocket (handle statistics), on loopback. */
  adminWsPort?: number;
  rtpPortRange: string;
  /** Seconds without a keepalive before Janus drops a session (the adapter keeps alive well within). */
  sessionTimeoutS?: number;
  /** Seconds Janus keeps a session whose transport dropped, for the adapter to claim it back (0: none). */
  reclaimSessionTimeoutS?: number;
  /** Gather ICE candidates only on this interface or address (other helpers' veths and namespaces come and go). */
  iceEnforce?: string;
  /** Given to start a Janus again with the same secrets (a restart seen by an adapter already configured). */
  apiSecret?: string;
  adminKey?: string;
  adminSecret?: string;
}

export function janusAvailable(): boolean {
  // `janus --version` exits 1 (it prints then refuses to start); `--help` exits 0.
  const ok = spawnSync(JANUS_BIN, ['--help'], { stdio: 'ignore' }).status === 0;
  if (!ok) {
    if (process.env.CI === 'true') throw new Error(`${JANUS_BIN} absent alors que CI=true (apt-get install janus)`);
    console.warn('\n!!! janus absent : les tests d’intégration de l’adaptateur Janus sont SAUTÉS (apt-get install janus ; ils tournent en CI). !!!\n');
  }
  return ok;
}

export async function startOwnJanus(options: OwnJanusOptions): Promise<OwnJanus> {
  const dir = mkdtempSync(path.join(tmpdir(), 'preau-janus-'));
  const apiSecret = options.apiSecret ?? `api-${Math.random().toString(36).slice(2)}`;
  const adminKey = options.adminKey ?? `admin-${Math.random().toString(36).slice(2)}`;
  const adminSecret = options.adminSecret ?? `adminsecret-${Math.random().toString(36).slice(2)}`;
  writeFileSync(
    path.join(dir, 'janus.jcfg'),
    `general: {
  configs_folder = "${dir}"
  plugins_folder = "${JANUS_LIB}/plugins"
  transports_folder = "${JANUS_LIB}/transports"
  events_folder = "${JANUS_LIB}/events"
  loggers_folder = "${JANUS_LIB}/loggers"
  debug_level = 4
  session_timeout = ${options.sessionTimeoutS ?? 60}
  reclaim_session_timeout = ${options.reclaimSessionTimeoutS ?? 0}
  api_secret = "${apiSecret}"
  admin_secret = "${adminSecret}"
  protected_folders = ["/bin", "/boot", "/dev", "/etc", "/lib", "/proc", "/sbin", "/sys", "/usr", "/var"]
}
media: {
  rtp_port_range = "${options.rtpPortRange}"
  slowlink_threshold = 4
}
nat: {
  nice_debug = false
  full_trickle = true
  ice_ignore_list = "vmnet"
${options.iceEnforce ? `  ice_enforce_list = "${options.iceEnforce}"\n` : ''}}
plugins: {
  disable = "libjanus_audiobridge.so,libjanus_duktape.so,libjanus_echotest.so,libjanus_lua.so,libjanus_nosip.so,libjanus_recordplay.so,libjanus_sip.so,libjanus_streaming.so,libjanus_textroom.so,libjanus_videocall.so,libjanus_voicemail.so"
}
transports: {
  disable = "libjanus_mqtt.so,libjanus_nanomsg.so,libjanus_pfunix.so,libjanus_rabbitmq.so"
}
loggers: {
  disable = "libjanus_jsonlog.so"
}
events: {
  broadcast = false
}
`,
  );
  writeFileSync(
    path.join(dir, 'janus.transport.websockets.jcfg'),
    `general: {
  json = "plain"
  ws = true
  ws_port = ${options.wsPort}
  ws_ip = "127.0.0.1"
  wss = false
}
admin: {
  admin_ws = ${options.adminWsPort !== undefined}
  admin_ws_port = ${options.adminWsPort ?? 0}
  admin_ws_ip = "127.0.0.1"
  admin_wss = false
}
`,
  );
  writeFileSync(
    path.join(dir, 'janus.transport.http.jcfg'),
    `general: {
  json = "plain"
  base_path = "/janus"
  http = true
  port = ${options.httpPort}
  ip = "127.0.0.1"
  https = false
}
admin: {
  admin_http = false
  admin_https = false
}
`,
  );
  writeFileSync(
    path.join(dir, 'janus.plugin.videoroom.jcfg'),
    `general: {
  admin_key = "${adminKey}"
  string_ids = true
}
`,
  );
  const daemon = await startOwnDaemon({
    name: 'janus', command: JANUS_BIN, args: ['-C', path.join(dir, 'janus.jcfg'), '-F', dir, '-o'], dir,
    readyPort: options.wsPort, startTimeoutMs: JANUS_START_TIMEOUT_MS, stopTimeoutMs: JANUS_STOP_TIMEOUT_MS,
  });
  return {
    wsUrl: `ws://127.0.0.1:${options.wsPort}`,
    httpUrl: `http://127.0.0.1:${options.httpPort}/janus`,
    apiSecret,
    adminKey,
    adminWsUrl: options.adminWsPort !== undefined ? `ws://127.0.0.1:${options.adminWsPort}` : undefined,
    adminSecret,
    log: daemon.output,
    stop: daemon.stop,
  };
}
