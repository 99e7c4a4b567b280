import { api, type ApiOk } from '../../api/client.js';
import type { Today, TodayMine } from '../../api/types.js';

/**
 * On a weak link every round trip is 150 ms or more: when someone was signed in on this device and
 * opens Aujourd'hui, the day is asked for at once, alongside "who am I", instead of after it.
 */
let early: Promise<ApiOk<Today>> | undefined;

export function prefetchToday(): void {
  early = api<Today>('GET', '/api/v1/me/today');
  // Whoever uses it handles its failure; an unused one must not be reported as unhandled.
  early.catch(() => undefined);
}

/** The prefetched day if there is one (used once), else a fresh request. */
export function loadToday(): Promise<ApiOk<Today>> {
  const p = early;
  early = undefined;
  return p ?? api<Today>('GET', '/api/v1/me/today');
}

/** Per-person counts (never cached with the day): unread messages, liaison notes to sign. */
export const loadMine = () => api<TodayMine>('GET', '/api/v1/me/today/mine');
