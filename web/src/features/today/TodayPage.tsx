import type { Slot, Today, TodayMine, WorkDue } from '../../api/types.js';
import { EmptyState, PageTitle } from '../../app/EmptyState.js';
import { errorMessage } from '../../app/errors.js';
import { lang, me, useT } from '../../app/state.js';
import { useValue } from '../../app/store.js';
import { useRetryingLoad, useSecondsUntil } from '../../app/use-retrying-load.js';
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { formatSchoolDay, hasMessage, type MessageKey } from '../../i18n/index.js';
import { Timetable } from './Timetable.js';
import { loadMine, loadToday } from './today.api.js';
import { WorkDueList } from './WorkDue.js';
import { ROUTES } from '../../app/router.js';
import { NewsCard } from '../news/NewsCard.js';
import { ClassroomCard } from './ClassroomCard.js';
import { NotificationsSummary } from '../notifications/NotificationsLink.js';

/** "Aujourd'hui": what each profile opens first at 8:30. */
export function TodayPage() {
  const t = useT();
  const current = useValue(lang);
  const { state, retryNow } = useRetryingLoad(loadToday);
  const seconds = useSecondsUntil(state.phase === 'waiting' ? state.retryAtMs : undefined);

  return (
    <div class="today" aria-labelledby="page-title">
      <PageTitle>{t('today.title')}</PageTitle>
      {state.phase === 'loading' && (
        <p class="notice" role="status">
          {t('app.loading')}
        </p>
      )}
      {state.phase === 'waiting' && (
        <div class={`notice notice-${state.reason}`} role="status">
          <p>{state.reason === 'offline' ? t('net.offlineNoData', { seconds }) : t('net.busy', { seconds })}</p>
          <button type="button" class="button-secondary" onClick={retryNow}>
            {t('net.retryNow')}
          </button>
        </div>
      )}
      {state.phase === 'failed' && (
        <div class="alert" role="alert">
          <p class="alert-title">{t('today.loadError')}</p>
          <p>{errorMessage(state.error, current)}</p>
          <button type="button" class="button-secondary" onClick={retryNow}>
            {t('net.retryNow')}
          </button>
        </div>
      )}
      {state.phase === 'ready' && <TodayContent today={state.data} />}
    </div>
  );
}

function Section({ id, title, children }: { id: string; title: string; children: ComponentChildren }) {
  return (
    <section class="card" aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {children}
    </section>
  );
}

function Later({ id, title, body }: { id: string; title: MessageKey; body: MessageKey }) {
  const t = useT();
  return (
    <Section id={id} title={t(title)}>
      <EmptyState>{t(body)}</EmptyState>
    </Section>
  );
}

/**
 * A pupil's and a teacher's day have the same shape: the lessons, then what later modules will fill
 * (work due or hand-ins, messages), each saying what will appear there.
 */
const LESSONS_DAY = {
  eleve: { title: 'today.timetable', showAudience: false, later: [] },
  enseignant: { title: 'today.myLessons', showAudience: true, later: [['today-handins', 'today.handIns', 'today.handInsEmpty']] },
} as const satisfies Record<string, { title: MessageKey; showAudience: boolean; later: readonly (readonly [string, MessageKey, MessageKey])[] }>;

function LessonsDay({ layout, slots, work }: { layout: (typeof LESSONS_DAY)[keyof typeof LESSONS_DAY]; slots: Slot[]; work?: { items: WorkDue[]; today: string } }) {
  const t = useT();
  return (
    <div class="grid">
      <Section id="today-lessons" title={t(layout.title)}>
        <Timetable slots={slots} showAudience={layout.showAudience} />
        {layout === LESSONS_DAY.enseignant && <CahierLinks slots={slots} />}
      </Section>
      {work && (
        <Section id="today-homework" title={t('today.homework')}>
          <WorkDueList items={work.items} today={work.today} empty={t('today.homeworkNone')} />
        </Section>
      )}
      {layout.later.map(([id, title, body]) => (
        <Later key={id} id={id} title={title} body={body} />
      ))}
      <PersonalCards />
    </div>
  );
}

/** The teacher's way from today's lessons to each class's (or group's) cahier de textes, each once. */
function CahierLinks({ slots }: { slots: Slot[] }) {
  const t = useT();
  const seen = new Map<string, { href: string; name: string }>();
  for (const s of slots) {
    const query = s.classId ? `?classe=${encodeURIComponent(s.classId)}` : s.groupId ? `?groupe=${encodeURIComponent(s.groupId)}` : undefined;
    if (query && s.audience && !seen.has(query)) seen.set(query, { href: `${ROUTES.homework}${query}`, name: s.audience });
  }
  return (
    <>
      <h3>{t('today.teacherCahiers')}</h3>
      <ul class="inline-links">
        {[...seen.values()].map((l) => (
          <li key={l.href}>
            <a href={l.href}>{t('today.cahierOf', { name: l.name })}</a>
          </li>
        ))}
        <li>
          <a href={ROUTES.homework}>{t('today.teacherCahierLink')}</a>
        </li>
      </ul>
    </>
  );
}

/** A User Timing mark when the day is first on screen: what the web bench (and any RUM) measures. */
export const TODAY_SHOWN_MARK = 'preau:today-shown';

