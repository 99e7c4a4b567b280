/**
 * Detection of credential stuffing: distributed, low-and-slow password guessing spreads over
 * many accounts and many addresses, so no per-account or per-address throttle sees it. What
 * gives it away is the whole login traffic: many failures, a high failure ratio, failures spread
 * over many accounts and addresses, and passwords from breach lists. When detected, logins from
 * devices that never had a session on the account are challenged; no account is ever locked
 * (an attacker must not be able to lock pupils out).
 *
 * Pure: `decideStuffing(settings, summary) → level`; the detector keeps bounded per-minute counts.
 */
export interface StuffingSettings {
  windowMinutes: number;
  minFailures: number;
  minFailureRatio: number;
  minDistinctAccounts: number;
  minDistinctAddresses: number;
  /** Attempts with a breach-list password that alone raise the level. */
  knownBadThreshold: number;
  /** Distinct accounts/addresses remembered per minute (bounded memory). */
  maxDistinctPerMinute: number;
}

export const DEFAULT_STUFFING_SETTINGS: StuffingSettings = {
  windowMinutes: 10,
  minFailures: 100,
  minFailureRatio: 0.5,
  minDistinctAccounts: 30,
  minDistinctAddresses: 10,
  knownBadThreshold: 30,
  maxDistinctPerMinute: 10_000,
};

export interface StuffingSummary {
  attempts: number;
  failures: number;
  knownBad: number;
  distinctFailedAccounts: number;
  distinctFailedAddresses: number;
}

export type StuffingLevel = 'normal' | 'elevated';

export function decideStuffing(s: StuffingSettings, sum: StuffingSummary): StuffingLevel {
  if (sum.knownBad >= s.knownBadThreshold) return 'elevated';
  if (sum.failures < s.minFailures || sum.attempts === 0) return 'normal';
  if (sum.failures / sum.attempts < s.minFailureRatio) return 'normal';
  if (sum.distinctFailedAccounts < s.minDistinctAccounts || sum.distinctFailedAddresses < s.minDistinctAddresses) return 'normal';
  return 'elevated';
}

interface Minute {
  minute: number;
  attempts: number;
  failures: number;
  knownBad: number;
  accounts: Set<string>;
  addresses: Set<string>;
}

export interface LoginOutcome {
  account: string;
  address: string;
  success: boolean;
  knownBadPassword: boolean;
}

/**
 * Where the per-minute counts live (the port). Memory: this node's logins; Redis
 * (`shared-stuffing.ts`): every node's, so an attack spread over nodes behind a load balancer is
 * seen whole. `summary` is `undefined` when the store could not answer.
 */
export interface StuffingCounters {
  record(nowMs: number, e: LoginOutcome): void | Promise<void>;
  summary(nowMs: number): StuffingSummary | undefined | Promise<StuffingSummary | undefined>;
}

/** One node's counts: a minute per slot, only the window's minutes kept, distinct sets bounded. */
export class MemoryStuffingCounters implements StuffingCounters {
  private minutes: Minute[] = [];

  constructor(readonly settings: StuffingSettings = DEFAULT_STUFFING_SETTINGS) {}

  record(nowMs: number, e: LoginOutcome): void {
    const m = this.current(nowMs);
    m.attempts++;
    if (e.knownBadPassword) m.knownBad++;
    if (e.success) return;
    m.failures++;
    if (m.accounts.size < this.settings.maxDistinctPerMinute) m.accounts.add(e.account);
    if (m.addresses.size < this.settings.maxDistinctPerMinute) m.addresses.add(e.address);
  }

  summary(nowMs: number): StuffingSummary {
    const since = Math.floor(nowMs / 60_000) - this.settings.windowMinutes + 1;
    const live = this.minutes.filter((m) => m.minute >= since);
    const accounts = new Set<string>();
    const addresses = new Set<string>();
    for (const m of live) {
      for (const a of m.accounts) accounts.add(a);
      for (const a of m.addresses) addresses.add(a);
    }
    return {
      attempts: live.reduce((n, m) => n + m.attempts, 0),
      failures: live.reduce((n, m) => n + m.failures, 0),
      knownBad: live.reduce((n, m) => n + m.knownBad, 0),
      distinctFailedAccounts: accounts.size,
      distinctFailedAddresses: addresses.size,
    };
  }

