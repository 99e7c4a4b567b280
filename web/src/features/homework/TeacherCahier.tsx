import type { ComponentChildren } from 'preact';
import { ErrorLine } from '../../app/FormParts.js';
import { useEffect, useState } from 'preact/hooks';
import type { HomeworkEntry } from '../../api/types.js';
import { PageTitle } from '../../app/EmptyState.js';
import { errorMessage } from '../../app/errors.js';
import { navigate, ROUTES } from '../../app/router.js';
import { announce, lang, me, useT } from '../../app/state.js';
import { useValue } from '../../app/store.js';
import { EntryForm } from './EntryForm.js';
import { ofAudience, teacherListQuery, type Kind } from './entry-form.js';
import { copyEntry, deleteEntry, getEntry, listWithEarlierWeeks, publishEntry, teacherAudiences, unpublishEntry, type Audience } from './homework.api.js';
import { EarlierWeeks, EntryGroups, Loading } from './shared.js';

/** A class or group once (the timetable lists it once per subject taught). */
function distinctAudiences(list: readonly Audience[]): Audience[] {
  const seen = new Map<string, Audience>();
  for (const a of list) {
    const key = `${a.classId ?? ''}|${a.groupId ?? ''}`;
    if (!seen.has(key)) seen.set(key, { ...a, value: key, label: a.label.split(' — ')[0]! });
  }
  return [...seen.values()];
}

