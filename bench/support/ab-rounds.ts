/**
 * A switch measured against itself in the same process: rounds with the switch on, off, and on
 * again (the A/A control), in several processes started in turn. Pure: the schedule and the rules
 * that turn measured rates into a verdict (unit-tested in test/ab-rounds.test.ts); the suivi bench
 * (engagement.bench.ts) applies them.
 *
 * Why in the same process: two identically configured Préau children have been seen 2× apart for
 * their whole life (V8's pretenuring, see proc.ts `benchNodeFlags`); a baseline in another process
 * compares processes as much as settings. Why several processes: a process may still be unlike
 * the next in ways not found yet; each is judged against itself, then their ratios are combined.
 */

/** `on` and `control` are both "switch on": control against on is the A/A control. */
export type AbSide = 'on' | 'off' | 'control';
export const AB_SIDES: readonly AbSide[] = ['on', 'off', 'control'];

export interface AbSlot {
  process: number;
  cycle: number;
  side: AbSide;
}

/**
 * The order of the measured slices: for each process, `cycles` cycles of the three sides, the
 * order rotated from one cycle to the next (and shifted from one process to the next), so that each
 * side is measured first, second and third equally often over three cycles: a drift of the machine
 * during a process's life falls on every side alike.
 */
export function abSchedule(processes: number, cycles: number): AbSlot[] {
  if (!Number.isInteger(processes) || processes < 1 || !Number.isInteger(cycles) || cycles < 1) throw new Error('abSchedule : processus et cycles sont des entiers ≥ 1');
  const slots: AbSlot[] = [];
  for (let p = 0; p < processes; p++) {
    for (let c = 0; c < cycles; c++) {
      for (let k = 0; k < AB_SIDES.length; k++) slots.push({ process: p, cycle: c, side: AB_SIDES[(k + c + p) % AB_SIDES.length]! });
    }
  }
  return slots;
}

/** A measured slice: a rate, higher is better (req/s; or 1 ÷ CPU per request). */
export interface AbMeasure extends AbSlot {
  value: number;
}

export type AbVerdict = 'atteint' | 'manqué' | 'indécis' | 'invalide';

export interface AbJudgement {
  /** on ÷ off: geometric mean over processes of each process's ratio of mean rates. */
  ratio: number;
  /** control ÷ on, combined the same way: 1 when the measure only saw the switch. */
  aa: number;
  perProcess: { ratio: number; aa: number }[];
  /** on ÷ off of each cycle of each process, in measuring order. */
  perCycle: number[];
  verdict: AbVerdict;
  /** Why, in French, with the numbers. */
  reason: string;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const geomean = (xs: number[]) => Math.exp(mean(xs.map((x) => Math.log(x))));
const fmt = (x: number) => x.toFixed(3);

/**
 * The rules:
 * - every process must have every side measured, every value finite and ≥ 0, every side's mean
 *   > 0 (else an error: the measure is broken, not judged);
 * - the A/A control off by more than `tolerance` (|aa − 1| > tolerance) → `invalide`: two rounds
 *   of the same setting in the same process disagree more than the bench allows, so no ratio means
 *   anything;
 * - otherwise the control's own gap |aa − 1| is the noise of the run: the ratio meets the target
 *   (`atteint`) only when ratio ≥ target + noise, misses it (`manqué`) only when ratio < target −
 *   noise, and is `indécis` in between.
 */
export function judgeAb(measures: AbMeasure[], target: number, tolerance: number): AbJudgement {
  const processes = [...new Set(measures.map((m) => m.process))].sort((a, b) => a - b);
  if (processes.length === 0) throw new Error('judgeAb : aucune mesure');
  // A window may serve nothing (the process got no CPU for its whole length): 0 is a measure; a negative or non-finite one is not.
  for (const m of measures) if (!Number.isFinite(m.value) || m.value < 0) throw new Error(`judgeAb : valeur invalide ${m.value} (processus ${m.process}, cycle ${m.cycle}, ${m.side})`);
  const perProcess = processes.map((p) => {
    const of = (side: AbSide) => measures.filter((m) => m.process === p && m.side === side).map((m) => m.value);
    const [on, off, control] = [of('on'), of('off'), of('control')];
    if (on.length === 0 || off.length === 0 || control.length === 0) throw new Error(`judgeAb : le processus ${p} n’a pas les trois côtés mesurés`);
    if (mean(on) <= 0 || mean(off) <= 0 || mean(control) <= 0) throw new Error(`judgeAb : le processus ${p} n’a rien servi d’un côté`);
    return { ratio: mean(on) / mean(off), aa: mean(control) / mean(on) };
  });
  const perCycle: number[] = [];
  for (const p of processes) {
    const cycles = [...new Set(measures.filter((m) => m.process === p).map((m) => m.cycle))].sort((a, b) => a - b);
    for (const c of cycles) {
      const at = (side: AbSide) => measures.find((m) => m.process === p && m.cycle === c && m.side === side)?.value;
      const on = at('on');
      const off = at('off');
      if (on !== undefined && off !== undefined && off > 0) perCycle.push(on / off);
    }
  }
  const ratio = geomean(perProcess.map((x) => x.ratio));
  const aa = geomean(perProcess.map((x) => x.aa));
  const noise = Math.abs(aa - 1);
  let verdict: AbVerdict;
  let reason: string;
  if (noise > tolerance) {
    verdict = 'invalide';
    reason = `contrôle A/A ${fmt(aa)} : écart ${fmt(noise)} > tolérance ${tolerance} ; le ratio ${fmt(ratio)} ne dit rien`;
  } else if (ratio >= target + noise) {
    verdict = 'atteint';
    reason = `ratio ${fmt(ratio)} ≥ objectif ${target} + bruit ${fmt(noise)} (contrôle A/A ${fmt(aa)})`;
  } else if (ratio < target - noise) {
    verdict = 'manqué';
    reason = `ratio ${fmt(ratio)} < objectif ${target} − bruit ${fmt(noise)} (contrôle A/A ${fmt(aa)})`;
  } else {
    verdict = 'indécis';
    reason = `ratio ${fmt(ratio)} à moins du bruit ${fmt(noise)} de l’objectif ${target} (contrôle A/A ${fmt(aa)})`;
  }
  return { ratio, aa, perProcess, perCycle, verdict, reason };
}