  private current(nowMs: number): Minute {
    const minute = Math.floor(nowMs / 60_000);
    let m = this.minutes[this.minutes.length - 1];
    if (!m || m.minute !== minute) {
      m = { minute, attempts: 0, failures: 0, knownBad: 0, accounts: new Set(), addresses: new Set() };
      this.minutes.push(m);
      // Bounded: only the window's minutes are kept.
      if (this.minutes.length > this.settings.windowMinutes) this.minutes = this.minutes.slice(-this.settings.windowMinutes);
    }
    return m;
  }
}

/** How the detector reads shared counts: at most once per `refreshMs`, in the background; older than `staleMs`, ignored. */
export interface SharedStuffing {
  counters: StuffingCounters;
  usable(): boolean;
  refreshMs: number;
  staleMs: number;
}

/**
 * The detector the challenge gate asks (synchronously: `level` is on the login path). It always
 * counts locally; with shared counters (several nodes) it also records there and decides on the
 * whole deployment's counts, read in the background at most once a second. Fails open to local:
 * while the shared counts are unavailable or stale, it decides on this node's logins alone (an
 * attack spread thinly over many nodes may then stay under the thresholds until Redis is back).
 */
export class StuffingDetector {
  private readonly local: MemoryStuffingCounters;
  private sharedSummary: { atMs: number; summary: StuffingSummary } | undefined;
  private lastRefreshMs = -Infinity;
  private refreshing = false;

  constructor(readonly settings: StuffingSettings = DEFAULT_STUFFING_SETTINGS, private readonly shared?: SharedStuffing) {
    this.local = new MemoryStuffingCounters(settings);
  }

  record(nowMs: number, e: LoginOutcome): void {
    this.local.record(nowMs, e);
    if (this.shared?.usable()) void Promise.resolve(this.shared.counters.record(nowMs, e)).catch(() => undefined);
  }

  /** The counts the level is decided on: the deployment's when fresh, else this node's. */
  summary(nowMs: number): StuffingSummary {
    if (this.shared) {
      this.refresh(nowMs);
      if (this.sharedSummary && nowMs - this.sharedSummary.atMs <= this.shared.staleMs) return this.sharedSummary.summary;
    }
    return this.local.summary(nowMs);
  }

  level(nowMs: number): StuffingLevel {
    return decideStuffing(this.settings, this.summary(nowMs));
  }

  /** Reads the shared counts now (tests) or in the background (`summary`). */
  async refreshNow(nowMs: number): Promise<void> {
    if (!this.shared || this.refreshing) return;
    this.refreshing = true;
    this.lastRefreshMs = nowMs;
    try {
      const summary = this.shared.usable() ? await this.shared.counters.summary(nowMs) : undefined;
      if (summary) this.sharedSummary = { atMs: nowMs, summary };
    } catch {
      // Fails open: the local counts decide until the next refresh.
    } finally {
      this.refreshing = false;
    }
  }

  private refresh(nowMs: number): void {
    if (this.shared && !this.refreshing && nowMs - this.lastRefreshMs >= this.shared.refreshMs) void this.refreshNow(nowMs);
  }
}

/**
 * A few of the passwords every breach list starts with (and that French pupils choose). Hits are
 * counted, never refused here: refusing weak passwords is the password policy's job.
 */
export const KNOWN_BAD_PASSWORDS: ReadonlySet<string> = new Set([
  '123456', '123456789', '12345678', 'password', 'azerty', 'azertyuiop', '123123', '000000', '111111', 'qwerty', 'motdepasse', 'soleil',
  'doudou', 'loulou', 'chouchou', 'marseille', 'bonjour', 'iloveyou', 'abc123', 'password1', '1234567890', 'azerty123', 'football', 'nicolas',
]);
