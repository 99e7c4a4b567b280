import type { Profile } from '../../storage/schema.js';

/**
 * Abuse control of sending: a sliding window of send instants per sender. A pure decision
 * (`decideSend`) and a small in-memory mechanism (`SendRateLimit`) that applies it.
 *
 * Fails open across restarts and nodes: the window lives in this process's memory, so a sender
 * spread over several nodes gets the limit once per node. It damps floods (a pupil's loop, a stolen
 * session) rather than guaranteeing a quota; the shared Redis counter of the scale-out work can
 * replace the store without changing the decision.
 */
export interface SendLimit {
  windowMs: number;
  maxSends: number;
}

/** Pupils are minors on shared devices: a lower ceiling; staff post to many classes in a morning. */
export const SEND_LIMITS: Record<Profile, SendLimit> = {
  eleve: { windowMs: 10 * 60_000, maxSends: 10 },
  parent: { windowMs: 10 * 60_000, maxSends: 20 },
  enseignant: { windowMs: 10 * 60_000, maxSends: 60 },
  personnel: { windowMs: 10 * 60_000, maxSends: 60 },
  admin_etablissement: { windowMs: 10 * 60_000, maxSends: 60 },
  admin_plateforme: { windowMs: 10 * 60_000, maxSends: 60 },
};

export type SendDecision = { allow: true } | { allow: false; retryAfterMs: number };

/** `sentAtMs`: this sender's previous sends, oldest first. */
export function decideSend(sentAtMs: readonly number[], nowMs: number, limit: SendLimit): SendDecision {
  const inWindow = sentAtMs.filter((t) => t > nowMs - limit.windowMs);
  if (inWindow.length < limit.maxSends) return { allow: true };
  const oldest = inWindow[inWindow.length - limit.maxSends]!;
  return { allow: false, retryAfterMs: Math.max(1_000, oldest + limit.windowMs - nowMs) };
}

/** Senders remembered at most; beyond, the least recently seen are forgotten (bounded memory). */
export const MAX_TRACKED_SENDERS = 100_000;

export class SendRateLimit {
  private readonly history = new Map<string, number[]>();

  check(senderId: string, profile: Profile, nowMs: number): SendDecision {
    const limit = SEND_LIMITS[profile];
    const past = (this.history.get(senderId) ?? []).filter((t) => t > nowMs - limit.windowMs);
    return decideSend(past, nowMs, limit);
  }

  /** Records a send that happened (called after the message is stored, so refused sends do not count). */
  record(senderId: string, profile: Profile, nowMs: number): void {
    const limit = SEND_LIMITS[profile];
    const past = (this.history.get(senderId) ?? []).filter((t) => t > nowMs - limit.windowMs);
    past.push(nowMs);
    // Only the last maxSends instants matter to the decision.
    if (past.length > limit.maxSends) past.splice(0, past.length - limit.maxSends);
    this.history.delete(senderId);
    this.history.set(senderId, past);
    while (this.history.size > MAX_TRACKED_SENDERS) this.history.delete(this.history.keys().next().value!);
  }
}
