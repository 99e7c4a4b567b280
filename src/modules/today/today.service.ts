import type { Clock } from '../../platform/clock.js';
import { addDays, parisDayBounds } from '../../platform/clock.js';
import { presentDue, type DueView } from '../homework/index.js';
import { presentNewsItem } from '../news/index.js';
import type { SchoolsService, Scope } from '../schools/index.js';
import { presentSlot, type TimetableRepository } from '../timetable/index.js';
import { VersionedCache } from '../../platform/versioned-cache.js';

/**
 * A built "Aujourd'hui" is reused this long. Its inputs change rarely (a timetable edit, an import)
 * and at 8:30 thirty pupils of a class ask for the same page within seconds. Writes through the
 * timetable repository invalidate at once on this node; another node sees them within this delay.
 */
export const TODAY_CACHE_TTL_MS = 10_000;
export const TODAY_CACHE_MAX_ENTRIES = 50_000;

/**
 * "Aujourd'hui": what each profile opens first at 8:30. This is the hottest read of the crisis
 * morning: answered from a short cache of the serialised page, shared by everyone who would see
 * the same thing (pupils of the same classes and groups). It holds the timetable, the work due
 * today and tomorrow (pupils, and each child for parents), and school figures for staff; messages
 * join it as that module lands. The cache is invalidated by the version counters of its sources.
 */
/** Where the work due comes from (the cahier de textes); its version changes on every write. */
export interface WorkDueSource {
  version(): number;
  dueFor(scope: Pick<Scope, 'classIds' | 'groupIds'>, fromDate: string, toDate: string): Promise<DueView[]>;
}

/**
 * Where the news come from (the actualités). The list of current news depends only on the audiences
 * a person reads (their school, classes and groups), never on who they are: it belongs in this
 * shared, cached page, and its version counter (bumped on publish, edit, withdrawal) invalidates it.
 * A scheduled news appears, and an expired one goes, within the cache lifetime. Whether the person
 * has acknowledged a news is personal: it lives in `/me/today/mine`, never here.
 */
export interface NewsSource {
  version(): number;
  todayFor(scope: Scope): Promise<{ rows: Parameters<typeof presentNewsItem>[0][]; nowMs: number }>;
}

export class TodayService {
  private readonly cache = new VersionedCache<string>(TODAY_CACHE_TTL_MS, TODAY_CACHE_MAX_ENTRIES);

  constructor(
    private readonly schools: SchoolsService,
    private readonly timetable: TimetableRepository,
    private readonly work: WorkDueSource,
    private readonly clock: Clock,
    private readonly news: NewsSource,
  ) {}

  /** Every counter only grows, so their sum changes whenever one does. */
  private version(): number {
    return this.timetable.version() + this.work.version() + this.news.version();
  }

  /** The page as JSON text if a fresh one is cached (synchronous). */
  cachedTodayJson(actor: Scope): string | undefined {
    const now = this.clock.nowMs();
    return this.cache.peek(cacheKey(actor, parisDayBounds(now).date), this.version(), now);
  }

  /** The page as JSON text, ready to send (pupils of one class asking at once share one build). */
  todayJson(actor: Scope): Promise<string> {
    const now = this.clock.nowMs();
    const day = parisDayBounds(now);
    return this.cache.get(cacheKey(actor, day.date), this.version(), now, async () => {
      const [page, news] = await Promise.all([this.build(actor, day.startMs, day.endMs, day.date), this.news.todayFor(actor)]);
      return JSON.stringify({ ...page, news: news.rows.map((n) => presentNewsItem(n, news.nowMs)) });
    });
  }

  private async build(actor: Scope, startMs: number, endMs: number, date: string) {
    switch (actor.profile) {
      case 'eleve': {
        const [timetable, workDue] = await Promise.all([this.slotsOf(actor, startMs, endMs), this.workDue(actor, date)]);
        return { date, profile: actor.profile, timetable, workDue };
      }
      case 'parent': {
        const children = await this.schools.children(actor);
        const cards = await Promise.all(
          children.map(async (c) => {
            const childScope = await this.schools.scopeOf(c.id);
            const [timetable, workDue] = await Promise.all([this.slotsOf(childScope, startMs, endMs), this.workDue(childScope, date)]);
            return { child: { id: c.id, firstName: c.first_name, lastName: c.last_name }, timetable, workDue };
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

  /** Work due today and tomorrow (published, not deleted); whether it is done is personal and not here. */
  private async workDue(scope: Scope, date: string) {
    return (await this.work.dueFor(scope, date, addDays(date, 1))).map(presentDue);
  }

  private async slotsOf(scope: Scope, startMs: number, endMs: number) {
    const slots = await this.timetable.slots({ classIds: [...scope.classIds], groupIds: [...scope.groupIds] }, startMs, endMs);
    return slots.map(presentSlot);
  }
}

/**
 * Who would see exactly the same page. A pupil's page depends only on their school (its news),
 * classes and groups (it holds nothing personal), so pupils share; other profiles' pages are their own.
 */
function cacheKey(actor: Scope, date: string): string {
  const sorted = (ids: ReadonlySet<string>) => [...ids].sort().join(',');
  if (actor.profile === 'eleve') return `e|${date}|${sorted(actor.schoolIds)}|${sorted(actor.classIds)}|${sorted(actor.groupIds)}`;
  return `${actor.profile}|${date}|${actor.id}`;
}
