import type { ComponentChildren } from 'preact';
import type { HomeworkEntry } from '../../api/types.js';
import { EmptyState } from '../../app/EmptyState.js';
import { ROUTES } from '../../app/router.js';
import { lang, useT } from '../../app/state.js';
import { useValue } from '../../app/store.js';
import { formatDateTime, formatSchoolDay } from '../../i18n/index.js';
import { stateLabel } from './entry-form.js';
import { formatBytes, groupByDay, groupBySubject } from './homework.state.js';

/** Pieces shared by the cahier's pages (readers, teacher, direction). */

export const entryHref = (id: string) => `${ROUTES.homework}?travail=${encodeURIComponent(id)}`;

// Shared with the other features (one copy each): the page-level read and a file to download.
export { Loading } from '../../app/Loading.js';
export { AttachmentLink } from './AttachmentLink.js';


/**
 * Entries by day or by subject; in each, the séances (what was done in class) apart from the work
 * to do. `actions` adds the teacher's buttons under each line.
 */
export function EntryGroups({ entries, by, actions }: { entries: HomeworkEntry[]; by: 'day' | 'subject'; actions?: (e: HomeworkEntry) => ComponentChildren }) {
  const t = useT();
  const current = useValue(lang);
  if (entries.length === 0) return <EmptyState>{t('homework.empty')}</EmptyState>;
  const groups = by === 'day' ? groupByDay(entries) : groupBySubject(entries, t('homework.noSubject'));
  return (
    <div class="grid">
      {groups.map((g, i) => (
        <section key={g.key} class="card" aria-labelledby={`group-${i}`}>
          <h2 id={`group-${i}`}>{by === 'day' ? formatSchoolDay(g.key, current) : g.key}</h2>
          {(['seance', 'travail'] as const).map((kind) => {
            const list = g.entries.filter((e) => e.kind === kind);
            if (list.length === 0) return null;
            return (
              <div key={kind} class={`kind-${kind}`} data-testid={`kind-${kind}`}>
                <h3 class="kind-title">{t(kind === 'seance' ? 'homework.seances' : 'homework.travaux')}</h3>
                <ul class="work-due">
                  {list.map((e) => (
                    <EntryLine key={e.id} entry={e} showDate={by === 'subject'} showState={actions !== undefined}>
                      {actions?.(e)}
                    </EntryLine>
                  ))}
                </ul>
              </div>
            );
          })}
        </section>
      ))}
    </div>
  );
}

function EntryLine({ entry: e, showDate, showState, children }: { entry: HomeworkEntry; showDate: boolean; showState: boolean; children?: ComponentChildren }) {
  const t = useT();
  const current = useValue(lang);
  const state = stateLabel(e);
  return (
    <li class={`work-item work-${e.kind}`} data-testid="entry-line" data-state={e.state}>
      <p class="work-when">
        {t(e.kind === 'travail' ? 'homework.kind.travail' : 'homework.kind.seance')}
        {showDate && ` · ${formatSchoolDay(e.date, current)}`}
        {(showState || e.state !== 'published') && ` · ${t(state.key, state.publishAt ? { when: formatDateTime(state.publishAt, current) } : {})}`}
        {e.estimatedMinutes !== null && ` · ${t('work.estimated', { minutes: e.estimatedMinutes })}`}
      </p>
      <p class="work-title">
        <a href={entryHref(e.id)}>{[e.subject?.label, e.title].filter(Boolean).join(' — ')}</a>
        {e.onlineHandin && <strong class="badge badge-online">{t('work.onlineHandin')}</strong>}
        {e.done && <strong class="badge badge-current">{t('homework.doneBadge')}</strong>}
      </p>
      <p class="slot-meta">
        {[e.audience.name, e.attachments.length > 0 ? t('homework.attachmentCount', { count: e.attachments.length }) : '', e.links.length > 0 ? t('homework.linkCount', { count: e.links.length }) : '']
          .filter(Boolean)
          .join(' · ')}
      </p>
      {children}
    </li>
  );
}

/** The weeks before the default window, one more at each press (at most MAX_WEEKS_BACK). */
export const MAX_WEEKS_BACK = 8;
export function EarlierWeeks({ weeksBack, onMore }: { weeksBack: number; onMore: () => void }) {
  const t = useT();
  if (weeksBack >= MAX_WEEKS_BACK) return null;
  return (
    <p>
      <button type="button" class="button-secondary" onClick={onMore}>
        {t('homework.earlierWeek')}
      </button>
    </p>
  );
}

/** The files chosen in a file input, before they are sent. */
export function SelectedFiles({ files }: { files: readonly File[] }) {
  const current = useValue(lang);
  if (files.length === 0) return null;
  return (
    <ul class="files">
      {files.map((f) => (
        <li key={f.name}>
          {f.name} ({formatBytes(f.size, current)})
        </li>
      ))}
    </ul>
  );
}
