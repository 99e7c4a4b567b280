import { DATA_CACHE } from './cache-names.js';

/** Who last used this device (an id, nothing else): another person signing in gets a clean cache. */
const LAST_PERSON_KEY = 'preau.lastPerson';

/** Removes the signed-in person's cached answers (logout, another person signs in). */
export async function wipeDataCache(): Promise<void> {
  if ('caches' in globalThis) await caches.delete(DATA_CACHE);
}

export async function noteSignedIn(personId: string): Promise<void> {
  const last = localStorage.getItem(LAST_PERSON_KEY);
  if (last !== null && last !== personId) await wipeDataCache();
  localStorage.setItem(LAST_PERSON_KEY, personId);
}

/** Someone was signed in on this device last (their session may still be open). */
export function someoneSignedInBefore(): boolean {
  return localStorage.getItem(LAST_PERSON_KEY) !== null;
}

export function forgetLastPerson(): void {
  localStorage.removeItem(LAST_PERSON_KEY);
}
