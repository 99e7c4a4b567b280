import type { SharedState } from '../shared/edge-redis.js';
import { DEFAULT_STUFFING_SETTINGS, type LoginOutcome, type StuffingCounters, type StuffingSettings, type StuffingSummary } from './stuffing.js';

/**
 * The stuffing detector's counts in Redis, for every node: per minute a hash of counts
 * (attempts, failures, known-bad) and two HyperLogLogs of failed accounts and addresses (distinct
 * counts in 12 KB each whatever the attack's size, about 1 % off at large counts: enough for
 * thresholds), expiring after the window.
 */
export class RedisStuffingCounters implements StuffingCounters {
  constructor(private readonly shared: SharedState, private readonly settings: StuffingSettings = DEFAULT_STUFFING_SETTINGS) {}

  private keys(minute: number): { counts: string; accounts: string; addresses: string } {
    const base = `${this.shared.prefix}stuffing:${minute}`;
    return { counts: base, accounts: `${base}:accounts`, addresses: `${base}:addresses` };
  }

  async record(nowMs: number, e: LoginOutcome): Promise<void> {
    const k = this.keys(Math.floor(nowMs / 60_000));
    const ttlS = (this.settings.windowMinutes + 1) * 60;
    await this.shared.run((r) => {
      const p = r.multi();
      p.hincrby(k.counts, 'attempts', 1);
      if (e.knownBadPassword) p.hincrby(k.counts, 'knownBad', 1);
      if (!e.success) {
        p.hincrby(k.counts, 'failures', 1);
        p.pfadd(k.accounts, e.account);
        p.pfadd(k.addresses, e.address);
        p.expire(k.accounts, ttlS);
        p.expire(k.addresses, ttlS);
      }
      p.expire(k.counts, ttlS);
      return p.exec();
    });
  }

  async summary(nowMs: number): Promise<StuffingSummary | undefined> {
    const now = Math.floor(nowMs / 60_000);
    const minutes = Array.from({ length: this.settings.windowMinutes }, (_, i) => this.keys(now - i));
    const replies = await this.shared.run((r) => {
      const p = r.pipeline();
      for (const m of minutes) p.hmget(m.counts, 'attempts', 'failures', 'knownBad');
      p.pfcount(...minutes.map((m) => m.accounts));
      p.pfcount(...minutes.map((m) => m.addresses));
      return p.exec();
    });
    if (!replies || replies.some(([err]) => err)) return undefined;
    const counts = replies.slice(0, minutes.length).map(([, v]) => (v as (string | null)[]).map((x) => Number(x ?? 0)));
    const sum = (i: number) => counts.reduce((n, c) => n + c[i]!, 0);
    return {
      attempts: sum(0),
      failures: sum(1),
      knownBad: sum(2),
      distinctFailedAccounts: Number(replies[minutes.length]![1]),
      distinctFailedAddresses: Number(replies[minutes.length + 1]![1]),
    };
  }
}
