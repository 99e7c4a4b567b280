/**
 * The engagement port: how a feature says "this person did something the adults following
 * décrochage should know" (signed in, opened a work, ticked it "fait", handed it in, read a message
 * or a liaison note, signed a note) without knowing who records it. The engagement module
 * implements it with a batched recorder: every method is synchronous, costs a Map update in memory
 * and never a database write on the request's path (the recorder flushes every few seconds).
 *
 * Fails open: a signal that cannot be recorded (buffer full, database down) is counted in the
 * metrics and dropped; it never fails the request that caused it. Signals are indicators for
 * adults who can help, not evidence; the work, message or signature itself lives in its module.
 */
export interface EngagementSignals {
  /** An authenticated request of this person (session resumed or just opened): their connection of the day. */
  seen(personId: string, atMs: number): void;
  /** A pupil opened a work of the cahier de textes (counted once per work). */
  workOpened(pupilId: string, entryId: string, atMs: number): void;
  /** A pupil ticked a work "fait". */
  workDone(pupilId: string, atMs: number): void;
  /** A pupil handed in a work, on time or late. */
  handedIn(pupilId: string, late: boolean, atMs: number): void;
  /** A person read a message of the messagerie. */
  messageRead(personId: string, atMs: number): void;
  /** A parent signed a note of the carnet de liaison ("lu et signé"). */
  liaisonSigned(parentId: string, atMs: number): void;
}

/** For compositions without engagement recording (PREAU_ENGAGEMENT_RECORDING=off) and unit tests of features. */
export const silentSignals: EngagementSignals = {
  seen() {},
  workOpened() {},
  workDone() {},
  handedIn() {},
  messageRead() {},
  liaisonSigned() {},
};
