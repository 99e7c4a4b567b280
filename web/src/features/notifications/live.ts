import { api } from '../../api/client.js';
import { nextDelayMs, restartDelayMs } from '../../api/backoff.js';
import { announce, me, t } from '../../app/state.js';
import { Observable } from '../../app/store.js';
import type { MessageKey } from '../../i18n/index.js';

/**
 * Live notifications, always loaded (the header's badge needs them; the page itself is a lazy
 * chunk). Signed in: one WebSocket to /api/v1/realtime; the server pushes `{type:'unread'}` and
 * `{type:'notification'}`. Lost: reconnect with the app's backoff policy (exponential, jittered, so a
 * node restart does not bring every tab back at the same second), and meanwhile poll the unread count
 * over HTTP — also the whole mode where WebSocket is unavailable. Signed out: everything stops.
 */
export interface Notification {
  id: string;
  kind: string;
  title: string;
  link: string;
  subjectId: string;
  at: string;
  read: boolean;
}

/** Unread count; undefined until known. */
export const unreadNotifications = new Observable<number | undefined>(undefined);
/** Items pushed since the page opened, newest first (the notifications page shows them at once). */
export const pushedNotifications = new Observable<Notification[]>([]);

const PING_MS = 20_000;
/** Without a socket, the unread count is asked about once a minute, jittered. */
const POLL_MS = 60_000;
const MAX_PUSHED_KEPT = 50;
/** The server closed this socket because the person opened too many (see the gateway): do not fight it, poll. */
const CLOSE_REPLACED = 4001;
/** The session ended (logged out elsewhere): nothing more to ask until someone signs in again. */
const CLOSE_SIGNED_OUT = 4003;
/** The node is stopping (gateway.ts CLOSE.restart): its reason carries `reconnect=<ms>`. */
const CLOSE_RESTART = 1012;

const SENTENCES: Record<string, MessageKey> = {
  'work.posted': 'notifications.kind.workPosted',
  'handin.returned': 'notifications.kind.handinReturned',
  'message.received': 'notifications.kind.messageReceived',
  'news.published': 'notifications.kind.newsPublished',
  'liaison.to_sign': 'notifications.kind.liaisonToSign',
  'engagement.digest': 'notifications.kind.engagementDigest',
};

/** The sentence of a notification in the interface language, from its kind and title. */
export function sentenceOf(n: Pick<Notification, 'kind' | 'title'>, translate: (key: MessageKey, params?: Record<string, string>) => string = t): string {
  return translate(SENTENCES[n.kind] ?? 'notifications.kind.other', { title: n.title || translate('notifications.untitled') });
}

let socket: WebSocket | undefined;

/**
 * The same socket carries other features' messages (the classe virtuelle's signalling): one socket
 * per tab, well inside the gateway's per-person cap (a second socket per tab would let three open
 * tabs evict each other). A feature sends with `realtimeSend`, hears every message with
 * `onRealtimeMessage`, and is told on each (re)connection with `onRealtimeOpen` (to join again).
 */
const messageListeners = new Set<(msg: { type?: string }) => void>();
const openListeners = new Set<() => void>();
/** Whether the socket is open now (a feature shows its connection state from it). */
export const realtimeOpen = new Observable<boolean>(false);
export function realtimeSend(message: object): boolean {
  if (!socket || socket.readyState !== WebSocket.OPEN) return false;
  socket.send(JSON.stringify(message));
  return true;
}
export function onRealtimeMessage(listener: (msg: { type?: string }) => void): () => void {
  messageListeners.add(listener);
  return () => messageListeners.delete(listener);
}
export function onRealtimeOpen(listener: () => void): () => void {
  openListeners.add(listener);
  return () => openListeners.delete(listener);
}
/** A feature that needs the socket now (a live class; the browser came back online): try at once rather than after the backoff or the poll. */
export function reconnectRealtimeNow(): void {
  if (!running || socket) return;
  attempt = 0;
  schedule(0, connect);
}
let timer: ReturnType<typeof setTimeout> | undefined;
let pinger: ReturnType<typeof setInterval> | undefined;
let attempt = 0;
let running = false;

async function refreshCount(): Promise<void> {
  try {
    const { data } = await api<{ unread: number }>('GET', '/api/v1/me/notifications/unread-count');
    if (running) unreadNotifications.set(data.unread);
  } catch {
    // Offline or refused: the next poll or push brings it.
  }
}

function schedule(delayMs: number, then: () => void): void {
  clearTimeout(timer);
  timer = setTimeout(then, delayMs);
}

/** No socket now: poll the count, and try the socket again later (backoff), unless it was replaced. */
function fallBack(retrySocket: boolean): void {
  void refreshCount();
  if (retrySocket) schedule(nextDelayMs(attempt++, undefined, Math.random), connect);
  else schedule(POLL_MS / 2 + Math.random() * (POLL_MS / 2), () => fallBack(false));
}

function onMessage(event: MessageEvent): void {
  let msg: { type?: string; count?: number; notification?: Notification };
  try {
    msg = JSON.parse(String(event.data)) as typeof msg;
  } catch {
    return;
  }
  for (const l of messageListeners) l(msg);
  if (msg.type === 'unread' && typeof msg.count === 'number') unreadNotifications.set(msg.count);
  else if (msg.type === 'notification' && msg.notification) {
    const n = msg.notification;
    pushedNotifications.update((list) => [n, ...list.filter((x) => x.id !== n.id)].slice(0, MAX_PUSHED_KEPT));
    // Announced politely (never interrupting), once per new item — not on every count update.
    announce(t('notifications.announce', { sentence: sentenceOf(n) }));
  }
}

function connect(): void {
  if (!running) return;
  if (typeof WebSocket === 'undefined') return fallBack(false);
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/v1/realtime`);
  socket = ws;
  ws.onopen = () => {
    attempt = 0;
    // Whatever happened while disconnected: the count is asked once, then pushed.
    void refreshCount();
    clearInterval(pinger);
    pinger = setInterval(() => ws.readyState === WebSocket.OPEN && ws.send('ping'), PING_MS);
    realtimeOpen.set(true);
    for (const l of openListeners) l();
  };
  ws.onmessage = onMessage;
  ws.onclose = (event) => {
    clearInterval(pinger);
    if (socket !== ws || !running) return;
    realtimeOpen.set(false);
    socket = undefined;
    if (event.code === CLOSE_SIGNED_OUT) return;
    if (event.code === CLOSE_RESTART) {
      // The node is stopping: come back after the delay it chose for us (to another node, through the load balancer).
      attempt = 0;
      void refreshCount();
      return schedule(restartDelayMs(event.reason, Math.random), connect);
    }
    fallBack(event.code !== CLOSE_REPLACED);
  };
}

export function startLive(): void {
  if (running) return;
  running = true;
  attempt = 0;
  void refreshCount();
  connect();
}

export function stopLive(): void {
  running = false;
  clearTimeout(timer);
  clearInterval(pinger);
  const ws = socket;
  socket = undefined;
  ws?.close(1000);
  realtimeOpen.set(false);
  unreadNotifications.set(undefined);
  pushedNotifications.set([]);
}

/** Follows who is signed in: live while someone is, stopped at logout (nothing of theirs stays). */
export function installLiveNotifications(): void {
  let personId: string | undefined;
  const follow = (person: ReturnType<typeof me.get>) => {
    const next = person ? person.id : undefined;
    if (next === personId) return;
    stopLive();
    personId = next;
    if (next) startLive();
  };
  follow(me.get());
  me.subscribe(follow);
}
