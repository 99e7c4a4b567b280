import { useEffect } from 'preact/hooks';
import { formatTime } from '../i18n/index.js';
import { announce, freshness, lang, outboxEntries, platformStatus, useT } from './state.js';
import { useValue } from './store.js';
import { useSecondsUntil } from './use-retrying-load.js';

/** The platform operator's message and read-only mode, on every page (fed by GET /api/v1/status). */
export function StatusBanner() {
  const t = useT();
  const status = useValue(platformStatus);
  if (!status.incident && !status.readOnly) return null;
  return (
    <div class="banner banner-status" role="region" aria-label={t('status.label')}>
      {status.incident && <p>{t('status.incident', { message: status.incident })}</p>}
      {status.readOnly && <p>{t('status.readOnly')}</p>}
    </div>
  );
}

/**
 * "Hors ligne — données de 7 h 42": shown whenever what the page shows came from the device's
 * cache. Its text changes only on state changes (the countdown is not read out every second).
 */
export function NetworkBanner() {
  const t = useT();
  const current = useValue(lang);
  const fresh = useValue(freshness);
  const seconds = useSecondsUntil(fresh?.retryAtMs);
  const time = fresh ? formatTime(fresh.atMs, current) : '';
  const text = !fresh ? '' : fresh.reason === 'offline' ? t('net.offline', { time }) : t('net.busyData', { time, seconds });
  // Read out once when the state changes, not at every tick of the countdown.
  useEffect(() => {
    if (text) announce(text);
  }, [fresh?.reason, fresh?.atMs]);
  if (!fresh) return null;
  return (
    <div class={`banner banner-${fresh.reason}`} data-testid="network-banner">
      <p>{text}</p>
    </div>
  );
}

/** How many writes wait in the outbox, linking to where they are listed. */
export function OutboxBadge() {
  const t = useT();
  const pending = useValue(outboxEntries).filter((e) => e.state === 'pending').length;
  if (pending === 0) return null;
  return (
    <p class="banner banner-outbox">
      <a href="/compte#attente">{pending === 1 ? t('outbox.waitingOne') : t('outbox.waitingCount', { count: pending })}</a>
    </p>
  );
}
