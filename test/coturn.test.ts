import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { turnCredentials } from '../src/media/turn.js';
import { coturnAvailable, startOwnCoturn, type OwnCoturn } from './support/coturn.js';
import { TurnTestClient } from './support/turn-client.js';

/**
 * deploy/coturn/turnserver.conf run by Debian's coturn (test ports: 4478 plain, 4443 TLS; relays on
 * UDP 4450–4469), with credentials minted by src/media/turn.ts: an allocation over UDP and over TLS,
 * wrong and expired credentials refused (401), no relaying into private networks (403).
 */
const available = coturnAvailable();

describe.skipIf(!available)('coturn avec la configuration livrée et les identifiants de Préau', () => {
  let turn: OwnCoturn;
  const clients: TurnTestClient[] = [];
  const client = async (username: string, password: string, overTls = false) => {
    const c = await TurnTestClient.connect({ host: turn.host, port: overTls ? turn.tlsPort : turn.port, ...(overTls ? { tls: { ca: turn.certificate } } : {}), username, password });
    clients.push(c);
    return c;
  };
  const minted = (personId: string, nowMs = Date.now(), ttlSeconds = 3_600) => turnCredentials({ urls: [], secret: turn.secret, ttlSeconds }, personId, nowMs);

  beforeAll(async () => {
    turn = await startOwnCoturn({ port: 4478, tlsPort: 4443, relayMinPort: 4450, relayMaxPort: 4469 });
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await turn?.stop();
  });

  it('des identifiants frais obtiennent une allocation, en UDP et en TLS', async () => {
    for (const overTls of [false, true]) {
      const { username, credential } = minted('eleve-1');
      const c = await client(username, credential, overTls);
      const answer = await c.allocate();
      expect(answer, turn.log().slice(-2000)).toMatchObject({ ok: true });
      expect(answer.relayed?.address).toBe('127.0.0.1');
      expect(answer.relayed!.port).toBeGreaterThanOrEqual(4450);
      expect(answer.relayed!.port).toBeLessThanOrEqual(4469);
      expect(await c.release()).toMatchObject({ ok: true });
    }
  });

  it('un mauvais mot de passe, un identifiant expiré ou signé d’un autre secret : 401', async () => {
    const good = minted('eleve-2');
    expect(await (await client(good.username, `${good.credential.slice(0, -4)}AAA=`)).allocate()).toMatchObject({ ok: false, errorCode: 401 });
    const expired = minted('eleve-2', Date.now() - 2 * 3_600_000);
    expect(await (await client(expired.username, expired.credential)).allocate()).toMatchObject({ ok: false, errorCode: 401 });
    const other = turnCredentials({ urls: [], secret: 'un-autre-secret-de-plus-de-32-caracteres', ttlSeconds: 3_600 }, 'eleve-2', Date.now());
    expect(await (await client(other.username, other.credential, true)).allocate()).toMatchObject({ ok: false, errorCode: 401 });
  });

  it('pas de relais vers les réseaux privés, la boucle locale ou le multicast (403)', async () => {
    const { username, credential } = minted('eleve-3');
    const c = await client(username, credential);
    expect(await c.allocate()).toMatchObject({ ok: true });
    for (const peer of ['10.1.2.3', '192.168.1.10', '172.16.0.1', '127.0.0.1', '169.254.169.254', '224.0.0.1']) {
      expect(await c.createPermission(peer), peer).toMatchObject({ ok: false, errorCode: 403 });
    }
    // A public address is allowed (no packet is sent to it: a permission only).
    expect(await c.createPermission('8.8.8.8')).toMatchObject({ ok: true });
    await c.release();
  });
});
