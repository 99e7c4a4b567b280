import { useEffect, useRef, useState } from 'preact/hooks';
import type { FunctionComponent } from 'preact';
import { ActivatePage } from '../features/identity/ActivatePage.js';
import { LoginPage } from '../features/identity/LoginPage.js';
import { logout } from '../features/identity/session.js';
import { TodayPage } from '../features/today/TodayPage.js';
import type { Profile } from '../api/types.js';
import { NotificationsLabel } from '../features/notifications/NotificationsLink.js';
import type { MessageKey } from '../i18n/index.js';
import { NetworkBanner, OutboxBadge, StatusBanner } from './banners.js';
import { EmptyState, PageTitle } from './EmptyState.js';
import { LazyLoader, type LazyState } from './lazy-page.js';
import { currentPath, navigate, ROUTES, routeOf, type RouteName } from './router.js';
import { announce, announcement, me, outboxEntries, t, useT } from './state.js';
import { useValue } from './store.js';

/** Pages a signed-out visitor may see; every other page needs a session. */
const PUBLIC: ReadonlySet<RouteName> = new Set(['login', 'activate']);
/** `profiles`: only these see the entry (the carnet de liaison is between school and families, not pupils). */
const NAV: { route: RouteName; label: MessageKey; profiles?: readonly Profile[] }[] = [
  { route: 'today', label: 'nav.today' },
  { route: 'timetable', label: 'nav.timetable' },
  { route: 'homework', label: 'nav.homework' },
  { route: 'news', label: 'nav.news' },
  { route: 'documents', label: 'nav.documents' },
  { route: 'messaging', label: 'nav.messaging' },
  { route: 'liaison', label: 'nav.liaison', profiles: ['parent', 'enseignant', 'personnel', 'admin_etablissement'] },
  { route: 'classroom', label: 'nav.classroom' },
  { route: 'engagement', label: 'nav.engagement', profiles: ['eleve', 'parent', 'enseignant', 'personnel'] },
  { route: 'notifications', label: 'nav.notifications' },
  { route: 'account', label: 'nav.account' },
];
const TITLES: Record<RouteName, MessageKey> = {
  login: 'login.title', activate: 'activate.title', today: 'today.title', timetable: 'nav.timetable', homework: 'nav.homework', documents: 'nav.documents',
  messaging: 'nav.messaging', liaison: 'nav.liaison', news: 'nav.news', classroom: 'nav.classroom', classroomInvitation: 'nav.classroom', account: 'account.title', notifications: 'notifications.title',
  engagement: 'nav.engagement',
};

/**
 * Pages not needed for the first screen (Mon compte, the cahier de textes…) are loaded when first
 * opened, as their own chunks (outside the login + Aujourd'hui budget). A chunk refused or cut is
 * tried again with backoff, then the page says so with « Réessayer » (lazy-page.ts).
 */
const lazy = (load: () => Promise<{ default: FunctionComponent }>) => new LazyLoader(() => load().then((m) => m.default));
const accountPage = lazy(() => import('../features/identity/AccountPage.js'));
const homeworkPage = lazy(() => import('../features/homework/HomeworkPage.js'));
const timetablePage = lazy(() => import('../features/timetable/TimetablePage.js'));
const documentsPage = lazy(() => import('../features/documents/DocumentsPage.js'));
const messagingPage = lazy(() => import('../features/messaging/MessagingPage.js'));
const liaisonPage = lazy(() => import('../features/liaison/LiaisonPage.js'));
const newsPage = lazy(() => import('../features/news/NewsPage.js'));
const notificationsPage = lazy(() => import('../features/notifications/NotificationsPage.js'));
const engagementPage = lazy(() => import('../features/engagement/EngagementPage.js'));
const classroomPage = lazy(() => import('../features/classroom/ClassroomPage.js'));

/** The page of `loader` (keyed by route), « Chargement… » meanwhile, or the failure with « Réessayer ». */
function LazyPage({ loader }: { loader: LazyLoader<FunctionComponent> }) {
  const t = useT();
  const [state, setState] = useState<LazyState<FunctionComponent>>(loader.state);
  useEffect(() => {
    setState(loader.state);
    const off = loader.subscribe(setState);
    loader.want();
    return off;
  }, [loader]);
  if (state.phase === 'ready') return <state.page />;
  if (state.phase === 'failed') return <LazyFailure onRetry={() => loader.retry()} />;
  return <p class="notice">{t('app.loading')}</p>;
}

/** Said as an alert and focused (keyboard and screen-reader users land on it, « Réessayer » next). */
function LazyFailure({ onRetry }: { onRetry: () => void }) {
  const t = useT();
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => box.current?.focus(), []);
  return (
    <div class="alert" role="alert" tabIndex={-1} ref={box} data-testid="lazy-page-failed">
      <p>{t('app.chunkFailed')}</p>
      <button type="button" class="button-secondary" onClick={onRetry}>
        {t('app.chunkRetry')}
      </button>
    </div>
  );
}

