import { createReadStream } from 'node:fs';
import iconv from 'iconv-lite';
import { SaxesParser } from 'saxes';

/**
 * Streaming reader of AAF files (format `ficAlimMENESR`). Files reach hundreds of MB, so nothing
 * is ever held whole: the file is read in chunks, decoded, fed to saxes, and the records finished
 * by each chunk are yielded before the next chunk is read (`for await` on the stream pauses it
 * while the consumer is busy, which is the backpressure).
 */

export const AAF_CATEGORIES = ['EtabEducNat', 'MatEducNat', 'MefEducNat', 'Eleve', 'PersRelEleve', 'PersEducNat'] as const;
export type AafCategory = (typeof AAF_CATEGORIES)[number];
export type AafOp = 'add' | 'modify' | 'delete';

export interface AafRecord {
  op: AafOp;
  category: AafCategory;
  /** The `<identifier><id>` of the request (equals the jointure in every real feed). */
  id: string;
  /** Attribute (or, for `modify`, replaced attribute) name → its non-empty values. */
  attrs: Map<string, string[]>;
  /** Line of the opening request tag, 1-based. */
  line: number;
}

/** A file the importer refuses: it names the file, the record and the attribute so an operator can fix it. */
export class AafFormatError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | null,
    readonly recordId: string | null,
    readonly attribute: string | null,
    readonly reason: string,
  ) {
    const where = [
      `fichier ${file}`,
      line !== null ? `ligne ${line}` : null,
      `enregistrement ${recordId ?? '(inconnu)'}`,
      `attribut ${attribute ?? '(aucun)'}`,
    ]
      .filter((s) => s !== null)
      .join(', ');
    super(`Fichier AAF invalide (${where}) : ${reason}`);
    this.name = 'AafFormatError';
  }
}

/**
 * Number of `$`-separated parts of the multi-valued attributes the importer reads. A value with
 * another count means the feed is broken (a missing separator shifts every following field).
 */
export const DOLLAR_FIELD_PARTS: ReadonlyMap<string, { min: number; max: number }> = new Map([
  ['ENTEleveClasses', { min: 2, max: 2 }],
  ['ENTEleveGroupes', { min: 2, max: 2 }],
  ['ENTElevePersRelEleve', { min: 6, max: 6 }],
  ['ENTAuxEnsClasses', { min: 2, max: 2 }],
  ['ENTAuxEnsGroupes', { min: 2, max: 2 }],
  ['ENTAuxEnsClassesMatieres', { min: 3, max: 3 }],
  ['ENTAuxEnsGroupesMatieres', { min: 3, max: 3 }],
  ['ENTAuxEnsClassesPrincipal', { min: 2, max: 2 }],
  ['ENTPersonFonctions', { min: 5, max: 5 }],
  // `code$label`; a bare code is tolerated (older exports), extra parts are ignored.
  ['ENTStructureClasses', { min: 1, max: 3 }],
  ['ENTStructureGroupes', { min: 1, max: 3 }],
]);

/** The attribute of operationalAttributes names the kind of object; its value names the category. */
const CATEGORY_ALIASES: ReadonlyMap<string, AafCategory> = new Map([
  ['EtabEducNat', 'EtabEducNat'],
  ['MatEducNat', 'MatEducNat'],
  ['MatiereEducNat', 'MatEducNat'],
  ['MefEducNat', 'MefEducNat'],
  // ENT NG test generators write `categorieMef`/`Mef`.
  ['Mef', 'MefEducNat'],
  ['Eleve', 'Eleve'],
  ['PersRelEleve', 'PersRelEleve'],
  ['PersEducNat', 'PersEducNat'],
]);

export type AafEncoding = 'utf-8' | 'iso-8859-15' | 'iso-8859-1' | 'windows-1252';

const ENCODING_NAMES: ReadonlyMap<string, AafEncoding> = new Map([
  ['utf-8', 'utf-8'],
  ['utf8', 'utf-8'],
  ['iso-8859-15', 'iso-8859-15'],
  ['iso8859-15', 'iso-8859-15'],
  ['latin-9', 'iso-8859-15'],
  ['latin9', 'iso-8859-15'],
  ['iso-8859-1', 'iso-8859-1'],
  ['iso8859-1', 'iso-8859-1'],
  ['latin1', 'iso-8859-1'],
  ['windows-1252', 'windows-1252'],
  ['cp1252', 'windows-1252'],
]);

/**
 * The encoding declared in the XML declaration at the start of `head`; UTF-8 when there is no
 * declaration (XML 1.0 §4.3.3). `undefined` for a declared encoding we do not decode.
 */
