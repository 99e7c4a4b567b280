import { ApiError, api, csrfToken } from '../api/client.js';
import { me, outboxEntries, platformStatus, announce, t } from '../app/state.js';
import { Outbox, flushOutbox, type OutboxEntry, type OutboxKind, type SendOutcome } from './outbox.js';

/**
 * The outbox at work in the page: every write of kind OutboxKind goes through it (so it carries one
 * idempotency key from the start), is sent at once when possible, and otherwise when the network
 * comes back, when the page is shown again, or when its backoff delay is over. Holds while the
 * platform is read-only.
 */
let outbox: Promise<Outbox> | undefined;
let timer: ReturnType<typeof setTimeout> | undefined;
let flushing: Promise<void> | undefined;

function open(): Promise<Outbox> {
  outbox ??= Outbox.open();
  return outbox;
}

export async function refreshOutboxView(): Promise<void> {
  const person = me.get();
  outboxEntries.set(person ? await (await open()).list(person.id) : []);
}

export async function queueWrite(kind: OutboxKind, method: OutboxEntry['method'], path: string, body: unknown): Promise<void> {
  const person = me.get();
  const csrf = csrfToken();
  if (!person || !csrf) return;
  const now = Date.now();
  await (await open()).add({
    id: crypto.randomUUID(), personId: person.id, kind, method, path, body, csrfToken: csrf, createdAtMs: now, attempts: 0, nextAttemptAtMs: now, state: 'pending',
  });
  await refreshOutboxView();
  await flushNow();
}

async function send(entry: OutboxEntry): Promise<SendOutcome> {
  try {
    await api(entry.method, entry.path, { body: entry.body, idempotencyKey: entry.id, csrfToken: entry.csrfToken });
    return { type: 'delivered' };
  } catch (err) {
    if (!(err instanceof ApiError)) return { type: 'transient', retryAfterSeconds: undefined };
    // A session that ended keeps its writes until its person signs in again (they are theirs).
    if (err.transient || err.status === 401) return { type: 'transient', retryAfterSeconds: err.retryAfterSeconds };
    return { type: 'refused', error: { id: err.id, message: err.serverMessage } };
  }
}

export function flushNow(): Promise<void> {
  flushing ??= (async () => {
    try {
      const person = me.get();
      if (!person || platformStatus.get().readOnly) return;
      if (timer) clearTimeout(timer);
      timer = undefined;
      const before = outboxEntries.get().filter((e) => e.state === 'pending').length;
      const report = await flushOutbox(await open(), person.id, send, Date.now, Math.random);
      await refreshOutboxView();
      if (report.delivered > 0 && before > 0 && outboxEntries.get().every((e) => e.state !== 'pending')) announce(t('outbox.delivered'));
      if (report.nextAttemptAtMs !== undefined) timer = setTimeout(() => void flushNow(), Math.max(0, report.nextAttemptAtMs - Date.now()));
    } finally {
      flushing = undefined;
    }
  })();
  return flushing;
}

export async function discardEntry(id: string): Promise<void> {
  await (await open()).remove(id);
  await refreshOutboxView();
}

/** Logout: this person's waiting writes leave the device with them. */
export async function wipeOutboxOf(personId: string): Promise<void> {
  await (await open()).wipePerson(personId);
  outboxEntries.set([]);
}

export function installOutboxTriggers(): void {
  addEventListener('online', () => void flushNow());
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') void flushNow();
  });
  let wasReadOnly = platformStatus.get().readOnly;
  platformStatus.subscribe((s) => {
    if (wasReadOnly && !s.readOnly) void flushNow();
    wasReadOnly = s.readOnly;
  });
}
