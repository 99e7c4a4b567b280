import type { Stale } from '../api/client.js';
import type { Me, PlatformStatus } from '../api/types.js';
import { translate, type Lang, type MessageKey, type Params } from '../i18n/index.js';
import type { OutboxEntry } from '../offline/outbox.js';
import { Observable, useValue } from './store.js';

/** Who is signed in on this device: unknown while booting, null when nobody. */
export const me = new Observable<Me | null | undefined>(undefined);
export const lang = new Observable<Lang>('fr');
export const platformStatus = new Observable<PlatformStatus>({ incident: null, readOnly: false });
/** What the page shows came from the device's cache (and why, and when a fresh copy is tried next). */
export interface Freshness extends Stale {
  retryAtMs: number | undefined;
}
/** undefined: what the page shows is fresh from the server. */
export const freshness = new Observable<Freshness | undefined>(undefined);
/** The signed-in person's waiting writes. */
export const outboxEntries = new Observable<OutboxEntry[]>([]);
/** A one-off message for the live region (status changes read out by screen readers). */
export const announcement = new Observable<string>('');

/** `t` in the current language, re-rendering the component when the language changes. */
export function useT(): (key: MessageKey, params?: Params) => string {
  const current = useValue(lang);
  return (key, params) => translate(current, key, params);
}

export function t(key: MessageKey, params?: Params): string {
  return translate(lang.get(), key, params);
}

export function announce(message: string): void {
  // Clearing first makes a repeated message be read again.
  announcement.set('');
  queueMicrotask(() => announcement.set(message));
}