function TodayContent({ today }: { today: Today }) {
  const t = useT();
  const current = useValue(lang);
  useEffect(() => {
    if (performance.getEntriesByName(TODAY_SHOWN_MARK).length === 0) performance.mark(TODAY_SHOWN_MARK);
  }, []);
  return (
    <div data-testid="today-content">
      <p class="today-date">{t('today.date', { date: formatSchoolDay(today.date, current) })}</p>
      <NotificationsSummary href={ROUTES.notifications} />
      {(today.profile === 'eleve' || today.profile === 'enseignant') && <ClassroomCard nowMs={Date.now()} />}
      <NewsCard items={today.news ?? []} />
      {today.profile === 'eleve' && <LessonsDay layout={LESSONS_DAY.eleve} slots={today.timetable} work={{ items: today.workDue ?? [], today: today.date }} />}
      {today.profile === 'enseignant' && <LessonsDay layout={LESSONS_DAY.enseignant} slots={today.timetable} />}
      {today.profile === 'parent' && (
        <div class="grid">
          {today.children.length === 0 && <EmptyState>{t('today.noChildren')}</EmptyState>}
          {today.children.map(({ child, timetable, workDue }) => {
            const name = `${child.firstName} ${child.lastName}`;
            return (
              <article key={child.id} class="card child-card" aria-labelledby={`child-${child.id}`} data-testid="child-card">
                <h2 id={`child-${child.id}`}>{name}</h2>
                <h3>{t('today.childTimetable', { name: child.firstName })}</h3>
                <Timetable slots={timetable} />
                <h3>{t('today.homework')}</h3>
                <WorkDueList items={workDue ?? []} today={today.date} empty={t('today.childHomeworkNone', { name: child.firstName })} />
              </article>
            );
          })}
          <PersonalCards />
        </div>
      )}
      {'schools' in today && (
        <div class="grid">
          <PersonalCards />
          {today.schools.length === 0 && <EmptyState>{t('today.noSchools')}</EmptyState>}
          {today.schools.map((school) => (
            <article key={school.id} class="card" aria-labelledby={`school-${school.id}`} data-testid="school-card">
              <h2 id={`school-${school.id}`}>{school.name}</h2>
              <p>{school.classCount === 1 ? t('today.classCountOne') : t('today.classCount', { count: school.classCount })}</p>
              <div class="table-scroll">
                <table>
                  <caption>{t('today.peopleCaption', { school: school.name })}</caption>
                  <thead>
                    <tr>
                      <th scope="col">{t('today.col.profile')}</th>
                      <th scope="col">{t('today.col.status')}</th>
                      <th scope="col" class="num">
                        {t('today.col.count')}
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {school.people.map((p) => (
                      <tr key={`${p.profile}-${p.status}`}>
                        <th scope="row">{labelOf(t, 'profile', p.profile)}</th>
                        <td>{labelOf(t, 'personStatus', p.status)}</td>
                        <td class="num">{new Intl.NumberFormat(current === 'fr' ? 'fr-FR' : 'en-GB').format(p.count)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </article>
          ))}
        </div>
      )}
    </div>
  );
}

/**
 * What is new for this person only (unread messages, notes to sign), from its own uncached request
 * so that nothing personal enters the day shared by a class. Shown once it answers; a failure
 * leaves the links to the messagerie and the carnet de liaison, without counts.
 */
function PersonalCards() {
  const t = useT();
  const [mine, setMine] = useState<TodayMine | null | undefined>();
  useEffect(() => {
    loadMine().then(({ data }) => setMine(data), () => setMine(null));
  }, []);
  const unread = mine?.unreadMessages;
  const toSign = mine?.liaisonsToSign;
  return (
    <>
      <Section id="today-messages" title={t('today.messages')}>
        {mine === undefined && <p class="notice">{t('app.loading')}</p>}
        {unread !== undefined && unread > 0 ? (
          <p class="today-count" data-testid="today-unread">
            <a href={ROUTES.messaging}>{unread === 1 ? t('today.unreadOne') : t('today.unreadMessages', { count: unread })}</a>
          </p>
        ) : (
          <>
            {unread === 0 && <EmptyState>{t('today.noUnread')}</EmptyState>}
            <p>
              <a href={ROUTES.messaging}>{t('today.openMessaging')}</a>
            </p>
          </>
        )}
      </Section>
      {toSign !== undefined && (toSign > 0 || me.get()?.profile === 'parent') && (
        <Section id="today-liaison" title={t('today.liaison')}>
          {toSign > 0 ? (
            <p class="today-count" data-testid="today-to-sign">
              <a href={ROUTES.liaison}>{toSign === 1 ? t('today.toSignOne') : t('today.toSignCount', { count: toSign })}</a>
            </p>
          ) : (
            <>
              <EmptyState>{t('today.noneToSign')}</EmptyState>
              <p>
                <a href={ROUTES.liaison}>{t('today.openLiaison')}</a>
              </p>
            </>
          )}
        </Section>
      )}
    </>
  );
}

/** A catalogue label for a server value; a value this client does not know yet shows as sent. */
function labelOf(t: (key: MessageKey) => string, prefix: 'profile' | 'personStatus', value: string): string {
  const key = `${prefix}.${value}`;
  return hasMessage(key) ? t(key) : value;
}
