import { plainTextOf } from '../../platform/rich-text.js';
import { stateOf } from './news.policy.js';
import type { NewsAttachmentRow, NewsRow } from './news.repository.js';
import type { NewsDetail, NewsService } from './news.service.js';

const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : new Date(ms).toISOString());
const EXCERPT_CHARS = 160;

/** What a list shows of a news (no body: lists stay small on a weak link). */
export function presentNewsItem(n: NewsRow, nowMs: number) {
  const text = plainTextOf(n.body_html);
  return {
    id: n.id,
    audience: { kind: n.audience_kind, id: n.audience_id, name: n.audience_name },
    headline: n.headline,
    excerpt: text.length > EXCERPT_CHARS ? `${text.slice(0, EXCERPT_CHARS - 1)}…` : text,
    state: stateOf(n, nowMs),
    publishFrom: iso(n.publish_from),
    publishUntil: iso(n.publish_until),
    pinned: n.pinned === 1,
    requiresAck: n.requires_ack === 1,
    editedAt: iso(n.edited_at),
  };
}

export function presentNews(d: NewsDetail) {
  return {
    ...presentNewsItem(d.news, d.nowMs),
    bodyHtml: d.news.body_html,
    createdAt: iso(d.news.created_at),
    withdrawnAt: iso(d.news.withdrawn_at),
    canManage: d.manage,
    attachments: d.attachments.map(presentAttachment),
    ...(d.myAck !== undefined ? { acknowledgedAt: iso(d.myAck) } : {}),
    ...(d.acks ? { acks: d.acks } : {}),
  };
}

export function presentAttachment(a: NewsAttachmentRow) {
  return { id: a.id, fileName: a.file_name, sizeBytes: a.size_bytes, contentType: a.content_type, url: `/api/v1/news/${a.news_id}/attachments/${a.id}` };
}

export function presentAcks(a: Awaited<ReturnType<NewsService['acknowledgements']>>) {
  return {
    done: a.counts.done,
    total: a.counts.total,
    rows: a.rows.map((r) => ({ person: { id: r.id, name: `${r.first_name} ${r.last_name}`.trim(), profile: r.profile }, acknowledgedAt: iso(r.acknowledged_at) })),
    nextOffset: a.nextOffset,
  };
}
