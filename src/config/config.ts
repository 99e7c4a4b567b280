import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseTrustedProxies, type ClientAddressSource } from '../edge/client-address.js';
import type { BlobStoreKind } from '../storage/blobs/open-blob-store.js';
import { parseTurnUrls, TURN_SECRET_MIN_CHARS, TURN_TTL_DEFAULT_SECONDS, TURN_TTL_MAX_SECONDS, TURN_TTL_MIN_SECONDS } from '../media/turn.js';

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
  /** `on`: password checks yield the CPU while the event loop is saturated (identity/hash-governor.ts); `off`: only for comparisons. */
  hashGovernor: 'on' | 'off';
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
   * PostgreSQL: the WAL archive folder as this host sees it (where `archive_command` copies
   * segments); `preau backup` waits there for its snapshot's segment and cleans it up to the
   * oldest kept base backup; `restore-drill` recovers from it.
   */
  backupWalDir: string | undefined;
  /** PostgreSQL binaries for backups and the restore drill (pg_basebackup, pg_ctl, pg_archivecleanup…). */
  pgBinDir: string;
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
  /** A write's Idempotency-Key claim is a lease this long (http/idempotency.ts): a node that died frees its keys after it. */
  idempotencyLeaseMs: number;
  /** The node renews the leases of its requests in flight this often (at most half the lease: one failed renewal is survived). */
  idempotencyRenewMs: number;
  /** `on`: the suivi records signals (batched); `off` only for the comparison bench (recording on vs off). */
  engagementRecording: 'on' | 'off';
  /** The suivi's batched recorder writes its buffer this often. */
  engagementFlushMs: number;
  /** Classes virtuelles live on this node at once, and their participants (the node's memory and the media engine's capacity). */
  classroomMaxRoomsPerNode: number;
  classroomMaxParticipantsPerNode: number;
  /** Classes virtuelles open at once in one school (every node counts the same, in the database), and participants of one school (every node's with Redis, else this node's). */
  classroomMaxRoomsPerSchool: number;
  classroomMaxParticipantsPerSchool: number;
  /** Participants of one classe virtuelle besides its teachers. */
  classroomMaxParticipantsPerRoom: number;
  /** TURN servers (coturn, `use-auth-secret`) given to virtual-class participants; empty: none (UDP-blocking networks cannot join media). */
  turnUrls: string[];
  /** coturn's `static-auth-secret`: Préau mints time-limited credentials with it (src/media/turn.ts). Required with turnUrls. */
  turnSecret: string | undefined;
  /** Validity of minted TURN credentials (longer than a class: allocations are refreshed with them). */
  turnTtlSeconds: number;
  /** `ws://…` of a Janus (VideoRoom) WebSocket API: the scale-out media engine (src/media/janus/); absent: the embedded engine. */
  janusUrl: string | undefined;
  /** Janus' `api_secret`, when it has one. */
  janusApiSecret: string | undefined;
  /** Janus VideoRoom's `admin_key` (room creation). */
  janusAdminKey: string | undefined;
  /** Rooms one Janus carries at most before `openRoom` refuses (`full`). */
  janusMaxRooms: number;
  /** `ws://…` of Janus' Admin API (with janusAdminSecret): room stats count forwarded packets; absent: they do not. */
  janusAdminUrl: string | undefined;
  janusAdminSecret: string | undefined;
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
  { key: 'hashGovernor', env: 'PREAU_HASH_GOVERNOR', flag: '--hash-governor', help: 'les calculs de mot de passe cèdent le processeur quand la boucle est saturée', expect: 'on ou off', parse: oneOf('on', 'off') },
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
  { key: 'backupWalDir', env: 'PREAU_BACKUP_WAL_DIR', flag: '--backup-wal-dir', help: 'PostgreSQL : dossier de l’archive des journaux (WAL) où écrit archive_command', expect: 'un chemin de dossier', parse: (r) => (r.length > 0 && r.length < 4096 ? r : undefined) },
  { key: 'pgBinDir', env: 'PREAU_PG_BIN_DIR', flag: '--pg-bin-dir', help: 'PostgreSQL : dossier des outils (pg_basebackup, pg_ctl…)', expect: 'un chemin de dossier', parse: (r) => (r.length > 0 && r.length < 4096 ? r : undefined) },
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
  { key: 'idempotencyLeaseMs', env: 'PREAU_IDEMPOTENCY_LEASE_MS', flag: '--idempotency-lease-ms', help: 'bail d’une clé d’idempotence en cours (reprise après la mort de son nœud)', expect: 'un entier de 2000 à 600000', parse: int(2_000, 600_000) },
  { key: 'idempotencyRenewMs', env: 'PREAU_IDEMPOTENCY_RENEW_MS', flag: '--idempotency-renew-ms', help: 'renouvellement de ce bail pendant la requête', expect: 'un entier de 500 à 300000, au plus la moitié du bail', parse: int(500, 300_000) },
  { key: 'shutdownGraceMs', env: 'PREAU_SHUTDOWN_GRACE_MS', flag: '--shutdown-grace-ms', help: 'à l’arrêt, délai laissé aux requêtes en cours', expect: 'un entier de 1000 à 120000', parse: int(1000, 120_000) },
  { key: 'engagementRecording', env: 'PREAU_ENGAGEMENT_RECORDING', flag: '--engagement-recording', help: 'enregistrement des signaux du suivi du décrochage', expect: 'on ou off', parse: oneOf('on', 'off') },
  { key: 'engagementFlushMs', env: 'PREAU_ENGAGEMENT_FLUSH_MS', flag: '--engagement-flush-ms', help: 'écriture groupée des signaux du suivi', expect: 'un entier de 100 à 60000', parse: int(100, 60_000) },
  { key: 'classroomMaxRoomsPerNode', env: 'PREAU_CLASSROOM_MAX_ROOMS_PER_NODE', flag: '--classroom-max-rooms-per-node', help: 'classes virtuelles ouvertes sur ce nœud', expect: 'un entier de 1 à 10000', parse: int(1, 10_000) },
  { key: 'classroomMaxParticipantsPerNode', env: 'PREAU_CLASSROOM_MAX_PARTICIPANTS_PER_NODE', flag: '--classroom-max-participants-per-node', help: 'participants des classes virtuelles de ce nœud', expect: 'un entier de 1 à 1000000', parse: int(1, 1_000_000) },
  { key: 'classroomMaxRoomsPerSchool', env: 'PREAU_CLASSROOM_MAX_ROOMS_PER_SCHOOL', flag: '--classroom-max-rooms-per-school', help: 'classes virtuelles ouvertes en même temps dans un établissement', expect: 'un entier de 1 à 10000', parse: int(1, 10_000) },
  { key: 'classroomMaxParticipantsPerSchool', env: 'PREAU_CLASSROOM_MAX_PARTICIPANTS_PER_SCHOOL', flag: '--classroom-max-participants-per-school', help: 'participants d’un établissement dans ses classes virtuelles (tous les nœuds avec Redis)', expect: 'un entier de 1 à 1000000', parse: int(1, 1_000_000) },
  { key: 'classroomMaxParticipantsPerRoom', env: 'PREAU_CLASSROOM_MAX_PARTICIPANTS_PER_ROOM', flag: '--classroom-max-participants-per-room', help: 'participants d’une classe virtuelle (professeurs en plus)', expect: 'un entier de 2 à 500', parse: int(2, 500) },
  {
    key: 'turnUrls', env: 'PREAU_TURN_URLS', flag: '--turn-urls', help: 'serveurs TURN (coturn) pour la classe virtuelle',
    expect: `de 1 à 8 URL turn:hôte:port[?transport=udp|tcp] ou turns:hôte:443[?transport=tcp] séparées par des virgules, par exemple turn:turn.ent.example:3478,turns:turn.ent.example:443?transport=tcp`,
    parse: parseTurnUrls,
  },
  { key: 'turnSecret', env: 'PREAU_TURN_SECRET', flag: '--turn-secret', help: 'secret partagé avec coturn (static-auth-secret)', expect: `au moins ${TURN_SECRET_MIN_CHARS} caractères, sans espace (openssl rand -base64 48)`, parse: (r) => (r.length >= TURN_SECRET_MIN_CHARS && r.length <= 256 && !/\s/.test(r) ? r : undefined) },
  { key: 'turnTtlSeconds', env: 'PREAU_TURN_TTL_SECONDS', flag: '--turn-ttl-seconds', help: 'validité des identifiants TURN', expect: `un entier de ${TURN_TTL_MIN_SECONDS} à ${TURN_TTL_MAX_SECONDS} (secondes)`, parse: int(TURN_TTL_MIN_SECONDS, TURN_TTL_MAX_SECONDS) },
  { key: 'janusUrl', env: 'PREAU_JANUS_URL', flag: '--janus-url', help: 'serveur média Janus (API WebSocket)', expect: 'ws://hôte:port ou wss://hôte:port', parse: (r) => (/^wss?:\/\/[^\s/]+(\/[^\s]*)?$/.test(r) && r.length < 2048 ? r : undefined) },
  { key: 'janusApiSecret', env: 'PREAU_JANUS_API_SECRET', flag: '--janus-api-secret', help: 'api_secret de Janus', expect: 'de 1 à 256 caractères sans espace', parse: (r) => (/^\S{1,256}$/.test(r) ? r : undefined) },
  { key: 'janusAdminKey', env: 'PREAU_JANUS_ADMIN_KEY', flag: '--janus-admin-key', help: 'admin_key du plugin VideoRoom de Janus', expect: 'de 1 à 256 caractères sans espace', parse: (r) => (/^\S{1,256}$/.test(r) ? r : undefined) },
  { key: 'janusAdminUrl', env: 'PREAU_JANUS_ADMIN_URL', flag: '--janus-admin-url', help: 'API d’administration de Janus (statistiques)', expect: 'ws://hôte:port ou wss://hôte:port', parse: (r) => (/^wss?:\/\/[^\s/]+(\/[^\s]*)?$/.test(r) && r.length < 2048 ? r : undefined) },
  { key: 'janusAdminSecret', env: 'PREAU_JANUS_ADMIN_SECRET', flag: '--janus-admin-secret', help: 'admin_secret de Janus', expect: 'de 1 à 256 caractères sans espace', parse: (r) => (/^\S{1,256}$/.test(r) ? r : undefined) },
  { key: 'janusMaxRooms', env: 'PREAU_JANUS_MAX_ROOMS', flag: '--janus-max-rooms', help: 'salles au plus sur ce serveur Janus', expect: 'un entier de 1 à 10000', parse: int(1, 10_000) },
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
    hashGovernor: 'on',
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
    backupWalDir: undefined,
    pgBinDir: '/usr/lib/postgresql/15/bin',
    blobStore: 'disk',
    trustedProxies: [],
    clientAddressFrom: 'proxy-protocol',
    drainDelayMs: 0,
    shutdownGraceMs: 25_000,
    idempotencyLeaseMs: 15_000,
    idempotencyRenewMs: 5_000,
    engagementRecording: 'on',
    engagementFlushMs: 5_000,
    // Unmeasured guesses until the classroom bench has run on the embedded engine: a 2-core node, a few classes of 30.
    classroomMaxRoomsPerNode: 20,
    classroomMaxParticipantsPerNode: 600,
    classroomMaxRoomsPerSchool: 40,
    classroomMaxParticipantsPerSchool: 600,
    classroomMaxParticipantsPerRoom: 40,
    turnUrls: [],
    turnSecret: undefined,
    turnTtlSeconds: TURN_TTL_DEFAULT_SECONDS,
    janusUrl: undefined,
    janusApiSecret: undefined,
    janusAdminKey: undefined,
    janusMaxRooms: 200,
    janusAdminUrl: undefined,
    janusAdminSecret: undefined,
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
  // A Janus given is the engine meant, unless the engine is named; Janus named without its address is a half-done deployment.
  if (!given.has('mediaEngine') && config.janusUrl) config.mediaEngine = 'janus';
  if (config.mediaEngine === 'janus' && !config.janusUrl) problems.push('PREAU_MEDIA_ENGINE=janus demande PREAU_JANUS_URL (l’API WebSocket de Janus, ws://hôte:port)');
  // TURN credentials are minted with the secret: one without the other is a half-done deployment.
  if (config.turnUrls.length > 0 && config.turnSecret === undefined) problems.push('PREAU_TURN_URLS est donné sans PREAU_TURN_SECRET : donnez le static-auth-secret de coturn (deploy/coturn/turnserver.conf)');
  if (config.turnSecret !== undefined && config.turnUrls.length === 0) problems.push('PREAU_TURN_SECRET est donné sans PREAU_TURN_URLS : donnez les URL turn:/turns: du serveur coturn');
  if ((config.janusAdminUrl === undefined) !== (config.janusAdminSecret === undefined)) problems.push('PREAU_JANUS_ADMIN_URL et PREAU_JANUS_ADMIN_SECRET vont ensemble (l’API d’administration de Janus demande son admin_secret)');
  // A lease renewed less often than twice per its length is lost to one slow renewal (a failover): a live request's key taken.
  if (config.idempotencyRenewMs * 2 > config.idempotencyLeaseMs) problems.push(`PREAU_IDEMPOTENCY_RENEW_MS (${config.idempotencyRenewMs}) doit valoir au plus la moitié de PREAU_IDEMPOTENCY_LEASE_MS (${config.idempotencyLeaseMs}) : un renouvellement manqué ne doit pas faire perdre la clé d’une requête vivante`);
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

export function configHelp(): string {
  return SPECS.map((s) => `  ${s.flag.padEnd(28)} ${s.env.padEnd(32)} ${s.help} (${s.expect})`).join('\n');
}
