import type { Clock } from '../../platform/clock.js';
import { AppError } from '../../platform/errors.js';
import type { SchoolsRepository } from './schools.repository.js';
import { canListClassMembers, canManageAccounts, canViewClass, canViewPerson, canViewSchool, type Scope } from './schools.policy.js';

/** Scopes change only when the directory is imported or edited; a short cache keeps policies off the database. */
export const SCOPE_CACHE_TTL_MS = 15_000;
export const SCOPE_CACHE_MAX_ENTRIES = 100_000;

export class SchoolsService {
  private readonly scopes = new Map<string, { scope: Scope; atMs: number }>();

  constructor(
    private readonly repo: SchoolsRepository,
    private readonly clock: Clock,
  ) {}

  /** The scope if cached (synchronous, for the hottest routes). */
  cachedScope(personId: string): Scope | undefined {
    const hit = this.scopes.get(personId);
    return hit && this.clock.nowMs() - hit.atMs < SCOPE_CACHE_TTL_MS ? hit.scope : undefined;
  }

  async scopeOf(personId: string): Promise<Scope> {
    const hit = this.cachedScope(personId);
    if (hit) return hit;
    const now = this.clock.nowMs();
    const scope = await this.repo.loadScope(personId);
    if (!scope) throw new AppError('person.not_found');
    this.scopes.delete(personId);
    this.scopes.set(personId, { scope, atMs: now });
    while (this.scopes.size > SCOPE_CACHE_MAX_ENTRIES) this.scopes.delete(this.scopes.keys().next().value!);
    return scope;
  }

  /** After an import or an edit of the directory. */
  forgetScopes(): void {
    this.scopes.clear();
  }

  /** Person ids of an audience's pupils and their parents (no policy: features call it to notify, never to show). */
  familiesOf(audience: { classId: string | null; groupId: string | null } | { pupilId: string }): Promise<string[]> {
    return this.repo.familiesOf(audience);
  }

  async listSchools(actor: Scope) {
    return this.repo.listSchools(actor.profile === 'admin_plateforme' ? 'all' : [...actor.schoolIds]);
  }

  async getSchool(actor: Scope, schoolId: string) {
    // Unknown and forbidden look the same to someone outside the school: ids are not probed.
    if (!canViewSchool(actor, schoolId)) throw new AppError('school.not_found');
    const school = await this.repo.findSchool(schoolId);
    if (!school) throw new AppError('school.not_found');
    return school;
  }

  /** Classes and groups of a school that this person may see. */
  async listClasses(actor: Scope, schoolId: string) {
    await this.getSchool(actor, schoolId);
    const [classes, groups] = await Promise.all([this.repo.listClasses(schoolId), this.repo.listGroups(schoolId)]);
    return {
      classes: classes.filter((c) => canViewClass(actor, { id: c.id, schoolId, kind: 'class' })),
      groups: groups.filter((g) => canViewClass(actor, { id: g.id, schoolId, kind: 'group' })),
    };
  }

  async getClass(actor: Scope, classId: string) {
    const c = await this.repo.findClass(classId);
    if (!c || !canViewClass(actor, { id: c.id, schoolId: c.school_id, kind: 'class' })) throw new AppError('class.not_found');
    return c;
  }

  async classPupils(actor: Scope, classId: string) {
    const c = await this.getClass(actor, classId);
    if (!canListClassMembers(actor, { id: c.id, schoolId: c.school_id, kind: 'class' })) throw new AppError('access.forbidden');
    return { class: c, pupils: await this.repo.classPupils(classId) };
  }

  async getPerson(actor: Scope, personId: string) {
    const person = await this.repo.findPerson(personId);
    if (!person) throw new AppError('person.not_found');
    const target = await this.scopeOf(personId);
    if (!canViewPerson(actor, target)) throw new AppError('person.not_found');
    return { person, memberships: await this.repo.membershipsOf(personId) };
  }

  async children(actor: Scope) {
    return actor.profile === 'parent' ? this.repo.children(actor.id) : [];
  }

  async schoolOverview(actor: Scope, schoolId: string) {
    const school = await this.getSchool(actor, schoolId);
    if (actor.profile === 'eleve' || actor.profile === 'parent') throw new AppError('access.forbidden');
    const [counts, classes] = await Promise.all([this.repo.schoolCounts(schoolId), this.repo.listClasses(schoolId)]);
    return { school, counts, classCount: classes.length };
  }

  /** The pupils (and their parents) whose accounts this actor may manage in a class. */
  async accountsOfClass(actor: Scope, classId: string, include: 'pupils' | 'parents' | 'both') {
    const c = await this.repo.findClass(classId);
    if (!c) throw new AppError('class.not_found');
    if (!canManageAccounts(actor, c.school_id)) throw new AppError('access.forbidden');
    const { pupils, parents } = await this.repo.classPupilsAndParents(classId);
    return {
      class: c,
      pupils: include === 'parents' ? [] : pupils,
      parents: include === 'pupils' ? [] : parents,
    };
  }

  /** A person whose account this actor may reset. */
  async manageablePerson(actor: Scope, personId: string) {
    const person = await this.repo.findPerson(personId);
    if (!person) throw new AppError('person.not_found');
    const target = await this.scopeOf(personId);
    const allowed = [...target.schoolIds].some((s) => canManageAccounts(actor, s)) || actor.profile === 'admin_plateforme';
    if (!allowed) throw new AppError(canViewPerson(actor, target) ? 'access.forbidden' : 'person.not_found');
    // Nobody resets an equal or higher administrator through this path, but the platform admin.
    if ((person.profile === 'admin_etablissement' || person.profile === 'admin_plateforme') && actor.profile !== 'admin_plateforme') throw new AppError('access.forbidden');
    return person;
  }
}
