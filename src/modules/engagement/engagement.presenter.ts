import { weekdayOf } from '../timetable/index.js';
import type { Lang } from '../../platform/errors.js';
import { ruleText, type Concern } from './engagement.rules.js';
import type { PupilLine } from './engagement.service.js';

/** Explicit presenters: rows never reach clients raw. Instants go out as ISO strings, days as `YYYY-MM-DD`. */
const iso = (ms: number) => new Date(ms).toISOString();

export function presentConcern(c: Concern) {
  return { rule: c.rule, value: c.value, threshold: c.threshold, text: ruleText(c.rule, c.threshold) };
}

export function presentLine(l: PupilLine) {
  return { ...l, concerns: l.concerns.map(presentConcern) };
}

export function presentRules(t: { inactiveSchoolDays: number; missingWorksPerWeek: number; missedClasses: number }) {
  return [
    { rule: 'inactive', threshold: t.inactiveSchoolDays, text: ruleText('inactive', t.inactiveSchoolDays) },
    { rule: 'missing_works', threshold: t.missingWorksPerWeek, text: ruleText('missing_works', t.missingWorksPerWeek) },
    { rule: 'missed_classes', threshold: t.missedClasses, text: ruleText('missed_classes', t.missedClasses) },
  ];
}

const WEEKDAYS: Record<Lang, string[]> = {
  fr: ['lundi', 'mardi', 'mercredi', 'jeudi', 'vendredi', 'samedi', 'dimanche'],
  en: ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'],
};

/**
 * The week of one pupil in plain words, for their parents and themself: what was handed in, the
 * virtual classes missed, the days connected. Never a comparison with other pupils, never a score.
 */
export function weekSentence(l: PupilLine, lang: Lang): string {
  const parts: string[] = [];
  const w = l.works;
  const handed = w.onTime + w.late;
  const day = (d: string) => WEEKDAYS[lang][weekdayOf(d) - 1]!;
  if (lang === 'fr') {
    if (w.due === 0) parts.push('aucun travail à rendre en ligne cette semaine');
    else parts.push(`${handed} travail${handed > 1 ? 'x' : ''} rendu${handed > 1 ? 's' : ''} sur ${w.due}${w.late > 0 ? ` (dont ${w.late} en retard)` : ''}`.replace('travails', 'travaux'));
    if (w.missing > 0) parts.push(`${w.missing} non rendu${w.missing > 1 ? 's' : ''} à la date prévue`);
    for (const d of l.classes.missedDays) parts.push(`classe virtuelle de ${day(d)} manquée`);
    if (l.classes.attended > 0) parts.push(`${l.classes.attended} classe${l.classes.attended > 1 ? 's' : ''} virtuelle${l.classes.attended > 1 ? 's' : ''} suivie${l.classes.attended > 1 ? 's' : ''}`);
    parts.push(l.schoolDays === 0 ? 'pas encore de jour d’école terminé cette semaine' : `connecté ${l.daysSeen} jour${l.daysSeen > 1 ? 's' : ''} d’école sur ${l.schoolDays}`);
  } else {
    if (w.due === 0) parts.push('no work to hand in online this week');
    else parts.push(`${handed} of ${w.due} works handed in${w.late > 0 ? ` (${w.late} late)` : ''}`);
    if (w.missing > 0) parts.push(`${w.missing} not handed in by the due date`);
    for (const d of l.classes.missedDays) parts.push(`missed ${day(d)}’s virtual class`);
    if (l.classes.attended > 0) parts.push(`${l.classes.attended} virtual class${l.classes.attended > 1 ? 'es' : ''} attended`);
    parts.push(l.schoolDays === 0 ? 'no school day over yet this week' : `signed in on ${l.daysSeen} of ${l.schoolDays} school days`);
  }
  const text = parts.join(', ');
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}.`;
}

export interface AccessRow {
  id: string;
  at: number;
  view: string;
  pupil_id: string;
  actor_id: string | null;
  actor_first_name: string | null;
  actor_last_name: string | null;
  actor_profile: string | null;
  actor_function: string | null;
  pupil_first_name: string;
  pupil_last_name: string;
}

export function presentAccess(r: AccessRow) {
  return {
    id: r.id, at: iso(r.at), atMs: r.at, view: r.view,
    actor: r.actor_id ? { id: r.actor_id, firstName: r.actor_first_name, lastName: r.actor_last_name, profile: r.actor_profile, staffFunction: r.actor_function } : null,
    pupil: { id: r.pupil_id, firstName: r.pupil_first_name, lastName: r.pupil_last_name },
  };
}

export function presentRecorded(r: {
  days: { day: string; first_seen_at: number; last_seen_at: number; works_done: number; handins_on_time: number; handins_late: number; messages_read: number; liaisons_signed: number }[];
  opens: { entry_id: string; day: string; opened_at: number }[];
  attendance: { session_id: string; day: string; minutes: number; audio_only: number }[];
}) {
  // Days, not hours: what the adults see is what is shown here; the hour stays out of every view.
  return {
    days: r.days.map((d) => ({ day: d.day, worksDone: d.works_done, handedInOnTime: d.handins_on_time, handedInLate: d.handins_late, messagesRead: d.messages_read, liaisonsSigned: d.liaisons_signed })),
    worksOpened: r.opens.map((o) => ({ entryId: o.entry_id, day: o.day })),
    virtualClasses: r.attendance.map((a) => ({ sessionId: a.session_id, day: a.day, minutes: a.minutes, audioOnly: a.audio_only === 1 })),
  };
}
