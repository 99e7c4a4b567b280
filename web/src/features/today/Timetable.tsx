import type { Slot } from '../../api/types.js';
import { EmptyState } from '../../app/EmptyState.js';
import { lang, useT } from '../../app/state.js';
import { useValue } from '../../app/store.js';
import { formatTime } from '../../i18n/index.js';

/**
 * The day's lessons in order. A cancelled or changed lesson says so in words (not only by colour
 * or strike-through), with the school's note.
 */
export function Timetable({ slots, showAudience = false }: { slots: Slot[]; showAudience?: boolean }) {
  const t = useT();
  const current = useValue(lang);
  if (slots.length === 0) return <EmptyState>{t('today.noLessons')}</EmptyState>;
  return (
    <ol class="timetable">
      {slots.map((s) => {
        const cancelled = s.status === 'annule';
        const changed = s.status === 'modifie';
        return (
          <li key={s.id} class={`slot${cancelled ? ' slot-cancelled' : ''}${changed ? ' slot-changed' : ''}`} data-slot-status={s.status}>
            <p class="slot-time">{t('slot.time', { start: formatTime(s.startsAt, current), end: formatTime(s.endsAt, current) })}</p>
            <div class="slot-body">
              <p class="slot-subject">
                <span class="slot-subject-name">{s.subject ?? s.audience ?? t('slot.untitled')}</span>
                {cancelled && (
                  <strong class="badge badge-cancelled" title={t('slot.cancelledLabel')}>
                    {t('slot.cancelled')}
                  </strong>
                )}
                {changed && (
                  <strong class="badge badge-changed" title={t('slot.changedLabel')}>
                    {t('slot.changed')}
                  </strong>
                )}
              </p>
              <p class="slot-meta">{[showAudience ? s.audience : s.teacher, s.room ? t('slot.room', { room: s.room }) : null].filter(Boolean).join(' · ')}</p>
              {s.note && <p class="slot-note">{s.note}</p>}
            </div>
          </li>
        );
      })}
    </ol>
  );
}
