import type { WorkDue } from '../../api/types.js';
import { EmptyState } from '../../app/EmptyState.js';
import { ROUTES } from '../../app/router.js';
import { lang, useT } from '../../app/state.js';
import { useValue } from '../../app/store.js';
import { formatTime } from '../../i18n/index.js';

/** Where an entry of the cahier de textes opens (the detail lives in a lazily loaded chunk). */
export function entryHref(entryId: string): string {
  return `${ROUTES.homework}?travail=${encodeURIComponent(entryId)}`;
}

/**
 * Work due today and tomorrow, in that order. Whether it is for today or tomorrow, and whether it
 * is handed in online, are said in words (not by colour).
 */
export function WorkDueList({ items, today, empty }: { items: WorkDue[]; today: string; empty: string }) {
  const t = useT();
  const current = useValue(lang);
  if (items.length === 0) return <EmptyState>{empty}</EmptyState>;
  const sorted = [...items].sort((a, b) => (a.dueAt ?? a.date).localeCompare(b.dueAt ?? b.date));
  return (
    <ul class="work-due" data-testid="work-due">
      {sorted.map((w) => (
        <li key={w.id} class="work-item">
          <p class="work-when">
            {w.date === today ? t('work.dueToday') : t('work.dueTomorrow')}
            {w.dueAt && ` · ${t('work.dueAt', { time: formatTime(w.dueAt, current) })}`}
          </p>
          <p class="work-title">
            <a href={entryHref(w.id)}>{[w.subject, w.title].filter(Boolean).join(' — ')}</a>
            {w.onlineHandin && <strong class="badge badge-online">{t('work.onlineHandin')}</strong>}
          </p>
          {w.estimatedMinutes !== null && <p class="slot-meta">{t('work.estimated', { minutes: w.estimatedMinutes })}</p>}
        </li>
      ))}
    </ul>
  );
}
