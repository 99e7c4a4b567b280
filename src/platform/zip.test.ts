import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { unzip } from '../../test/support/unzip.js';
import { tableCrc32 } from '../storage/blobs/crc32.js';
import { storeZip, zipSafeName, zipSizeBytes, ZipLimitError, type ZipEntry } from './zip.js';

function entry(name: string, data: Buffer): ZipEntry {
  return { name, sizeBytes: data.length, crc32: tableCrc32(data), modifiedMs: Date.UTC(2026, 8, 7, 16, 0), open: async () => [data.subarray(0, 10), data.subarray(10)] };
}

async function collect(gen: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of gen) parts.push(p);
  return Buffer.concat(parts);
}


describe('store-only zip', () => {
  it('is read back by a real unzip library (CRC checked), at the announced size', async () => {
    const entries = [entry('Dupont Léa/devoir.pdf', randomBytes(70_000)), entry('Dupont Léa/texte.txt', Buffer.from('Ma réponse')), entry('vide.txt', Buffer.alloc(0))];
    const zip = await collect(storeZip(entries));
    expect(zip.length).toBe(zipSizeBytes(entries));
    const files = await unzip(zip);
    expect([...files.keys()]).toEqual(['Dupont Léa/devoir.pdf', 'Dupont Léa/texte.txt', 'vide.txt']);
    expect(files.get('Dupont Léa/texte.txt')!.toString()).toBe('Ma réponse');
  });

  it('refuses to go past a classic zip’s bounds before writing anything', () => {
    expect(() => zipSizeBytes([{ name: 'a', sizeBytes: 0xffff_ffff }])).toThrow(ZipLimitError);
    expect(() => zipSizeBytes(Array.from({ length: 65_536 }, () => ({ name: 'a', sizeBytes: 0 })))).toThrow(ZipLimitError);
  });

  it('stops when a stored file is not the size recorded', async () => {
    const bad = { ...entry('x', Buffer.from('abc')), sizeBytes: 5 };
    await expect(collect(storeZip([bad]))).rejects.toThrow(/5 expected/);
  });

  it('makes names safe', () => {
    expect(zipSafeName('../../etc/passwd')).toBe('__.._etc_passwd');
    expect(zipSafeName('CON:?.txt')).toBe('CON__.txt');
    expect(zipSafeName('')).toBe('fichier');
  });
});
