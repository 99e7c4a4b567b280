import type { PersonRow, SessionRow } from './identity.repository.js';

/** What a client may see of people and sessions: never hashes, never raw rows. */
export function presentMe(person: PersonRow) {
  return {
    id: person.id,
    login: person.login,
    firstName: person.first_name,
    lastName: person.last_name,
    profile: person.profile,
    staffFunction: person.staff_function,
    status: person.status,
    preferences: presentPreferences(person),
  };
}

export function presentPreferences(person: PersonRow) {
  return { lang: person.preferred_lang === 'en' ? 'en' : 'fr' };
}

export function presentSession(session: SessionRow, currentSessionId: string) {
  return {
    id: session.id,
    current: session.id === currentSessionId,
    remember: session.remember === 1,
    createdAt: new Date(session.created_at).toISOString(),
    lastSeenAt: new Date(session.last_seen_at).toISOString(),
    expiresAt: new Date(session.expires_at).toISOString(),
    device: describeDevice(session.user_agent),
    ip: session.ip,
  };
}

/** A readable device name from a user agent ("Firefox sur Android"), never the raw string. */
export function describeDevice(userAgent: string | null): string {
  if (!userAgent) return 'Appareil inconnu';
  const browser = /Edg\//.test(userAgent) ? 'Edge' : /Firefox\//.test(userAgent) ? 'Firefox' : /Chrome\//.test(userAgent) ? 'Chrome' : /Safari\//.test(userAgent) ? 'Safari' : 'Navigateur';
  const os = /Android/.test(userAgent) ? 'Android' : /iPhone|iPad/.test(userAgent) ? 'iOS' : /Windows/.test(userAgent) ? 'Windows' : /Mac OS X/.test(userAgent) ? 'macOS' : /Linux/.test(userAgent) ? 'Linux' : 'système inconnu';
  return `${browser} sur ${os}`;
}
