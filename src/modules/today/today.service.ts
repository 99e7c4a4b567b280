import type { Clock } from '../../platform/clock.js';
import { parisDayBounds } from '../../platform/clock.js';
import type { SchoolsService, Scope } from '../schools/index.js';
import { presentSlot, type TimetableRepository } from '../timetable/index.js';

/**
 * "Aujourd'hui": what each profile opens first at 8:30. This is the hottest read of the
 * crisis morning, so it is a handful of indexed queries on cached scopes. It holds what
 * exists so far (timetable, children, school figures); work due and messages join it as
 * those modules land.
 */
export class TodayService {
  constructor(
    private readonly schools: SchoolsService,
    private readonly timetable: TimetableRepository,
    private readonly clock: Clock,
  ) {}

  async today(actor: Scope) {
    const { startMs, endMs, date } = parisDayBounds(this.clock.nowMs());
    switch (actor.profile) {
      case 'eleve':
        return { date, profile: actor.profile, timetable: await this.slotsOf(actor, startMs, endMs) };
      case 'parent': {
        const children = await this.schools.children(actor);
        const cards = await Promise.all(
          children.map(async (c) => {
            const childScope = await this.schools.scopeOf(c.id);
            return { child: { id: c.id, firstName: c.first_name, lastName: c.last_name }, timetable: await this.slotsOf(childScope, startMs, endMs) };
          }),
        );
        return { date, profile: actor.profile, children: cards };
      }
      case 'enseignant':
        return { date, profile: actor.profile, timetable: (await this.timetable.slots({ teacherId: actor.id }, startMs, endMs)).map(presentSlot) };
      default: {
        const overviews = await Promise.all([...actor.schoolIds].slice(0, 20).map((id) => this.schools.schoolOverview(actor, id)));
        return {
          date,
          profile: actor.profile,
          schools: overviews.map((o) => ({ id: o.school.id, name: o.school.name, classCount: o.classCount, people: o.counts })),
        };
      }
    }
  }

  private async slotsOf(scope: Scope, startMs: number, endMs: number) {
    const slots = await this.timetable.slots({ classIds: [...scope.classIds], groupIds: [...scope.groupIds] }, startMs, endMs);
    return slots.map(presentSlot);
  }
}
