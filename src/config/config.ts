import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseTrustedProxies, type ClientAddressSource } from '../edge/client-address.js';
import type { BlobStoreKind } from '../storage/blobs/open-blob-store.js';

/**
 * One validated configuration, from environment variables and command-line flags
 * (flags win). Anything wrong stops the boot with a message that says how to fix it.
 */
export interface Config {
  host: string;
  port: number;
  dataDir: string;
  /** `sqlite:<file>` (embedded default, under dataDir) or `postgres://…`. */
  databaseUrl: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Public URL; when it is https, cookies are `Secure`. */
  publicUrl: string;
  /** `auto`: create the demo school when the database is empty; `off`: never. */
  demo: 'auto' | 'off';
  sessionTtlDays: number;
  /** A session without "rester connecté" ends after this long without use. */
  shortSessionTtlHours: number;
  hashConcurrency: number;
  hashQueueMax: number;
  hashQueueWaitMs: number;
  requestTimeoutMs: number;
  /** Secret for derived tokens (CSRF). When not given, generated once and kept in the database so every node agrees. */
  secret: string | undefined;
  /** Departed people are purged after this many days (GDPR window). */
  departedRetentionDays: number;
  /** The built web client (`npm run build` makes it); when it holds no index.html, only the API is served. */
  webDir: string;
  /** `on`: the crisis-morning edge (socket guards, admission, rate limits, waiting room); `off` only for comparison benches. */
  edge: 'on' | 'off';
  /** Open connections allowed from one client address (a school's NAT shares one). */
  maxConnectionsPerAddress: number;
  /** Open connections allowed in total. */
  maxConnections: number;
  /** `redis://…`: the realtime pub/sub and the edge's shared state go through Redis (several nodes); absent: in memory (one node). */
  redisUrl: string | undefined;
  /** Prefix of every key Préau writes in Redis (several deployments, or tests, can share one server). */
  redisPrefix: string;
  /** Notifications older than this are deleted by `preau purge`. */
  notificationRetentionDays: number;
  /** Off-site folder for scheduled backups of the embedded store (SQLite + blobs); absent: no scheduled backup. */
  backupDir: string | undefined;
  /** Minutes between two scheduled backups (the first one this long after boot). */
  backupEveryMinutes: number;
  /** Complete backups kept; older ones are deleted (never the only good one). */
  backupKeep: number;
  /**
   * Where file bytes go: `disk` (under dataDir, the embedded default) or `database` (the default with
   * PostgreSQL: replicated with it, readable by every node).
   */
  blobStore: BlobStoreKind;
  /** Load balancers whose word on the client address is taken (addresses or CIDR blocks); empty: nobody's. */
  trustedProxies: string[];
  /** How those proxies pass the client address: PROXY protocol v1/v2 (default) or a request header. */
  clientAddressFrom: ClientAddressSource;
  /** On SIGTERM, /readyz answers 503 this long before the listener closes, so the load balancer stops sending first. */
  drainDelayMs: number;
  /** Then in-flight requests get this long to finish before the process exits anyway. */
  shutdownGraceMs: number;
  /** `on`: the suivi records signals (batched); `off` only for the comparison bench (recording on vs off). */
  engagementRecording: 'on' | 'off';
  /** The suivi's batched recorder writes its buffer this often. */
  engagementFlushMs: number;
  /** The classe virtuelle's media engine: `embedded` (werift SFU in worker threads), `janus` (dedicated media servers) or `off`. */
  mediaEngine: 'embedded' | 'janus' | 'off';
  /** Worker threads of the embedded engine; 0: cores − 1, at least 1. */
  mediaWorkers: number;
  /** UDP ports the embedded engine binds for ICE (first, last); the firewall opens this range. */
  mediaIcePorts: [number, number];
}

/** `a,b/24,c` with each an IPv4/IPv6 address or CIDR block; undefined when any is not. */
function cidrList(raw: string): string[] | undefined {
  const entries = raw.split(',').map((e) => e.trim()).filter((e) => e.length > 0);
  if (entries.length === 0 || entries.length > 64) return undefined;
  return parseTrustedProxies(entries) ? entries : undefined;
}

interface OptionSpec<K extends keyof Config> {
  key: K;
  env: string;
  flag: string;
  help: string;
  parse: (raw: string) => Config[K] | undefined;
  expect: string;
}

const int = (min: number, max: number) => (raw: string) => {
  if (!/^\d+$/.test(raw)) return undefined;
  const n = Number(raw);
  return n >= min && n <= max ? n : undefined;
};
const oneOf =
  <T extends string>(...values: T[]) =>
  (raw: string) =>
    (values as string[]).includes(raw) ? (raw as T) : undefined;