export function App() {
  const t = useT();
  const person = useValue(me);
  const path = useValue(currentPath);
  const route = routeOf(path);
  const first = useRef(true);

  // Where a visitor may be: signed out → login; signed in on a public page or at / → Aujourd'hui.
  useEffect(() => {
    if (person === undefined) return;
    if (person === null && (!route || !PUBLIC.has(route))) navigate(ROUTES.login, { replace: true });
    else if (person && (path === '/' || (route && PUBLIC.has(route)))) navigate(ROUTES.today, { replace: true });
  }, [person, path, route]);

  // Each page has its own title; after a navigation (not the first page shown), focus goes to its
  // heading so that keyboard and screen-reader users start there.
  useEffect(() => {
    document.title = t('app.title', { page: t(route ? TITLES[route] : 'notFound.title') });
    if (person === undefined) return;
    if (first.current) {
      first.current = false;
      return;
    }
    requestAnimationFrame(() => document.getElementById('page-title')?.focus());
  }, [route, person === null, person === undefined]);

  let page;
  if (person === undefined) page = <p class="notice">{t('app.loading')}</p>;
  else if (person === null && route === 'activate') page = <ActivatePage />;
  else if (person === null) page = <LoginPage />;
  else if (route === 'today' || path === '/') page = <TodayPage />;
  else if (route === 'account') page = <LazyPage key={route} loader={accountPage} />;
  else if (route === 'timetable') page = <LazyPage key={route} loader={timetablePage} />;
  else if (route === 'homework') page = <LazyPage key={route} loader={homeworkPage} />;
  else if (route === 'documents') page = <LazyPage key={route} loader={documentsPage} />;
  else if (route === 'messaging') page = <LazyPage key={route} loader={messagingPage} />;
  else if (route === 'liaison') page = <LazyPage key={route} loader={liaisonPage} />;
  else if (route === 'news') page = <LazyPage key={route} loader={newsPage} />;
  else if (route === 'notifications') page = <LazyPage key={route} loader={notificationsPage} />;
  else if (route === 'engagement') page = <LazyPage key={route} loader={engagementPage} />;
  else if (route === 'classroom' || route === 'classroomInvitation') page = <LazyPage key={route} loader={classroomPage} />;
  else if (route === 'login' || route === 'activate') page = <p class="notice">{t('app.loading')}</p>;
  else page = <NotFound />;

  return (
    <>
      <a class="skip-link" href="#contenu">
        {t('app.skip')}
      </a>
      <StatusBanner />
      <header class="top">
        <div class="brand">
          <img src="/icon.svg" alt="" width="32" height="32" />
          <p class="brand-name">
            {t('app.name')} <span class="brand-tagline">{t('app.tagline')}</span>
          </p>
        </div>
        {person && <Navigation current={route} />}
      </header>
      <NetworkBanner />
      {person && <OutboxBadge />}
      <main id="contenu" tabIndex={-1}>
        {page}
      </main>
      <LiveRegion />
    </>
  );
}

function Navigation({ current }: { current: RouteName | undefined }) {
  const t = useT();
  const person = useValue(me);
  const onLogout = async () => {
    const pending = outboxEntries.get().some((e) => e.state === 'pending');
    if (pending && !confirm(t('outbox.logoutWarning'))) return;
    const told = await logout();
    navigate(ROUTES.login, { replace: true });
    announce(t(told ? 'logout.done' : 'logout.offline'));
  };
  return (
    <>
      <nav aria-label={t('nav.label')}>
        <ul>
          {NAV.filter(({ profiles }) => !profiles || (person && profiles.includes(person.profile))).map(({ route, label }) => (
            <li key={route}>
              <a href={ROUTES[route]} aria-current={current === route ? 'page' : undefined}>
                {route === 'notifications' ? <NotificationsLabel /> : t(label)}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <div class="who">
        {person && <p>{t('nav.signedInAs', { name: `${person.firstName} ${person.lastName}` })}</p>}
        <button type="button" class="button-secondary" onClick={() => void onLogout()}>
          {t('nav.logout')}
        </button>
      </div>
    </>
  );
}

function NotFound() {
  return (
    <section class="card" aria-labelledby="page-title">
      <PageTitle>{t('notFound.title')}</PageTitle>
      <EmptyState>
        <a href={ROUTES.today}>{t('notFound.body')}</a>
      </EmptyState>
    </section>
  );
}

/** Status changes for screen readers (polite: they never interrupt). */
function LiveRegion() {
  const message = useValue(announcement);
  return (
    <div class="visually-hidden" role="status" aria-live="polite" aria-atomic="true" data-testid="live-region">
      {message}
    </div>
  );
}
