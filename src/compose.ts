import type { FastifyInstance } from 'fastify';
import type { Config } from './config/config.js';
import { systemClock, type Clock } from './platform/clock.js';
import { newSecretToken } from './platform/ids.js';
import { createLogger, type Logger } from './platform/logger.js';
import { Metrics } from './platform/metrics.js';
import { openStorage, migrateToLatest, type Storage } from './storage/db.js';
import { createHttpApp } from './http/app.js';
import { Admission, DEFAULT_ADMISSION_SETTINGS, DEFAULT_RATE_LIMITS, DEFAULT_SOCKET_LIMITS, installEdge, MemoryBucketStore, RateLimiter, Refusals, SocketGuards, type AdmissionSettings, type RateLimitSettings } from './edge/index.js';
import { HttpAuth } from './http/auth.js';
import { registerHealthRoutes } from './http/health.js';
import { installIdempotency } from './http/idempotency.js';
import { IdempotencyRepository } from './http/idempotency.repository.js';
import { registerWebRoutes, WebDist } from './http/static.js';
import { installUploads } from './http/uploads.js';
import { installReadOnly } from './http/read-only.js';
import { DatabaseHealth, DEFAULT_DATABASE_HEALTH_SETTINGS, type DatabaseHealthSettings } from './storage/health.js';
import type { BlobStore } from './storage/blobs/blob-store.js';
import { openBlobStore } from './storage/blobs/open-blob-store.js';
import { IdentityRepository } from './modules/identity/identity.repository.js';
import { IdentityService } from './modules/identity/identity.service.js';
import { LoginThrottle, MemoryFailureStore } from './modules/identity/login-throttle.js';
import { FallbackFailureStore, RedisFailureStore } from './modules/identity/login-throttle.redis.js';
import { PasswordHasher } from './modules/identity/password-hasher.js';
import { iceServersFor } from './media/turn.js';
import { DEFAULT_HASH_GOVERNOR } from './modules/identity/hash-governor.js';
import { registerIdentityRoutes } from './modules/identity/identity.routes.js';
import { SchoolsRepository, SchoolsService, registerSchoolsRoutes } from './modules/schools/index.js';
import { TimetableRepository, TimetableService, registerTimetableRoutes } from './modules/timetable/index.js';
import { TodayService, registerTodayRoutes } from './modules/today/index.js';
import { StatusRepository, StatusService, registerStatusRoutes } from './modules/status/index.js';
import { LiaisonRepository, LiaisonService, registerLiaisonRoutes } from './modules/liaison/index.js';
import { DocumentsRepository, DocumentsService, registerDocumentsRoutes } from './modules/documents/index.js';
import { NewsRepository, NewsService, registerNewsRoutes } from './modules/news/index.js';
import { MessagingRepository, MessagingService, registerMessagingRoutes } from './modules/messaging/index.js';
import { HandinsRepository, HandinsService, HomeworkRepository, HomeworkService, registerHandinsRoutes, registerHomeworkRoutes } from './modules/homework/index.js';
import { normaliseLogin } from './modules/identity/index.js';
import { NotificationsRepository, NotificationsService, registerNotificationsRoutes } from './modules/notifications/index.js';
import { DEFAULT_RECORDER_SETTINGS, EngagementRecorder, EngagementRepository, EngagementService, registerEngagementRoutes } from './modules/engagement/index.js';
import { silentSignals, type EngagementSignals } from './platform/engagement-signals.js';
import { createHmac } from 'node:crypto';
import { hostname } from 'node:os';
import { JanusMediaEngine } from './media/janus/janus-media-engine.js';
import { LazyMediaEngine } from './media/lazy-media-engine.js';
import { MediaEngineError, type MediaEngine } from './media/media-engine.js';
import { openMediaEngine } from './media/open-media-engine.js';
import { ClassroomRepository, ClassroomRuntime, ClassroomService, DEFAULT_RELAY_SETTINGS, RUNTIME_TICK_MS, RedisSchoolCounts, RoomRelay, DEFAULT_DEGRADATION_SETTINGS, type RelaySettings, DEFAULT_ROOM_LIMITS, registerClassroomRoutes, registerClassroomSignalling, type DegradationSettings, type RoomLimits } from './modules/classroom/index.js';
import { DEFAULT_GATEWAY_LIMITS, installUpgrades, MemoryPubSub, RedisPresence, RealtimeGateway, RedisPubSub, registerRealtimeRoutes, type GatewayLimits, type PubSub } from './realtime/index.js';
import { createLaneResolver, DEFAULT_WAITING_ROOM_SETTINGS, registerWaitingRoomRoutes, ticketKey, WaitingRoom, type WaitingRoomSettings } from './edge/index.js';
import { ChallengeGate, DEFAULT_CHALLENGE_SETTINGS, deriveKey, EdgeControls, registerOperatorRoutes, type ChallengeSettings, type CountryLookup } from './edge/index.js';
import { ClientAddresses, DEFAULT_PROXY_HEADER_TIMEOUT_MS } from './edge/index.js';
import { SharedSwitches, RedisSpentIds, RedisRoomLine, DEFAULT_STUFFING_SETTINGS, RedisStuffingCounters, StuffingDetector, DEFAULT_EDGE_REDIS_SETTINGS, DEFAULT_SYNC_SETTINGS, EdgeRedis, RedisSharedBuckets, SyncedBucketStore, type BucketStore, type EdgeRedisSettings } from './edge/index.js';

