/**
 * Logins are derived from names, the way schools hand them out: `prenom.nom`, lower case,
 * ASCII only, a number appended when taken (`lea.martin2`). Bounded length.
 */
export const MAX_LOGIN_LENGTH = 64;

export function baseLogin(firstName: string, lastName: string): string {
  const clean = (s: string) =>
    s
      .normalize('NFD')
      .replace(/\p{Diacritic}/gu, '')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '');
  const first = clean(firstName.split(/[\s,]+/)[0] ?? '') || 'x';
  const last = clean(lastName) || 'x';
  return `${first}.${last}`.slice(0, MAX_LOGIN_LENGTH - 4);
}

/** First free login for this name; `isTaken` is asked for each candidate in turn. */
export async function uniqueLogin(firstName: string, lastName: string, isTaken: (login: string) => Promise<boolean> | boolean): Promise<string> {
  const base = baseLogin(firstName, lastName);
  if (!(await isTaken(base))) return base;
  for (let n = 2; n < 10_000; n++) {
    const candidate = `${base}${n}`;
    if (!(await isTaken(candidate))) return candidate;
  }
  throw new Error(`no free login for ${base}`);
}

/** Logins are compared case-insensitively and without surrounding spaces. */
export function normaliseLogin(login: string): string {
  return login.trim().toLowerCase();
}
