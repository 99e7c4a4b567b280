import { useState } from 'preact/hooks';
import { ErrorLine } from '../../app/FormParts.js';
import { EmptyState, PageTitle } from '../../app/EmptyState.js';
import { Loading } from '../../app/Loading.js';
import { currentSearch, navigate, ROUTES } from '../../app/router.js';
import { lang, me, useT } from '../../app/state.js';
import { useValue } from '../../app/store.js';
import { formatDateTime, formatSchoolDay, type MessageKey } from '../../i18n/index.js';
import { errorMessage } from '../../app/errors.js';
import { loadAccessLog, loadClass, loadHome, loadMine, loadPupil, loadSchool, loadSettings, saveSettings, type Concern, type PupilLine, type Rule, type SchoolView, type Settings } from './engagement.api.js';
import { sortLines, trendPoints, writeLink, type Sort, type SortKey } from './engagement.state.js';

type T = ReturnType<typeof useT>;
const RULE_KEYS: Record<Concern['rule'], MessageKey> = {
  inactive: 'engagement.rule.inactive',
  missing_works: 'engagement.rule.missingWorks',
  missed_classes: 'engagement.rule.missedClasses',
};
const ruleText = (t: T, r: Rule | Concern) => t(RULE_KEYS[r.rule], { n: String(r.threshold) });
const fullName = (p: { firstName: string; lastName: string }) => `${p.firstName} ${p.lastName}`;

/**
 * Suivi (lazy chunk, `/suivi`): what the person may follow, from `GET /api/v1/engagement`. A teacher:
 * their classes' tables; the CPE and the direction: the school (counts, pupils of concern, trend)
 * and any class; a parent: each child's week in words; a pupil: "Mes données".
 */
export default function EngagementPage() {
  const t = useT();
  const search = new URLSearchParams(useValue(currentSearch));
  const person = useValue(me);
  // The direction's new rules are stated at once in the school view above the form.
  const [revision, setRevision] = useState(0);
  return (
    <section class="card engagement" aria-labelledby="page-title">
      <Loading load={loadHome}>
        {(home) => {
          if (home.self) return <MyData />;
          const classes = [...home.classes, ...home.schools.flatMap((s) => s.classes)];
          const chosen = classes.find((c) => c.id === search.get('classe'))?.id ?? (home.schools.length === 0 ? classes[0]?.id : undefined);
          return (
            <>
              <PageTitle>{t('engagement.title')}</PageTitle>
              <p>{t('engagement.intro')}</p>
              {home.children.map((c) => (
                <ChildWeek key={c.id} id={c.id} name={fullName(c)} />
              ))}
              {classes.length > 0 && (
                <nav aria-label={t('engagement.classesNav')}>
                  <ul class="folders">
                    {home.schools.map((s) => (
                      <li key={s.id}>
                        <a href={ROUTES.engagement} aria-current={chosen === undefined ? 'page' : undefined}>
                          {t('engagement.school.link')}
                        </a>
                      </li>
                    ))}
                    {classes.map((c) => (
                      <li key={c.id}>
                        <a href={`${ROUTES.engagement}?classe=${encodeURIComponent(c.id)}`} aria-current={chosen === c.id ? 'page' : undefined}>
                          {c.name}
                        </a>
                      </li>
                    ))}
                  </ul>
                </nav>
              )}
              {chosen ? <ClassTable key={chosen} classId={chosen} /> : home.schools.map((s) => <SchoolOverview key={`${s.id}-${revision}`} schoolId={s.id} />)}
              {!chosen && person?.staffFunction === 'direction' && home.schools.map((s) => <DirectionPanel key={`d-${s.id}`} schoolId={s.id} onSaved={() => setRevision((r) => r + 1)} />)}
              {classes.length === 0 && home.children.length === 0 && <EmptyState>{t('engagement.nothing')}</EmptyState>}
            </>
          );
        }}
      </Loading>
    </section>
  );
}

function Rules({ rules }: { rules: Rule[] }) {
  const t = useT();
  return (
    <div class="engagement-rules">
      <p>{t('engagement.rulesIntro')}</p>
      <ul>
        {rules.map((r) => (
          <li key={r.rule}>{ruleText(t, r)}</li>
        ))}
      </ul>
      <p class="hint">{t('engagement.privacy')}</p>
    </div>
  );
}

const COLUMNS: { key: SortKey | undefined; label: MessageKey }[] = [
  { key: 'name', label: 'engagement.col.pupil' },
  { key: undefined, label: 'engagement.col.concern' },
  { key: 'lastSeen', label: 'engagement.col.lastSeen' },
  { key: 'works', label: 'engagement.col.works' },
  { key: 'classes', label: 'engagement.col.classes' },
  { key: undefined, label: 'engagement.col.parents' },
  { key: undefined, label: 'engagement.col.write' },
];

