import { useState } from 'preact/hooks';
import type { HomeworkEntry } from '../../api/types.js';
import { PageTitle } from '../../app/EmptyState.js';
import { currentSearch, ROUTES } from '../../app/router.js';
import { announce, lang, me, useT } from '../../app/state.js';
import { useValue } from '../../app/store.js';
import { formatDateTime, formatSchoolDay, formatTime } from '../../i18n/index.js';
import { queueWrite } from '../../offline/outbox-runner.js';
import { ParentHandins, PupilHandin, TeacherHandins } from './Handins.js';
import { getEntry, listWithEarlierWeeks } from './homework.api.js';
import { AttachmentLink, EarlierWeeks, EntryGroups, Loading } from './shared.js';
import { EditEntry, TeacherCahier } from './TeacherCahier.js';
import { StaffCahier, TeacherVisas } from './VisaPage.js';

/**
 * The cahier de textes, the router of the feature: an entry (?travail=), the teacher's edit form
 * (?modifier=), a teacher's cahier for the visa (?enseignant=), else each profile's own page.
 */
export default function HomeworkPage() {
  const search = useValue(currentSearch);
  const person = useValue(me);
  const params = new URLSearchParams(search);
  const entryId = params.get('travail');
  if (!person) return null;
  if (entryId) return <EntryPage key={entryId} entryId={entryId} />;
  const editId = params.get('modifier');
  const teacherId = params.get('enseignant');
  if (teacherId) return <TeacherVisas key={teacherId} teacherId={teacherId} />;
  if (person.profile === 'enseignant') {
    if (editId) return <EditEntry key={editId} entryId={editId} />;
    return <TeacherCahier key={search} classId={params.get('classe')} groupId={params.get('groupe')} />;
  }
  if (person.profile === 'eleve' || person.profile === 'parent') return <ReaderCahier />;
  return <StaffCahier />;
}

/** Pupils and parents: the coming weeks' entries, by day or by subject; earlier weeks on demand (past séances). */
function ReaderCahier() {
  const t = useT();
  const [by, setBy] = useState<'day' | 'subject'>('day');
  const [weeksBack, setWeeksBack] = useState(0);
  const load = () => listWithEarlierWeeks('limit=100', weeksBack);
  return (
    <section aria-labelledby="page-title">
      <PageTitle>{t('nav.homework')}</PageTitle>
      <fieldset class="choice">
        <legend>{t('homework.groupBy')}</legend>
        {(['day', 'subject'] as const).map((v) => (
          <div key={v}>
            <input type="radio" id={`by-${v}`} name="by" value={v} checked={by === v} onChange={() => setBy(v)} />
            <label for={`by-${v}`}>{t(v === 'day' ? 'homework.byDay' : 'homework.bySubject')}</label>
          </div>
        ))}
      </fieldset>
      <EarlierWeeks weeksBack={weeksBack} onMore={() => setWeeksBack((w) => w + 1)} />
      <Loading key={weeksBack} load={load}>
        {(data) => <EntryGroups entries={data.entries} by={by} />}
      </Loading>
    </section>
  );
}

/** One entry: its text, attachments, "fait", and the hand-ins as each profile sees them. */
function EntryPage({ entryId }: { entryId: string }) {
  const t = useT();
  const person = useValue(me)!;
  const [, setVersion] = useState(0);
  return (
    <section aria-labelledby="page-title">
      <p>
        <a href={ROUTES.homework}>{t('homework.back')}</a>
      </p>
      <Loading load={() => getEntry(entryId)}>
        {({ entry }) => (
          <>
            <EntryDetail entry={entry} />
            {person.profile === 'enseignant' && entry.teacherId === person.id && (
              <p>
                <a href={`${ROUTES.homework}?modifier=${encodeURIComponent(entry.id)}`}>{t('entryForm.edit')}</a>
              </p>
            )}
            {person.profile === 'eleve' && entry.kind === 'travail' && <DoneBox entry={entry} onChange={() => setVersion((v) => v + 1)} />}
            {person.profile === 'eleve' && entry.onlineHandin && <PupilHandin entry={entry} pupilId={person.id} />}
            {person.profile === 'parent' && entry.onlineHandin && <ParentHandins entry={entry} />}
            {person.profile === 'enseignant' && entry.onlineHandin && <TeacherHandins entry={entry} />}
          </>
        )}
      </Loading>
    </section>
  );
}

