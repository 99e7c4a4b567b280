/**
 * Keyframe-request coalescing, a pure policy: many subscribers joining at once each ask the
 * publisher for a keyframe (PLI/FIR); at most one request per `intervalMs` reaches the publisher's
 * track. A request that arrives inside the window is not lost: it is answered by the keyframe the
 * first one asked for, or, if it came after that request left, by one trailing request at the end
 * of the window (so a late joiner never waits for the next natural keyframe).
 */
export interface KeyframeGate {
  /** The last time a request was sent to the publisher (epoch-ms), or undefined if never. */
  lastSentMs: number | undefined;
  /** A request arrived during the window and has not been sent yet. */
  trailing: boolean;
}

export type KeyframeDecision = { send: true } | { send: false; retryInMs: number | undefined };

export function newKeyframeGate(): KeyframeGate {
  return { lastSentMs: undefined, trailing: false };
}

/** A subscriber asks for a keyframe at `nowMs`. Mutates the gate; says whether to send now. */
export function requestKeyframe(gate: KeyframeGate, nowMs: number, intervalMs: number): KeyframeDecision {
  if (gate.lastSentMs === undefined || nowMs - gate.lastSentMs >= intervalMs) {
    gate.lastSentMs = nowMs;
    gate.trailing = false;
    return { send: true };
  }
  const alreadyScheduled = gate.trailing;
  gate.trailing = true;
  return { send: false, retryInMs: alreadyScheduled ? undefined : intervalMs - (nowMs - gate.lastSentMs) };
}

/** The window of a trailing request has ended at `nowMs`: send it if one is still owed. */
export function flushTrailing(gate: KeyframeGate, nowMs: number, intervalMs: number): boolean {
  if (!gate.trailing) return false;
  if (gate.lastSentMs !== undefined && nowMs - gate.lastSentMs < intervalMs) return false;
  gate.trailing = false;
  gate.lastSentMs = nowMs;
  return true;
}