export interface Preau {
  config: Config;
  app: FastifyInstance;
  storage: Storage;
  logger: Logger;
  clock: Clock;
  metrics: Metrics;
  hasher: PasswordHasher;
  identity: IdentityService;
  schools: SchoolsService;
  timetable: TimetableRepository;
  status: StatusService;
  idempotency: IdempotencyRepository;
  /** The built web client, when there is one to serve. */
  web: WebDist | undefined;
  homework: HomeworkService;
  handins: HandinsService;
  blobs: BlobStore;
  /** The edge's parts (undefined with PREAU_EDGE=off). */
  edge: { guards: SocketGuards; admission: Admission; rateLimiter: RateLimiter; waitingRoom: WaitingRoom; challenge: ChallengeGate; controls: EdgeControls; switches: SharedSwitches | undefined } | undefined;
  messaging: MessagingService;
  liaison: LiaisonService;
  documents: DocumentsService;
  news: NewsService;
  notifications: NotificationsService;
  realtime: RealtimeGateway;
  pubsub: PubSub;
  engagement: EngagementService;
  classroom: ClassroomService;
  /** Several nodes (PREAU_REDIS_URL): carries room messages between the node a socket is on and the room's host. */
  classroomRelay: RoomRelay | undefined;
  /** The classe virtuelle's live rooms on this node. */
  classroomRuntime: ClassroomRuntime;
  /** The suivi's batched signal recorder (undefined with PREAU_ENGAGEMENT_RECORDING=off). */
  engagementRecorder: EngagementRecorder | undefined;
  /** The edge's Redis (shared state between nodes), when PREAU_REDIS_URL is set and the edge is on. */
  edgeRedis: EdgeRedis | undefined;
  /** The automatic read-only watcher (PostgreSQL only: an embedded SQLite file has no primary to lose). */
  databaseHealth: DatabaseHealth | undefined;
  /**
   * The graceful stop (SIGTERM): readiness goes 503 and the node keeps serving for
   * `config.drainDelayMs` (the load balancer sees it and sends no more); then WebSockets are closed
   * with a reconnect hint, the listener closes, in-flight requests get `config.shutdownGraceMs` to
   * finish (then their connections are cut), and the pub/sub and the database are closed.
   */
  close(): Promise<void>;
}

