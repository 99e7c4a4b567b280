import { useEffect, useState } from 'preact/hooks';
import { api } from '../../api/client.js';
import { ROUTES } from '../../app/router.js';
import { lang, useT } from '../../app/state.js';
import { useValue } from '../../app/store.js';
import { formatTime } from '../../i18n/index.js';

/** A class starting within this much time is shown on Aujourd'hui too (the pupil is one click from the lobby). */
export const CLASSROOM_SOON_MS = 15 * 60_000;

interface Listed {
  id: string;
  title: string;
  status: 'scheduled' | 'open' | 'closed';
  startsAt: string | null;
}

/**
 * Aujourd'hui's way into the classe virtuelle: the class open now (or the next one starting within
 * CLASSROOM_SOON_MS), one click from its room; nothing at all otherwise. Kept tiny: the room itself
 * is a lazy chunk (features/classroom/).
 */
export function ClassroomCard({ nowMs }: { nowMs: number }) {
  const t = useT();
  const current = useValue(lang);
  const [room, setRoom] = useState<Listed | undefined>();
  useEffect(() => {
    api<{ classrooms: Listed[] }>('GET', '/api/v1/classrooms').then(
      ({ data }) => {
        const soon = (r: Listed) => r.status === 'scheduled' && r.startsAt !== null && Date.parse(r.startsAt) - nowMs <= CLASSROOM_SOON_MS && Date.parse(r.startsAt) > nowMs - CLASSROOM_SOON_MS;
        setRoom(data.classrooms.find((r) => r.status === 'open') ?? data.classrooms.find(soon));
      },
      () => undefined,
    );
  }, []);
  if (!room) return null;
  return (
    <section class="card card-classroom" aria-labelledby="today-classroom" data-testid="today-classroom">
      <h2 id="today-classroom">{room.status === 'open' ? t('today.classroomOpen') : t('today.classroomSoon', { time: formatTime(room.startsAt!, current) })}</h2>
      <a class="button" href={`${ROUTES.classroom}?salle=${encodeURIComponent(room.id)}`}>
        {t('today.classroomJoin', { title: room.title })}
      </a>
    </section>
  );
}
