import type { Kysely } from 'kysely';
import type { Database } from '../../storage/schema.js';
import type { Scope } from './schools.policy.js';

/** SQL of the schools module: structures, classes, enrolments and the scopes policies need. */
export class SchoolsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async loadScope(personId: string): Promise<Scope | undefined> {
    const person = await this.db.selectFrom('people').select(['id', 'profile', 'staff_function', 'status', 'school_id']).where('id', '=', personId).executeTakeFirst();
    if (!person) return undefined;
    const [schools, classes, groups, taught, children] = await Promise.all([
      this.db.selectFrom('school_members').select('school_id').where('person_id', '=', personId).execute(),
      this.db.selectFrom('class_enrolments').select('class_id').where('person_id', '=', personId).execute(),
      this.db.selectFrom('group_members').select('group_id').where('person_id', '=', personId).execute(),
      this.db.selectFrom('teachings').select(['class_id', 'group_id']).where('teacher_id', '=', personId).execute(),
      this.db.selectFrom('guardianships').select('child_id').where('parent_id', '=', personId).execute(),
    ]);
    const childIds = children.map((c) => c.child_id);
    const [childClasses, childGroups, childSchools] =
      childIds.length === 0
        ? [[], [], []]
        : await Promise.all([
            this.db.selectFrom('class_enrolments').select('class_id').where('person_id', 'in', childIds).execute(),
            this.db.selectFrom('group_members').select('group_id').where('person_id', 'in', childIds).execute(),
            this.db.selectFrom('school_members').select('school_id').where('person_id', 'in', childIds).execute(),
          ]);
    const schoolIds = new Set(schools.map((s) => s.school_id));
    if (person.school_id) schoolIds.add(person.school_id);
    // A parent belongs to the schools of their children.
    for (const s of childSchools) schoolIds.add(s.school_id);
    return {
      id: person.id,
      profile: person.profile,
      staffFunction: person.staff_function,
      status: person.status,
      schoolIds,
      classIds: new Set(classes.map((c) => c.class_id)),
      groupIds: new Set(groups.map((g) => g.group_id)),
      taughtClassIds: new Set(taught.flatMap((t) => (t.class_id ? [t.class_id] : []))),
      taughtGroupIds: new Set(taught.flatMap((t) => (t.group_id ? [t.group_id] : []))),
      childIds: new Set(childIds),
      childClassIds: new Set(childClasses.map((c) => c.class_id)),
      childGroupIds: new Set(childGroups.map((g) => g.group_id)),
    };
  }

  listSchools(ids: string[] | 'all') {
    let q = this.db.selectFrom('schools').select(['id', 'uai', 'name', 'kind', 'academie']).orderBy('name');
    if (ids !== 'all') {
      if (ids.length === 0) return Promise.resolve([]);
      q = q.where('id', 'in', ids);
    }
    return q.limit(1000).execute();
  }

  findSchool(id: string) {
    return this.db.selectFrom('schools').select(['id', 'uai', 'name', 'kind', 'academie']).where('id', '=', id).executeTakeFirst();
  }

  async schoolCounts(schoolId: string) {
    const rows = await this.db
      .selectFrom('school_members as m')
      .innerJoin('people as p', 'p.id', 'm.person_id')
      .select(['p.profile', 'p.status'])
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('m.school_id', '=', schoolId)
      .groupBy(['p.profile', 'p.status'])
      .execute();
    return rows.map((r) => ({ profile: r.profile, status: r.status, count: Number(r.n) }));
  }

  listClasses(schoolId: string) {
    return this.db
      .selectFrom('classes')
      .select(['id', 'school_id', 'code', 'name', 'mef_code'])
      .where('school_id', '=', schoolId)
      .orderBy('name')
      .execute();
  }

  listGroups(schoolId: string) {
    return this.db.selectFrom('teaching_groups').select(['id', 'school_id', 'code', 'name']).where('school_id', '=', schoolId).orderBy('name').execute();
  }

  findClass(id: string) {
    return this.db.selectFrom('classes').select(['id', 'school_id', 'code', 'name', 'mef_code']).where('id', '=', id).executeTakeFirst();
  }

  classPupils(classId: string) {
    return this.db
      .selectFrom('class_enrolments as e')
      .innerJoin('people as p', 'p.id', 'e.person_id')
      .select(['p.id', 'p.first_name', 'p.last_name', 'p.login', 'p.status', 'p.profile'])
      .where('e.class_id', '=', classId)
      .where('p.status', '!=', 'departed')
      .orderBy('p.last_name')
      .orderBy('p.first_name')
      .execute();
  }

  /**
   * The families of an audience: the pupils of a class or group, or one pupil (still at school),
   * and their parents (still active). Who features tell about what concerns them (work posted, a
   * returned hand-in). Bounded by the audience's size.
   */
  async familiesOf(audience: { classId: string | null; groupId: string | null } | { pupilId: string }): Promise<string[]> {
    const pupils = await (
      'pupilId' in audience
        ? this.db.selectFrom('people as p').where('p.id', '=', audience.pupilId)
        : audience.classId
          ? this.db.selectFrom('class_enrolments as m').innerJoin('people as p', 'p.id', 'm.person_id').where('m.class_id', '=', audience.classId)
          : this.db.selectFrom('group_members as m').innerJoin('people as p', 'p.id', 'm.person_id').where('m.group_id', '=', audience.groupId ?? '')
    )
      .select('p.id')
      .where('p.profile', '=', 'eleve')
      .where('p.status', '!=', 'departed')
      .execute();
    const pupilIds = pupils.map((p) => p.id);
    if (pupilIds.length === 0) return [];
    const parents = await this.db
      .selectFrom('guardianships as g')
      .innerJoin('people as parent', 'parent.id', 'g.parent_id')
      .select('g.parent_id')
      .where('g.child_id', 'in', pupilIds)
      .where('parent.status', '!=', 'departed')
      .execute();
    return [...pupilIds, ...parents.map((p) => p.parent_id)];
  }

  /** Pupils of a class and their parents (for handing out activation codes). */
  async classPupilsAndParents(classId: string) {
    const pupils = await this.db
      .selectFrom('class_enrolments as e')
      .innerJoin('people as p', 'p.id', 'e.person_id')
      .selectAll('p')
      .where('e.class_id', '=', classId)
      .where('p.status', '!=', 'departed')
      .orderBy('p.last_name')
      .orderBy('p.first_name')
      .execute();
    const ids = pupils.map((p) => p.id);
    const parents =
      ids.length === 0
        ? []
        : await this.db
            .selectFrom('guardianships as g')
            .innerJoin('people as p', 'p.id', 'g.parent_id')
            .selectAll('p')
            .select('g.child_id')
            .where('g.child_id', 'in', ids)
            .where('p.status', '!=', 'departed')
            .execute();
    return { pupils, parents };
  }

  findPerson(id: string) {
    return this.db.selectFrom('people').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Names of the classes and groups a person is in (for presenting a person). */
  async membershipsOf(personId: string) {
    const [classes, groups] = await Promise.all([
      this.db
        .selectFrom('class_enrolments as e')
        .innerJoin('classes as c', 'c.id', 'e.class_id')
        .select(['c.id', 'c.name', 'c.school_id'])
        .where('e.person_id', '=', personId)
        .execute(),
      this.db
        .selectFrom('group_members as g')
        .innerJoin('teaching_groups as t', 't.id', 'g.group_id')
        .select(['t.id', 't.name', 't.school_id'])
        .where('g.person_id', '=', personId)
        .execute(),
    ]);
    return { classes, groups };
  }

  children(parentId: string) {
    return this.db
      .selectFrom('guardianships as g')
      .innerJoin('people as p', 'p.id', 'g.child_id')
      .select(['p.id', 'p.first_name', 'p.last_name', 'p.status', 'g.legal_guardian'])
      .where('g.parent_id', '=', parentId)
      .where('p.status', '!=', 'departed')
      .orderBy('p.first_name')
      .execute();
  }
}