const SPECS: OptionSpec<keyof Config>[] = [
  { key: 'host', env: 'PREAU_HOST', flag: '--host', help: 'adresse d’écoute', expect: 'une adresse IP ou un nom d’hôte', parse: (r) => (/^[\w.:-]{1,253}$/.test(r) ? r : undefined) },
  { key: 'port', env: 'PREAU_PORT', flag: '--port', help: 'port HTTP', expect: 'un entier entre 0 et 65535', parse: int(0, 65535) },
  { key: 'dataDir', env: 'PREAU_DATA_DIR', flag: '--data-dir', help: 'dossier des données', expect: 'un chemin de dossier', parse: (r) => (r.length > 0 && r.length < 4096 ? r : undefined) },
  {
    key: 'databaseUrl', env: 'DATABASE_URL', flag: '--database-url', help: 'base de données', expect: 'sqlite:<fichier> ou postgres://utilisateur@hôte:port/base',
    parse: (r) => (/^sqlite:.+/.test(r) || /^postgres(ql)?:\/\/.+/.test(r) ? r : undefined),
  },
  { key: 'logLevel', env: 'LOG_LEVEL', flag: '--log-level', help: 'niveau de journalisation', expect: 'fatal, error, warn, info, debug, trace ou silent', parse: oneOf('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent') },
  {
    key: 'publicUrl', env: 'PREAU_PUBLIC_URL', flag: '--public-url', help: 'URL publique', expect: 'une URL http:// ou https:// sans chemin',
    parse: (r) => {
      try {
        const u = new URL(r);
        return (u.protocol === 'http:' || u.protocol === 'https:') && (u.pathname === '/' || u.pathname === '') ? u.origin : undefined;
      } catch {
        return undefined;
      }
    },
  },
  { key: 'demo', env: 'PREAU_DEMO', flag: '--demo', help: 'établissement de démonstration', expect: 'auto ou off', parse: oneOf('auto', 'off') },
  { key: 'sessionTtlDays', env: 'PREAU_SESSION_TTL_DAYS', flag: '--session-ttl-days', help: 'durée d’une session « rester connecté »', expect: 'un entier de 1 à 90', parse: int(1, 90) },
  { key: 'shortSessionTtlHours', env: 'PREAU_SHORT_SESSION_TTL_HOURS', flag: '--short-session-ttl-hours', help: 'durée d’une session simple', expect: 'un entier de 1 à 72', parse: int(1, 72) },
  { key: 'hashConcurrency', env: 'PREAU_HASH_CONCURRENCY', flag: '--hash-concurrency', help: 'calculs de mot de passe en parallèle', expect: 'un entier de 1 à 64', parse: int(1, 64) },
  { key: 'hashQueueMax', env: 'PREAU_HASH_QUEUE_MAX', flag: '--hash-queue-max', help: 'file d’attente des calculs de mot de passe', expect: 'un entier de 1 à 100000', parse: int(1, 100_000) },
  { key: 'hashQueueWaitMs', env: 'PREAU_HASH_QUEUE_WAIT_MS', flag: '--hash-queue-wait-ms', help: 'attente maximale dans cette file', expect: 'un entier de 100 à 60000', parse: int(100, 60_000) },
  { key: 'requestTimeoutMs', env: 'PREAU_REQUEST_TIMEOUT_MS', flag: '--request-timeout-ms', help: 'durée maximale d’une requête', expect: 'un entier de 1000 à 600000', parse: int(1000, 600_000) },
  { key: 'secret', env: 'PREAU_SECRET', flag: '--secret', help: 'secret de signature', expect: 'au moins 32 caractères', parse: (r) => (r.length >= 32 ? r : undefined) },
  { key: 'webDir', env: 'PREAU_WEB_DIR', flag: '--web-dir', help: 'client web construit', expect: 'un chemin de dossier', parse: (r) => (r.length > 0 && r.length < 4096 ? r : undefined) },
  { key: 'edge', env: 'PREAU_EDGE', flag: '--edge', help: 'protections d’entrée (admission, limites, file d’attente)', expect: 'on ou off', parse: oneOf('on', 'off') },
  { key: 'maxConnectionsPerAddress', env: 'PREAU_MAX_CONNECTIONS_PER_ADDRESS', flag: '--max-connections-per-address', help: 'connexions ouvertes par adresse', expect: 'un entier de 1 à 1000000', parse: int(1, 1_000_000) },
  { key: 'maxConnections', env: 'PREAU_MAX_CONNECTIONS', flag: '--max-connections', help: 'connexions ouvertes en tout', expect: 'un entier de 1 à 1000000', parse: int(1, 1_000_000) },
  { key: 'redisUrl', env: 'PREAU_REDIS_URL', flag: '--redis-url', help: 'Redis pour l’état partagé entre plusieurs nœuds (temps réel, limites, file d’attente, présence)', expect: 'redis://hôte:port ou rediss://…', parse: (r) => (/^rediss?:\/\/[^\s]+$/.test(r) && r.length < 2048 ? r : undefined) },
  { key: 'redisPrefix', env: 'PREAU_REDIS_PREFIX', flag: '--redis-prefix', help: 'préfixe des clés Redis de ce déploiement', expect: 'de 1 à 64 lettres, chiffres, « : », « _ » ou « - »', parse: (r) => (/^[A-Za-z0-9:_-]{1,64}$/.test(r) ? r : undefined) },
  { key: 'notificationRetentionDays', env: 'PREAU_NOTIFICATION_RETENTION_DAYS', flag: '--notification-retention-days', help: 'conservation des notifications', expect: 'un entier de 1 à 366', parse: int(1, 366) },
  { key: 'backupDir', env: 'PREAU_BACKUP_DIR', flag: '--backup-dir', help: 'dossier des sauvegardes, sur un autre disque (hors site de préférence)', expect: 'un chemin de dossier', parse: (r) => (r.length > 0 && r.length < 4096 ? r : undefined) },
  { key: 'backupEveryMinutes', env: 'PREAU_BACKUP_EVERY_MINUTES', flag: '--backup-every-minutes', help: 'intervalle entre deux sauvegardes', expect: 'un entier de 5 à 10080 (minutes)', parse: int(5, 10_080) },
  { key: 'backupKeep', env: 'PREAU_BACKUP_KEEP', flag: '--backup-keep', help: 'sauvegardes complètes conservées', expect: 'un entier de 1 à 1000', parse: int(1, 1_000) },
  { key: 'blobStore', env: 'PREAU_BLOB_STORE', flag: '--blob-store', help: 'où sont gardés les fichiers', expect: 'disk ou database', parse: oneOf('disk', 'database') },
  {
    key: 'trustedProxies', env: 'PREAU_TRUSTED_PROXIES', flag: '--trusted-proxies', help: 'répartiteurs de charge dont l’adresse client transmise est crue',
    expect: 'des adresses IP ou blocs CIDR séparés par des virgules (64 au plus), par exemple 10.0.0.0/8,::1', parse: cidrList,
  },
  {
    key: 'clientAddressFrom', env: 'PREAU_CLIENT_ADDRESS_FROM', flag: '--client-address-from', help: 'comment ces répartiteurs transmettent l’adresse client',
    expect: 'proxy-protocol, x-forwarded-for ou forwarded', parse: oneOf('proxy-protocol', 'x-forwarded-for', 'forwarded'),
  },
  { key: 'drainDelayMs', env: 'PREAU_DRAIN_DELAY_MS', flag: '--drain-delay-ms', help: 'à l’arrêt, délai entre « pas prêt » et la fermeture de l’écoute', expect: 'un entier de 0 à 60000', parse: int(0, 60_000) },
  { key: 'shutdownGraceMs', env: 'PREAU_SHUTDOWN_GRACE_MS', flag: '--shutdown-grace-ms', help: 'à l’arrêt, délai laissé aux requêtes en cours', expect: 'un entier de 1000 à 120000', parse: int(1000, 120_000) },
  { key: 'engagementRecording', env: 'PREAU_ENGAGEMENT_RECORDING', flag: '--engagement-recording', help: 'enregistrement des signaux du suivi du décrochage', expect: 'on ou off', parse: oneOf('on', 'off') },
  { key: 'engagementFlushMs', env: 'PREAU_ENGAGEMENT_FLUSH_MS', flag: '--engagement-flush-ms', help: 'écriture groupée des signaux du suivi', expect: 'un entier de 100 à 60000', parse: int(100, 60_000) },
  { key: 'mediaEngine', env: 'PREAU_MEDIA_ENGINE', flag: '--media-engine', help: 'moteur média de la classe virtuelle', expect: 'embedded, janus ou off', parse: oneOf('embedded', 'janus', 'off') },
  { key: 'mediaWorkers', env: 'PREAU_MEDIA_WORKERS', flag: '--media-workers', help: 'threads du moteur média embarqué (0 : cœurs − 1)', expect: 'un entier de 0 à 32', parse: int(0, 32) },
  {
    key: 'mediaIcePorts', env: 'PREAU_MEDIA_ICE_PORTS', flag: '--media-ice-ports', help: 'ports UDP du moteur média embarqué', expect: 'premier-dernier, par exemple 42000-42999 (au moins 2 ports par thread)',
    parse: (r) => {
      const m = /^(\d{4,5})-(\d{4,5})$/.exec(r);
      if (!m) return undefined;
      const [first, last] = [Number(m[1]), Number(m[2])];
      return first >= 1024 && last <= 65_535 && last - first >= 63 ? ([first, last] as [number, number]) : undefined;
    },
  },
  { key: 'departedRetentionDays', env: 'PREAU_DEPARTED_RETENTION_DAYS', flag: '--departed-retention-days', help: 'conservation après départ', expect: 'un entier de 1 à 92', parse: int(1, 92) },
];

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Configuration invalide :\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function defaultConfig(): Config {
  return {
    host: '127.0.0.1',
    port: 3000,
    dataDir: './data',
    databaseUrl: 'sqlite:data/preau.sqlite',
    logLevel: 'info',
    publicUrl: 'http://127.0.0.1:3000',
    demo: 'auto',
    sessionTtlDays: 30,
    shortSessionTtlHours: 12,
    hashConcurrency: Math.max(1, availableParallelism()),
    hashQueueMax: 2000,
    hashQueueWaitMs: 10_000,
    requestTimeoutMs: 30_000,
    secret: undefined,
    departedRetentionDays: 92,
    webDir: defaultWebDir(),
    edge: 'on',
    maxConnectionsPerAddress: 1_000,
    maxConnections: 20_000,
    redisUrl: undefined,
    redisPrefix: 'preau:',
    notificationRetentionDays: 90,
    backupDir: undefined,
    backupEveryMinutes: 60,
    backupKeep: 48,
    blobStore: 'disk',
    trustedProxies: [],
    clientAddressFrom: 'proxy-protocol',
    drainDelayMs: 0,
    shutdownGraceMs: 25_000,
    engagementRecording: 'on',
    engagementFlushMs: 5_000,
    mediaEngine: 'embedded',
    mediaWorkers: 0,
    mediaIcePorts: [42_000, 42_999],
  };
}

