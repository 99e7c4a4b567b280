/**
 * Active-speaker detection from the RTP audio-level header extension (RFC 6464: 0 = loudest,
 * 127 = silence, in −dBov), a pure policy with hysteresis so that `speaking` does not flap: a
 * sender starts speaking when most packets of the last window are voiced, and stops only when few
 * are, over a longer window.
 */
export const SPEAKING = {
  /** A packet at or above this level (−dBov ≤ 50) counts as voiced. */
  voicedMaxDbov: 50,
  /** Window over which packets are counted. */
  windowMs: 500,
  /** Voiced share of a window that starts speaking. */
  startShare: 0.5,
  /** Voiced share of a window below which a speaker stops… */
  stopShare: 0.15,
  /** …for this many windows in a row. */
  stopWindows: 3,
} as const;

export interface SpeakingState {
  speaking: boolean;
  windowStartMs: number;
  voiced: number;
  total: number;
  quietWindows: number;
}

export function newSpeakingState(nowMs: number): SpeakingState {
  return { speaking: false, windowStartMs: nowMs, voiced: 0, total: 0, quietWindows: 0 };
}

/** One audio packet with its level (−dBov); returns the new `speaking` when it changed, else undefined. */
export function observeAudioLevel(s: SpeakingState, levelDbov: number, nowMs: number): boolean | undefined {
  s.total += 1;
  if (levelDbov <= SPEAKING.voicedMaxDbov) s.voiced += 1;
  if (nowMs - s.windowStartMs < SPEAKING.windowMs) return undefined;
  const share = s.total === 0 ? 0 : s.voiced / s.total;
  s.windowStartMs = nowMs;
  s.voiced = 0;
  s.total = 0;
  if (!s.speaking) {
    if (share >= SPEAKING.startShare) {
      s.speaking = true;
      s.quietWindows = 0;
      return true;
    }
    return undefined;
  }
  s.quietWindows = share < SPEAKING.stopShare ? s.quietWindows + 1 : 0;
  if (s.quietWindows >= SPEAKING.stopWindows) {
    s.speaking = false;
    s.quietWindows = 0;
    return false;
  }
  return undefined;
}
