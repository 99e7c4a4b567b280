import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { iceServersFor, parseTurnUrl, parseTurnUrls, turnCredentials, turnUserOf } from './turn.js';

const config = { urls: ['turns:turn.ent.example:443?transport=tcp'], secret: 's'.repeat(40), ttlSeconds: 3_600 };

describe('identifiants TURN (schéma « TURN REST API » de coturn)', () => {
  it('username = expiration:pseudonyme, mot de passe = base64(HMAC-SHA1(secret, username))', () => {
    const now = Date.UTC(2026, 0, 5, 7, 55);
    const { username, credential, expiresAtMs } = turnCredentials(config, 'personne-42', now);
    const [expiry, user] = username.split(':');
    expect(Number(expiry)).toBe(now / 1000 + 3_600);
    expect(expiresAtMs).toBe(now + 3_600_000);
    expect(user).toMatch(/^p[A-Za-z0-9_-]{16}$/);
    expect(credential).toBe(createHmac('sha1', config.secret).update(username).digest('base64'));
  });

  it('le pseudonyme est stable pour une personne, différent d’une autre, et ne contient pas son identifiant', () => {
    expect(turnUserOf(config.secret, 'personne-42')).toBe(turnUserOf(config.secret, 'personne-42'));
    expect(turnUserOf(config.secret, 'personne-42')).not.toBe(turnUserOf(config.secret, 'personne-43'));
    expect(turnUserOf(config.secret, 'personne-42')).not.toContain('42');
    expect(turnUserOf('autre'.repeat(8), 'personne-42')).not.toBe(turnUserOf(config.secret, 'personne-42'));
  });

  it('RTCIceServer[] pour le navigateur ; aucun serveur sans configuration TURN', () => {
    const servers = iceServersFor(config, 'p', 0);
    expect(servers).toHaveLength(1);
    expect(servers[0]!.urls).toEqual(config.urls);
    expect(servers[0]!.username).toMatch(/^3600:p/);
    expect(iceServersFor(undefined, 'p', 0)).toEqual([]);
  });
});

describe('URL TURN (RFC 7065)', () => {
  it('accepte turn:/turns: avec hôte, port et transport', () => {
    for (const ok of ['turn:turn.ent.example', 'turn:10.0.0.1:3478?transport=udp', 'turn:[2001:db8::1]:3478', 'turns:turn.ent.example:443?transport=tcp']) expect(parseTurnUrl(ok)).toBe(ok);
  });
  it('refuse le reste', () => {
    for (const bad of ['http://turn.ent.example', 'stun:turn.ent.example', 'turn:', 'turn:h:0', 'turn:h:70000', 'turns:h:443?transport=udp', 'turn:h?transport=sctp', 'turn:bad..host', 'turn:user@h', 'turn:h/chemin']) {
      expect(parseTurnUrl(bad), bad).toBeUndefined();
    }
    expect(parseTurnUrls('')).toBeUndefined();
    expect(parseTurnUrls('turn:a,http://b')).toBeUndefined();
    expect(parseTurnUrls(Array.from({ length: 9 }, (_, i) => `turn:h${i}`).join(','))).toBeUndefined();
  });
});
