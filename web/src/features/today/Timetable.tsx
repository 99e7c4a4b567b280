import type { Slot } from '../../api/types.js';
import { EmptyState } from '../../app/EmptyState.js';
import { lang, useT } from '../../app/state.js';
import { useValue } from '../../app/store.js';
import { formatTime, type MessageKey } from '../../i18n/index.js';

/** A change said in words (and a longer title); a status this client does not know shows the server's label. */
const CHANGE_BADGES: Record<string, readonly [MessageKey, MessageKey]> = {
  annule: ['slot.cancelled', 'slot.cancelledLabel'],
  modifie: ['slot.changed', 'slot.changedLabel'],
  deplace: ['slot.moved', 'slot.movedLabel'],
  remplace: ['slot.replaced', 'slot.replacedLabel'],
};

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
        const changed = s.status !== 'normal' && !cancelled;
        const badge = CHANGE_BADGES[s.status];
        return (
          <li key={s.id} class={`slot${cancelled ? ' slot-cancelled' : ''}${changed ? ' slot-changed' : ''}`} data-slot-status={s.status}>
            <p class="slot-time">{t('slot.time', { start: formatTime(s.startsAt, current), end: formatTime(s.endsAt, current) })}</p>
            <div class="slot-body">
              <p class="slot-subject">
                <span class="slot-subject-name">{s.subject ?? s.audience ?? t('slot.untitled')}</span>
                {s.status !== 'normal' && (
                  <strong class={`badge ${cancelled ? 'badge-cancelled' : 'badge-changed'}`} title={badge ? t(badge[1]) : s.change?.label}>
                    {badge ? t(badge[0]) : (s.change?.label ?? t('slot.changed'))}
                  </strong>
                )}
              </p>
              <p class="slot-meta">{[showAudience ? s.audience : s.teacher, s.room ? t('slot.room', { room: s.room }) : null].filter(Boolean).join(' · ')}</p>
              {s.change?.before && (
                <p class="slot-note">
                  {t('slot.before', {
                    what: [
                      s.change.before.startsAt ? formatTime(s.change.before.startsAt, current) : null,
                      s.change.before.room ? t('slot.room', { room: s.change.before.room }) : null,
                      s.change.before.teacher,
                    ].filter(Boolean).join(' · '),
                  })}
                </p>
              )}
              {s.note && <p class="slot-note">{s.note}</p>}
            </div>
          </li>
        );
      })}
    </ol>
  );
}
