import type { NewsItem } from '../../api/types.js';

/** Where a news item opens. */
export const NEWS_PATH = '/actualites';
export const newsHref = (id: string) => `${NEWS_PATH}?id=${encodeURIComponent(id)}`;

/** "À lire" or "lu" for a news that asks for acknowledgement; nothing otherwise. */
export function readState(item: Pick<NewsItem, 'id' | 'requiresAck'>, acknowledged: ReadonlySet<string> | undefined): 'toRead' | 'read' | undefined {
  if (!item.requiresAck || !acknowledged) return undefined;
  return acknowledged.has(item.id) ? 'read' : 'toRead';
}

/** Plain text typed in a form, as the server's rich text: paragraphs and line breaks, everything escaped. */
export function textToHtml(text: string): string {
  const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return text
    .split(/\n{2,}/)
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => `<p>${escape(p).replace(/\n/g, '<br>')}</p>`)
    .join('');
}

/** A datetime-local value (the school's wall clock in the browser) as an ISO instant; empty: undefined. */
export function localToIso(value: string): string | undefined {
  if (!value) return undefined;
  const ms = new Date(value).getTime();
  return Number.isFinite(ms) ? new Date(ms).toISOString() : undefined;
}
