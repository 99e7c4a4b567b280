/**
 * Rich text from teachers (cahier de textes) made safe: an allow-list sanitiser. The output is
 * never the input with bits removed: it is rebuilt from tokens, with only the tags below, only
 * `href` (http, https, mailto) on links, every text escaped and every element closed. So a
 * construct this tokenizer reads differently from a browser can only become visible text, never
 * markup. Fuzz-tested against a spec-compliant HTML parser (rich-text.test.ts).
 */

const ALLOWED = new Set(['p', 'br', 'strong', 'b', 'em', 'i', 'u', 's', 'sub', 'sup', 'ul', 'ol', 'li', 'a', 'h3', 'h4', 'blockquote', 'code', 'pre']);
const VOID = new Set(['br']);
/** Elements dropped with everything inside them. Raw-text ones are not parsed as HTML by browsers either. */
const RAW_TEXT = new Set(['script', 'style', 'textarea', 'title', 'xmp', 'iframe', 'noembed', 'noframes', 'noscript', 'plaintext']);
const DROP_WITH_CONTENT = new Set(['svg', 'math', 'template', 'object', 'select', 'head', 'frameset']);
/** Deeper nesting than this is flattened (its text kept). */
const MAX_DEPTH = 20;
export const MAX_HREF_LENGTH = 2000;

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0', eacute: 'é', egrave: 'è', agrave: 'à', ccedil: 'ç', ecirc: 'ê', ugrave: 'ù', ocirc: 'ô', icirc: 'î', laquo: '«', raquo: '»', euro: '€', hellip: '…', rsquo: '’', oelig: 'œ' };