const isStaff = (profile: string) => profile === 'personnel' || profile === 'admin_etablissement' || profile === 'admin_plateforme';

function EntryDetail({ entry: e }: { entry: HomeworkEntry }) {
  const t = useT();
  const person = useValue(me)!;
  const current = useValue(lang);
  return (
    <article class="card" aria-labelledby="page-title" data-testid="entry-detail">
      <PageTitle>{[e.subject?.label, e.title].filter(Boolean).join(' — ')}</PageTitle>
      <dl class="facts">
        <dt>{t('homework.for')}</dt>
        <dd>{e.audience.name}</dd>
        {e.teacher && (
          <>
            <dt>{t('homework.teacher')}</dt>
            <dd>{e.teacherId && isStaff(person.profile) ? <a href={`${ROUTES.homework}?enseignant=${encodeURIComponent(e.teacherId)}`}>{t('visa.openCahier', { name: e.teacher })}</a> : e.teacher}</dd>
          </>
        )}
        <dt>{t(e.kind === 'travail' ? 'homework.dueOn' : 'homework.lessonOn')}</dt>
        <dd>
          {formatSchoolDay(e.date, current)}
          {e.dueAt && `, ${t('work.dueAt', { time: formatTime(e.dueAt, current) })}`}
        </dd>
        {e.estimatedMinutes !== null && (
          <>
            <dt>{t('homework.estimated')}</dt>
            <dd>{t('work.estimated', { minutes: e.estimatedMinutes })}</dd>
          </>
        )}
        {e.onlineHandin && (
          <>
            <dt>{t('homework.handinMode')}</dt>
            <dd>{t('work.onlineHandin')}</dd>
          </>
        )}
        {e.state !== 'published' && (
          <>
            <dt>{t('homework.stateLabel')}</dt>
            <dd>{e.state === 'draft' ? t('homework.state.draft') : t('homework.state.scheduledAt', { when: formatDateTime(e.publishAt!, current) })}</dd>
          </>
        )}
      </dl>
      {/* Sanitised by the server against an allow-list (homework.service): content only, never markup of ours. */}
      <div class="rich-text" dangerouslySetInnerHTML={{ __html: e.bodyHtml }} />
      {e.links.length > 0 && (
        <>
          <h2>{t('homework.links')}</h2>
          <ul class="links">
          {e.links.map((l) => (
            <li key={l.url}>
              <a href={l.url} rel="noopener noreferrer nofollow" target="_blank">
                {l.label || l.url}
              </a>
            </li>
          ))}
          </ul>
        </>
      )}
      {e.attachments.length > 0 && (
        <>
          <h2>{t('homework.attachments')}</h2>
          <ul class="files">
            {e.attachments.map((a) => (
              <AttachmentLink key={a.id} file={a} />
            ))}
          </ul>
        </>
      )}
    </article>
  );
}


/** "Fait": goes through the outbox (Idempotency-Key), so a tick made offline is sent once, later. */
function DoneBox({ entry, onChange }: { entry: HomeworkEntry; onChange: () => void }) {
  const t = useT();
  const [done, setDone] = useState(entry.done === true);
  const toggle = async (value: boolean) => {
    setDone(value);
    entry.done = value;
    await queueWrite('homework-done', 'PUT', `/api/v1/homework/${encodeURIComponent(entry.id)}/done`, { done: value }, entry.title);
    announce(t(value ? 'homework.doneSaved' : 'homework.notDoneSaved'));
    onChange();
  };
  return (
    <div class="card">
      <input type="checkbox" id="done" checked={done} onChange={(e) => void toggle((e.currentTarget as HTMLInputElement).checked)} />{' '}
      <label for="done">{t('homework.done')}</label>
    </div>
  );
}