/** One line per pupil, pupils of concern first with the rule stated; sortable; a link to write. */
function ClassTable({ classId }: { classId: string }) {
  const t = useT();
  const current = useValue(lang);
  const [period, setPeriod] = useState<'today' | 'week'>('week');
  const [sort, setSort] = useState<Sort>({ key: 'name', descending: false });
  return (
    <Loading key={period} load={() => loadClass(classId, period)}>
      {(v) => (
        <div data-testid="engagement-class">
          <h2>{t('engagement.class.title', { name: v.class.name })}</h2>
          <fieldset class="engagement-period">
            <legend>{t('engagement.period')}</legend>
            {(['today', 'week'] as const).map((p) => (
              <label key={p}>
                <input type="radio" name="engagement-period" checked={period === p} onChange={() => setPeriod(p)} /> {t(p === 'today' ? 'engagement.period.today' : 'engagement.period.week')}
              </label>
            ))}
          </fieldset>
          <Rules rules={v.rules} />
          <div class="table-scroll">
            <table data-testid="engagement-table">
              <caption>{t('engagement.class.caption', { name: v.class.name, period: t(period === 'today' ? 'engagement.period.today' : 'engagement.period.week') })}</caption>
              <thead>
                <tr>
                  {COLUMNS.map((c) => (
                    <th key={c.label} scope="col" aria-sort={c.key && sort.key === c.key ? (sort.descending ? 'descending' : 'ascending') : undefined}>
                      {c.key ? (
                        <button type="button" class="link-button" onClick={() => setSort((s) => ({ key: c.key!, descending: s.key === c.key ? !s.descending : false }))}>
                          {t(c.label)}
                        </button>
                      ) : (
                        t(c.label)
                      )}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {sortLines(v.lines, sort).map((l) => (
                  <Line key={l.pupil.id} l={l} lang={current} />
                ))}
              </tbody>
            </table>
          </div>
          {v.lines.length === 0 && <EmptyState>{t('engagement.class.empty')}</EmptyState>}
        </div>
      )}
    </Loading>
  );
}

function Line({ l, lang: current }: { l: PupilLine; lang: 'fr' | 'en' }) {
  const t = useT();
  const name = fullName(l.pupil);
  const parents = l.parents.ids.map((id) => ({ id, name: t('engagement.parentOf', { name }) }));
  return (
    <tr class={l.concerns.length > 0 ? 'concern' : undefined} data-testid="engagement-line">
      <th scope="row">{name}</th>
      <td>
        {l.concerns.length === 0 ? (
          '—'
        ) : (
          <ul class="concerns">
            {l.concerns.map((c) => (
              <li key={c.rule}>{ruleText(t, c)}</li>
            ))}
          </ul>
        )}
      </td>
      <td>{l.lastSeenDay ? formatSchoolDay(l.lastSeenDay, current) : t('engagement.never')}</td>
      <td>{l.works.due === 0 ? '—' : t('engagement.works', { onTime: String(l.works.onTime), late: String(l.works.late), missing: String(l.works.missing), due: String(l.works.due) })}</td>
      <td>{l.classes.held === 0 ? '—' : t('engagement.classesCell', { attended: String(l.classes.attended), held: String(l.classes.held) })}</td>
      <td>
        {l.parents.count === 0 ? '—' : t('engagement.parentsCell', { connected: String(l.parents.everConnected), count: String(l.parents.count) })}
        {l.parents.liaisonsTotal > 0 && ` ; ${t('engagement.liaisonsCell', { signed: String(l.parents.liaisonsSigned), total: String(l.parents.liaisonsTotal) })}`}
      </td>
      <td>
        <a href={writeLink([{ id: l.pupil.id, name }])}>{t('engagement.writePupil', { name })}</a>
        {parents.length > 0 && (
          <>
            {' · '}
            <a href={writeLink(parents)}>{t('engagement.writeParents', { name })}</a>
          </>
        )}
      </td>
    </tr>
  );
}

/** The CPE's and direction's page: counts per class, pupils of concern, trend over 10 school days. */
function SchoolOverview({ schoolId }: { schoolId: string }) {
  const t = useT();
  return (
    <Loading load={() => loadSchool(schoolId)}>
      {(s) => (
        <div data-testid="engagement-school">
          <Rules rules={s.rules} />
          <h2>{t('engagement.school.trend')}</h2>
          <TrendChart s={s} />
          <h2>{t('engagement.school.concern', { n: String(s.ofConcern.length) })}</h2>
          {s.ofConcern.length === 0 ? (
            <EmptyState>{t('engagement.school.noConcern')}</EmptyState>
          ) : (
            <ul class="engagement-concern-list">
              {s.ofConcern.map((p) => (
                <li key={`${p.pupil.id}-${p.pupil.classId}`}>
                  <a href={`${ROUTES.engagement}?classe=${encodeURIComponent(p.pupil.classId)}`}>{fullName(p.pupil)}</a> ({p.pupil.className}) : {p.concerns.map((c) => ruleText(t, c)).join(' ; ')}
                </li>
              ))}
            </ul>
          )}
          <div class="table-scroll">
            <table>
              <caption>{t('engagement.school.classes')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('engagement.classLabel')}</th>
                  <th scope="col">{t('engagement.school.pupils')}</th>
                  <th scope="col">{t('engagement.col.concern')}</th>
                  <th scope="col">{t('engagement.school.seenToday')}</th>
                </tr>
              </thead>
              <tbody>
                {s.classes.map((c) => (
                  <tr key={c.classId}>
                    <th scope="row">
                      <a href={`${ROUTES.engagement}?classe=${encodeURIComponent(c.classId)}`} onClick={(e) => (e.preventDefault(), navigate(ROUTES.engagement, { search: `?classe=${encodeURIComponent(c.classId)}` }))}>
                        {c.name}
                      </a>
                    </th>
                    <td>{c.pupils}</td>
                    <td>{c.ofConcern}</td>
                    <td>{c.seenToday}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </div>
      )}
    </Loading>
  );
}

/** The direction (the school's data controller): thresholds, the CPE's digest, and who looked at which pupil. */
function DirectionPanel({ schoolId, onSaved }: { schoolId: string; onSaved: () => void }) {
  const t = useT();
  const current = useValue(lang);
  const [version, setVersion] = useState(0);
  return (
    <>
      <Loading key={`s${version}`} load={() => loadSettings(schoolId)}>
        {({ settings }) => <SettingsForm schoolId={schoolId} initial={settings} onSaved={() => (setVersion((v) => v + 1), onSaved())} />}
      </Loading>
      <details class="card">
        <summary>{t('engagement.log.title')}</summary>
        <Loading load={() => loadAccessLog(schoolId)}>
          {({ entries }) =>
            entries.length === 0 ? (
              <EmptyState>{t('engagement.log.empty')}</EmptyState>
            ) : (
              <ul data-testid="engagement-access-log">
                {entries.map((e) => (
                  <li key={e.id}>
                    {t('engagement.log.entry', {
                      at: formatDateTime(e.at, current), who: e.actor ? `${e.actor.firstName ?? ''} ${e.actor.lastName ?? ''}`.trim() : t('engagement.mine.someone'), pupil: fullName(e.pupil),
                    })}
                  </li>
                ))}
              </ul>
            )
          }
        </Loading>
      </details>
    </>
  );
}

const hhmm = (minute: number) => `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;

function SettingsForm({ schoolId, initial, onSaved }: { schoolId: string; initial: Settings; onSaved: () => void }) {
  const t = useT();
  const current = useValue(lang);
  const [s, setS] = useState(initial);
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const num = (key: 'inactiveSchoolDays' | 'missingWorksPerWeek' | 'missedClasses', label: MessageKey, max: number) => (
    <>
      <label for={`es-${key}`}>{t(label)}</label>
      <input id={`es-${key}`} type="number" inputMode="numeric" min={1} max={max} required value={s[key]} onInput={(e) => setS({ ...s, [key]: Number((e.currentTarget as HTMLInputElement).value) })} />
    </>
  );
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    try {
      await saveSettings(schoolId, s);
      setError(undefined);
      onSaved();
    } catch (err) {
      setError(errorMessage(err, current));
    } finally {
      setBusy(false);
    }
  };
  return (
    <details class="card">
      <summary>{t('engagement.settings.title')}</summary>
      <form onSubmit={(e) => void submit(e)} data-testid="engagement-settings">
        {num('inactiveSchoolDays', 'engagement.settings.inactive', 20)}
        {num('missingWorksPerWeek', 'engagement.settings.missing', 20)}
        {num('missedClasses', 'engagement.settings.missed', 10)}
        <label>
          <input type="checkbox" checked={s.digestEnabled} onChange={(e) => setS({ ...s, digestEnabled: (e.currentTarget as HTMLInputElement).checked })} /> {t('engagement.settings.digest')}
        </label>
        <label for="es-digest-time">{t('engagement.settings.digestTime')}</label>
        <input
          id="es-digest-time" type="time" min="12:00" max="20:00" step={60} value={hhmm(s.digestMinute)}
          onInput={(e) => {
            const [h, m] = (e.currentTarget as HTMLInputElement).value.split(':').map(Number);
            if (h !== undefined && m !== undefined && Number.isFinite(h) && Number.isFinite(m)) setS({ ...s, digestMinute: h * 60 + m });
          }}
        />
        <ErrorLine error={error} />
        <button type="submit" disabled={busy}>
          {t('engagement.settings.save')}
        </button>
      </form>
    </details>
  );
}

const CHART_W = 300;
const CHART_H = 80;

/** A small SVG line of pupils connected per school day, with the same figures as text for screen readers. */
function TrendChart({ s }: { s: SchoolView }) {
  const t = useT();
  const current = useValue(lang);
  const points = trendPoints(s.trend.map((d) => d.seen), s.pupils, CHART_W, CHART_H);
  const summary = s.trend.map((d) => `${formatSchoolDay(d.day, current)} : ${d.seen}`).join(', ');
  return (
    <figure class="engagement-trend">
      <svg viewBox={`-4 -4 ${CHART_W + 8} ${CHART_H + 8}`} role="img" aria-label={t('engagement.trend.alt', { pupils: String(s.pupils), days: summary })} width="100%" height={CHART_H + 8}>
        <line x1="0" y1={CHART_H} x2={CHART_W} y2={CHART_H} class="axis" />
        <polyline points={points.map((p) => `${p.x},${p.y}`).join(' ')} class="trend-line" fill="none" />
        {points.map((p, i) => (
          <circle key={s.trend[i]!.day} cx={p.x} cy={p.y} r="3" class="trend-point" />
        ))}
      </svg>
      <figcaption>{t('engagement.trend.caption', { pupils: String(s.pupils) })}</figcaption>
    </figure>
  );
}

/** A parent's view of one child: the week in words, no comparison with anyone. */
function ChildWeek({ id, name }: { id: string; name: string }) {
  const t = useT();
  return (
    <Loading load={() => loadPupil(id)}>
      {(w) => (
        <article class="engagement-child" data-testid="engagement-child">
          <h2>{t('engagement.child.title', { name })}</h2>
          <p>{w.summary}</p>
          {w.week.concerns.length > 0 && (
            <p>
              {t('engagement.child.concern')} {w.week.concerns.map((c) => ruleText(t, c)).join(' ; ')}
            </p>
          )}
        </article>
      )}
    </Loading>
  );
}

/** "Mes données": what is recorded about the pupil, their week, and who looked. */
function MyData() {
  const t = useT();
  const current = useValue(lang);
  return (
    <>
      <PageTitle>{t('engagement.mine.title')}</PageTitle>
      <p>{t('engagement.mine.intro')}</p>
      <Loading load={loadMine}>
        {(m) => (
          <div data-testid="engagement-mine">
            <h2>{t('engagement.mine.week')}</h2>
            <p>{m.summary}</p>
            <Rules rules={m.rules} />
            <h2>{t('engagement.mine.days')}</h2>
            {m.recorded.days.length === 0 ? (
              <EmptyState>{t('engagement.mine.noDays')}</EmptyState>
            ) : (
              <ul>
                {m.recorded.days.map((d) => (
                  <li key={d.day}>
                    {t('engagement.mine.day', {
                      day: formatSchoolDay(d.day, current), done: String(d.worksDone), handed: String(d.handedInOnTime + d.handedInLate), read: String(d.messagesRead),
                    })}
                  </li>
                ))}
              </ul>
            )}
            {m.recorded.virtualClasses.length > 0 && (
              <>
                <h2>{t('engagement.mine.classes')}</h2>
                <ul>
                  {m.recorded.virtualClasses.map((c) => (
                    <li key={c.sessionId}>{t('engagement.mine.class', { day: formatSchoolDay(c.day, current), minutes: String(c.minutes) })}</li>
                  ))}
                </ul>
              </>
            )}
            <h2>{t('engagement.mine.views')}</h2>
            {m.views.length === 0 ? (
              <EmptyState>{t('engagement.mine.noViews')}</EmptyState>
            ) : (
              <ul>
                {m.views.map((v) => (
                  <li key={v.id}>
                    {formatDateTime(v.at, current)} — {v.actor ? `${v.actor.firstName ?? ''} ${v.actor.lastName ?? ''}`.trim() : t('engagement.mine.someone')}
                  </li>
                ))}
              </ul>
            )}
          </div>
        )}
      </Loading>
    </>
  );
}
