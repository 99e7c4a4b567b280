/**
 * A minimal streaming zip writer, "store" method only (hand-ins are already compressed: photos,
 * PDFs, office files; deflating them again costs CPU for nothing on the crisis morning). Every
 * entry's size and CRC-32 are known before its bytes are read (the blob store computes the CRC at
 * upload), so headers are written up front with no data descriptor — the simplest layout every
 * unzip tool reads — and the archive's exact length is known in advance (Content-Length).
 * Bounds: at most 65 535 entries and less than 4 GiB in all (no ZIP64), checked before writing.
 */
export interface ZipEntry {
  /** Path inside the archive, '/'-separated, UTF-8. */
  name: string;
  sizeBytes: number;
  crc32: number;
  modifiedMs: number;
  open(): Promise<AsyncIterable<Uint8Array> | Iterable<Uint8Array>>;
}

export const ZIP_MAX_ENTRIES = 65_535;
/** Below the 4 GiB offsets of a classic zip, with room for headers. */
export const ZIP_MAX_BYTES = 0xffff_0000;

const LOCAL_HEADER_BYTES = 30;
const CENTRAL_HEADER_BYTES = 46;
const END_BYTES = 22;
const UTF8_FLAG = 0x0800;

export class ZipLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ZipLimitError';
  }
}

/** Exact size of the archive `storeZip` writes for these entries; throws ZipLimitError past the bounds. */
export function zipSizeBytes(entries: readonly Pick<ZipEntry, 'name' | 'sizeBytes'>[]): number {
  if (entries.length > ZIP_MAX_ENTRIES) throw new ZipLimitError(`more than ${ZIP_MAX_ENTRIES} entries`);
  let total = END_BYTES;
  for (const e of entries) {
    const nameBytes = Buffer.byteLength(e.name, 'utf8');
    if (nameBytes > 0xffff) throw new ZipLimitError('entry name too long');
    total += LOCAL_HEADER_BYTES + CENTRAL_HEADER_BYTES + 2 * nameBytes + e.sizeBytes;
  }
  if (total > ZIP_MAX_BYTES) throw new ZipLimitError('archive larger than 4 GiB');
  return total;
}

const parisParts = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Europe/Paris', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
});

/** Zip times are local wall time without a zone: the school's (Paris). */
function dosDateTime(ms: number): { time: number; date: number } {
  const p: Record<string, number> = {};
  for (const part of parisParts.formatToParts(new Date(ms))) if (part.type !== 'literal') p[part.type] = Number(part.value);
  const year = Math.min(Math.max(p.year!, 1980), 2107);
  return { time: (p.hour! << 11) | (p.minute! << 5) | Math.floor(p.second! / 2), date: ((year - 1980) << 9) | (p.month! << 5) | p.day! };
}

/**
 * The fields local and central headers share, from "version needed" to "extra length": store
 * method, UTF-8 names, sizes and CRC known in advance.
 */
function writeEntryFields(buf: Buffer, at: number, e: ZipEntry, time: number, date: number, nameLength: number): void {
  buf.writeUInt16LE(20, at);
  buf.writeUInt16LE(UTF8_FLAG, at + 2);
  buf.writeUInt16LE(0, at + 4);
  buf.writeUInt16LE(time, at + 6);
  buf.writeUInt16LE(date, at + 8);
  buf.writeUInt32LE(e.crc32 >>> 0, at + 10);
  buf.writeUInt32LE(e.sizeBytes, at + 14);
  buf.writeUInt32LE(e.sizeBytes, at + 18);
  buf.writeUInt16LE(nameLength, at + 22);
  buf.writeUInt16LE(0, at + 24);
}

/** The archive as a stream of chunks; pulls one entry's bytes at a time (bounded memory). */
export async function* storeZip(entries: readonly ZipEntry[]): AsyncGenerator<Buffer> {
  zipSizeBytes(entries);
  const central: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const { time, date } = dosDateTime(e.modifiedMs);
    const local = Buffer.alloc(LOCAL_HEADER_BYTES);
    local.writeUInt32LE(0x04034b50, 0);
    writeEntryFields(local, 4, e, time, date, name.length);
    yield Buffer.concat([local, name]);

    let written = 0;
    for await (const chunk of await e.open()) {
      written += chunk.length;
      if (written > e.sizeBytes) break;
      yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    }
    // A stored file that is not the size recorded would make a corrupt archive: stop loudly.
    if (written !== e.sizeBytes) throw new Error(`zip entry ${e.name}: ${written} bytes read, ${e.sizeBytes} expected`);

    const header = Buffer.alloc(CENTRAL_HEADER_BYTES);
    header.writeUInt32LE(0x02014b50, 0);
    header.writeUInt16LE(20, 4); // version made by
    writeEntryFields(header, 6, e, time, date, name.length);
    header.writeUInt32LE(offset, 42);
    central.push(header, name);
    offset += LOCAL_HEADER_BYTES + name.length + e.sizeBytes;
  }
  const directory = Buffer.concat(central);
  const end = Buffer.alloc(END_BYTES);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  yield Buffer.concat([directory, end]);
}

/** A name safe as a zip path component on Windows, macOS and Linux. */
export function zipSafeName(name: string): string {
  const cleaned = name.normalize('NFC').replace(/[\u0000-\u001f<>:"/\\|?*\u007f]/g, '_').replace(/^\.+/, '_').trim();
  return (cleaned || 'fichier').slice(0, 120);
}
