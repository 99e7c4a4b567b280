import { useEffect, useState } from 'preact/hooks';
import { EmptyState, PageTitle } from '../../app/EmptyState.js';
import { errorMessage } from '../../app/errors.js';
import { announce, lang, useT } from '../../app/state.js';
import { useValue } from '../../app/store.js';
import { pushedNotifications, sentenceOf, unreadNotifications, type Notification } from './live.js';
import { loadFeed, markAllRead, markRead, mergeFeed } from './notifications.api.js';

const timeFormat = (l: string) => new Intl.DateTimeFormat(l === 'en' ? 'en-GB' : 'fr-FR', { timeZone: 'Europe/Paris', dateStyle: 'medium', timeStyle: 'short' });

/** The feed: newest first, pushed items appear at once; read one, read all (up to what is shown). */
export default function NotificationsPage() {
  const t = useT();
  const current = useValue(lang);
  const pushed = useValue(pushedNotifications);
  const [loaded, setLoaded] = useState<Notification[]>([]);
  const [cursor, setCursor] = useState<string | null | undefined>(undefined);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  // Read state changed here wins over what a page or a push said.
  const [readState, setReadState] = useState<Record<string, boolean>>({});

  const more = async (from?: string | null) => {
    setBusy(true);
    try {
      const page = await loadFeed(from);
      setLoaded((l) => [...l, ...page.notifications]);
      setCursor(page.nextCursor);
      setError(undefined);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  useEffect(() => {
    void more();
  }, []);

  const items = mergeFeed(pushed, loaded).map((n) => (n.id in readState ? { ...n, read: readState[n.id]! } : n));
  const setRead = async (n: Notification, read: boolean) => {
    try {
      unreadNotifications.set(await markRead(n.id, read));
      setReadState((s) => ({ ...s, [n.id]: read }));
    } catch (err) {
      announce(errorMessage(err, current));
    }
  };
  const readAll = async () => {
    const newest = items[0];
    if (!newest) return;
    try {
      unreadNotifications.set(await markAllRead(newest.at));
      setReadState((s) => ({ ...s, ...Object.fromEntries(items.map((n) => [n.id, true])) }));
      announce(t('notifications.allReadDone'));
    } catch (err) {
      announce(errorMessage(err, current));
    }
  };
  const format = timeFormat(current);

  return (
    <section class="card notifications" aria-labelledby="page-title">
      <PageTitle>{t('notifications.title')}</PageTitle>
      {items.some((n) => !n.read) && (
        <button type="button" class="button-secondary" onClick={() => void readAll()}>
          {t('notifications.readAll')}
        </button>
      )}
      {error !== undefined && (
        <div class="alert" role="alert">
          <p>{errorMessage(error, current)}</p>
          <button type="button" class="button-secondary" onClick={() => void more(cursor)}>
            {t('net.retryNow')}
          </button>
        </div>
      )}
      {cursor !== undefined && items.length === 0 && <EmptyState>{t('notifications.empty')}</EmptyState>}
      {cursor === undefined && error === undefined && <p class="notice">{t('app.loading')}</p>}
      <ul class="notification-list" data-testid="notification-list">
        {items.map((n) => (
          <li key={n.id} class={n.read ? 'notification' : 'notification notification-unread'}>
            <a href={n.link} onClick={() => !n.read && void setRead(n, true)}>
              {!n.read && <span class="visually-hidden">{t('notifications.unreadMark')} </span>}
              {sentenceOf(n, t)}
            </a>
            <time dateTime={n.at}>{format.format(new Date(n.at))}</time>
            <button type="button" class="button-link" onClick={() => void setRead(n, !n.read)}>
              {t(n.read ? 'notifications.markUnread' : 'notifications.markRead')}
              <span class="visually-hidden"> : {sentenceOf(n, t)}</span>
            </button>
          </li>
        ))}
      </ul>
      {cursor && (
        <button type="button" class="button-secondary" disabled={busy} onClick={() => void more(cursor)}>
          {t('notifications.more')}
        </button>
      )}
    </section>
  );
}
