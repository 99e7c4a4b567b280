import { compose, type ComposeOverrides, type Preau } from '../../src/compose.js';
import { defaultConfig, type Config } from '../../src/config/config.js';
import { ManualClock, parisWallTimeToUtcMs } from '../../src/platform/clock.js';
import { createLogger } from '../../src/platform/logger.js';
import { freshStorage, type TestStorage } from './backends.js';
import { seedFixture, type Fixture } from './fixtures.js';

/**
 * A real Préau listening on 127.0.0.1 (port chosen by the system), serving the built web client
 * (web/dist) and the API over the fixture school, for browser tests. It can be stopped and started
 * again on the same port over the same database: the browser sees the server go away and come back.
 */
export interface ServedPreau {
  origin: string;
  fx: Fixture;
  clock: ManualClock;
  current(): Preau;
  readonly running: boolean;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
  /** Requests that reached the server (method, path, Idempotency-Key), in order. */
  requests: { method: string; path: string; idempotencyKey: string | undefined }[];
}

/** `overrides`: parts given to compose (the classe virtuelle's media engine and degradation thresholds, admission settings). */
export async function startServedPreau(configOverrides: Partial<Config> = {}, overrides: Pick<ComposeOverrides, 'mediaEngine' | 'admission' | 'degradation'> = {}): Promise<ServedPreau> {
  const storage: TestStorage = await freshStorage('sqlite');
  // A school Monday at 7:45 in Paris: "today" has lessons.
  const clock = new ManualClock(parisWallTimeToUtcMs('2026-09-07', 7, 45));
  const requests: ServedPreau['requests'] = [];
  let port = 0;
  let preau: Preau | undefined;
  const config = (): Config => ({ ...defaultConfig(), host: '127.0.0.1', port, publicUrl: `http://127.0.0.1:${port}`, logLevel: 'silent', demo: 'off', hashConcurrency: 1, ...configOverrides });

  const start = async () => {
    // The lag-driven shedder off unless a suite asks for it: a browser journey on a loaded CI machine
    // must not meet a 503 it did not arrange (the shedder has its own tests, src/edge/admission/).
    preau = await compose(config(), { ...overrides, admission: { lagSampleMs: 0, ...overrides.admission }, storage: storage.storage, clock, logger: createLogger('silent') });
    // Observes requests without touching Fastify's handling (a second listener on the raw server).
    preau.app.server.on('request', (req) => {
      const key = req.headers['idempotency-key'];
      requests.push({ method: req.method ?? '', path: (req.url ?? '').split('?')[0]!, idempotencyKey: typeof key === 'string' ? key : undefined });
    });
    await preau.app.listen({ host: '127.0.0.1', port });
    const address = preau.app.server.address();
    if (!address || typeof address !== 'object') throw new Error('adresse d’écoute inconnue');
    port = address.port;
  };

  await start();
  const fx = await seedFixture(storage.storage.db, clock);
  if (!preau!.web) throw new Error('web/dist est absent : le client web doit être construit avant les tests navigateur (globalSetup).');
  const served: ServedPreau = {
    get origin() {
      return `http://127.0.0.1:${port}`;
    },
    fx,
    clock,
    requests,
    current: () => preau!,
    get running() {
      return preau !== undefined;
    },
    async stop() {
      const p = preau;
      preau = undefined;
      // Keep-alive connections would otherwise keep the "stopped" server answering.
      p?.app.server.closeAllConnections();
      await p?.close();
    },
    start,
    async close() {
      await served.stop();
      await storage.drop();
    },
  };
  return served;
}
