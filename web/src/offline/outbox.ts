import { nextDelayMs } from '../api/backoff.js';

/**
 * The outbox: writes made while Préau could not take them (offline, overloaded, read-only), kept in
 * IndexedDB until the server answers. Each entry carries the idempotency key it was created with,
 * so however many times it is sent (a lost answer, a reload mid-send), the server applies it once.
 * Bounded: a person's outbox holds at most MAX_ENTRIES_PER_PERSON entries; beyond, the oldest
 * still-pending write of the same kind is replaced (a later language choice supersedes an earlier one).
 */
export const MAX_ENTRIES_PER_PERSON = 50;
const DB_NAME = 'preau';
const DB_VERSION = 1;
const STORE = 'outbox';

/** What kind of write an entry is: how the page describes it to the person. */
export type OutboxKind = 'preferences' | 'homework-done' | 'liaison-sign' | 'message-read' | 'message-delete' | 'news-ack';

export interface OutboxEntry {
  /** Also the Idempotency-Key sent with every attempt. */
  id: string;
  personId: string;
  kind: OutboxKind;
  method: 'POST' | 'PUT' | 'DELETE';
  path: string;
  body: unknown;
  /** The CSRF token of the session the write was made in. */
  csrfToken: string;
  createdAtMs: number;
  attempts: number;
  nextAttemptAtMs: number;
  state: 'pending' | 'failed';
  /** What the person sees for this write (e.g. the title of the work ticked "fait"); not sent. */
  label?: string;
  /** The refusal of a failed entry (server error id and message). */
  error?: { id: string; message: string };
}

/** The outcome of one send. */
export type SendOutcome =
  | { type: 'delivered' }
  /** No answer, overload, throttling: try again later (with the server's hint, if any). */
  | { type: 'transient'; retryAfterSeconds: number | undefined }
  /** A final refusal (the write itself is wrong): keep it visible, do not retry. */
  | { type: 'refused'; error: { id: string; message: string } };

export type OutboxDecision = { action: 'remove' } | { action: 'reschedule'; entry: OutboxEntry } | { action: 'fail'; entry: OutboxEntry };

/** What to do with an entry after a send (pure; the flush applies it). */
export function decideAfterSend(entry: OutboxEntry, outcome: SendOutcome, nowMs: number, random: () => number): OutboxDecision {
  if (outcome.type === 'delivered') return { action: 'remove' };
  if (outcome.type === 'refused') return { action: 'fail', entry: { ...entry, state: 'failed', error: outcome.error, attempts: entry.attempts + 1 } };
  const delay = nextDelayMs(entry.attempts, outcome.retryAfterSeconds, random);
  return { action: 'reschedule', entry: { ...entry, attempts: entry.attempts + 1, nextAttemptAtMs: nowMs + delay } };
}

function promised<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

export class Outbox {
  private constructor(private readonly db: IDBDatabase) {}

  static open(factory: IDBFactory = indexedDB): Promise<Outbox> {
    return new Promise((resolve, reject) => {
      const req = factory.open(DB_NAME, DB_VERSION);
      req.onupgradeneeded = () => {
        const store = req.result.createObjectStore(STORE, { keyPath: 'id' });
        store.createIndex('person', 'personId');
      };
      req.onsuccess = () => resolve(new Outbox(req.result));
      req.onerror = () => reject(req.error);
    });
  }

  close(): void {
    this.db.close();
  }

  private store(mode: IDBTransactionMode): IDBObjectStore {
    return this.db.transaction(STORE, mode).objectStore(STORE);
  }

  /** A person's entries, oldest first (the order they are sent in). */
  async list(personId: string): Promise<OutboxEntry[]> {
    const all = await promised(this.store('readonly').index('person').getAll(personId) as IDBRequest<OutboxEntry[]>);
    return all.sort((a, b) => a.createdAtMs - b.createdAtMs || a.id.localeCompare(b.id));
  }

  /**
   * Adds a write. A pending write of the same kind and path is superseded (the newer intent wins,
   * and the older is never sent), which also keeps the outbox bounded.
   */
  async add(entry: OutboxEntry): Promise<void> {
    const existing = await this.list(entry.personId);
    const superseded = existing.filter((e) => e.state === 'pending' && e.kind === entry.kind && e.path === entry.path);
    const overflow = existing.length - superseded.length + 1 - MAX_ENTRIES_PER_PERSON;
    const dropped = overflow > 0 ? existing.filter((e) => !superseded.includes(e)).slice(0, overflow) : [];
    const tx = this.db.transaction(STORE, 'readwrite');
    const store = tx.objectStore(STORE);
    for (const e of [...superseded, ...dropped]) store.delete(e.id);
    store.put(entry);
    await new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
    });
  }

  async put(entry: OutboxEntry): Promise<void> {
    await promised(this.store('readwrite').put(entry));
  }

  async remove(id: string): Promise<void> {
    await promised(this.store('readwrite').delete(id));
  }

  /** Logout on a shared device: nothing of this person stays. */
  async wipePerson(personId: string): Promise<void> {
    for (const e of await this.list(personId)) await this.remove(e.id);
  }
}

export interface FlushReport {
  delivered: number;
  failed: number;
  /** When the next attempt is due, if anything is still pending. */
  nextAttemptAtMs: number | undefined;
}

/**
 * Sends a person's due entries, oldest first. Stops at the first transient failure: the server is
 * unreachable or struggling, and hammering it with the rest would not help (and would reorder writes).
 */
export async function flushOutbox(
  outbox: Outbox,
  personId: string,
  send: (entry: OutboxEntry) => Promise<SendOutcome>,
  nowMs: () => number,
  random: () => number,
): Promise<FlushReport> {
  const report: FlushReport = { delivered: 0, failed: 0, nextAttemptAtMs: undefined };
  for (const entry of await outbox.list(personId)) {
    if (entry.state !== 'pending') continue;
    if (entry.nextAttemptAtMs > nowMs()) {
      report.nextAttemptAtMs = Math.min(report.nextAttemptAtMs ?? Infinity, entry.nextAttemptAtMs);
      break;
    }
    const decision = decideAfterSend(entry, await send(entry), nowMs(), random);
    if (decision.action === 'remove') {
      await outbox.remove(entry.id);
      report.delivered++;
    } else if (decision.action === 'fail') {
      await outbox.put(decision.entry);
      report.failed++;
    } else {
      await outbox.put(decision.entry);
      report.nextAttemptAtMs = decision.entry.nextAttemptAtMs;
      break;
    }
  }
  return report;
}