export interface ComposeOverrides {
  storage?: Storage;
  clock?: Clock;
  logger?: Logger;
  blobs?: BlobStore;
  /** Admission settings over the defaults (tests of features turn the lag sampling off: a shared CI host's lag is not theirs to test). */
  admission?: Partial<AdmissionSettings>;
  rateLimits?: Partial<RateLimitSettings>;
  waitingRoom?: Partial<WaitingRoomSettings>;
  challenge?: Partial<ChallengeSettings>;
  /** The realtime gateway's bounds over the defaults (its tests shrink them). */
  realtime?: Partial<GatewayLimits>;
  /** The edge's Redis timeout and breaker over the defaults (tests of the fallback shorten them). */
  edgeRedis?: Partial<EdgeRedisSettings>;
  /** The automatic read-only watcher's probe periods over the defaults (its tests shorten them). */
  databaseHealth?: Partial<DatabaseHealthSettings>;
  /** Where crisis mode reads countries (default: the shipped database). Benches classify loopback networks as abroad with it. */
  countryLookup?: () => Promise<CountryLookup>;
  /**
   * The classe virtuelle's media engine. None by default until the embedded engine is wired: rooms
   * then refuse to open (`classroom.media_unavailable`). Tests give the fake one (src/media/testing/).
   */
  mediaEngine?: MediaEngine;
  /** Room bounds over the defaults (tests shrink them). */
  classroom?: Partial<RoomLimits>;
  /** The classe virtuelle's relay between nodes over the defaults (tests shorten its waits). */
  classroomRelay?: Partial<RelaySettings>;
  /** Degradation thresholds over the defaults (a browser test on a shared machine keeps the node's own load out of its journey). */
  degradation?: Partial<DegradationSettings>;
  /**
   * Wraps the engagement recorder (only when PREAU_ENGAGEMENT_RECORDING=on) before any feature or
   * the session hook gets it. The suivi bench's child (bench/support/preau-server.ts) switches
   * recording on and off at run time through it, to measure its cost against a baseline in the
   * same process; `preau serve` never passes it.
   */
  engagementSignals?: (recorder: EngagementSignals) => EngagementSignals;
}

/**
 * The classe virtuelle's media engine from the configuration (`PREAU_MEDIA_ENGINE`), made on first
 * need (LazyMediaEngine). Janus rooms' secrets derive from the node's shared secret, so every node
 * (and a restarted one) finds its rooms again.
 */
function configuredMediaEngine(config: Config, secret: string): MediaEngine | undefined {
  if (config.mediaEngine === 'off') return undefined;
  const janus = (): MediaEngine => {
    if (!config.janusUrl) throw new MediaEngineError('unavailable', 'PREAU_MEDIA_ENGINE=janus sans PREAU_JANUS_URL');
    return new JanusMediaEngine({
      url: config.janusUrl, apiSecret: config.janusApiSecret, adminKey: config.janusAdminKey, maxRooms: config.janusMaxRooms,
      roomSecretKey: createHmac('sha256', secret).update('preau:janus-room-secrets').digest('base64url'),
      admin: config.janusAdminUrl && config.janusAdminSecret ? { url: config.janusAdminUrl, secret: config.janusAdminSecret } : undefined,
    });
  };
  return new LazyMediaEngine(config.mediaEngine, () => openMediaEngine(config, { janus })!);
}

/** Reads (or creates once) the secret that derives CSRF tokens; kept in the database so every node agrees. */
async function loadSecret(storage: Storage, configured: string | undefined): Promise<string> {
  if (configured) return configured;
  const row = await storage.db.selectFrom('settings').select('value').where('key', '=', 'secret').executeTakeFirst();
  if (row) return row.value;
  const secret = newSecretToken();
  await storage.db.insertInto('settings').values({ key: 'secret', value: secret }).onConflict((oc) => oc.column('key').doNothing()).execute();
  const stored = await storage.db.selectFrom('settings').select('value').where('key', '=', 'secret').executeTakeFirstOrThrow();
  return stored.value;
}

