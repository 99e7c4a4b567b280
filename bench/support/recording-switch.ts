import type { EngagementSignals } from '../../src/platform/engagement-signals.js';
import { abSchedule, type AbSide } from './ab-rounds.js';

/**
 * The suivi bench's switch (preau-server.ts `--engagement-recording switchable`): every signal
 * reaches the recorder while `on()` says so, and stops here otherwise — one call and a branch, as
 * much as `silentSignals` costs. Bench-only: `preau serve` never wraps its recorder.
 */
export function switchedSignals(recorder: EngagementSignals, on: () => boolean, onSeen: () => void = () => undefined): EngagementSignals {
  return {
    seen: (personId, atMs) => {
      onSeen();
      if (on()) recorder.seen(personId, atMs);
    },
    workOpened: (pupilId, entryId, atMs) => void (on() && recorder.workOpened(pupilId, entryId, atMs)),
    workDone: (pupilId, atMs) => void (on() && recorder.workDone(pupilId, atMs)),
    handedIn: (pupilId, late, atMs) => void (on() && recorder.handedIn(pupilId, late, atMs)),
    messageRead: (personId, atMs) => void (on() && recorder.messageRead(personId, atMs)),
    liaisonSigned: (parentId, atMs) => void (on() && recorder.liaisonSigned(parentId, atMs)),
  };
}

/** One window of a run: the side it had, and what the process did in it. */
export interface RecordingWindow {
  cycle: number;
  side: AbSide;
  /** Authenticated requests that began in the window (`seen` calls, counted on and off alike). */
  requests: number;
  wallMs: number;
  /** CPU time of the whole process (all threads) over the window. */
  cpuMs: number;
}

export interface WindowClock {
  nowMs(): number;
  cpuMs(): number;
  sleep(ms: number): Promise<void>;
}

/**
 * The recording switch and its windows, inside the measured process: under a steady load from
 * outside, it flips recording on / off / on-again every `windowMs` (the order rotated each cycle,
 * `abSchedule`) and counts what each window served and the CPU it took. Windows of a fraction of a
 * second put on and off rounds a few hundred milliseconds apart: the machine's other work, which
 * moves a process's share of its core over seconds, falls on every side alike.
 */
export class RecordingSwitch {
  on = true;
  requests = 0;

  constructor(private readonly clock: WindowClock) {}

  wrap(recorder: EngagementSignals): EngagementSignals {
    return switchedSignals(recorder, () => this.on, () => void this.requests++);
  }

  /**
   * Waits for traffic (at most `waitForTrafficMs`), lets it run `warmupMs`, then plays `cycles`
   * cycles of three windows. Leaves recording on.
   */
  async runWindows(cycles: number, windowMs: number, warmupMs: number, waitForTrafficMs = 30_000): Promise<RecordingWindow[]> {
    const start = this.requests;
    const deadline = this.clock.nowMs() + waitForTrafficMs;
    while (this.requests === start) {
      if (this.clock.nowMs() > deadline) throw new Error(`aucune requête en ${waitForTrafficMs} ms : pas de charge à mesurer`);
      await this.clock.sleep(20);
    }
    await this.clock.sleep(warmupMs);
    const windows: RecordingWindow[] = [];
    try {
      for (const slot of abSchedule(1, cycles)) {
        this.on = slot.side !== 'off';
        const [r0, t0, c0] = [this.requests, this.clock.nowMs(), this.clock.cpuMs()];
        await this.clock.sleep(windowMs);
        windows.push({ cycle: slot.cycle, side: slot.side, requests: this.requests - r0, wallMs: this.clock.nowMs() - t0, cpuMs: this.clock.cpuMs() - c0 });
      }
    } finally {
      this.on = true;
    }
    return windows;
  }
}
