import type { Scope } from '../../src/modules/schools/index.js';

/** Policy matrices build their people from scopes: school S by default, nothing else unless given. */
export const set = (...ids: string[]) => new Set(ids);
export const scope = (id: string, profile: Scope['profile'], o: Partial<Scope> = {}): Scope => ({
  id, profile, staffFunction: null, status: 'active', schoolIds: set('S'), classIds: set(), groupIds: set(), taughtClassIds: set(), taughtGroupIds: set(),
  childIds: set(), childClassIds: set(), childGroupIds: set(), ...o,
});
