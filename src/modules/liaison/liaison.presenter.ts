import type { NoteRow, ParentNoteView } from './liaison.repository.js';
import type { LiaisonService, NoteDetail } from './liaison.service.js';

const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

function base(n: NoteRow) {
  return {
    id: n.id,
    title: n.title,
    audience: { kind: n.audience_kind, id: n.audience_id, name: n.audience_name },
    createdAt: iso(n.created_at),
    reminders: n.reminder_count,
    /** The web client says when the next reminder is allowed (a day after this one) without trying. */
    lastRemindedAt: iso(n.last_reminded_at),
  };
}

export function presentNote(d: NoteDetail) {
  return {
    ...base(d.note),
    bodyHtml: d.note.body_html,
    ...(d.mine.length > 0 ? { mySignatures: d.mine.map((m) => ({ pupilId: m.pupil_id, signedAt: iso(m.signed_at), remindedAt: iso(m.reminded_at) })) } : {}),
    ...(d.counts ? { signed: d.counts.signed, total: d.counts.total } : {}),
    canWithdraw: d.canWithdraw,
  };
}

export function presentParentRow(r: ParentNoteView) {
  return { ...base(r), pupilId: r.pupil_id, signedAt: iso(r.signed_at), remindedAt: iso(r.reminded_at) };
}

export function presentSignatures(s: Awaited<ReturnType<LiaisonService['signatures']>>) {
  return {
    signed: s.counts.signed,
    total: s.counts.total,
    rows: s.rows.map((r) => ({
      pupil: { id: r.pupil_id, name: `${r.pupil_first_name} ${r.pupil_last_name}` },
      parent: { id: r.parent_id, name: `${r.parent_first_name} ${r.parent_last_name}` },
      signedAt: iso(r.signed_at),
      remindedAt: iso(r.reminded_at),
    })),
    nextOffset: s.nextOffset,
  };
}