export function detectDeclaredEncoding(head: Buffer): { encoding: AafEncoding | undefined; declared: string; bomBytes: number } {
  const bomBytes = head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0;
  // The declaration is ASCII whatever the encoding, and must be the very first thing in the file.
  const start = head.subarray(bomBytes, bomBytes + 256).toString('latin1');
  if (!start.startsWith('<?xml')) return { encoding: 'utf-8', declared: 'UTF-8', bomBytes };
  const end = start.indexOf('?>');
  const decl = end >= 0 ? start.slice(0, end) : start;
  const m = /encoding\s*=\s*["']([A-Za-z0-9._-]+)["']/.exec(decl);
  if (!m) return { encoding: 'utf-8', declared: 'UTF-8', bomBytes };
  const declared = m[1]!;
  return { encoding: ENCODING_NAMES.get(declared.toLowerCase()), declared, bomBytes };
}

/** Offset of the first byte that cannot start or continue a valid UTF-8 sequence, or -1. */
export function firstInvalidUtf8Offset(bytes: Buffer, final: boolean): number {
  let i = 0;
  const n = bytes.length;
  while (i < n) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let min: number;
    if (b >= 0xc2 && b <= 0xdf) {
      need = 1;
      min = 0x80;
    } else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      min = 0x800;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      min = 0x10000;
    } else return i;
    if (i + need >= n) {
      // A sequence cut by the chunk boundary is fine unless the file ends there.
      for (let k = i + 1; k < n; k++) if ((bytes[k]! & 0xc0) !== 0x80) return i;
      return final ? i : -1;
    }
    let cp = b & (0xff >> (need + 2));
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k]!;
      if ((c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return -1;
}

interface Decoder {
  /** Decodes a chunk; throws `InvalidBytes` at the first byte that is not of the encoding. */
  write(chunk: Buffer): string;
  end(): string;
}

class InvalidBytes extends Error {
  constructor(
    readonly offset: number,
    readonly validPrefix: string,
  ) {
    super('invalid bytes');
  }
}

function makeDecoder(encoding: AafEncoding): Decoder {
  if (encoding === 'utf-8') {
    // fatal: a wrong byte must stop the import, never become U+FFFD in someone's name.
    const td = new TextDecoder('utf-8', { fatal: true });
    return {
      write(chunk) {
        try {
          return td.decode(chunk, { stream: true });
        } catch {
          const offset = Math.max(0, firstInvalidUtf8Offset(chunk, false));
          let prefix = '';
          try {
            prefix = new TextDecoder('utf-8', { fatal: true }).decode(chunk.subarray(0, offset));
          } catch {
            // The bad sequence started in the previous chunk: nothing of this one is valid.
          }
          throw new InvalidBytes(offset, prefix);
        }
      },
      end() {
        try {
          return td.decode();
        } catch {
          throw new InvalidBytes(0, '');
        }
      },
    };
  }
  const dec = iconv.getDecoder(encoding);
  return {
    write: (chunk) => dec.write(chunk),
    end: () => dec.end() ?? '',
  };
}

type Ctx = 'root' | 'request' | 'opattrs' | 'opattr' | 'identifier' | 'id' | 'attributes' | 'attr' | 'modifications' | 'modification' | 'value';

interface Pending {
  op: AafOp;
  line: number;
  /** Raw value of the operational attribute, checked when the request closes (its id is known then). */
  categoryValue: string | undefined;
  categoryAttr: string | undefined;
  id: string | undefined;
  attrs: Map<string, string[]>;
}

export interface ParseOptions {
  /** Called after each chunk with the number of bytes read from this file so far. */
  onBytes?: (bytesRead: number) => void;
  /** Read size; the memory used by the parser is a small multiple of it. */
  chunkBytes?: number;
}

/** The XML declaration fits in the first bytes: it is ASCII and short. */
const MAX_DECLARATION_BYTES = 256;

const REQUEST_OPS: Readonly<Record<string, AafOp>> = { addRequest: 'add', modifyRequest: 'modify', deleteRequest: 'delete' };

/** Splits a `$` multi-value, checking the part count for the attributes we understand. */
export function checkDollarParts(attribute: string, value: string): string | null {
  const rule = DOLLAR_FIELD_PARTS.get(attribute);
  if (!rule) return null;
  const parts = value.split('$').length;
  if (parts < rule.min || parts > rule.max) {
    const expected = rule.min === rule.max ? `${rule.min}` : `${rule.min} à ${rule.max}`;
    return `valeur « ${value.slice(0, 80)} » : ${parts} partie(s) séparée(s) par $ au lieu de ${expected}`;
  }
  return null;
}

/** Yields the records of one AAF file, in file order. */
export async function* parseAafFile(file: string, options: ParseOptions = {}): AsyncGenerator<AafRecord, void, undefined> {
  const chunkBytes = options.chunkBytes ?? 64 * 1024;
  const parser = new SaxesParser({ xmlns: false, position: true, fileName: file });
  const out: AafRecord[] = [];
  let failure: AafFormatError | undefined;

  const stack: Ctx[] = [];
  let current: Pending | undefined;
  let attrName: string | undefined;
  let attrValues: string[] = [];
  let text = '';
  let rootSeen = false;
  let rootClosed = false;

  const fail = (reason: string, attribute: string | null = attrName ?? null, line: number | null = parser.line): void => {
    failure ??= new AafFormatError(file, line, current?.id ?? null, attribute, reason);
  };

  parser.on('opentag', (tag) => {
    if (failure) return;
    const name = tag.name;
    const parent = stack[stack.length - 1];
    let ctx: Ctx;
    if (parent === undefined) {
      if (name !== 'ficAlimMENESR') return fail(`élément racine <${name}> inattendu (attendu <ficAlimMENESR>)`);
      rootSeen = true;
      ctx = 'root';
    } else if (parent === 'root') {
      const op = REQUEST_OPS[name];
      if (!op) return fail(`élément <${name}> inattendu dans <ficAlimMENESR>`);
      current = { op, line: parser.line, categoryValue: undefined, categoryAttr: undefined, id: undefined, attrs: new Map() };
      ctx = 'request';
    } else if (parent === 'request') {
      if (name === 'operationalAttributes') ctx = 'opattrs';
      else if (name === 'identifier') ctx = 'identifier';
      else if (name === 'attributes' && current?.op === 'add') ctx = 'attributes';
      else if (name === 'modifications' && current?.op === 'modify') ctx = 'modifications';
      else return fail(`élément <${name}> inattendu dans une requête ${current?.op ?? ''}`);
    } else if (parent === 'opattrs' && name === 'attr') {
      attrName = String(tag.attributes.name ?? '');
      attrValues = [];
      ctx = 'opattr';
    } else if (parent === 'identifier' && name === 'id') {
      text = '';
      ctx = 'id';
    } else if ((parent === 'attributes' && name === 'attr') || (parent === 'modifications' && name === 'modification')) {
      const n = tag.attributes.name;
      if (typeof n !== 'string' || n === '') return fail(`<${name}> sans attribut name`, null);
      if (name === 'modification') {
        const operation = tag.attributes.operation;
        if (operation !== undefined && operation !== 'replace') return fail(`opération « ${String(operation)} » non prise en charge (seul replace existe)`, n);
      }
      attrName = n;
      attrValues = [];
      ctx = name === 'attr' ? 'attr' : 'modification';
    } else if ((parent === 'attr' || parent === 'modification' || parent === 'opattr') && name === 'value') {
      text = '';
      ctx = 'value';
    } else {
      return fail(`élément <${name}> inattendu`);
    }
    stack.push(ctx);
  });

  parser.on('text', (t) => {
    const top = stack[stack.length - 1];
    if (top === 'value' || top === 'id') text += t;
  });
  parser.on('cdata', (t) => {
    const top = stack[stack.length - 1];
    if (top === 'value' || top === 'id') text += t;
  });

  parser.on('closetag', () => {
    if (failure) return;
    const ctx = stack.pop();
    switch (ctx) {
      case 'value': {
        const v = text.trim();
        if (v !== '') attrValues.push(v);
        break;
      }
      case 'id':
        if (current) current.id = text.trim();
        break;
      case 'opattr': {
        if (!current) break;
        current.categoryValue = attrValues[0] ?? '';
        current.categoryAttr = attrName;
        attrName = undefined;
        break;
      }
      case 'attr':
      case 'modification': {
        if (!current || attrName === undefined) break;
        for (const v of attrValues) {
          const problem = checkDollarParts(attrName, v);
          if (problem) return fail(problem, attrName);
        }
        // A repeated attribute adds values rather than silently dropping the first occurrence.
        const prev = current.attrs.get(attrName);
        current.attrs.set(attrName, prev ? prev.concat(attrValues) : attrValues);
        attrName = undefined;
        break;
      }
      case 'request': {
        const rec = current;
        current = undefined;
        if (!rec) break;
        current = rec;
        if (!rec.id) {
          // Name the record by its jointure when the attributes carry one, so it can be found in the file.
          const jointure = rec.attrs.get('ENTPersonJointure')?.[0] ?? rec.attrs.get('ENTStructureJointure')?.[0];
          if (jointure) rec.id = `(sans identifiant, jointure ${jointure})`;
          return fail('identifiant manquant (<identifier><id> vide ou absent)', 'identifier', rec.line);
        }
        if (rec.categoryValue === undefined) return fail('catégorie manquante (<operationalAttributes>)', 'operationalAttributes', rec.line);
        const category = CATEGORY_ALIASES.get(rec.categoryValue);
        if (!category) return fail(`catégorie « ${rec.categoryValue} » inconnue (attendu : ${AAF_CATEGORIES.join(', ')})`, rec.categoryAttr ?? 'operationalAttributes', rec.line);
        current = undefined;
        out.push({ op: rec.op, category, id: rec.id, attrs: rec.attrs, line: rec.line });
        break;
      }
      case 'root':
        rootClosed = true;
        break;
      default:
        break;
    }
  });

  parser.on('error', (err) => {
    fail(`XML mal formé : ${err.message}`);
  });

  const stream = createReadStream(file, { highWaterMark: chunkBytes });
  let decoder: Decoder | undefined;
  let head: Buffer[] = [];
  let headBytes = 0;
  let bytesRead = 0;
  let linesBefore = 0;

  /** Decodes and parses one piece of the file; the first piece chooses the decoder from the declaration. */
  const feed = (piece: Buffer): void => {
    let raw = piece;
    if (!decoder) {
      const { encoding, declared, bomBytes } = detectDeclaredEncoding(piece);
      if (!encoding) throw new AafFormatError(file, 1, null, null, `encodage « ${declared} » non pris en charge (UTF-8 ou ISO-8859-15 attendus)`);
      decoder = makeDecoder(encoding);
      bytesRead += bomBytes;
      raw = piece.subarray(bomBytes);
    }
    let decoded: string;
    try {
      decoded = decoder.write(raw);
    } catch (e) {
      if (!(e instanceof InvalidBytes)) throw e;
      // Parse what was valid first, so that the error names the record the bad byte is in.
      parser.write(e.validPrefix);
      failure ??= new AafFormatError(
        file,
        linesBefore + countNewlines(raw, e.offset) + 1,
        current?.id ?? null,
        attrName ?? null,
        `octet invalide en UTF-8 (position ${bytesRead + e.offset}) : le fichier n’est pas dans l’encodage UTF-8 annoncé (ou supposé, faute de déclaration XML)`,
      );
      throw failure;
    }
    bytesRead += raw.length;
    linesBefore += countNewlines(raw, raw.length);
    parser.write(decoded);
    if (failure) throw failure;
  };

  try {
    for await (const piece of stream as AsyncIterable<Buffer>) {
      if (!decoder) {
        // The XML declaration must be seen whole before choosing the decoder.
        head.push(piece);
        headBytes += piece.length;
        if (headBytes < MAX_DECLARATION_BYTES) continue;
        feed(Buffer.concat(head));
        head = [];
      } else feed(piece);
      for (const rec of out) yield rec;
      out.length = 0;
      options.onBytes?.(bytesRead);
    }
    if (head.length > 0) {
      // A file shorter than a declaration.
      feed(Buffer.concat(head));
      options.onBytes?.(bytesRead);
    }
    if (!decoder) throw new AafFormatError(file, 1, null, null, 'fichier vide');
    try {
      parser.write((decoder as Decoder).end());
    } catch (e) {
      if (!(e instanceof InvalidBytes)) throw e;
      fail('fichier tronqué au milieu d’un caractère UTF-8');
    }
    parser.close();
    if (failure) throw failure;
    if (!rootSeen) throw new AafFormatError(file, parser.line, null, null, 'aucun élément <ficAlimMENESR>');
    if (!rootClosed) throw new AafFormatError(file, parser.line, current?.id ?? null, attrName ?? null, 'fichier tronqué : </ficAlimMENESR> manquant');
    for (const rec of out) yield rec;
    out.length = 0;
  } finally {
    stream.destroy();
  }
}

function countNewlines(buf: Buffer, end: number): number {
  let n = 0;
  let i = buf.indexOf(0x0a);
  while (i !== -1 && i < end) {
    n++;
    i = buf.indexOf(0x0a, i + 1);
  }
  return n;
}

/** The category a file holds, from its name (`…_<Type>_NNNN.xml`), or undefined when the name does not say. */
export function categoryFromFileName(file: string): AafCategory | undefined {
  const base = file.split(/[\\/]/).pop() ?? file;
  const m = /_(EtabEducNat|MatiereEducNat|MatEducNat|MefEducNat|Eleve|PersRelEleve|PersEducNat)_\d+\.xml$/i.exec(base);
  if (!m) return undefined;
  const t = m[1]!.toLowerCase();
  return AAF_CATEGORIES.find((c) => c.toLowerCase() === t) ?? (t === 'matiereeducnat' ? 'MatEducNat' : undefined);
}
