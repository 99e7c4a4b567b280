import { useT } from '../../app/state.js';
import { useValue } from '../../app/store.js';
import { unreadNotifications } from './live.js';

/**
 * The navigation entry's label with its unread badge. The badge is hidden from screen readers and
 * the count said in words instead, so the link's accessible name is "Notifications, 3 non lues".
 * The count itself is not a live region: new items are announced once each (live.ts), not every update.
 */
export function NotificationsLabel() {
  const t = useT();
  const unread = useValue(unreadNotifications);
  if (unread === undefined || unread === 0) return <>{t('nav.notifications')}</>;
  return (
    <>
      <span aria-hidden="true">
        {t('nav.notifications')}
        <span class="badge badge-unread" data-testid="notifications-badge">
          {unread > 99 ? '99+' : unread}
        </span>
      </span>
      <span class="visually-hidden">{t(unread === 1 ? 'notifications.unreadOne' : 'notifications.unreadMany', { count: unread })}</span>
    </>
  );
}

/** For Aujourd'hui: how many notifications are unread, with the way to them. */
export function NotificationsSummary({ href }: { href: string }) {
  const t = useT();
  const unread = useValue(unreadNotifications);
  if (unread === undefined) return null;
  return (
    <p class="today-notifications" data-testid="today-notifications">
      <a href={href}>{unread === 0 ? t('notifications.noneUnread') : t(unread === 1 ? 'notifications.todayOne' : 'notifications.todayMany', { count: unread })}</a>
    </p>
  );
}
