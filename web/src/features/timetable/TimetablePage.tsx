import { useEffect, useState } from 'preact/hooks';
import { api } from '../../api/client.js';
import type { Slot } from '../../api/types.js';
import { EmptyState, PageTitle } from '../../app/EmptyState.js';
import { errorMessage } from '../../app/errors.js';
import { announce, lang, me, useT } from '../../app/state.js';
import { useValue } from '../../app/store.js';
import { formatDateTime, formatSchoolDay } from '../../i18n/index.js';
import { Timetable } from '../today/Timetable.js';
import { shiftWeek, weekDays } from './week.js';

interface Week {
  week: { monday: string; type: string | null; holidays: string[] };
  slots: Slot[];
}

/** "Emploi du temps": a week, Monday to Friday, as a list of days (readable on a phone and by a screen reader). */
export default function TimetablePage() {
  const t = useT();
  const person = useValue(me);
  const [children, setChildren] = useState<{ id: string; firstName: string }[] | undefined>();
  const [childId, setChildId] = useState<string | undefined>();
  useEffect(() => {
    if (person?.profile !== 'parent') return;
    api<{ children: { id: string; firstName: string }[] }>('GET', '/api/v1/me/children').then(
      (r) => {
        setChildren(r.data.children);
        setChildId(r.data.children[0]?.id);
      },
      () => setChildren([]),
    );
  }, [person?.profile]);
  if (!person) return null;
  const own = person.profile === 'eleve' || person.profile === 'enseignant';
  return (
    <div aria-labelledby="page-title">
      <PageTitle>{t('nav.timetable')}</PageTitle>
      {person.profile === 'parent' && children && children.length > 1 && (
        <fieldset class="choice">
          <legend>{t('timetable.child')}</legend>
          {children.map((c) => (
            <div key={c.id}>
              <input type="radio" id={`tt-${c.id}`} name="child" checked={childId === c.id} onChange={() => setChildId(c.id)} /> <label for={`tt-${c.id}`}>{c.firstName}</label>
            </div>
          ))}
        </fieldset>
      )}
      {own && <WeekView path="/api/v1/me/timetable?" />}
      {person.profile === 'parent' && childId && <WeekView key={childId} path={`/api/v1/timetable?pupilId=${encodeURIComponent(childId)}&`} />}
      {person.profile === 'parent' && children?.length === 0 && <EmptyState>{t('today.noChildren')}</EmptyState>}
      {!own && person.profile !== 'parent' && <EmptyState>{t('timetable.staff')}</EmptyState>}
      {(own || person.profile === 'parent') && <CalendarFeed />}
    </div>
  );
}

function WeekView({ path }: { path: string }) {
  const t = useT();
  const current = useValue(lang);
  const [monday, setMonday] = useState<string | undefined>();
  const [data, setData] = useState<Week | undefined>();
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    let alive = true;
    setError(undefined);
    api<Week>('GET', `${path}${monday ? `week=${monday}` : ''}`).then(
      (r) => alive && setData(r.data),
      (err: unknown) => alive && setError(errorMessage(err, current)),
    );
    return () => {
      alive = false;
    };
  }, [path, monday]);
  const go = (weeks: number) => {
    if (!data) return;
    const next = shiftWeek(data.week.monday, weeks);
    setMonday(next);
    announce(t('timetable.weekOf', { date: formatSchoolDay(next, current) }));
  };
  return (
    <section class="card" aria-labelledby="week-title" data-testid="week">
      <h2 id="week-title" aria-live="polite">
        {data ? t('timetable.weekOf', { date: formatSchoolDay(data.week.monday, current) }) : t('app.loading')}
        {data?.week.type === 'A' || data?.week.type === 'B' ? ` (${t('timetable.weekType', { type: data.week.type })})` : ''}
      </h2>
      <div class="week-nav">
        <button type="button" class="button-secondary" onClick={() => go(-1)} disabled={!data}>
          {t('timetable.previous')}
        </button>
        <button type="button" class="button-secondary" onClick={() => go(1)} disabled={!data}>
          {t('timetable.next')}
        </button>
      </div>
      {error && <p role="alert">{error}</p>}
      {data && data.week.holidays.length > 0 && <p class="notice">{t('timetable.holidays', { names: data.week.holidays.join(', ') })}</p>}
      {data &&
        weekDays(data.week.monday, data.slots).map((d) => (
          <section key={d.date} aria-labelledby={`day-${d.date}`} class="week-day">
            <h3 id={`day-${d.date}`}>{formatSchoolDay(d.date, current)}</h3>
            <Timetable slots={d.slots} showAudience={false} />
          </section>
        ))}
    </section>
  );
}

interface FeedStatus {
  active: boolean;
  createdAt: string | null;
  lastUsedAt: string | null;
}

/** The secret iCalendar address for the phone's agenda: shown once when made, revocable. */
function CalendarFeed() {
  const t = useT();
  const current = useValue(lang);
  const [status, setStatus] = useState<FeedStatus | undefined>();
  const [url, setUrl] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [copied, setCopied] = useState(false);
  useEffect(() => {
    api<FeedStatus>('GET', '/api/v1/me/calendar-feed').then((r) => setStatus(r.data), () => setStatus(undefined));
  }, []);
  const create = () =>
    api<{ url: string; createdAt: string }>('POST', '/api/v1/me/calendar-feed').then(
      (r) => {
        setUrl(r.data.url);
        setStatus({ active: true, createdAt: r.data.createdAt, lastUsedAt: null });
        setError(undefined);
        announce(t('feed.created'));
      },
      (err: unknown) => setError(errorMessage(err, current)),
    );
  const revoke = () =>
    api('DELETE', '/api/v1/me/calendar-feed').then(
      () => {
        setUrl(undefined);
        setStatus({ active: false, createdAt: null, lastUsedAt: null });
        announce(t('feed.revoked'));
      },
      (err: unknown) => setError(errorMessage(err, current)),
    );
  const copy = () =>
    navigator.clipboard.writeText(url ?? '').then(
      () => {
        setCopied(true);
        announce(t('feed.copied'));
      },
      () => setCopied(false),
    );
  return (
    <section class="card" aria-labelledby="feed-title" data-testid="calendar-feed">
      <h2 id="feed-title">{t('feed.title')}</h2>
      <p>{t('feed.explain')}</p>
      {status?.active && status.createdAt && <p>{t('feed.activeSince', { when: formatDateTime(status.createdAt, current) })}</p>}
      {url && (
        <>
          <label for="feed-url">{t('feed.url')}</label>
          <input id="feed-url" type="text" readOnly value={url} class="feed-url" />
          <p class="hint">{t('feed.once')}</p>
          <button type="button" onClick={() => void copy()}>
            {t('feed.copy')}
          </button>
          {copied && <span class="hint"> {t('feed.copied')}</span>}
        </>
      )}
      <p>
        <button type="button" class={status?.active ? 'button-secondary' : ''} onClick={() => void create()}>
          {status?.active ? t('feed.renew') : t('feed.create')}
        </button>{' '}
        {status?.active && (
          <button type="button" class="button-secondary" onClick={() => void revoke()}>
            {t('feed.revoke')}
          </button>
        )}
      </p>
      {error && <p role="alert">{error}</p>}
    </section>
  );
}
