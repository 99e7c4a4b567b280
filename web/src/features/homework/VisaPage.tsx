import { useState } from 'preact/hooks';
import { ErrorLine } from '../../app/FormParts.js';
import type { CahierVisa, HomeworkEntry } from '../../api/types.js';
import { EmptyState, PageTitle } from '../../app/EmptyState.js';
import { errorMessage } from '../../app/errors.js';
import { ROUTES } from '../../app/router.js';
import { announce, lang, me, useT } from '../../app/state.js';
import { useValue } from '../../app/store.js';
import { formatDateTime } from '../../i18n/index.js';
import { LIMITS } from './entry-form.js';
import { listEntries, mySchools, schoolClasses, teacherCahier, visaCahier } from './homework.api.js';
import { EntryGroups, Loading } from './shared.js';

const cahierHref = (teacherId: string) => `${ROUTES.homework}?enseignant=${encodeURIComponent(teacherId)}`;

/** The teachers who wrote these entries, each once (the way to their cahier: there is no list of a school's teachers in the API). */
export function teachersOf(entries: readonly HomeworkEntry[]): { id: string; name: string }[] {
  const seen = new Map<string, string>();
  for (const e of entries) if (e.teacherId && e.teacher && !seen.has(e.teacherId)) seen.set(e.teacherId, e.teacher);
  return [...seen].map(([id, name]) => ({ id, name })).sort((a, b) => a.name.localeCompare(b.name, 'fr'));
}

/** School staff: a class or group's cahier, and from it each teacher's cahier to visa. */
export function StaffCahier() {
  const t = useT();
  const [choice, setChoice] = useState('');
  return (
    <section aria-labelledby="page-title">
      <PageTitle>{t('nav.homework')}</PageTitle>
      <p>{t('visa.staffIntro')}</p>
      <Loading
        load={async () => {
          const schools = (await mySchools()).data.schools;
          const lists = await Promise.all(schools.map((s) => schoolClasses(s.id).then((r) => r.data)));
          return { stale: undefined, data: lists.flatMap((l) => [...l.classes.map((c) => ({ value: `classId=${encodeURIComponent(c.id)}`, label: c.name })), ...l.groups.map((g) => ({ value: `groupId=${encodeURIComponent(g.id)}`, label: g.name }))]) };
        }}
      >
        {(options) => (
          <>
            <label for="staff-audience">{t('visa.chooseAudience')}</label>
            <select id="staff-audience" value={choice} onChange={(e) => setChoice((e.currentTarget as HTMLSelectElement).value)}>
              <option value="">—</option>
              {options.map((o) => (
                <option key={o.value} value={o.value}>
                  {o.label}
                </option>
              ))}
            </select>
          </>
        )}
      </Loading>
      {choice && (
        <Loading key={choice} load={() => listEntries(`${choice}&limit=100`)}>
          {(data) => (
            <>
              <h2 class="section-title">{t('visa.teachersOfAudience')}</h2>
              {teachersOf(data.entries).length === 0 ? (
                <EmptyState>{t('homework.empty')}</EmptyState>
              ) : (
                <ul data-testid="audience-teachers">
                  {teachersOf(data.entries).map((p) => (
                    <li key={p.id}>
                      <a href={cahierHref(p.id)}>{t('visa.openCahier', { name: p.name })}</a>
                    </li>
                  ))}
                </ul>
              )}
              <EntryGroups entries={data.entries} by="day" />
            </>
          )}
        </Loading>
      )}
    </section>
  );
}

/** A teacher's cahier (published entries, all their classes) with its visas; the direction visas it here. */
export function TeacherVisas({ teacherId }: { teacherId: string }) {
  const t = useT();
  const person = useValue(me)!;
  const [version, setVersion] = useState(0);
  const own = person.id === teacherId;
  return (
    <section aria-labelledby="page-title">
      <p>
        <a href={ROUTES.homework}>{t('homework.back')}</a>
      </p>
      <Loading key={version} load={() => teacherCahier(teacherId)}>
        {(data) => {
          const name = data.entries.find((e) => e.teacher)?.teacher;
          return (
            <>
              <PageTitle>{own ? t('visa.myTitle') : name ? t('visa.title', { name }) : t('visa.titleUnknown')}</PageTitle>
              <Visas visas={data.visas} />
              {!own && person.profile !== 'enseignant' && <VisaForm teacherId={teacherId} onDone={() => setVersion((v) => v + 1)} />}
              <h2 class="section-title">{t('visa.entries')}</h2>
              <EntryGroups entries={data.entries} by="day" />
            </>
          );
        }}
      </Loading>
    </section>
  );
}

function Visas({ visas }: { visas: CahierVisa[] }) {
  const t = useT();
  const current = useValue(lang);
  return (
    <section class="card" aria-labelledby="visas-title" data-testid="visas">
      <h2 id="visas-title">{t('visa.past')}</h2>
      {visas.length === 0 ? (
        <p>{t('visa.none')}</p>
      ) : (
        <ul class="visas">
          {visas.map((v) => (
            <li key={v.id}>
              <p>{t('visa.line', { when: formatDateTime(v.at, current), by: v.by ?? t('visa.someone') })}</p>
              {v.comment && <p class="feedback-comment">{v.comment}</p>}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function VisaForm({ teacherId, onDone }: { teacherId: string; onDone: () => void }) {
  const t = useT();
  const current = useValue(lang);
  const [comment, setComment] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  return (
    <form
      class="card"
      aria-labelledby="visa-form-title"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        setBusy(true);
        visaCahier(teacherId, comment).then(
          () => {
            setBusy(false);
            setError(undefined);
            announce(t('visa.done'));
            onDone();
          },
          (err: unknown) => {
            setBusy(false);
            setError(errorMessage(err, current));
          },
        );
      }}
    >
      <h2 id="visa-form-title">{t('visa.give')}</h2>
      <label for="visa-comment">{t('visa.comment')}</label>
      <textarea id="visa-comment" rows={3} maxLength={LIMITS.visaCommentChars} value={comment} onInput={(e) => setComment((e.currentTarget as HTMLTextAreaElement).value)} />
      <ErrorLine error={error} />
      <button type="submit" disabled={busy}>
        {t('visa.submit')}
      </button>
    </form>
  );
}