function decodeEntities(s: string): string {
  return s.replace(/&(#[xX][0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-zA-Z]{2,8});?/g, (whole, body: string) => {
    if (body[0] === '#') {
      const code = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      // Surrogates, NUL, non-characters and out-of-range code points become U+FFFD, as browsers do.
      if (!Number.isFinite(code) || code === 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return '\ufffd';
      return String.fromCodePoint(code);
    }
    return NAMED[body] ?? whole;
  });
}

function escapeText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** An absolute http(s) or mailto URL, normalised; anything else (javascript:, data:, relative) is refused. */
export function safeHref(raw: string): string | undefined {
  // Browsers ignore tabs and newlines inside URLs and strip leading control characters and spaces.
  const cleaned = decodeEntities(raw).replace(/[\u0000-\u0020\u007f-\u009f]/g, '');
  if (cleaned.length === 0 || cleaned.length > MAX_HREF_LENGTH) return undefined;
  let url: URL;
  try {
    url = new URL(cleaned);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:' && url.protocol !== 'mailto:') return undefined;
  return url.href.length <= MAX_HREF_LENGTH ? url.href : undefined;
}

interface Tag {
  name: string;
  end: boolean;
  attrs: Map<string, string>;
  /** Index just past the tag. */
  next: number;
}

const NAME = /[a-zA-Z][a-zA-Z0-9-]*/y;
const SPACE = /[\s/]*/y;
const ATTR_NAME = /[^\s"'>/=]+/y;
const UNQUOTED = /[^\s>]*/y;

function readTag(input: string, at: number): Tag | undefined {
  let i = at + 1;
  const end = input[i] === '/';
  if (end) i++;
  NAME.lastIndex = i;
  const m = NAME.exec(input);
  if (!m) return undefined;
  i = NAME.lastIndex;
  const attrs = new Map<string, string>();
  for (;;) {
    SPACE.lastIndex = i;
    SPACE.exec(input);
    i = SPACE.lastIndex;
    if (i >= input.length) return undefined;
    if (input[i] === '>') return { name: m[0].toLowerCase(), end, attrs, next: i + 1 };
    ATTR_NAME.lastIndex = i;
    const a = ATTR_NAME.exec(input);
    if (!a) return undefined;
    i = ATTR_NAME.lastIndex;
    let value = '';
    let j = i;
    while (j < input.length && /\s/.test(input[j]!)) j++;
    if (input[j] === '=') {
      j++;
      while (j < input.length && /\s/.test(input[j]!)) j++;
      const q = input[j];
      if (q === '"' || q === "'") {
        const close = input.indexOf(q, j + 1);
        if (close < 0) return undefined;
        value = input.slice(j + 1, close);
        i = close + 1;
      } else {
        UNQUOTED.lastIndex = j;
        value = UNQUOTED.exec(input)![0];
        i = UNQUOTED.lastIndex;
      }
    }
    const key = a[0].toLowerCase();
    if (!attrs.has(key)) attrs.set(key, value);
  }
}

/** Skips an element and its content; returns the index past its end tag (or the end of input). */
function skipElement(input: string, name: string, from: number): number {
  const lower = input.toLowerCase();
  if (RAW_TEXT.has(name)) {
    const close = lower.indexOf(`</${name}`, from);
    if (close < 0) return input.length;
    const gt = input.indexOf('>', close);
    return gt < 0 ? input.length : gt + 1;
  }
  let depth = 1;
  let i = from;
  while (depth > 0) {
    const lt = input.indexOf('<', i);
    if (lt < 0) return input.length;
    const tag = readTag(input, lt);
    if (!tag) {
      i = lt + 1;
      continue;
    }
    if (tag.name === name) depth += tag.end ? -1 : 1;
    i = tag.next;
  }
  return i;
}

/** The safe HTML for this input (see the module comment). Plain text in, escaped text out. */
export function sanitizeRichText(input: string): string {
  const out: string[] = [];
  const stack: string[] = [];
  let i = 0;
  let text = '';
  const flushText = () => {
    if (text) out.push(escapeText(decodeEntities(text)));
    text = '';
  };
  const close = (name: string) => {
    const at = stack.lastIndexOf(name);
    if (at < 0) return;
    while (stack.length > at) out.push(`</${stack.pop()!}>`);
  };
  while (i < input.length) {
    const lt = input.indexOf('<', i);
    if (lt < 0) {
      text += input.slice(i);
      break;
    }
    text += input.slice(i, lt);
    if (input.startsWith('<!--', lt)) {
      const endComment = input.indexOf('-->', lt + 4);
      i = endComment < 0 ? input.length : endComment + 3;
      continue;
    }
    if (input[lt + 1] === '!' || input[lt + 1] === '?') {
      const gt = input.indexOf('>', lt);
      i = gt < 0 ? input.length : gt + 1;
      continue;
    }
    const tag = readTag(input, lt);
    if (!tag) {
      text += '<';
      i = lt + 1;
      continue;
    }
    i = tag.next;
    if (!tag.end && (RAW_TEXT.has(tag.name) || DROP_WITH_CONTENT.has(tag.name))) {
      i = skipElement(input, tag.name, i);
      continue;
    }
    if (!ALLOWED.has(tag.name)) continue;
    flushText();
    if (tag.end) {
      close(tag.name);
      continue;
    }
    if (VOID.has(tag.name)) {
      out.push(`<${tag.name}>`);
      continue;
    }
    if (stack.length >= MAX_DEPTH) continue;
    if (tag.name === 'a') {
      close('a'); // A link inside a link is not HTML: the first one ends.
      const href = safeHref(tag.attrs.get('href') ?? '');
      out.push(href ? `<a href="${escapeText(href)}" rel="noopener noreferrer nofollow" target="_blank">` : '<a>');
    } else {
      out.push(`<${tag.name}>`);
    }
    stack.push(tag.name);
  }
  flushText();
  while (stack.length > 0) out.push(`</${stack.pop()!}>`);
  return out.join('');
}

/** Visible text length of sanitised HTML (for "is it empty?"). */
export function plainTextOf(html: string): string {
  return decodeEntities(html.replace(/<[^>]*>/g, ' ')).replace(/\s+/g, ' ').trim();
}
