/**
 * The notification port: how a feature says "something is new for these people" without knowing who
 * stores the feed or pushes it live. The notifications module implements it (feed rows + a push on the
 * realtime gateway); features receive a `Notifier` from the composition root and call it after their
 * write has committed.
 *
 * Fails open: a notification that cannot be recorded is logged by the implementation and never fails
 * the write that caused it (the work, message or note itself is what must not be lost; the feed is a
 * pointer to it, and every screen also shows the thing itself).
 */

/** What happened. The client renders the sentence in the reader's language from the kind and the title. */
export type NotificationKind =
  | 'work.posted' // a teacher published travail à faire for a class/group the reader is in (or their child is)
  | 'handin.returned' // a teacher returned a hand-in (comment and/or file)
  | 'message.received' // a new message in the messagerie
  | 'news.published' // an actualité for the reader's school or class
  | 'liaison.to_sign' // a note of the carnet de liaison to be "lu et signé"
  | 'engagement.digest'; // the CPE's daily list of pupils who crossed a threshold of the suivi that day

export interface NewNotification {
  kind: NotificationKind;
  schoolId: string | null;
  /**
   * Person ids to notify (the implementation deduplicates and drops the actor). A function is
   * called by the implementation under its fail-open guard: a feature whose recipients take a query
   * to find (a class's families) passes it here, so that query failing cannot fail the write either.
   */
  recipientIds: readonly string[] | (() => Promise<readonly string[]>);
  /** Who caused it (never notified of their own action); null for Préau itself (a scheduled digest). */
  actorId: string | null;
  /** Plain text shown in the feed: the work's title, the message's subject, the news' headline. No HTML. */
  title: string;
  /** The web client's route (path and query) that opens the thing, e.g. `/cahier-de-textes?travail=<id>`. */
  link: string;
  /** The id of the thing (work, conversation, news, note): lets a later withdrawal find it. */
  subjectId: string;
  /** When it becomes visible (a scheduled publication); now when absent. */
  visibleAtMs?: number;
}

export interface Notifier {
  notify(notification: NewNotification): Promise<void>;
  /** The thing was withdrawn (deleted, unpublished): its notifications leave the feeds. */
  withdraw(kind: NotificationKind, subjectId: string): Promise<void>;
  /** This person has dealt with the thing (read the message, signed the note, acknowledged the news): its notification to them is read. */
  seen(personId: string, kind: NotificationKind, subjectId: string): Promise<void>;
}

/** For compositions without a feed (and for unit tests of features). */
export const silentNotifier: Notifier = {
  async notify() {},
  async withdraw() {},
  async seen() {},
};
