/**
 * The fire drill's figures, from what the clients saw (pure: unit-tested in measure.test.ts).
 * Every instant is epoch-ms on the drill's clock.
 */

/** One write attempt by a client of a site: its outcome and when the answer (or failure) came. */
export interface WriteAttempt {
  site: 'a' | 'b';
  atMs: number;
  /**
   * `stuck`: refused "in progress" (409) because its key was claimed by a request the cut interrupted — about that key, not the site.
   * `limited`: refused by the edge's rate limit (429): the node is up and judging this client's pace — not an outage either.
   */
  outcome: 'ok' | 'read_only' | 'refused' | 'network' | 'stuck' | 'limited';
}

export interface FailoverFigures {
  /** From the cut to the first write acknowledged in site B after its last failure (undefined: not recovered). */
  rtoMs: number | undefined;
  /** What the clients of site B saw: from their first failed write after the cut to that recovery (0 when none failed). */
  readOnlyWindowMs: number | undefined;
  /** Writes of site B refused with platform.read_only (the retry-later answer) between the cut and recovery. */
  readOnlyAnswers: number;
  /** Writes of site B that failed otherwise (network, another error) between the cut and recovery. */
  otherFailures: number;
  /** Whether at least one write of site B failed after the cut (the outage was seen at all). */
  outageSeen: boolean;
}

const failed = (a: WriteAttempt) => a.outcome === 'read_only' || a.outcome === 'network' || a.outcome === 'refused';

/**
 * Writes "succeed again" after the last failure: an answer that was in flight at the cut, or one
 * squeezed between two refusals, is not a recovery. Keys stuck "in progress" and rate-limit refusals are not failures of the site.
 */
export function failoverFigures(attempts: readonly WriteAttempt[], cutAtMs: number): FailoverFigures {
  const b = attempts.filter((a) => a.site === 'b' && a.atMs >= cutAtMs).sort((x, y) => x.atMs - y.atMs);
  const failures = b.filter(failed);
  const firstFailure = failures[0];
  const lastFailure = failures[failures.length - 1];
  const recoveredAt = b.find((a) => a.outcome === 'ok' && (!lastFailure || a.atMs > lastFailure.atMs))?.atMs;
  const inOutage = b.filter((a) => recoveredAt === undefined || a.atMs < recoveredAt);
  return {
    rtoMs: recoveredAt === undefined ? undefined : recoveredAt - cutAtMs,
    readOnlyWindowMs: !firstFailure ? 0 : recoveredAt === undefined ? undefined : recoveredAt - firstFailure.atMs,
    readOnlyAnswers: inOutage.filter((a) => a.outcome === 'read_only').length,
    otherFailures: inOutage.filter((a) => a.outcome === 'refused' || a.outcome === 'network').length,
    outageSeen: firstFailure !== undefined,
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

export interface SwitchoverFigures {
  /** From the switchover request to the first write acknowledged after the last failed one, any site (undefined: not recovered; 0: no write failed). */
  interruptionMs: number | undefined;
  /** From the first failed write to that recovery (0 when none failed). */
  failedWindowMs: number | undefined;
  /** Writes refused with platform.read_only, and writes that failed otherwise, from the request to the recovery. */
  readOnlyAnswers: number;
  otherFailures: number;
}

/**
 * A planned switchover (failback), seen by every client of both sites: unlike a site cut, both
 * sites' nodes lose the primary for a moment. Same rule as failoverFigures: the recovery is the
 * first acknowledged write after the last failure.
 */
export function switchoverFigures(attempts: readonly WriteAttempt[], startMs: number): SwitchoverFigures {
  const after = attempts.filter((a) => a.atMs >= startMs).sort((x, y) => x.atMs - y.atMs);
  const failures = after.filter(failed);
  const firstFailure = failures[0];
  const lastFailure = failures[failures.length - 1];
  if (!firstFailure || !lastFailure) return { interruptionMs: 0, failedWindowMs: 0, readOnlyAnswers: 0, otherFailures: 0 };
  const recoveredAt = after.find((a) => a.outcome === 'ok' && a.atMs > lastFailure.atMs)?.atMs;
  const inOutage = after.filter((a) => recoveredAt === undefined || a.atMs < recoveredAt);
  return {
    interruptionMs: recoveredAt === undefined ? undefined : recoveredAt - startMs,
    failedWindowMs: recoveredAt === undefined ? undefined : recoveredAt - firstFailure.atMs,
    readOnlyAnswers: inOutage.filter((a) => a.outcome === 'read_only').length,
    otherFailures: inOutage.filter((a) => a.outcome === 'refused' || a.outcome === 'network').length,
  };
}
