import { createHmac } from 'node:crypto';

/**
 * Time-limited TURN credentials minted by Préau for a signed-in participant, in the "TURN REST API"
 * scheme that coturn checks with `use-auth-secret` + `static-auth-secret` (deploy/coturn/turnserver.conf):
 * - username = `<expiry, Unix seconds>:<user>`; coturn refuses it once the expiry has passed;
 * - password = base64(HMAC-SHA1(shared secret, username)).
 * Préau and coturn share only the secret: no user database on the TURN server, nothing to sync.
 *
 * `<user>` is not the person's id but a keyed hash of it (`p` + 16 base64url characters): the TURN
 * server's logs and quotas (`user-quota`) see a stable pseudonym per person, never who it is
 * (pupils are minors; their ids are not sent to another service).
 *
 * Fails closed: without TURN configured, `iceServersFor` returns no server (clients still connect
 * directly where UDP passes; behind a school firewall that blocks UDP, they do not).
 */

export interface TurnConfig {
  /** `turn:` / `turns:` URLs (RFC 7065), the TLS one on port 443 for networks that only let HTTPS out. */
  urls: readonly string[];
  /** coturn's `static-auth-secret` (at least TURN_SECRET_MIN_CHARS characters). */
  secret: string;
  /** How long minted credentials stay valid: longer than a class, since refreshing an allocation re-authenticates with them. */
  ttlSeconds: number;
}

/** What a browser's RTCPeerConnection takes (`RTCIceServer`), also what werift takes. */
export interface IceServer {
  urls: string[];
  username: string;
  credential: string;
}

export const TURN_SECRET_MIN_CHARS = 32;
export const TURN_TTL_MIN_SECONDS = 300;
export const TURN_TTL_MAX_SECONDS = 86_400;
export const TURN_TTL_DEFAULT_SECONDS = 6 * 3_600;
/** URLs accepted in PREAU_TURN_URLS at most. */
export const TURN_URLS_MAX = 8;

/**
 * One `turn:`/`turns:` URL per RFC 7065: host (name, IPv4 or [IPv6]), optional port, optional
 * `?transport=udp|tcp` (`turns` is TLS over TCP: udp makes no sense there). Undefined when not one.
 */
export function parseTurnUrl(raw: string): string | undefined {
  const m = /^(turns?):(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]{1,253})(?::(\d{1,5}))?(?:\?transport=(udp|tcp))?$/.exec(raw.trim());
  if (!m) return undefined;
  const [, scheme, host, port, transport] = m;
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65_535)) return undefined;
  if (scheme === 'turns' && transport === 'udp') return undefined;
  if (host!.startsWith('.') || host!.endsWith('.') || host!.includes('..')) return undefined;
  return raw.trim();
}

/** Comma-separated TURN URLs, each valid; undefined when any is not, or when there are none or too many. */
export function parseTurnUrls(raw: string): string[] | undefined {
  const entries = raw.split(',').map((e) => e.trim()).filter((e) => e.length > 0);
  if (entries.length === 0 || entries.length > TURN_URLS_MAX) return undefined;
  const parsed = entries.map(parseTurnUrl);
  return parsed.every((u): u is string => u !== undefined) ? parsed : undefined;
}

/** The stable pseudonym of a person on the TURN server (keyed: not reversible without the secret). */
export function turnUserOf(secret: string, personId: string): string {
  return `p${createHmac('sha256', secret).update(`preau-turn-user:${personId}`).digest('base64url').slice(0, 16)}`;
}

export function turnCredentials(config: TurnConfig, personId: string, nowMs: number): { username: string; credential: string; expiresAtMs: number } {
  const expiry = Math.floor(nowMs / 1000) + config.ttlSeconds;
  const username = `${expiry}:${turnUserOf(config.secret, personId)}`;
  const credential = createHmac('sha1', config.secret).update(username).digest('base64');
  return { username, credential, expiresAtMs: expiry * 1000 };
}

/** The ICE servers to give this participant's browser (room logic sends them with the room's signals). */
export function iceServersFor(config: TurnConfig | undefined, personId: string, nowMs: number): IceServer[] {
  if (!config || config.urls.length === 0) return [];
  const { username, credential } = turnCredentials(config, personId, nowMs);
  return [{ urls: [...config.urls], username, credential }];
}
