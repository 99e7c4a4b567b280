/**
 * What every Préau run as a pinned child shares (the benches' preau-server.ts, the drill's
 * drill-server.ts): a production-like configuration on a file database in a given directory, and
 * the life cycle — listen on 127.0.0.1, print `{"type":"ready",…}`, close cleanly on SIGTERM (so
 * that `--cpu-prof` profiles are written), then clean up.
 */
import path from 'node:path';
import type { Preau } from '../../src/compose.js';
import { defaultConfig, type Config } from '../../src/config/config.js';
import { emit, type ReadyMessage } from './protocol.js';

/** SQLite file (WAL) and blobs under `dir`, loopback only, silent logs, no demo school. */
export function childConfig(dir: string): Config {
  return {
    ...defaultConfig(),
    host: '127.0.0.1',
    port: 0,
    dataDir: dir,
    databaseUrl: `sqlite:${path.join(dir, 'preau.sqlite')}`,
    publicUrl: 'http://127.0.0.1',
    // PREAU_BENCH_LOG_LEVEL=error shows what a bench's child logs (a 500 in a mix, say).
    logLevel: (process.env.PREAU_BENCH_LOG_LEVEL as Config['logLevel'] | undefined) ?? 'silent',
    // PREAU_HASH_GOVERNOR=off plays a bench or drill without the hashing governor (its A/B comparison).
    hashGovernor: process.env.PREAU_HASH_GOVERNOR === 'off' ? 'off' : 'on',
    demo: 'off',
  };
}

export async function serveChild(preau: Preau, ready: Omit<ReadyMessage, 'type' | 'port'> = {}, cleanup: () => void | Promise<void> = () => undefined, port = 0, host = '127.0.0.1'): Promise<void> {
  await preau.app.listen({ host, port });
  const address = preau.app.server.address();
  if (!address || typeof address !== 'object') throw new Error('adresse d’écoute inconnue');
  emit({ type: 'ready', port: address.port, ...ready });
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    preau
      .close()
      .catch((err: unknown) => console.error('arrêt du serveur enfant en erreur', err))
      .then(() => cleanup())
      .catch((err: unknown) => console.error('nettoyage du serveur enfant en erreur', err))
      .finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