/** The teacher's cahier: the form for a new entry, their entries (drafts included) with state and actions, filters. */
export function TeacherCahier({ classId, groupId }: { classId: string | null; groupId: string | null }) {
  const t = useT();
  const person = useValue(me)!;
  const [version, setVersion] = useState(0);
  const [audiences, setAudiences] = useState<Audience[] | undefined>();
  const [filter, setFilter] = useState(classId || groupId ? `${classId ?? ''}|${groupId ?? ''}` : '');
  const [kind, setKind] = useState<Kind | ''>('');
  const [weeksBack, setWeeksBack] = useState(0);
  useEffect(() => {
    teacherAudiences().then(setAudiences, () => setAudiences([]));
  }, []);
  const classes = distinctAudiences(audiences ?? []);
  const chosen = classes.find((a) => a.value === filter);
  const reload = () => setVersion((v) => v + 1);
  return (
    <section aria-labelledby="page-title">
      <PageTitle>{t('nav.homework')}</PageTitle>
      <p>
        <a href={`${ROUTES.homework}?enseignant=${encodeURIComponent(person.id)}`}>{t('visa.mine')}</a>
      </p>
      <details class="card">
        <summary>{t('entryForm.new')}</summary>
        <EntryForm audiences={audiences ?? []} onSaved={reload} />
      </details>
      <h2 class="section-title">{t('homework.mine')}</h2>
      <div class="filters" role="group" aria-label={t('teacherCahier.filters')}>
        <div>
          <label for="filter-audience">{t('teacherCahier.filterAudience')}</label>
          <select id="filter-audience" value={filter} onChange={(e) => setFilter((e.currentTarget as HTMLSelectElement).value)}>
            <option value="">{t('teacherCahier.allAudiences')}</option>
            {classes.map((a) => (
              <option key={a.value} value={a.value}>
                {a.label}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="filter-kind">{t('teacherCahier.filterKind')}</label>
          <select id="filter-kind" value={kind} onChange={(e) => setKind((e.currentTarget as HTMLSelectElement).value as Kind | '')}>
            <option value="">{t('teacherCahier.allKinds')}</option>
            <option value="seance">{t('homework.seances')}</option>
            <option value="travail">{t('homework.travaux')}</option>
          </select>
        </div>
      </div>
      <EarlierWeeks weeksBack={weeksBack} onMore={() => setWeeksBack((w) => w + 1)} />
      <Loading key={`${version}|${kind}|${weeksBack}`} load={() => listWithEarlierWeeks(teacherListQuery(kind), weeksBack)}>
        {(data) => <EntryGroups entries={ofAudience(data.entries, chosen)} by="day" actions={(e) => <EntryActions entry={e} audiences={audiences ?? []} onChanged={reload} />} />}
      </Loading>
    </section>
  );
}

type Panel = 'schedule' | 'copy' | 'delete' | undefined;

/** What the author can do with an entry: edit, publish, schedule, back to draft, copy, delete. */
function EntryActions({ entry: e, audiences, onChanged }: { entry: HomeworkEntry; audiences: Audience[]; onChanged: () => void }) {
  const t = useT();
  const current = useValue(lang);
  const [panel, setPanel] = useState<Panel>();
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const id = `act-${e.id}`;
  const run = async (action: () => Promise<unknown>, done: Parameters<typeof t>[0]) => {
    setBusy(true);
    setError(undefined);
    try {
      await action();
      announce(t(done, { title: e.title }));
      setPanel(undefined);
      onChanged();
    } catch (err) {
      setError(errorMessage(err, current));
    } finally {
      setBusy(false);
    }
  };
  const named = (label: string) => (
    <>
      {label}
      <span class="visually-hidden"> : {e.title}</span>
    </>
  );
  const toggle = (p: Panel) => setPanel(panel === p ? undefined : p);
  return (
    <div class="entry-actions" data-testid="entry-actions">
      <div class="actions-row">
        <a class="button-link" href={`${ROUTES.homework}?modifier=${encodeURIComponent(e.id)}`}>
          {named(t('entryForm.edit'))}
        </a>
        {e.state !== 'published' && (
          <button type="button" class="button-secondary" disabled={busy} onClick={() => void run(() => publishEntry(e.id), 'teacherCahier.published')}>
            {named(t('teacherCahier.publishNow'))}
          </button>
        )}
        {e.state === 'draft' && (
          <button type="button" class="button-secondary" aria-expanded={panel === 'schedule'} aria-controls={`${id}-schedule`} onClick={() => toggle('schedule')}>
            {named(t('teacherCahier.schedule'))}
          </button>
        )}
        {e.state !== 'draft' && (
          <button type="button" class="button-secondary" disabled={busy} onClick={() => void run(() => unpublishEntry(e.id), 'teacherCahier.unpublished')}>
            {named(t('teacherCahier.unpublish'))}
          </button>
        )}
        <button type="button" class="button-secondary" aria-expanded={panel === 'copy'} aria-controls={`${id}-copy`} onClick={() => toggle('copy')}>
          {named(t('teacherCahier.copy'))}
        </button>
        <button type="button" class="button-secondary" aria-expanded={panel === 'delete'} aria-controls={`${id}-delete`} onClick={() => toggle('delete')}>
          {named(t('teacherCahier.delete'))}
        </button>
      </div>
      {panel === 'schedule' && <ScheduleForm id={`${id}-schedule`} busy={busy} onSubmit={(at) => void run(() => publishEntry(e.id, at), 'teacherCahier.scheduled')} />}
      {panel === 'copy' && (
        <CopyForm id={`${id}-copy`} entry={e} audiences={audiences} busy={busy} onSubmit={(body) => void run(() => copyEntry(e.id, body), 'teacherCahier.copied')} />
      )}
      {panel === 'delete' && (
        <div id={`${id}-delete`} class="confirm" role="group" aria-label={t('teacherCahier.deleteConfirm', { title: e.title })}>
          <p>{t('teacherCahier.deleteConfirm', { title: e.title })}</p>
          <button type="button" class="button-danger" disabled={busy} onClick={() => void run(() => deleteEntry(e.id), 'teacherCahier.deleted')}>
            {t('teacherCahier.deleteYes')}
          </button>{' '}
          <button type="button" class="button-secondary" onClick={() => setPanel(undefined)}>
            {t('teacherCahier.cancel')}
          </button>
        </div>
      )}
      <ErrorLine error={error} />
    </div>
  );
}

function InlineForm({ id, onSubmit, children }: { id: string; onSubmit: () => void; children: ComponentChildren }) {
  return (
    <form
      id={id}
      class="inline-form"
      noValidate
      onSubmit={(ev) => {
        ev.preventDefault();
        onSubmit();
      }}
    >
      {children}
    </form>
  );
}

function ScheduleForm({ id, busy, onSubmit }: { id: string; busy: boolean; onSubmit: (atIso: string) => void }) {
  const t = useT();
  const [at, setAt] = useState('');
  const [error, setError] = useState(false);
  return (
    <InlineForm
      id={id}
      onSubmit={() => {
        const ms = Date.parse(at);
        setError(!Number.isFinite(ms));
        if (Number.isFinite(ms)) onSubmit(new Date(ms).toISOString());
      }}
    >
      <label for={`${id}-at`}>{t('entryForm.publishAt')}</label>
      <input id={`${id}-at`} type="datetime-local" value={at} aria-invalid={error} onInput={(ev) => setAt((ev.currentTarget as HTMLInputElement).value)} />
      {error && <p class="alert">{t('entryForm.error.publishAt')}</p>}
      <button type="submit" disabled={busy}>
        {t('teacherCahier.scheduleSubmit')}
      </button>
    </InlineForm>
  );
}

function CopyForm({ id, entry, audiences, busy, onSubmit }: { id: string; entry: HomeworkEntry; audiences: Audience[]; busy: boolean; onSubmit: (body: { classId?: string; groupId?: string; date: string; publishAt: 'now' | null }) => void }) {
  const t = useT();
  const targets = distinctAudiences(audiences).filter((a) => (entry.audience.kind === 'class' ? a.classId !== entry.audience.id : a.groupId !== entry.audience.id));
  const [target, setTarget] = useState(targets[0]?.value ?? '');
  const [date, setDate] = useState(entry.date);
  const [publishNow, setPublishNow] = useState(false);
  if (targets.length === 0) return <p id={id}>{t('teacherCahier.noCopyTarget')}</p>;
  return (
    <InlineForm
      id={id}
      onSubmit={() => {
        const a = targets.find((x) => x.value === target);
        if (!a || !/^\d{4}-\d{2}-\d{2}$/.test(date)) return;
        onSubmit({ ...(a.classId ? { classId: a.classId } : { groupId: a.groupId! }), date, publishAt: publishNow ? 'now' : null });
      }}
    >
      <label for={`${id}-target`}>{t('teacherCahier.copyTo')}</label>
      <select id={`${id}-target`} value={target} onChange={(ev) => setTarget((ev.currentTarget as HTMLSelectElement).value)}>
        {targets.map((a) => (
          <option key={a.value} value={a.value}>
            {a.label}
          </option>
        ))}
      </select>
      <label for={`${id}-date`}>{t('teacherCahier.copyDate')}</label>
      <input id={`${id}-date`} type="date" value={date} onInput={(ev) => setDate((ev.currentTarget as HTMLInputElement).value)} />
      <div>
        <input id={`${id}-now`} type="checkbox" checked={publishNow} onChange={(ev) => setPublishNow((ev.currentTarget as HTMLInputElement).checked)} />{' '}
        <label for={`${id}-now`}>{t('teacherCahier.copyPublishNow')}</label>
      </div>
      <button type="submit" disabled={busy}>
        {t('teacherCahier.copySubmit')}
      </button>
    </InlineForm>
  );
}

/** The edit page of one entry (?modifier=): the same form, filled; back to the cahier once saved. */
export function EditEntry({ entryId }: { entryId: string }) {
  const t = useT();
  return (
    <section aria-labelledby="page-title">
      <p>
        <a href={ROUTES.homework}>{t('homework.back')}</a>
      </p>
      <PageTitle>{t('entryForm.editTitle')}</PageTitle>
      <Loading load={() => getEntry(entryId)}>
        {({ entry }) => <EntryForm audiences={[]} entry={entry} onSaved={() => navigate(ROUTES.homework)} />}
      </Loading>
    </section>
  );
}
