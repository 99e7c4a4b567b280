import type { Clock } from '../../platform/clock.js';
import { AppError } from '../../platform/errors.js';
import { hmacHex, newActivationCode, newId, newSecretToken, normaliseActivationCode, sha256Hex } from '../../platform/ids.js';
import type { Logger } from '../../platform/logger.js';
import type { IdentityRepository, PersonRow, SessionRow } from './identity.repository.js';
import type { LoginThrottle } from './login-throttle.js';
import { MAX_PASSWORD_BYTES, type PasswordHasher } from './password-hasher.js';
import { normaliseLogin } from './login-name.js';

export const MIN_PASSWORD_LENGTH = 8;
export const ACTIVATION_CODE_TTL_DAYS = 60;
/** A session's expiry is pushed forward at most this often: a resume is a read, not a write. */
export const SESSION_TOUCH_INTERVAL_MS = 5 * 60_000;
/** Resumed sessions are cached this long; a revocation on this node is seen at once, on another within this delay. */
export const SESSION_CACHE_TTL_MS = 15_000;
export const SESSION_CACHE_MAX_ENTRIES = 100_000;

export interface ClientInfo {
  ip: string;
  userAgent: string | undefined;
}

export interface IdentitySettings {
  sessionTtlDays: number;
  shortSessionTtlHours: number;
  secret: string;
}

export interface Authenticated {
  session: SessionRow;
  person: PersonRow;
}

export interface NewSession extends Authenticated {
  token: string;
  maxAgeSeconds: number | undefined;
}

/**
 * Login, activation, sessions and passwords. The rules live here; SQL in the repository,
 * HTTP in the routes.
 */
export class IdentityService {
  private readonly cache = new Map<string, { value: Authenticated; cachedAtMs: number }>();
  /** A precomputed hash verified for unknown logins, so that they cost what a wrong password costs. */
  private dummyHash: Promise<string> | undefined;

  constructor(
    private readonly repo: IdentityRepository,
    private readonly hasher: PasswordHasher,
    private readonly throttle: LoginThrottle,
    private readonly clock: Clock,
    private readonly settings: IdentitySettings,
    private readonly logger: Logger,
  ) {}

  csrfTokenFor(sessionId: string): string {
    return hmacHex(this.settings.secret, `csrf:${sessionId}`);
  }

  async login(loginInput: string, password: string, remember: boolean, client: ClientInfo): Promise<NewSession> {
    const login = normaliseLogin(loginInput);
    const now = this.clock.nowMs();
    await this.assertNotThrottled(login, client.ip, now);
    assertPasswordSize(password);
    const person = await this.repo.findPersonByLogin(login);
    if (!person || !person.password_hash || person.status === 'departed') {
      // Same cost as a wrong password: a login's existence is not revealed by timing.
      await this.hasher.verify(await this.getDummyHash(), password);
      await this.throttle.recordFailure(login, client.ip, now);
      if (person && person.status === 'pending_activation') throw new AppError('auth.account_not_active');
      throw new AppError('auth.invalid_credentials');
    }
    const ok = await this.hasher.verify(person.password_hash, password);
    if (!ok) {
      await this.throttle.recordFailure(login, client.ip, now);
      throw new AppError('auth.invalid_credentials');
    }
    await this.throttle.recordSuccess(login, client.ip);
    return this.openSession(person, remember, client);
  }

  async activate(loginInput: string, code: string, newPassword: string, remember: boolean, client: ClientInfo): Promise<NewSession> {
    const login = normaliseLogin(loginInput);
    const now = this.clock.nowMs();
    await this.assertNotThrottled(login, client.ip, now);
    const person = await this.repo.findPersonByLogin(login);
    const live = person && person.status !== 'departed' ? await this.repo.findLiveActivationCode(person.id, sha256Hex(normaliseActivationCode(code)), now) : undefined;
    if (!person || !live) {
      await this.throttle.recordFailure(login, client.ip, now);
      throw new AppError('auth.invalid_activation_code');
    }
    this.assertAcceptablePassword(newPassword, login);
    const passwordHash = await this.hasher.hash(newPassword);
    // Used-once is enforced in the UPDATE itself: two concurrent activations cannot both win.
    if (!(await this.repo.markActivationCodeUsed(live.id, now))) throw new AppError('auth.invalid_activation_code');
    await this.repo.setPassword(person.id, passwordHash, 'active', now);
    await this.throttle.recordSuccess(login, client.ip);
    await this.repo.audit({ at: now, actorId: person.id, action: 'identity.activate', targetId: person.id });
    return this.openSession({ ...person, password_hash: passwordHash, status: 'active' }, remember, client);
  }

