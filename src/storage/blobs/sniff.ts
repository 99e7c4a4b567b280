/**
 * Content type from the bytes, never from the name or the client's claim: a file called
 * `devoir.pdf` that is HTML is HTML. Knows what pupils and teachers hand in and post (PDF,
 * images, office documents, audio, video, text); anything else is `application/octet-stream`.
 * Active types (HTML, SVG, XML) are recognised so that they are never served inline.
 */
export function sniffContentType(head: Uint8Array): string {
  const b = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  const starts = (sig: number[], at = 0) => b.length >= at + sig.length && sig.every((x, i) => b[at + i] === x);
  const ascii = (at: number, text: string) => b.length >= at + text.length && b.toString('latin1', at, at + text.length) === text;

  if (ascii(0, '%PDF-')) return 'application/pdf';
  if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (starts([0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (ascii(0, 'GIF87a') || ascii(0, 'GIF89a')) return 'image/gif';
  if (ascii(0, 'RIFF') && ascii(8, 'WEBP')) return 'image/webp';
  if (ascii(0, 'RIFF') && ascii(8, 'WAVE')) return 'audio/wav';
  if (ascii(4, 'ftyp')) {
    const brand = b.toString('latin1', 8, 12);
    if (['heic', 'heix', 'hevc', 'heim', 'heis', 'mif1', 'msf1'].includes(brand)) return 'image/heic';
    if (brand === 'avif') return 'image/avif';
    if (brand.startsWith('M4A')) return 'audio/mp4';
    if (brand.startsWith('qt')) return 'video/quicktime';
    return 'video/mp4';
  }
  if (ascii(0, 'OggS')) return 'audio/ogg';
  if (ascii(0, 'ID3') || (b.length >= 2 && b[0] === 0xff && (b[1]! & 0xe0) === 0xe0)) return 'audio/mpeg';
  if (starts([0x1a, 0x45, 0xdf, 0xa3])) return 'video/webm';
  if (starts([0x50, 0x4b, 0x03, 0x04])) return zipFlavour(b);
  if (starts([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1])) return 'application/x-ole-storage';
  if (ascii(0, '{\\rtf')) return 'application/rtf';
  return textFlavour(b);
}

/** Office Open XML and OpenDocument are zips; the first entries say which. */
function zipFlavour(b: Buffer): string {
  const nameLength = b.length >= 28 ? b.readUInt16LE(26) : 0;
  const firstName = b.toString('latin1', 30, 30 + nameLength);
  if (firstName === 'mimetype') {
    const extra = b.readUInt16LE(28);
    const value = b.toString('latin1', 30 + nameLength + extra, 30 + nameLength + extra + 60);
    for (const t of ['application/vnd.oasis.opendocument.text', 'application/vnd.oasis.opendocument.spreadsheet', 'application/vnd.oasis.opendocument.presentation', 'application/vnd.oasis.opendocument.graphics']) {
      if (value.startsWith(t)) return t;
    }
  }
  const window = b.toString('latin1');
  if (window.includes('word/')) return 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
  if (window.includes('xl/')) return 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
  if (window.includes('ppt/')) return 'application/vnd.openxmlformats-officedocument.presentationml.presentation';
  return 'application/zip';
}

/** Valid UTF-8 without control bytes is text; markup is told apart because it must not run in a browser. */
function textFlavour(b: Buffer): string {
  if (b.length === 0) return 'application/octet-stream';
  for (const byte of b) if (byte === 0 || (byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d && byte !== 0x0c && byte !== 0x1b)) return 'application/octet-stream';
  // The head may end inside a multi-byte character: decode what is complete.
  let end = b.length;
  while (end > 0 && end > b.length - 4 && (b[end - 1]! & 0xc0) === 0x80) end--;
  if (end > 0 && b[end - 1]! >= 0xc0) end--;
  const text = new TextDecoder('utf-8', { fatal: false }).decode(b.subarray(0, end));
  if (text.includes('\uFFFD')) return 'application/octet-stream';
  const start = text.replace(/^\uFEFF/, '').trimStart().slice(0, 512).toLowerCase();
  if (start.startsWith('<svg') || (start.startsWith('<?xml') && start.includes('<svg'))) return 'image/svg+xml';
  if (start.startsWith('<!doctype html') || start.startsWith('<html') || /<(script|iframe|body|head|meta)[\s>]/.test(start)) return 'text/html';
  if (start.startsWith('<?xml')) return 'application/xml';
  return 'text/plain';
}

/** Types that a browser would run or render with scripts: always downloaded, never shown inline. */
export function isActiveContentType(contentType: string): boolean {
  return contentType === 'text/html' || contentType === 'image/svg+xml' || contentType === 'application/xml';
}
