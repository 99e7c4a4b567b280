import { ApiError, api, csrfToken, setApiLang, setCsrfToken } from '../../api/client.js';
import type { MeAnswer } from '../../api/types.js';
import { freshness, lang, me, outboxEntries } from '../../app/state.js';
import { hasCatalogue, isLang, loadCatalogue, type Lang } from '../../i18n/index.js';
import { forgetLastPerson, noteSignedIn, wipeDataCache } from '../../offline/data-cache.js';
import { flushNow, queueWrite, refreshOutboxView, wipeOutboxOf } from '../../offline/outbox-runner.js';

/**
 * A logout that could not reach the server (offline): the session cookie is HttpOnly, so only the
 * server can end it. Its CSRF token is kept until the server answers; then the logout completes.
 */
const PENDING_LOGOUT_KEY = 'preau.pendingLogout';
/** The interface language before anyone signs in (the login page of a device). */
const DEVICE_LANG_KEY = 'preau.lang';

/** The page switches language once that catalogue is loaded (English is a lazy chunk): never half and half. */
export function applyLang(next: Lang): void {
  setApiLang(next);
  localStorage.setItem(DEVICE_LANG_KEY, next);
  const show = () => {
    // A later choice wins over a slower load.
    if (localStorage.getItem(DEVICE_LANG_KEY) !== next) return;
    lang.set(next);
    document.documentElement.lang = next;
  };
  if (hasCatalogue(next)) show();
  else loadCatalogue(next).then(show, () => undefined);
}

export function deviceLang(): Lang {
  const stored = localStorage.getItem(DEVICE_LANG_KEY);
  return isLang(stored) ? stored : 'fr';
}

async function signedIn(answer: MeAnswer): Promise<void> {
  await noteSignedIn(answer.user.id);
  setCsrfToken(answer.csrfToken);
  me.set(answer.user);
  await refreshOutboxView();
  // A language change still waiting in the outbox is newer than what the server knows.
  const waiting = outboxEntries.get().findLast((e) => e.kind === 'preferences' && e.state === 'pending');
  const waitingLang = (waiting?.body as { lang?: unknown } | undefined)?.lang;
  applyLang(isLang(waitingLang) ? waitingLang : answer.user.preferences.lang);
  void flushNow();
}

/** Who is signed in (GET /me): null when nobody. Network failures without a cached answer throw. */
export async function resumeSession(): Promise<void> {
  await completePendingLogout();
  try {
    const { data, stale } = await api<MeAnswer>('GET', '/api/v1/me');
    await signedIn(data);
    if (stale) freshness.set({ ...stale, retryAtMs: undefined });
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      me.set(null);
      return;
    }
    throw err;
  }
}

/** `headers`: the edge's proof-of-work solution when the login was challenged (see login-flow.ts). */
export async function login(body: { login: string; password: string; remember: boolean }, headers: Record<string, string> = {}): Promise<void> {
  const { data } = await api<MeAnswer>('POST', '/api/v1/auth/login', { body, headers });
  await signedIn(data);
  keepOfflineCopyOfMe();
}

export async function activate(body: { login: string; code: string; password: string; remember: boolean }, headers: Record<string, string> = {}): Promise<void> {
  const { data } = await api<MeAnswer>('POST', '/api/v1/auth/activate', { body, headers });
  await signedIn(data);
  keepOfflineCopyOfMe();
}

/**
 * The service worker keeps GET /api/v1/me for offline starts; a sign-in answers a POST, which it
 * does not keep. One cheap read (a cached session on the server) puts it there.
 */
function keepOfflineCopyOfMe(): void {
  void fetch('/api/v1/me', { credentials: 'same-origin' }).catch(() => undefined);
}

/**
 * Logout on a device that may be shared: this person's cached data and waiting writes are erased
 * first (whatever the network does), then the server closes the session. Returns whether the
 * server could be told (false: it will be when it answers).
 */
export async function logout(): Promise<boolean> {
  const person = me.get();
  const csrf = csrfToken();
  if (person) await wipeOutboxOf(person.id);
  await wipeDataCache();
  forgetLastPerson();
  freshness.set(undefined);
  me.set(null);
  setCsrfToken(undefined);
  if (!csrf) return true;
  try {
    await api('POST', '/api/v1/auth/logout', { csrfToken: csrf });
    return true;
  } catch (err) {
    if (err instanceof ApiError && !err.transient) return true; // Already ended on the server.
    localStorage.setItem(PENDING_LOGOUT_KEY, csrf);
    return false;
  }
}

async function completePendingLogout(): Promise<void> {
  const csrf = localStorage.getItem(PENDING_LOGOUT_KEY);
  if (!csrf) return;
  try {
    await api('POST', '/api/v1/auth/logout', { csrfToken: csrf });
    localStorage.removeItem(PENDING_LOGOUT_KEY);
  } catch (err) {
    if (err instanceof ApiError && !err.transient) localStorage.removeItem(PENDING_LOGOUT_KEY);
  }
}

/** The interface language: applied at once, stored on the server through the outbox (works offline). */
export async function chooseLang(next: Lang): Promise<void> {
  applyLang(next);
  const person = me.get();
  if (person) me.set({ ...person, preferences: { lang: next } });
  await queueWrite('preferences', 'PUT', '/api/v1/me/preferences', { lang: next });
}
