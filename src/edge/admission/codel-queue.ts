/**
 * A short waiting line for one criticality class, bounded the CoDel way ("Fail at Scale",
 * Facebook 2015): while the line empties now and then, a request may wait up to `maxWaitMs`
 * and is served first come, first served; once it has not been empty for `intervalMs` (a
 * standing queue: the node is behind), a request may only wait `overloadWaitMs` and the newest
 * is served first — it is the one whose client is still there; the oldest time out quickly
 * instead of every request being served late.
 */
export interface CodelSettings {
  maxLength: number;
  /** Wait allowed while the queue drains normally. */
  maxWaitMs: number;
  /** Wait allowed once the queue has stood (not been empty) for `intervalMs`. */
  overloadWaitMs: number;
  intervalMs: number;
}

/** Pure: is the line standing (not empty for a whole interval)? */
export function isStanding(settings: CodelSettings, lastEmptyMs: number, nowMs: number): boolean {
  return nowMs - lastEmptyMs > settings.intervalMs;
}

/** Pure: how long an item may wait now. */
export function allowedWaitMs(settings: CodelSettings, lastEmptyMs: number, nowMs: number): number {
  return isStanding(settings, lastEmptyMs, nowMs) ? settings.overloadWaitMs : settings.maxWaitMs;
}

interface Entry<T> {
  item: T;
  enqueuedAtMs: number;
}

export class CodelQueue<T> {
  /** A deque on an array: items [head, items.length) are live; the head moves instead of shifting. */
  private items: Entry<T>[] = [];
  private head = 0;
  private lastEmptyMs: number;

  constructor(
    readonly settings: CodelSettings,
    nowMs: number,
  ) {
    this.lastEmptyMs = nowMs;
  }

  get length(): number {
    return this.items.length - this.head;
  }

  /** False when the line is full (the caller refuses at once). */
  push(item: T, nowMs: number): boolean {
    if (this.length >= this.settings.maxLength) return false;
    if (this.length === 0) this.lastEmptyMs = nowMs;
    this.items.push({ item, enqueuedAtMs: nowMs });
    return true;
  }

  /**
   * The next item to serve, after dropping (through `onExpired`) those that waited too long:
   * the oldest while the line drains normally, the newest once it stands.
   */
  pop(nowMs: number, onExpired: (item: T, waitedMs: number) => void): { item: T; waitedMs: number } | undefined {
    this.expire(nowMs, onExpired);
    if (this.length === 0) return undefined;
    const entry = isStanding(this.settings, this.lastEmptyMs, nowMs) ? this.items.pop()! : this.items[this.head++]!;
    this.compact(nowMs);
    return { item: entry.item, waitedMs: nowMs - entry.enqueuedAtMs };
  }

  /** Drops every item that has waited longer than allowed now. Oldest first; O(expired). */
  expire(nowMs: number, onExpired: (item: T, waitedMs: number) => void): void {
    const allowed = allowedWaitMs(this.settings, this.lastEmptyMs, nowMs);
    while (this.length > 0) {
      const oldest = this.items[this.head]!;
      const waited = nowMs - oldest.enqueuedAtMs;
      if (waited <= allowed) break;
      this.head++;
      onExpired(oldest.item, waited);
    }
    this.compact(nowMs);
  }

  private compact(nowMs: number): void {
    if (this.length === 0) {
      this.items = [];
      this.head = 0;
      this.lastEmptyMs = nowMs;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
