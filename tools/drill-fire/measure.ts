/**
 * The fire drill's figures, from what the clients saw (pure: unit-tested in measure.test.ts).
 * Every instant is epoch-ms on the drill's clock.
 */

/** One write attempt by a client of a site: its outcome and when the answer (or failure) came. */
export interface WriteAttempt {
  site: 'a' | 'b';
  atMs: number;
  outcome: 'ok' | 'read_only' | 'refused' | 'network';
}

export interface FailoverFigures {
  /** From the cut to the first write acknowledged in site B after it (undefined: never within the run). */
  rtoMs: number | undefined;
  /**
   * What the clients of site B saw: from their first write refused or failed after the cut to the
   * first write acknowledged after that (0 when no write of B failed at all).
   */
  readOnlyWindowMs: number | undefined;
  /** Writes of site B refused with platform.read_only (the retry-later answer) between the cut and recovery. */
  readOnlyAnswers: number;
  /** Writes of site B that failed otherwise (network, another error) between the cut and recovery. */
  otherFailures: number;
}

export function failoverFigures(attempts: readonly WriteAttempt[], cutAtMs: number): FailoverFigures {
  const b = attempts.filter((a) => a.site === 'b' && a.atMs >= cutAtMs).sort((x, y) => x.atMs - y.atMs);
  const firstFailure = b.find((a) => a.outcome !== 'ok');
  const firstOkAfterFailure = firstFailure ? b.find((a) => a.outcome === 'ok' && a.atMs > firstFailure.atMs) : undefined;
  // RTO: writes succeed again, i.e. the first acknowledged write after the last failure of the outage.
  const recoveredAt = firstFailure ? firstOkAfterFailure?.atMs : b.find((a) => a.outcome === 'ok')?.atMs;
  const inOutage = b.filter((a) => recoveredAt === undefined || a.atMs < recoveredAt);
  return {
    rtoMs: recoveredAt === undefined ? undefined : recoveredAt - cutAtMs,
    readOnlyWindowMs: !firstFailure ? 0 : firstOkAfterFailure ? firstOkAfterFailure.atMs - firstFailure.atMs : undefined,
    readOnlyAnswers: inOutage.filter((a) => a.outcome === 'read_only').length,
    otherFailures: inOutage.filter((a) => a.outcome === 'refused' || a.outcome === 'network').length,
  };
}

/** Median (the lower middle for an even count) and worst of a list; undefined entries count as worst. */
export function medianAndWorst(values: readonly (number | undefined)[]): { median: number | undefined; worst: number | undefined } {
  if (values.length === 0) return { median: undefined, worst: undefined };
  if (values.some((v) => v === undefined)) {
    const known = values.filter((v): v is number => v !== undefined).sort((x, y) => x - y);
    // A run that never recovered is worse than any measured one: the median may still be known.
    const sorted: (number | undefined)[] = [...known, ...values.filter((v) => v === undefined)];
    return { median: sorted[Math.floor((sorted.length - 1) / 2)], worst: undefined };
  }
  const sorted = [...(values as number[])].sort((x, y) => x - y);
  return { median: sorted[Math.floor((sorted.length - 1) / 2)], worst: sorted[sorted.length - 1] };
}
