import { FairQueue, type Lane } from './fair-queue.js';

/** Where a ticket stands. */
export type Look = { state: 'waiting'; position: number } | { state: 'admitted' } | { state: 'used' } | { state: 'unknown' };

export interface NewTicket {
  id: string;
  lane: Lane;
  school: string;
  nowMs: number;
  expiresAtMs: number;
}

export interface RoomLineSettings {
  /** Waiting tickets at most; beyond, `push` says full. */
  maxWaiting: number;
  /** A waiting ticket not looked at for this long is dropped when its turn comes (its visitor has left). */
  abandonAfterMs: number;
  /** An admitted ticket must be spent within this. */
  admittedTtlMs: number;
}

/**
 * The waiting room's line and places (the port): the order tickets are admitted in (lanes first,
 * fair share per school, first come first served within) and what became of each. Memory: one
 * node's room (embedded, and every node's fallback); Redis (`redis-room-line.ts`): one room for
 * every node, so a ticket issued by one node is honoured by another, admitted in the same order,
 * and spent once whichever node sees it.
 */
export interface RoomLine {
  /** Puts a new ticket at the back of its lane; false when the room is full. */
  push(t: NewTicket): Promise<boolean>;
  /** Where a ticket stands; a waiting one is marked as seen now. */
  look(id: string, nowMs: number): Promise<Look>;
  /** Spends an admitted ticket (`admitted`: spent now, by this call alone) or says where it stands. */
  claim(id: string, nowMs: number, expiresAtMs: number): Promise<Look>;
  /** Admits up to `n` waiting tickets in order (dropping abandoned ones). */
  admit(n: number, nowMs: number): Promise<{ admitted: string[]; abandoned: number }>;
  size(): Promise<number>;
  /**
   * Tickets this node admitted that have been spent since the last call, on any node: their
   * reservation of this node's capacity ends (else a ticket spent elsewhere would hold it for
   * `claimHoldMs` and pace the room). The memory line's tickets are all spent here: none.
   */
  spentElsewhere(): Promise<string[]>;
  /** Forgets expired tickets and spent ids. */
  cleanup(nowMs: number): Promise<void>;
}

interface Place {
  state: 'waiting' | 'admitted';
  expiresAtMs: number;
  lastSeenMs: number;
  admittedAtMs: number;
  /** Issue order: the test of "admitted in order" and the figure of the bench. */
  seq: number;
}

/** One node's line (bounded: `maxWaiting` places; spent ids remembered until their ticket expires). */
export class MemoryRoomLine implements RoomLine {
  private readonly queue: FairQueue;
  private readonly places = new Map<string, Place>();
  private readonly used = new Map<string, number>();
  private seq = 0;

  constructor(private readonly settings: RoomLineSettings) {
    this.queue = new FairQueue(settings.maxWaiting);
  }

  /** Synchronous size, for the node's own gauges and decisions. */
  get waiting(): number {
    return this.queue.size;
  }

  seqOf(id: string): number | undefined {
    return this.places.get(id)?.seq;
  }

  async push(t: NewTicket): Promise<boolean> {
    if (!this.queue.push(t.id, t.lane, t.school)) return false;
    this.places.set(t.id, { state: 'waiting', expiresAtMs: t.expiresAtMs, lastSeenMs: t.nowMs, admittedAtMs: 0, seq: ++this.seq });
    return true;
  }

  async look(id: string, nowMs: number): Promise<Look> {
    return this.lookNow(id, nowMs);
  }

  private lookNow(id: string, nowMs: number): Look {
    if (this.used.has(id)) return { state: 'used' };
    const p = this.places.get(id);
    if (!p) return { state: 'unknown' };
    p.lastSeenMs = nowMs;
    return p.state === 'admitted' ? { state: 'admitted' } : { state: 'waiting', position: this.queue.position(id) ?? 1 };
  }

  async claim(id: string, nowMs: number, expiresAtMs: number): Promise<Look> {
    const look = this.lookNow(id, nowMs);
    if (look.state !== 'admitted') return look;
    this.places.delete(id);
    this.used.set(id, expiresAtMs);
    return look;
  }

  async admit(n: number, nowMs: number): Promise<{ admitted: string[]; abandoned: number }> {
    const admitted: string[] = [];
    let abandoned = 0;
    while (admitted.length < n) {
      const id = this.queue.pop();
      if (id === undefined) break;
      const p = this.places.get(id);
      if (!p) continue;
      if (nowMs - p.lastSeenMs > this.settings.abandonAfterMs) {
        abandoned++;
        this.places.delete(id);
        continue;
      }
      p.state = 'admitted';
      p.admittedAtMs = nowMs;
      admitted.push(id);
    }
    return { admitted, abandoned };
  }

  async size(): Promise<number> {
    return this.queue.size;
  }

  async spentElsewhere(): Promise<string[]> {
    return [];
  }

  async cleanup(nowMs: number): Promise<void> {
    for (const [id, p] of this.places) {
      if (nowMs >= p.expiresAtMs || (p.state === 'admitted' && nowMs - p.admittedAtMs > this.settings.admittedTtlMs)) {
        this.places.delete(id);
        this.queue.remove(id);
      }
    }
    for (const [id, exp] of this.used) if (nowMs >= exp) this.used.delete(id);
  }
}
