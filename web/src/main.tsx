import { render } from 'preact';
import { ApiError } from './api/client.js';
import { App } from './app/App.js';
import { nextDelayMs } from './api/backoff.js';
import { installLinkInterception } from './app/router.js';
import { me } from './app/state.js';
import './app/styles.css';
import { applyLang, deviceLang, resumeSession } from './features/identity/session.js';
import { pollStatus } from './features/status/status.js';
import { installOutboxTriggers } from './offline/outbox-runner.js';
import { someoneSignedInBefore } from './offline/data-cache.js';
import { prefetchToday } from './features/today/today.api.js';
import { installLiveNotifications } from './features/notifications/live.js';

applyLang(deviceLang());
if (someoneSignedInBefore() && (location.pathname === '/' || location.pathname === '/aujourdhui')) prefetchToday();
installLinkInterception();
installOutboxTriggers();
installLiveNotifications();
render(<App />, document.getElementById('app')!);
pollStatus();

/**
 * Who is signed in. Without a network and without a cached answer the page cannot know: it keeps
 * trying (with backoff) and shows the login page meanwhile, which says what is happening when used.
 */
async function boot(attempt = 0): Promise<void> {
  try {
    await resumeSession();
  } catch (err) {
    if (me.get() === undefined) me.set(null);
    if (err instanceof ApiError && err.transient) setTimeout(() => void boot(attempt + 1), nextDelayMs(attempt, err.retryAfterSeconds, Math.random));
  }
}
void boot();

if ('serviceWorker' in navigator) {
  // Registered after the page is up so that its downloads never compete with the first paint.
  addEventListener('load', () => {
    const hadController = navigator.serviceWorker.controller !== null;
    void navigator.serviceWorker.register('/sw.js', { scope: '/' });
    // First visit: the worker took control after the day was fetched; fetch it once more through
    // the worker so that it is kept for offline use.
    navigator.serviceWorker.addEventListener('controllerchange', () => {
      if (!hadController && me.get()) void fetch('/api/v1/me/today', { credentials: 'same-origin' }).then(() => fetch('/api/v1/me', { credentials: 'same-origin' }));
    });
  });
}
