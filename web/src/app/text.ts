/** Plain text typed in a textarea, as the rich text the server sanitises, and back; character budgets. */

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Typed text as HTML: paragraphs on blank lines, line breaks kept, everything escaped. */
export function textToHtml(text: string): string {
  const paragraphs = text.replace(/\r\n?/g, '\n').split(/\n{2,}/).map((p) => p.trim()).filter(Boolean);
  return paragraphs.map((p) => `<p>${escapeHtml(p).replace(/\n/g, '<br>')}</p>`).join('');
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/** Sanitised HTML back into the text typed (the inverse of textToHtml; any allow-listed HTML reads sensibly). */
export function htmlToText(html: string): string {
  return html
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<\/(p|div|li|h\d)>\s*/gi, '\n\n')
    .replace(/<[^>]*>/g, '')
    .replace(/&(#\d+|#x[0-9a-f]+|\w+);/gi, (whole, code: string) =>
      code.startsWith('#x') || code.startsWith('#X') ? String.fromCodePoint(parseInt(code.slice(2), 16)) : code.startsWith('#') ? String.fromCodePoint(Number(code.slice(1))) : (ENTITIES[code.toLowerCase()] ?? whole),
    )
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** Characters left before a limit (negative: over it). */
export interface Budget {
  used: number;
  max: number;
  left: number;
  over: boolean;
}
export function budget(used: number, max: number): Budget {
  return { used, max, left: max - used, over: used > max };
}