/** The composition root: picks adapters from the configuration and wires modules together. */
export async function compose(config: Config, overrides: ComposeOverrides = {}): Promise<Preau> {
  const logger = overrides.logger ?? createLogger(config.logLevel);
  const clock = overrides.clock ?? systemClock;
  const metrics = new Metrics();
  const storage = overrides.storage ?? (await openStorage(config.databaseUrl));
  await migrateToLatest(storage.db);
  const secret = await loadSecret(storage, config.secret);

  // Realtime pub/sub: in memory on one node (embedded); through Redis when several nodes share the load.
  const onPubSubError = (err: unknown) => logger.warn({ err }, 'pub/sub temps réel : erreur');
  let pubsub: PubSub;
  if (config.redisUrl) {
    const redis = new RedisPubSub(config.redisUrl, onPubSubError);
    if (!(await redis.connectOrDegrade())) logger.error('Redis injoignable au démarrage : le nœud sert quand même ; les notifications en direct entre nœuds reprendront à son retour (vérifiez PREAU_REDIS_URL)');
    pubsub = redis;
  } else pubsub = new MemoryPubSub(onPubSubError);
  const notifications = new NotificationsService(new NotificationsRepository(storage.db, storage.capabilities), pubsub, clock, logger);

  // Several nodes: failed logins are counted in Redis (for every node), in this node's memory while Redis is away.
  const edgeRedis = config.edge === 'on' && config.redisUrl ? new EdgeRedis(config.redisUrl, config.redisPrefix, { ...DEFAULT_EDGE_REDIS_SETTINGS, ...overrides.edgeRedis }, logger, metrics) : undefined;
  await edgeRedis?.connect();
  const failureStore = edgeRedis ? new FallbackFailureStore(new RedisFailureStore(edgeRedis), new MemoryFailureStore(), () => edgeRedis.usable()) : new MemoryFailureStore();
  const hasher = new PasswordHasher({ concurrency: config.hashConcurrency, maxQueued: config.hashQueueMax, maxWaitMs: config.hashQueueWaitMs }, clock, metrics, config.hashGovernor === 'on' ? DEFAULT_HASH_GOVERNOR : undefined);
  const identityRepo = new IdentityRepository(storage.db);
  const identity = new IdentityService(
    identityRepo,
    hasher,
    new LoginThrottle(failureStore),
    clock,
    { sessionTtlDays: config.sessionTtlDays, shortSessionTtlHours: config.shortSessionTtlHours, secret },
    logger,
  );
  const schools = new SchoolsService(new SchoolsRepository(storage.db), clock);
  const timetable = new TimetableRepository(storage.db, storage.capabilities);
  // Files: content-addressed blobs on the local disk (embedded default) or in the database (PostgreSQL's default).
  const blobs = overrides.blobs ?? openBlobStore(config.blobStore, config.dataDir, storage.db);
  // The suivi du décrochage: signals batched in memory and flushed every few seconds (never a write per request).
  const engagementRepo = new EngagementRepository(storage.db, storage.capabilities);
  const engagementRecorder = config.engagementRecording === 'on' ? new EngagementRecorder(engagementRepo, { ...DEFAULT_RECORDER_SETTINGS, flushIntervalMs: config.engagementFlushMs }, logger, metrics) : undefined;
  const signals = engagementRecorder ? (overrides.engagementSignals?.(engagementRecorder) ?? engagementRecorder) : silentSignals;
  const engagement = new EngagementService(engagementRepo, schools, timetable, clock, notifications);
  const homework = new HomeworkService(new HomeworkRepository(storage.db), schools, clock, notifications, signals);
  const handins = new HandinsService(new HandinsRepository(storage.db), homework, blobs, clock, notifications, signals);
  const news = new NewsService(new NewsRepository(storage.db), clock, notifications);
  const today = new TodayService(schools, timetable, homework, clock, news);
  const timetableService = new TimetableService(timetable, schools, homework, clock, config.publicUrl);
  // PostgreSQL: while no primary takes writes, the node refuses them itself and serves reads (storage/health.ts).
  const databaseHealth = storage.capabilities.backend === 'postgres' ? new DatabaseHealth({ ...DEFAULT_DATABASE_HEALTH_SETTINGS, ...overrides.databaseHealth }, (ms) => storage.writeProbe(ms), logger, metrics) : undefined;
  const automaticReadOnly = databaseHealth ? () => databaseHealth.readOnly() : () => false;
  const status = new StatusService(new StatusRepository(storage.db), clock, automaticReadOnly);
  const idempotency = new IdempotencyRepository(storage.db);
  const messaging = new MessagingService(new MessagingRepository(storage.db, storage.capabilities), schools, clock, notifications, signals);
  const liaison = new LiaisonService(new LiaisonRepository(storage.db, storage.capabilities), schools, clock, notifications, signals);
  // Resumable uploads keep their accepted chunks in the blob store: any node takes the next one.
  const documents = new DocumentsService(new DocumentsRepository(storage.db), blobs, clock);

  const https = config.publicUrl.startsWith('https:');
  const refusals = new Refusals(https);
  const guards =
    config.edge === 'on'
      ? new SocketGuards(
          { ...DEFAULT_SOCKET_LIMITS, requestTimeoutMs: config.requestTimeoutMs, maxConnectionsPerAddress: config.maxConnectionsPerAddress, maxConnections: config.maxConnections },
          refusals,
          metrics,
        )
      : undefined;
  const app = createHttpApp(
    logger,
    https,
    { defaultMaxBodyBytes: 16 * 1024, requestTimeoutMs: config.requestTimeoutMs, headersTimeoutMs: 10_000, keepAliveTimeoutMs: 5_000 },
    guards?.createServer,
  );
  // The client's address behind the load balancer: only from the configured proxies (see edge/client-address.ts).
  const clientAddresses = new ClientAddresses({ trustedProxies: config.trustedProxies, source: config.clientAddressFrom, proxyHeaderTimeoutMs: DEFAULT_PROXY_HEADER_TIMEOUT_MS }, metrics);
  clientAddresses.install(app.server);
  if (guards && clientAddresses.perRequest) guards.exemptFromAddressCap = clientAddresses.isTrustedProxy;
  const auth = new HttpAuth({ identity, publicUrl: config.publicUrl, ...(engagementRecorder ? { onAuthenticated: (personId: string) => signals.seen(personId, clock.nowMs()) } : {}) });
  const edgeOn = config.edge === 'on';
  const admission = edgeOn ? new Admission({ ...DEFAULT_ADMISSION_SETTINGS, ...overrides.admission }, refusals, metrics) : undefined;
  // Several nodes: the edge's state is shared through Redis (edgeRedis, above), each store falling back to this node's own when Redis is away.
  const syncedStores: SyncedBucketStore[] = [];
  const bucketStore = (scope: string): BucketStore => {
    if (!edgeRedis) return new MemoryBucketStore();
    const store = new SyncedBucketStore(new RedisSharedBuckets(edgeRedis, scope), () => edgeRedis.usable(), DEFAULT_SYNC_SETTINGS, () => clock.nowMs());
    syncedStores.push(store);
    return store;
  };
  const rateLimiter = edgeOn ? new RateLimiter({ ...DEFAULT_RATE_LIMITS, ...overrides.rateLimits }, bucketStore, refusals, auth, metrics, () => clock.nowMs()) : undefined;
  if (guards && rateLimiter) guards.refuseBeforeRouting = rateLimiter.refuseBeforeRouting;
  const controls = new EdgeControls(logger, overrides.countryLookup);
  // About a quarter of a second of hashing may be queued before new visitors get tickets.
  const roomSettings: WaitingRoomSettings = { ...DEFAULT_WAITING_ROOM_SETTINGS, maxLoginsInFlight: config.hashConcurrency * 16, ...overrides.waitingRoom };
  const waitingRoom = edgeOn
    ? new WaitingRoom(
        roomSettings,
        ticketKey(secret),
        hasher,
        createLaneResolver({
          findPerson: async (login) => {
            const p = await identityRepo.findPersonByLogin(normaliseLogin(login));
            return p && p.status !== 'departed' ? { id: p.id, profile: p.profile, schoolId: p.school_id } : undefined;
          },
          hasLesson: async (person, fromMs, toMs) => {
            if (person.profile === 'eleve') {
              const scope = await schools.scopeOf(person.id);
              return (await timetable.slots({ classIds: [...scope.classIds], groupIds: [...scope.groupIds] }, fromMs, toMs)).length > 0;
            }
            return (await timetable.slots({ teacherId: person.id }, fromMs, toMs)).length > 0;
          },
        }),
        () => clock.nowMs(),
        metrics,
        https,
        controls.isAbroad,
        // Several nodes: one line for all (order and admission rate across nodes), each node's own while Redis is away.
        edgeRedis && { line: new RedisRoomLine(edgeRedis, roomSettings), usable: () => edgeRedis.usable() },
      )
    : undefined;
  const challenge =
    waitingRoom &&
    new ChallengeGate(
      { ...DEFAULT_CHALLENGE_SETTINGS, ...overrides.challenge },
      deriveKey(secret, 'challenge'),
      deriveKey(secret, 'device-mark'),
      { loginUnderPressure: () => waitingRoom.waiting() > 0, challengeFirst: controls.isAbroad },
      () => clock.nowMs(),
      metrics,
      (name, value, maxAgeS) => app.serializeCookie(name, value, { path: '/', httpOnly: true, sameSite: 'lax', secure: https, maxAge: maxAgeS }),
      new StuffingDetector(DEFAULT_STUFFING_SETTINGS, edgeRedis && { counters: new RedisStuffingCounters(edgeRedis), usable: () => edgeRedis.usable(), refreshMs: 1_000, staleMs: 5_000 }),
      edgeRedis && { ids: new RedisSpentIds(edgeRedis, 'challenge'), usable: () => edgeRedis.usable() },
    );
  // The edge wraps every route registered after it: installed before any route.
  installEdge(app, { admission, rateLimiter, waitingRoom, challenge });
  auth.install(app);
  installIdempotency(app, { repo: idempotency, clock, logger, lease: { leaseMs: config.idempotencyLeaseMs, renewEveryMs: config.idempotencyRenewMs } });
  installUploads(app);
  installReadOnly(app, async () => (await status.current()).readOnly, automaticReadOnly);
  if (databaseHealth) app.addHook('onError', (_request, _reply, err, done) => {
    databaseHealth.observe(err);
    done();
  });
  // WebSocket upgrades go through the same pipeline as requests (edge, session, Origin).
  installUpgrades(app);
  const realtime = new RealtimeGateway({ ...DEFAULT_GATEWAY_LIMITS, ...overrides.realtime }, pubsub, metrics, logger, Date.now, edgeRedis ? { store: new RedisPresence(edgeRedis), nodeId: edgeRedis.nodeId } : undefined);

  // La classe virtuelle: rooms live in this node's memory (the node that opened them), signalling over the gateway.
  // The media engine is the configured one (embedded SFU, Janus, or none), made when this node first hosts a room.
  const ownMediaEngine = overrides.mediaEngine ? undefined : configuredMediaEngine(config, secret);
  // A node's id for the rooms it hosts: stable across a restart on the same host and port (it takes its rooms back).
  const classroomNode = `${hostname()}:${config.port}`;
  // Several nodes: a socket's room may live on another node; the relay carries its messages there and the answers back.
  const classroomRelay = config.redisUrl
    ? new RoomRelay(pubsub, config.redisPrefix, classroomNode, RoomRelay.keyFrom(secret), realtime, logger, { ...DEFAULT_RELAY_SETTINGS, ...overrides.classroomRelay })
    : undefined;
  const classroomRuntime = new ClassroomRuntime(
    overrides.mediaEngine ?? ownMediaEngine,
    (connectionId, message) => (classroomRelay ? classroomRelay.send(connectionId, message) : realtime.sendToConnection(connectionId, message)),
    { ...DEFAULT_ROOM_LIMITS, maxParticipants: config.classroomMaxParticipantsPerRoom, ...overrides.classroom },
    { ...DEFAULT_DEGRADATION_SETTINGS, ...overrides.degradation },
    { maxRoomsPerNode: config.classroomMaxRoomsPerNode, maxParticipantsPerNode: config.classroomMaxParticipantsPerNode, maxParticipantsPerSchool: config.classroomMaxParticipantsPerSchool },
    clock,
    logger,
    // The service is built just below; the runtime calls these only once rooms are live.
    {
      onAttendance: (...a) => classroom.onAttendance(...a),
      onClosed: (...a) => classroom.onClosed(...a),
      // TURN for school networks that block UDP: credentials minted per participant, valid a few hours.
      iceServers: (personId) => iceServersFor(config.turnSecret ? { urls: config.turnUrls, secret: config.turnSecret, ttlSeconds: config.turnTtlSeconds } : undefined, personId, clock.nowMs()),
    },
    // Per-school participants counted across nodes (entries live three ticks), each node's own while Redis is away.
    edgeRedis ? new RedisSchoolCounts(edgeRedis, classroomNode, 3 * RUNTIME_TICK_MS) : undefined,
  );
  const classroom = new ClassroomService(
    new ClassroomRepository(storage.db), schools, timetable, classroomRuntime, clock, logger, { maxRoomsPerSchool: config.classroomMaxRoomsPerSchool },
    classroomNode, engagement, classroomRelay,
  );
  registerClassroomSignalling(realtime, classroom, classroomRuntime, classroomRelay);

  let draining = false;
  let closing: Promise<void> | undefined;
  const healthDetails = edgeRedis || databaseHealth ? () => ({ ...(edgeRedis ? { redis: edgeRedis.health() } : {}), ...databaseHealth?.details() }) : undefined;
  registerHealthRoutes(app, { ping: () => storage.ping(), isDraining: () => draining, metrics, ...(healthDetails ? { details: healthDetails } : {}) });
  registerIdentityRoutes(app, { identity, auth });
  registerSchoolsRoutes(app, { schools, identity, auth, publicUrl: config.publicUrl });
  registerTodayRoutes(app, {
    today, schools, auth,
    personal: {
      unreadMessages: (s) => messaging.unreadCount(s), liaisonsToSign: (s) => liaison.toSignCount(s), newsAcknowledged: (s) => news.acknowledgedCurrent(s),
      unreadNotifications: (s) => notifications.unreadCount(s),
    },
  });
  registerStatusRoutes(app, { status, auth });
  registerTimetableRoutes(app, { timetable: timetableService, schools, auth });
  registerHomeworkRoutes(app, { homework, schools, auth, blobs, clock });
  registerHandinsRoutes(app, { handins, schools, auth, blobs, publicUrl: config.publicUrl });
  registerMessagingRoutes(app, { messaging, schools, auth, blobs });
  registerLiaisonRoutes(app, { liaison, schools, auth });
  registerDocumentsRoutes(app, { documents, schools, auth, blobs });
  registerNewsRoutes(app, { news, schools, auth, blobs });
  registerNotificationsRoutes(app, { notifications, schools, auth });
  registerEngagementRoutes(app, { engagement, schools, auth });
  registerClassroomRoutes(app, { classroom, runtime: classroomRuntime, schools, auth });
  registerRealtimeRoutes(app, { gateway: realtime, auth });
  if (waitingRoom) registerWaitingRoomRoutes(app, waitingRoom);
  // Several nodes: the operator's switches set on one node are followed by all (within 2 s).
  const switches = challenge && edgeRedis ? new SharedSwitches(edgeRedis, controls, challenge, logger) : undefined;
  if (challenge) registerOperatorRoutes(app, { auth, controls, challenge, metrics, status, switches });
  // The web client's SPA fallback comes last: every API and page route above takes precedence.
  const web = WebDist.load(config.webDir);
  if (web) registerWebRoutes(app, web);
  else logger.warn({ webDir: config.webDir }, 'client web absent (npm run build le construit) : seule l’API est servie');
  await app.ready();
  realtime.start();
  hasher.start();
  classroomRuntime.start();
  engagementRecorder?.start();
  switches?.start();
  databaseHealth?.start();

  return {
    config, app, storage, logger, clock, metrics, hasher, identity, schools, timetable, status, idempotency, web, homework, handins, blobs, messaging, liaison, news, documents, notifications, realtime, pubsub, engagement, engagementRecorder, edgeRedis, classroom, classroomRelay, classroomRuntime, databaseHealth,
    edge: guards && admission && rateLimiter && waitingRoom && challenge ? { guards, admission, rateLimiter, waitingRoom, challenge, controls, switches } : undefined,
    close() {
      closing ??= stop();
      return closing;
    },
  };

  async function stop(): Promise<void> {
    draining = true;
    if (config.drainDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, config.drainDelayMs));
    // Live classes end on this node (attendance written; their teachers open them again on another node), then
    // live clients are told "service restart" with a jittered delay (they come back through the load balancer to another node).
    await classroomRuntime.close();
    await classroom.flush();
    // After the rooms' last events (`closed`) went out to sockets on other nodes.
    classroomRelay?.close();
    await ownMediaEngine?.close().catch((err: unknown) => logger.warn({ err }, 'moteur média : arrêt en erreur'));
    await realtime.close();
    // Fastify stops accepting, closes idle keep-alive connections, answers 503 to requests arriving
    // on busy ones, and waits for in-flight requests — for the grace period, then their connections are cut.
    const cut = setTimeout(() => app.server.closeAllConnections(), config.shutdownGraceMs);
    try {
      await app.close();
    } finally {
      clearTimeout(cut);
    }
    // After the last request: what the suivi buffered is written before the database closes.
    await engagementRecorder?.stop();
    hasher.stop();
    await pubsub.close();
    for (const store of syncedStores) store.stop();
    switches?.stop();
    databaseHealth?.stop();
    await edgeRedis?.close();
    if (!overrides.storage) await storage.close();
  }
}
