/**
 * The waiting line: lanes in priority order, and within a lane one first-come-first-served line
 * per school, served in turn (round robin), so that a large school cannot starve a small one:
 * with 2,000 waiting at one lycée and 20 at a village école, the école's 20 are interleaved
 * with the lycée's first 20, not put behind its 2,000.
 *
 * Lanes: staff with a class in the next minutes (they open the virtual classes pupils wait in),
 * then pupils whose class starts soon, then everyone else; in crisis mode, clients outside France
 * last (queued, never dropped).
 */
export const LANES = ['staff_soon', 'pupil_soon', 'other', 'abroad'] as const;
export type Lane = (typeof LANES)[number];

interface SchoolLine {
  /** Ids in arrival order; [head, length) are still in the line (or removed lazily, see `remove`). */
  ids: string[];
  head: number;
}

class LaneLines {
  /** Insertion-ordered: the round robin visits schools in the order they first queued. */
  readonly schools = new Map<string, SchoolLine>();
  /** Index (in `schools` order) of the school served next. */
  cursor = 0;
  size = 0;
  private orderCache: string[] | undefined;

  /** The schools in rotation order (cached: positions are asked on every poll). */
  order(): string[] {
    this.orderCache ??= [...this.schools.keys()];
    return this.orderCache;
  }

  dropSchool(school: string): void {
    const order = this.order();
    const idx = order.indexOf(school);
    this.schools.delete(school);
    this.orderCache = undefined;
    // The school after it keeps its turn.
    if (idx < this.cursor) this.cursor--;
    if (this.cursor >= this.schools.size) this.cursor = 0;
  }

  addSchool(school: string, line: SchoolLine): void {
    this.schools.set(school, line);
    this.orderCache = undefined;
  }
}

interface Place {
  lane: Lane;
  school: string;
  /** Index in its school's `ids`. */
  index: number;
}

export class FairQueue {
  private readonly lanes = new Map<Lane, LaneLines>(LANES.map((l) => [l, new LaneLines()]));
  private readonly where = new Map<string, Place>();

  constructor(readonly maxSize: number) {}

  get size(): number {
    return this.where.size;
  }

  /** False when the room is full (or the id is already in it). */
  push(id: string, lane: Lane, school: string): boolean {
    if (this.where.size >= this.maxSize || this.where.has(id)) return false;
    const l = this.lanes.get(lane)!;
    let line = l.schools.get(school);
    if (!line) {
      line = { ids: [], head: 0 };
      l.addSchool(school, line);
    }
    line.ids.push(id);
    l.size++;
    this.where.set(id, { lane, school, index: line.ids.length - 1 });
    return true;
  }

  has(id: string): boolean {
    return this.where.has(id);
  }

  /** The next id to admit: the highest non-empty lane, the school whose turn it is, its oldest. */
  pop(): string | undefined {
    for (const lane of LANES) {
      const l = this.lanes.get(lane)!;
      while (l.size > 0 && l.schools.size > 0) {
        const order = l.order();
        const school = order[l.cursor % order.length]!;
        const line = l.schools.get(school)!;
        // Skip ids removed lazily.
        while (line.head < line.ids.length && !this.where.has(line.ids[line.head]!)) line.head++;
        if (line.head >= line.ids.length) {
          l.dropSchool(school);
          continue;
        }
        const id = line.ids[line.head++]!;
        l.size--;
        this.where.delete(id);
        while (line.head < line.ids.length && !this.where.has(line.ids[line.head]!)) line.head++;
        if (line.head >= line.ids.length) l.dropSchool(school);
        else l.cursor = (l.cursor + 1) % order.length;
        return id;
      }
    }
    return undefined;
  }

  /** Removes an id (a ticket abandoned or expired). O(1): the line skips it when its turn comes. */
  remove(id: string): void {
    const w = this.where.get(id);
    if (!w) return;
    this.lanes.get(w.lane)!.size--;
    this.where.delete(id);
  }

  /**
   * How many will be admitted before this id, plus one, if nobody else arrives (1 = next).
   * Arrivals in a higher lane can still pass ahead, and ids removed but not yet skipped are
   * counted: an honest estimate of the present, not a promise. O(lanes + schools in its lane).
   */
  position(id: string): number | undefined {
    const w = this.where.get(id);
    if (!w) return undefined;
    let ahead = 0;
    for (const lane of LANES) {
      if (lane === w.lane) break;
      ahead += this.lanes.get(lane)!.size;
    }
    const l = this.lanes.get(w.lane)!;
    const order = l.order();
    const mine = l.schools.get(w.school)!;
    const i = w.index - mine.head;
    const n = order.length;
    const myTurn = (order.indexOf(w.school) - l.cursor + n) % n;
    for (let k = 0; k < n; k++) {
      const school = order[k]!;
      if (school === w.school) continue;
      const line = l.schools.get(school)!;
      const waiting = line.ids.length - line.head;
      const turn = (k - l.cursor + n) % n;
      // Before me: one of theirs per round for my i rounds, and one more if their turn comes before mine.
      ahead += Math.min(waiting, i) + (turn < myTurn && waiting > i ? 1 : 0);
    }
    return ahead + i + 1;
  }
}