/**
 * web/dist of the package this file belongs to, whether it runs from src/ (tsx) or from dist/
 * (npm start): the first ancestor folder holding a package.json is the package root.
 */
function defaultWebDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6 && !existsSync(path.join(dir, 'package.json')); i++) dir = path.dirname(dir);
  return path.join(dir, 'web', 'dist');
}

/** Reads `env` and `argv` (flags as `--name value` or `--name=value`). Throws ConfigError listing every problem. */
export function loadConfig(env: NodeJS.ProcessEnv, argv: readonly string[]): Config {
  const config = defaultConfig();
  const problems: string[] = [];
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) {
      problems.push(`argument inattendu « ${arg} » : les options s’écrivent --nom valeur (voir --help)`);
      continue;
    }
    const eq = arg.indexOf('=');
    if (eq > 0) flags.set(arg.slice(0, eq), arg.slice(eq + 1));
    else if (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) flags.set(arg, argv[++i]!);
    else problems.push(`l’option ${arg} attend une valeur (par exemple ${arg}=…)`);
  }
  const known = new Set(SPECS.map((s) => s.flag));
  for (const f of flags.keys()) if (!known.has(f)) problems.push(`option inconnue ${f} (options connues : ${[...known].join(', ')})`);

  const record = config as unknown as Record<string, unknown>;
  const given = new Set<keyof Config>();
  for (const spec of SPECS) {
    const fromFlag = flags.get(spec.flag);
    const raw = fromFlag ?? env[spec.env];
    if (raw === undefined || raw === '') continue;
    const value = spec.parse(raw);
    const where = fromFlag !== undefined ? `l’option ${spec.flag}` : `la variable ${spec.env}`;
    if (value === undefined) problems.push(`${where} vaut « ${raw.slice(0, 80)} » ; attendu : ${spec.expect} (${spec.help})`);
    else {
      record[spec.key] = value;
      given.add(spec.key);
    }
  }
  // Derived defaults follow the options they derive from.
  if (!given.has('databaseUrl')) config.databaseUrl = `sqlite:${path.join(config.dataDir, 'preau.sqlite')}`;
  // Scaled mode (PostgreSQL): files in the database too, so that they survive a site with it.
  if (!given.has('blobStore') && /^postgres(ql)?:/.test(config.databaseUrl)) config.blobStore = 'database';
  // Behind a load balancer, readiness turns 503 before the listener closes: 3 s covers deploy/haproxy.cfg's
  // checks (every 1 s, down after 2 failures). Alone on a machine, nobody polls readiness: no delay.
  if (!given.has('drainDelayMs') && config.trustedProxies.length > 0) config.drainDelayMs = 3_000;
  if (!given.has('publicUrl')) config.publicUrl = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`;
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

export function configHelp(): string {
  return SPECS.map((s) => `  ${s.flag.padEnd(28)} ${s.env.padEnd(32)} ${s.help} (${s.expect})`).join('\n');
}
