import { Observable } from './store.js';

/** The client's pages, under French paths (they show in the address bar). */
export const ROUTES = {
  login: '/connexion',
  activate: '/activation',
  today: '/aujourdhui',
  timetable: '/emploi-du-temps',
  homework: '/cahier-de-textes',
  news: '/actualites',
  documents: '/documents',
  messaging: '/messagerie',
  liaison: '/carnet-de-liaison',
  classroom: '/classe-virtuelle',
  /** A guest link: `/classe-virtuelle/invitation#<token>` (the token stays out of requests and logs). */
  classroomInvitation: '/classe-virtuelle/invitation',
  account: '/compte',
  notifications: '/notifications',
  engagement: '/suivi',
} as const;
export type RouteName = keyof typeof ROUTES;
export type Path = (typeof ROUTES)[RouteName];

export const currentPath = new Observable<string>(location.pathname);
/** The query of the current page ("?travail=…"): which entry a feature page shows. */
export const currentSearch = new Observable<string>(location.search);

export function routeOf(path: string): RouteName | undefined {
  return (Object.keys(ROUTES) as RouteName[]).find((name) => ROUTES[name] === path);
}

export function navigate(path: Path, options: { replace?: boolean; search?: string } = {}): void {
  const search = options.search ?? '';
  if (location.pathname !== path || location.search !== search) {
    if (options.replace) history.replaceState(null, '', path + search);
    else history.pushState(null, '', path + search);
  }
  currentSearch.set(search);
  currentPath.set(path);
}

/** Same-origin links are handled here (no reload); modified clicks keep the browser's meaning. */
export function installLinkInterception(): void {
  addEventListener('popstate', () => {
    currentSearch.set(location.search);
    currentPath.set(location.pathname);
  });
  document.addEventListener('click', (event) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const link = (event.target as Element | null)?.closest?.('a[href]');
    // In-page anchors (the skip link) keep their native behaviour.
    if (!(link instanceof HTMLAnchorElement) || link.origin !== location.origin || link.target || link.hash) return;
    const name = routeOf(link.pathname);
    if (!name) return;
    event.preventDefault();
    navigate(ROUTES[name], { search: link.search });
  });
}