  /**
   * The session for this cookie if it is in the cache (synchronous: the 8:30 resume path costs no
   * promise and no hashing). The cache is keyed by the token itself, held only in this process's
   * memory, like the request that carried it.
   */
  resumeCached(token: string): Authenticated | undefined {
    const cached = this.cache.get(token);
    const now = this.clock.nowMs();
    if (cached && now - cached.cachedAtMs < SESSION_CACHE_TTL_MS && cached.value.session.expires_at > now) return cached.value;
    return undefined;
  }

  /** Resolves a session cookie. Returns undefined for unknown, expired or departed. */
  async resume(token: string): Promise<Authenticated | undefined> {
    if (token.length === 0 || token.length > 128) return undefined;
    const cached = this.resumeCached(token);
    if (cached) return cached;
    const now = this.clock.nowMs();
    const tokenHash = sha256Hex(token);
    const found = await this.repo.findSessionWithPerson(tokenHash);
    if (!found || found.session.expires_at <= now || found.person.status === 'departed') {
      this.cache.delete(token);
      return undefined;
    }
    if (now - found.session.last_seen_at > SESSION_TOUCH_INTERVAL_MS) {
      const expiresAt = now + this.ttlMs(found.session.remember === 1);
      await this.repo.touchSession(found.session.id, now, expiresAt);
      found.session = { ...found.session, last_seen_at: now, expires_at: expiresAt };
    }
    this.remember(token, found, now);
    return found;
  }

  async logout(auth: Authenticated): Promise<void> {
    this.forget(await this.repo.deleteSessions({ personId: auth.person.id, sessionId: auth.session.id }));
  }

  listSessions(personId: string): Promise<SessionRow[]> {
    return this.repo.listSessions(personId, this.clock.nowMs());
  }

  async revokeSession(personId: string, sessionId: string): Promise<void> {
    const removed = await this.repo.deleteSessions({ personId, sessionId });
    if (removed.length === 0) throw new AppError('session.not_found');
    this.forget(removed);
  }

  /** Revokes every session of a person (departure, password reset). */
  async revokeAll(personId: string): Promise<void> {
    this.forget(await this.repo.deleteSessions({ personId }));
  }

  async changePassword(auth: Authenticated, currentPassword: string, newPassword: string, client: ClientInfo): Promise<void> {
    const now = this.clock.nowMs();
    await this.assertNotThrottled(auth.person.login, client.ip, now);
    assertPasswordSize(currentPassword);
    const person = await this.repo.findPersonById(auth.person.id);
    if (!person?.password_hash || !(await this.hasher.verify(person.password_hash, currentPassword))) {
      await this.throttle.recordFailure(auth.person.login, client.ip, now);
      throw new AppError('auth.wrong_current_password');
    }
    this.assertAcceptablePassword(newPassword, person.login);
    await this.repo.setPassword(person.id, await this.hasher.hash(newPassword), 'active', now);
    // Other devices must sign in again with the new password; this one stays signed in.
    this.forget(await this.repo.deleteSessions({ personId: person.id, exceptSessionId: auth.session.id }));
    await this.repo.audit({ at: now, actorId: person.id, action: 'identity.password_change', targetId: person.id });
  }

  /** The interface language this person chose; cached sessions of this process see it at once. */
  async setPreferredLang(auth: Authenticated, lang: string): Promise<PersonRow> {
    const now = this.clock.nowMs();
    await this.repo.setPreferredLang(auth.person.id, lang, now);
    const person = { ...auth.person, preferred_lang: lang, updated_at: now };
    for (const entry of this.cache.values()) if (entry.value.person.id === person.id) entry.value = { ...entry.value, person };
    return person;
  }

  /**
   * New one-time activation codes for these people (authorisation is checked by the caller).
   * `reset: true` also clears the password and closes every session (an administrator's reset).
   */
  async issueActivationCodes(actorId: string, people: PersonRow[], options: { reset: boolean }): Promise<{ person: PersonRow; code: string; expiresAt: number }[]> {
    const now = this.clock.nowMs();
    const expiresAt = now + ACTIVATION_CODE_TTL_DAYS * 86_400_000;
    const out: { person: PersonRow; code: string; expiresAt: number }[] = [];
    for (const person of people) {
      if (person.status === 'departed') continue;
      const code = newActivationCode();
      await this.repo.insertActivationCode({ person_id: person.id, code_hash: sha256Hex(normaliseActivationCode(code)), created_at: now, expires_at: expiresAt, created_by: actorId });
      if (options.reset) {
        await this.repo.setPassword(person.id, null, 'pending_activation', now);
        await this.revokeAll(person.id);
      }
      await this.repo.audit({ at: now, actorId, action: options.reset ? 'identity.password_reset' : 'identity.activation_code', targetId: person.id });
      out.push({ person, code, expiresAt });
    }
    return out;
  }

