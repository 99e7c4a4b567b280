/**
 * Progress of a long copy: a redrawn bar on a terminal (at most every 100 ms), nothing otherwise
 * (logs and pipes get the summary line of the command, not a thousand redraws).
 */
export interface Progress {
  /** `done` of `total` units (pages, bytes) of the step called `label`. */
  update(label: string, done: number, total: number): void;
  end(): void;
}

export const silentProgress: Progress = { update: () => undefined, end: () => undefined };

const REDRAW_MS = 100;
const WIDTH = 30;

export function terminalProgress(out: NodeJS.WriteStream): Progress {
  if (out.isTTY !== true) return silentProgress;
  let last = 0;
  let drawn = false;
  return {
    update(label, done, total) {
      const now = Date.now();
      if (now - last < REDRAW_MS && done < total) return;
      last = now;
      out.write(`\r\x1b[2K${progressLine(label, done, total)}`);
      drawn = true;
    },
    end() {
      if (drawn) out.write('\r\x1b[2K');
      drawn = false;
    },
  };
}

/** `  base de données [██████░░░░] 60 %` — pure, for the tests. */
export function progressLine(label: string, done: number, total: number): string {
  const ratio = total > 0 ? Math.min(1, Math.max(0, done / total)) : 1;
  const full = Math.round(ratio * WIDTH);
  return `  ${label} [${'█'.repeat(full)}${'░'.repeat(WIDTH - full)}] ${Math.floor(ratio * 100)} %`;
}
