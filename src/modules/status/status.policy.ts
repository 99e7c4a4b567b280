import type { Profile } from '../../storage/schema.js';

/**
 * Who may do what with the platform status. Reading is public (the banner shows on the login page
 * too); changing it is the platform operator's alone: a school administrator must not be able to
 * put every school of the platform in read-only mode.
 */
export type StatusAction = 'read' | 'update';

export function canOnStatus(profile: Profile | null, action: StatusAction): boolean {
  if (action === 'read') return true;
  return profile === 'admin_plateforme';
}