  purgeDeparted(retentionDays: number, onPurged?: OnPurged): Promise<{ purged: number; expiredSessions: number }> {
    return purgeDeparted(this.repo, this.clock, retentionDays, this.logger, onPurged);
  }

  /** Forget cached sessions (a person departed, a password reset elsewhere in this process). */
  forgetPerson(personId: string): void {
    for (const [k, v] of this.cache) if (v.value.person.id === personId) this.cache.delete(k);
  }

  private async openSession(person: PersonRow, remember: boolean, client: ClientInfo): Promise<NewSession> {
    const now = this.clock.nowMs();
    const token = newSecretToken();
    const ttlMs = this.ttlMs(remember);
    const session: SessionRow = {
      id: newId(),
      token_hash: sha256Hex(token),
      person_id: person.id,
      remember: remember ? 1 : 0,
      created_at: now,
      last_seen_at: now,
      expires_at: now + ttlMs,
      user_agent: client.userAgent ? client.userAgent.slice(0, 200) : null,
      ip: client.ip.slice(0, 64),
    };
    await this.repo.insertSession(session);
    this.remember(token, { session, person }, now);
    // A remembered session is a persistent cookie; otherwise it ends with the browser.
    return { token, session, person, maxAgeSeconds: remember ? Math.floor(ttlMs / 1000) : undefined };
  }

  private ttlMs(remember: boolean): number {
    return remember ? this.settings.sessionTtlDays * 86_400_000 : this.settings.shortSessionTtlHours * 3_600_000;
  }

  private remember(token: string, value: Authenticated, now: number): void {
    this.cache.delete(token);
    this.cache.set(token, { value, cachedAtMs: now });
    while (this.cache.size > SESSION_CACHE_MAX_ENTRIES) this.cache.delete(this.cache.keys().next().value!);
  }

  /** Revocation is rare: a scan of the bounded cache for the revoked sessions is fine. */
  private forget(tokenHashes: string[]): void {
    if (tokenHashes.length === 0) return;
    const gone = new Set(tokenHashes);
    for (const [token, entry] of this.cache) if (gone.has(entry.value.session.token_hash)) this.cache.delete(token);
  }

  private async assertNotThrottled(login: string, ip: string, now: number): Promise<void> {
    const decision = await this.throttle.check(login, ip, now);
    if (!decision.allowed) {
      this.logger.warn({ scope: decision.scope, ip }, 'tentatives de connexion freinées');
      throw new AppError('auth.throttled', { retryAfterSeconds: Math.ceil(decision.retryAfterMs / 1000) });
    }
  }

  private assertAcceptablePassword(password: string, login: string): void {
    assertPasswordSize(password);
    if ([...password].length < MIN_PASSWORD_LENGTH || normaliseLogin(password) === login) {
      throw new AppError('auth.weak_password', { params: { min: MIN_PASSWORD_LENGTH } });
    }
  }

  private getDummyHash(): Promise<string> {
    this.dummyHash ??= this.hasher.hash(newSecretToken());
    return this.dummyHash;
  }
}

function assertPasswordSize(password: string): void {
  if (Buffer.byteLength(password) > MAX_PASSWORD_BYTES) throw new AppError('auth.invalid_credentials');
}

/**
 * GDPR purge: people departed more than `retentionDays` ago are deleted (every link, session and
 * code goes with them by cascade); expired sessions are removed too. Run daily by the server and
 * by `preau purge`.
 */
/** Lets other modules forget what they keep about purged people (e.g. the AAF import's pending links). */
export type OnPurged = (aafJointures: string[]) => Promise<void>;

export async function purgeDeparted(
  repo: IdentityRepository,
  clock: Clock,
  retentionDays: number,
  logger: Logger,
  onPurged?: OnPurged,
): Promise<{ purged: number; expiredSessions: number }> {
  const now = clock.nowMs();
  const { count: purged, jointures } = await repo.purgeDepartedBefore(now - retentionDays * 86_400_000);
  if (onPurged && jointures.length > 0) await onPurged(jointures);
  const expiredSessions = await repo.deleteExpiredSessions(now);
  if (purged > 0) await repo.audit({ at: now, actorId: null, action: 'identity.purge_departed', targetId: null, details: { purged } });
  logger.info({ purged, expiredSessions }, 'purge des comptes partis et des sessions expirées');
  return { purged, expiredSessions };
}
