import { fr, type MessageKey } from './fr.js';

export type { MessageKey } from './fr.js';
export type Lang = 'fr' | 'en';
export const LANGS: readonly Lang[] = ['fr', 'en'];

/** The school day is in Paris time wherever the device is (a pupil abroad still has Paris lessons). */
export const SCHOOL_TIME_ZONE = 'Europe/Paris';

/**
 * French is the reference and ships with the first page; English is a lazy chunk (precached by the
 * service worker like every chunk), loaded by `loadCatalogue` before the interface switches to it.
 */
const CATALOGUES: Partial<Record<Lang, Record<MessageKey, string>>> = { fr };

export function hasCatalogue(lang: Lang): boolean {
  return CATALOGUES[lang] !== undefined;
}

export async function loadCatalogue(lang: Lang): Promise<void> {
  if (lang === 'en' && !CATALOGUES.en) CATALOGUES.en = (await import('./en.js')).en;
}

export type Params = Record<string, string | number>;

export function isLang(value: unknown): value is Lang {
  return value === 'fr' || value === 'en';
}

/** A message of `lang`'s catalogue with its `{name}` placeholders filled (a missing one stays visible). */
export function translate(lang: Lang, key: MessageKey, params: Params = {}): string {
  // A catalogue not loaded yet reads as French (the interface only switches once it is there).
  const template = (CATALOGUES[lang] ?? fr)[key];
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (params[name] === undefined ? whole : String(params[name])));
}

/** Whether a catalogue has this key (server error ids are looked up as `error.<id>`). */
export function hasMessage(key: string): key is MessageKey {
  return Object.prototype.hasOwnProperty.call(fr, key);
}

const partsCache = new Map<string, Intl.DateTimeFormat>();
function formatter(locale: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${locale}|${JSON.stringify(options)}`;
  let f = partsCache.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(locale, { timeZone: SCHOOL_TIME_ZONE, ...options });
    partsCache.set(key, f);
  }
  return f;
}

/**
 * A time of day in Paris: "7 h 42" in French (the typographic form French readers expect, rather
 * than "07:42"), "7:42 AM" in English.
 */
export function formatTime(instant: Date | number | string, lang: Lang): string {
  const d = new Date(instant);
  if (lang === 'en') return formatter('en-GB', { hour: 'numeric', minute: '2-digit', hour12: true }).format(d).replace(/\s?([ap])m$/i, (_, x: string) => ` ${x.toUpperCase()}M`);
  const parts = formatter('fr-FR', { hour: 'numeric', minute: '2-digit', hourCycle: 'h23' }).formatToParts(d);
  const hour = Number(parts.find((p) => p.type === 'hour')?.value ?? '0');
  const minute = parts.find((p) => p.type === 'minute')?.value ?? '00';
  return `${hour} h ${minute}`;
}

/** A calendar day given as YYYY-MM-DD (the school day): "lundi 7 septembre 2026". */
export function formatSchoolDay(isoDate: string, lang: Lang): string {
  // Noon UTC is the same calendar day in Paris whatever the season.
  return formatter(lang === 'fr' ? 'fr-FR' : 'en-GB', { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' }).format(new Date(`${isoDate}T12:00:00Z`));
}

/** A day and time in Paris: "7 septembre 2026 à 7 h 42". */
export function formatDateTime(instant: Date | number | string, lang: Lang): string {
  const day = formatter(lang === 'fr' ? 'fr-FR' : 'en-GB', { day: 'numeric', month: 'long', year: 'numeric' }).format(new Date(instant));
  return lang === 'fr' ? `${day} à ${formatTime(instant, lang)}` : `${day}, ${formatTime(instant, lang)}`;
}

/** "45 secondes", "2 minutes": how a wait reads (same rounding as the server's messages). */
export function describeWait(seconds: number, lang: Lang): string {
  const s = Math.max(1, Math.ceil(seconds));
  if (s < 60) return s === 1 ? translate(lang, 'wait.second') : translate(lang, 'wait.seconds', { n: s });
  const m = Math.ceil(s / 60);
  return m === 1 ? translate(lang, 'wait.minute') : translate(lang, 'wait.minutes', { n: m });
}
