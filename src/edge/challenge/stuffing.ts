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

export class StuffingDetector {
  private minutes: Minute[] = [];

  constructor(readonly settings: StuffingSettings = DEFAULT_STUFFING_SETTINGS) {}

  record(nowMs: number, e: { account: string; address: string; success: boolean; knownBadPassword: boolean }): void {
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

  level(nowMs: number): StuffingLevel {
    return decideStuffing(this.settings, this.summary(nowMs));
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

/**
 * A few of the passwords every breach list starts with (and that French pupils choose). Hits are
 * counted, never refused here: refusing weak passwords is the password policy's job.
 */
export const KNOWN_BAD_PASSWORDS: ReadonlySet<string> = new Set([
  '123456', '123456789', '12345678', 'password', 'azerty', 'azertyuiop', '123123', '000000', '111111', 'qwerty', 'motdepasse', 'soleil',
  'doudou', 'loulou', 'chouchou', 'marseille', 'bonjour', 'iloveyou', 'abc123', 'password1', '1234567890', 'azerty123', 'football', 'nicolas',
]);
