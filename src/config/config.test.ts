import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('has working defaults: embedded SQLite under ./data', () => {
    const c = loadConfig({}, []);
    expect(c.databaseUrl).toBe('sqlite:data/preau.sqlite');
    expect(c.port).toBe(3000);
    expect(c.sessionTtlDays).toBe(30);
    expect(c.publicUrl).toBe('http://127.0.0.1:3000');
  });

  it('reads environment variables, and flags win over them', () => {
    const c = loadConfig({ PREAU_PORT: '8080', DATABASE_URL: 'postgres://u@h/db' }, ['--port', '9090', '--data-dir=/srv/preau']);
    expect(c.port).toBe(9090);
    expect(c.databaseUrl).toBe('postgres://u@h/db');
    expect(c.dataDir).toBe('/srv/preau');
  });

  it('refuses to start with every problem listed, each saying how to fix it', () => {
    let error: ConfigError | undefined;
    try {
      loadConfig({ PREAU_PORT: 'abc', DATABASE_URL: 'mysql://x' }, ['--nope', '1', '--log-level', 'loud']);
    } catch (e) {
      error = e as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error!.problems).toHaveLength(4);
    expect(error!.message).toContain('la variable PREAU_PORT vaut « abc » ; attendu : un entier entre 0 et 65535');
    expect(error!.message).toContain('option inconnue --nope');
    expect(error!.message).toContain('DATABASE_URL');
    expect(error!.message).toContain('l’option --log-level vaut « loud »');
  });

  it('refuses a too-short secret and an https URL with a path', () => {
    expect(() => loadConfig({ PREAU_SECRET: 'short' }, [])).toThrow(/au moins 32 caractères/);
    expect(() => loadConfig({ PREAU_PUBLIC_URL: 'https://ent.example/app' }, [])).toThrow(/PREAU_PUBLIC_URL/);
    expect(loadConfig({ PREAU_PUBLIC_URL: 'https://ent.example' }, []).publicUrl).toBe('https://ent.example');
  });

  it('trusts no proxy by default; takes a CIDR list, refuses a bad one, and drains before closing behind one', () => {
    const alone = loadConfig({}, []);
    expect(alone.trustedProxies).toEqual([]);
    expect(alone.drainDelayMs).toBe(0);
    expect(alone.shutdownGraceMs).toBe(25_000);
    const behind = loadConfig({ PREAU_TRUSTED_PROXIES: '10.0.0.0/8, 127.0.0.1,::1,2001:db8::/32' }, ['--client-address-from', 'forwarded']);
    expect(behind.trustedProxies).toEqual(['10.0.0.0/8', '127.0.0.1', '::1', '2001:db8::/32']);
    expect(behind.clientAddressFrom).toBe('forwarded');
    expect(behind.drainDelayMs).toBe(3_000);
    for (const bad of ['10.0.0.0/33', 'proxy.example', '10.0.0.1/8/8', ',', '::1/129', '10.0.0.0/-1']) {
      expect(() => loadConfig({ PREAU_TRUSTED_PROXIES: bad }, []), bad).toThrow(/PREAU_TRUSTED_PROXIES/);
    }
    expect(() => loadConfig({ PREAU_CLIENT_ADDRESS_FROM: 'x-real-ip' }, [])).toThrow(/proxy-protocol, x-forwarded-for ou forwarded/);
  });

  it('keeps files on disk alone, in the database with PostgreSQL, as told otherwise', () => {
    expect(loadConfig({}, []).blobStore).toBe('disk');
    expect(loadConfig({ DATABASE_URL: 'postgres://u@h/db' }, []).blobStore).toBe('database');
    expect(loadConfig({ DATABASE_URL: 'postgres://u@h/db', PREAU_BLOB_STORE: 'disk' }, []).blobStore).toBe('disk');
    expect(loadConfig({}, ['--blob-store', 'database']).blobStore).toBe('database');
    expect(() => loadConfig({ PREAU_BLOB_STORE: 's3' }, [])).toThrow(/disk ou database/);
  });

  it('TURN: URLs and secret together, each validated; refuses to boot otherwise', () => {
    const secret = 'x'.repeat(32);
    const c = loadConfig({ PREAU_TURN_URLS: 'turn:turn.ent.example:3478, turns:turn.ent.example:443?transport=tcp', PREAU_TURN_SECRET: secret }, []);
    expect(c.turnUrls).toEqual(['turn:turn.ent.example:3478', 'turns:turn.ent.example:443?transport=tcp']);
    expect(c.turnTtlSeconds).toBe(6 * 3600);
    expect(loadConfig({}, []).turnUrls).toEqual([]);
    expect(() => loadConfig({ PREAU_TURN_URLS: 'http://turn.ent.example', PREAU_TURN_SECRET: secret }, [])).toThrow(/PREAU_TURN_URLS/);
    expect(() => loadConfig({ PREAU_TURN_URLS: 'turns:turn.ent.example:443?transport=udp', PREAU_TURN_SECRET: secret }, [])).toThrow(/PREAU_TURN_URLS/);
    expect(() => loadConfig({ PREAU_TURN_URLS: 'turn:turn.ent.example:99999', PREAU_TURN_SECRET: secret }, [])).toThrow(/PREAU_TURN_URLS/);
    expect(() => loadConfig({ PREAU_TURN_URLS: 'turn:turn.ent.example', PREAU_TURN_SECRET: 'court' }, [])).toThrow(/PREAU_TURN_SECRET vaut « court » ; attendu : au moins 32/);
    expect(() => loadConfig({ PREAU_TURN_URLS: 'turn:turn.ent.example' }, [])).toThrow(/sans PREAU_TURN_SECRET/);
    expect(() => loadConfig({ PREAU_TURN_SECRET: secret }, [])).toThrow(/sans PREAU_TURN_URLS/);
    expect(() => loadConfig({ PREAU_TURN_URLS: 'turn:a', PREAU_TURN_SECRET: secret, PREAU_TURN_TTL_SECONDS: '60' }, [])).toThrow(/PREAU_TURN_TTL_SECONDS/);
  });

  it('Janus: a ws:// or wss:// URL', () => {
    expect(loadConfig({ PREAU_JANUS_URL: 'ws://10.0.0.5:8188' }, []).janusUrl).toBe('ws://10.0.0.5:8188');
    expect(() => loadConfig({ PREAU_JANUS_URL: 'http://10.0.0.5:8088/janus' }, [])).toThrow(/PREAU_JANUS_URL/);
    expect(() => loadConfig({ PREAU_JANUS_ADMIN_URL: 'ws://10.0.0.5:7188' }, [])).toThrow(/vont ensemble/);
    expect(loadConfig({ PREAU_JANUS_ADMIN_URL: 'ws://10.0.0.5:7188', PREAU_JANUS_ADMIN_SECRET: 's3cret' }, []).janusAdminSecret).toBe('s3cret');
  });

  it('idempotency claims: a 15 s lease renewed every 5 s; bounds, and a renewal at most half the lease', () => {
    const d = loadConfig({}, []);
    expect([d.idempotencyLeaseMs, d.idempotencyRenewMs]).toEqual([15_000, 5_000]);
    expect(loadConfig({ PREAU_IDEMPOTENCY_LEASE_MS: '30000', PREAU_IDEMPOTENCY_RENEW_MS: '10000' }, []).idempotencyLeaseMs).toBe(30_000);
    expect(() => loadConfig({ PREAU_IDEMPOTENCY_LEASE_MS: '1000' }, [])).toThrow(/PREAU_IDEMPOTENCY_LEASE_MS/);
    expect(() => loadConfig({ PREAU_IDEMPOTENCY_RENEW_MS: '8000' }, [])).toThrow(/au plus la moitié/);
  });

  it('runs the embedded media engine by default on ports 42000-42999, and takes janus, off, a worker count and a port range', () => {
    const c = loadConfig({}, []);
    expect(c.mediaEngine).toBe('embedded');
    expect(c.mediaWorkers).toBe(0);
    expect(c.mediaIcePorts).toEqual([42_000, 42_999]);
    const d = loadConfig({ PREAU_MEDIA_ENGINE: 'off', PREAU_MEDIA_WORKERS: '3' }, ['--media-ice-ports', '50000-50999']);
    expect([d.mediaEngine, d.mediaWorkers, d.mediaIcePorts]).toEqual(['off', 3, [50_000, 50_999]]);
    expect(() => loadConfig({ PREAU_MEDIA_ENGINE: 'mediasoup' }, [])).toThrow(/embedded, janus ou off/);
    expect(() => loadConfig({ PREAU_MEDIA_ICE_PORTS: '42000-42010' }, [])).toThrow(/premier-dernier/);
    expect(() => loadConfig({ PREAU_MEDIA_WORKERS: '99' }, [])).toThrow(/PREAU_MEDIA_WORKERS/);
    // A Janus given is the engine meant, unless one is named; Janus named needs its address.
    expect(loadConfig({ PREAU_JANUS_URL: 'ws://10.0.0.5:8188' }, []).mediaEngine).toBe('janus');
    expect(loadConfig({ PREAU_JANUS_URL: 'ws://10.0.0.5:8188', PREAU_MEDIA_ENGINE: 'embedded' }, []).mediaEngine).toBe('embedded');
    expect(() => loadConfig({ PREAU_MEDIA_ENGINE: 'janus' }, [])).toThrow(/PREAU_MEDIA_ENGINE=janus demande PREAU_JANUS_URL/);
  });
});
