import type { PupilLine } from './engagement.api.js';

/** Pure logic of the suivi's screens (unit-tested in engagement.state.test.ts). */

export type SortKey = 'name' | 'lastSeen' | 'works' | 'classes';
export interface Sort {
  key: SortKey;
  descending: boolean;
}

const name = (l: PupilLine) => `${l.pupil.lastName} ${l.pupil.firstName}`;
const BY: Record<SortKey, (a: PupilLine, b: PupilLine) => number> = {
  name: (a, b) => name(a).localeCompare(name(b), 'fr'),
  // Never connected sorts before any day.
  lastSeen: (a, b) => (a.lastSeenDay ?? '').localeCompare(b.lastSeenDay ?? ''),
  works: (a, b) => a.works.missing - b.works.missing,
  classes: (a, b) => a.classes.held - a.classes.attended - (b.classes.held - b.classes.attended),
};

/**
 * The table's order: pupils of concern always first (the screen is for acting), then the chosen
 * column; ties by name. An order to read the table by, never a ranking of pupils.
 */
export function sortLines(lines: readonly PupilLine[], sort: Sort): PupilLine[] {
  return [...lines].sort((a, b) => {
    const concern = Number(b.concerns.length > 0) - Number(a.concerns.length > 0);
    if (concern !== 0) return concern;
    const c = BY[sort.key](a, b) * (sort.descending ? -1 : 1);
    return c !== 0 ? c : BY.name(a, b);
  });
}

/** The messagerie's form with these people chosen (`?ecrire&a=<id>~<name>`, see messaging.state.ts). */
export function writeLink(people: readonly { id: string; name: string }[]): string {
  const q = new URLSearchParams();
  for (const p of people) q.append('a', `${p.id}~${p.name}`);
  return `/messagerie?ecrire&${q}`;
}

export interface ChartPoint {
  x: number;
  y: number;
}

/** Points of the trend chart in a `width`×`height` box (y grows downwards; the top is `max`). */
export function trendPoints(values: readonly number[], max: number, width: number, height: number): ChartPoint[] {
  if (values.length === 0) return [];
  const step = values.length > 1 ? width / (values.length - 1) : 0;
  const top = Math.max(1, max);
  return values.map((v, i) => ({ x: Math.round(i * step * 10) / 10, y: Math.round((height - (Math.min(v, top) / top) * height) * 10) / 10 }));
}
