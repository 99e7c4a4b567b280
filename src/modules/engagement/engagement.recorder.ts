import type { EngagementSignals } from '../../platform/engagement-signals.js';
import { parisDayBounds } from '../../platform/clock.js';
import type { Logger } from '../../platform/logger.js';
import type { Metrics } from '../../platform/metrics.js';
import type { DayCounts, EngagementRepository, OpenRow } from './engagement.repository.js';

export interface RecorderSettings {
  /** Buffered signals are written this often. */
  flushIntervalMs: number;
  /** Person-days held in memory at most; past this a flush starts at once and, while it runs, new person-days are dropped (counted). */
  maxBufferedDays: number;
  /** Distinct "work opened" pairs held in memory at most (same rule). */
  maxBufferedOpens: number;
}

export const DEFAULT_RECORDER_SETTINGS: RecorderSettings = { flushIntervalMs: 5_000, maxBufferedDays: 50_000, maxBufferedOpens: 50_000 };

type Counter = 'works_done' | 'handins_on_time' | 'handins_late' | 'messages_read' | 'liaisons_signed';

/**
 * The batched signal recorder behind the engagement port. Every signal is a Map update in memory
 * (no promise, no I/O on the request's path); a timer flushes the buffer every few seconds as one
 * transaction of upserts, one per person-day, that add counts and widen the first/last-seen
 * instants. The buffer is swapped before the write, so signals arriving during a flush go to the
 * next one: nothing is counted twice or lost. A failed flush puts its counts back (the transaction
 * wrote nothing) within the same bound.
 *
 * Bounded memory, fails open: past `maxBufferedDays` a flush starts at once; signals that still do
 * not fit are dropped and counted (`preau_engagement_dropped_total`): a pupil's request is never
 * slowed or refused for an indicator.
 */
export class EngagementRecorder implements EngagementSignals {
  private days = new Map<string, DayCounts>();
  private opens = new Map<string, OpenRow>();
  private flushing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private dropped = 0;
  /** The recorder's own last day: `parisDayBounds` keeps one day for every caller, and today's page asks for tomorrow too. */
  private dayCache: { startMs: number; endMs: number; date: string } = { startMs: 0, endMs: 0, date: '' };
  private written = 0;

  constructor(
    private readonly repo: EngagementRepository,
    private readonly settings: RecorderSettings,
    private readonly logger: Logger,
    metrics?: Metrics,
  ) {
    metrics?.trackedCounter('preau_engagement_dropped_total', 'Signaux de suivi abandonnés (tampon plein ou écriture en échec)').track(() => this.dropped);
    metrics?.trackedCounter('preau_engagement_days_written_total', 'Lignes personne-jour écrites par le suivi').track(() => this.written);
    metrics?.gauge('preau_engagement_buffered_days', 'Personnes-jours en attente d’écriture').track(() => this.days.size);
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.flush(), this.settings.flushIntervalMs);
    this.timer.unref();
  }

  /** Stops the timer and writes what is buffered (shutdown). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
    // A flush that was running when stop was called left the signals that arrived meanwhile.
    if (this.days.size > 0 || this.opens.size > 0) await this.flush();
  }

  seen(personId: string, atMs: number): void {
    this.day(personId, atMs);
  }

  workOpened(pupilId: string, entryId: string, atMs: number): void {
    const key = `${pupilId}|${entryId}`;
    if (!this.opens.has(key)) {
      if (this.opens.size >= this.settings.maxBufferedOpens) {
        this.overflow();
        if (this.opens.size >= this.settings.maxBufferedOpens) {
          this.dropped++;
          return;
        }
      }
      this.opens.set(key, { pupil_id: pupilId, entry_id: entryId, day: this.dateOf(atMs), opened_at: atMs });
    }
    this.seen(pupilId, atMs);
  }

  workDone(pupilId: string, atMs: number): void {
    this.count(pupilId, atMs, 'works_done');
  }

  handedIn(pupilId: string, late: boolean, atMs: number): void {
    this.count(pupilId, atMs, late ? 'handins_late' : 'handins_on_time');
  }

  messageRead(personId: string, atMs: number): void {
    this.count(personId, atMs, 'messages_read');
  }

  liaisonSigned(parentId: string, atMs: number): void {
    this.count(parentId, atMs, 'liaisons_signed');
  }

  /** Person-days waiting to be written (tests, metrics). */
  buffered(): number {
    return this.days.size;
  }

  droppedCount(): number {
    return this.dropped;
  }

  /** Writes the buffer now; concurrent callers share the flush in progress, then run one more if signals arrived. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.days.size === 0 && this.opens.size === 0) return;
    const days = this.days;
    const opens = this.opens;
    this.days = new Map();
    this.opens = new Map();
    this.flushing = this.repo
      .writeSignals([...days.values()], [...opens.values()])
      .then(
        () => {
          this.written += days.size;
        },
        (err: unknown) => {
          this.logger.warn({ err, days: days.size }, 'suivi : écriture des signaux en échec, nouvel essai au prochain cycle');
          this.restore(days, opens);
        },
      )
      .finally(() => {
        this.flushing = undefined;
      });
    await this.flushing;
  }

  private count(personId: string, atMs: number, counter: Counter): void {
    const row = this.day(personId, atMs);
    if (row) row[counter]++;
  }

  private day(personId: string, atMs: number): DayCounts | undefined {
    const date = this.dateOf(atMs);
    const key = `${personId}|${date}`;
    let row = this.days.get(key);
    if (!row) {
      if (this.days.size >= this.settings.maxBufferedDays) {
        this.overflow();
        if (this.days.size >= this.settings.maxBufferedDays) {
          this.dropped++;
          return undefined;
        }
      }
      row = { person_id: personId, day: date, first_seen_at: atMs, last_seen_at: atMs, works_done: 0, handins_on_time: 0, handins_late: 0, messages_read: 0, liaisons_signed: 0 };
      this.days.set(key, row);
      return row;
    }
    if (atMs > row.last_seen_at) row.last_seen_at = atMs;
    if (atMs < row.first_seen_at) row.first_seen_at = atMs;
    return row;
  }

  private dateOf(atMs: number): string {
    const c = this.dayCache;
    if (atMs >= c.startMs && atMs < c.endMs) return c.date;
    const b = parisDayBounds(atMs);
    this.dayCache = { startMs: b.startMs, endMs: b.endMs, date: b.date };
    return b.date;
  }

  /** The buffer is full: start a flush (it swaps the buffer synchronously when none is running). */
  private overflow(): void {
    if (!this.flushing) void this.flush();
  }

  /** Puts a failed flush's counts back, merged with what arrived meanwhile, within the bounds. */
  private restore(days: Map<string, DayCounts>, opens: Map<string, OpenRow>): void {
    for (const [key, row] of days) {
      const now = this.days.get(key);
      if (now) {
        now.first_seen_at = Math.min(now.first_seen_at, row.first_seen_at);
        now.last_seen_at = Math.max(now.last_seen_at, row.last_seen_at);
        for (const c of ['works_done', 'handins_on_time', 'handins_late', 'messages_read', 'liaisons_signed'] as const) now[c] += row[c];
      } else if (this.days.size < this.settings.maxBufferedDays) this.days.set(key, row);
      else this.dropped++;
    }
    for (const [key, row] of opens) {
      if (this.opens.has(key)) continue;
      if (this.opens.size < this.settings.maxBufferedOpens) this.opens.set(key, row);
      else this.dropped++;
    }
  }
}
