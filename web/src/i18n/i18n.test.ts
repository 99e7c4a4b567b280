import { beforeAll, describe, expect, it } from 'vitest';
import { en } from './en.js';
import { fr } from './fr.js';
import { describeWait, formatDateTime, formatSchoolDay, formatTime, hasMessage, loadCatalogue, translate } from './index.js';

describe('catalogues', () => {
  it('English has exactly the French keys, and the same placeholders in each message', () => {
    expect(Object.keys(en).sort()).toEqual(Object.keys(fr).sort());
    const names = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const key of Object.keys(fr) as (keyof typeof fr)[]) expect(names(en[key]), key).toEqual(names(fr[key]));
  });

  it('no message is empty and French is the default wording of the product', () => {
    for (const [key, value] of Object.entries(fr)) expect(value.trim(), key).not.toBe('');
    expect(translate('fr', 'login.remember')).toBe('Rester connecté sur cet appareil');
  });

  it('fills placeholders and leaves a missing one visible', async () => {
    expect(translate('fr', 'net.busy', { seconds: 12 })).toBe('Préau est très sollicité, nouvel essai dans 12 s');
    // English is a lazy chunk: French until it is loaded, English after.
    expect(translate('en', 'net.busy', {})).toBe('Préau est très sollicité, nouvel essai dans {seconds} s');
    await loadCatalogue('en');
    expect(translate('en', 'net.busy', {})).toBe('Préau is very busy, retrying in {seconds} s');
    expect(hasMessage('error.auth.invalid_credentials')).toBe(true);
    expect(hasMessage('error.nope')).toBe(false);
  });
});

describe('dates and times in Paris', () => {
  beforeAll(() => loadCatalogue('en'));

  // 05:42 UTC in September is 7:42 in Paris (summer time); 06:42 UTC in January is 7:42 too.
  it('writes times the French way, in Paris time, whatever the season', () => {
    expect(formatTime('2026-09-07T05:42:00Z', 'fr')).toBe('7 h 42');
    expect(formatTime('2026-01-12T06:42:00Z', 'fr')).toBe('7 h 42');
    expect(formatTime('2026-09-07T12:05:00Z', 'fr')).toBe('14 h 05');
    expect(formatTime('2026-09-07T22:00:00Z', 'fr')).toBe('0 h 00');
    expect(formatTime('2026-09-07T05:42:00Z', 'en')).toBe('7:42 AM');
  });

  it('writes the school day and instants in full', () => {
    expect(formatSchoolDay('2026-09-07', 'fr')).toBe('lundi 7 septembre 2026');
    expect(formatSchoolDay('2026-09-07', 'en')).toBe('Monday, 7 September 2026');
    expect(formatDateTime('2026-09-07T05:42:00Z', 'fr')).toBe('7 septembre 2026 à 7 h 42');
  });

  it('describes waits like the server does', () => {
    expect(describeWait(1, 'fr')).toBe('1 seconde');
    expect(describeWait(45, 'fr')).toBe('45 secondes');
    expect(describeWait(61, 'fr')).toBe('2 minutes');
    expect(describeWait(60, 'en')).toBe('1 minute');
  });
});
