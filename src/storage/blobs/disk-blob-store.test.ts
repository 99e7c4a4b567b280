import { mkdtempSync, readdirSync, rmSync, statSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { blobStoreContract } from './blob-store.contract.js';
import { DiskBlobStore } from './disk-blob-store.js';
import { sniffContentType } from './sniff.js';

blobStoreContract('disk', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'preau-blobs-'));
  return { store: new DiskBlobStore(dir), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
});

describe('DiskBlobStore on disk', () => {
  it('renews the modification time of bytes put again (the orphan sweep spares them)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'preau-blobs-'));
    try {
      const store = new DiskBlobStore(dir);
      const put = await store.put([Buffer.from('rendu deux fois')], { maxBytes: 100 });
      const file = path.join(dir, 'sha256', put.sha256.slice(0, 2), put.sha256.slice(2, 4), put.sha256);
      const old = new Date(Date.now() - 7 * 86_400_000);
      utimesSync(file, old, old);
      await store.put([Buffer.from('rendu deux fois')], { maxBytes: 100 });
      expect(statSync(file).mtimeMs).toBeGreaterThan(Date.now() - 60_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('leaves no temporary file behind, whether the put succeeds or not', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'preau-blobs-'));
    try {
      const store = new DiskBlobStore(dir);
      await store.put([Buffer.from('ok')], { maxBytes: 10 });
      await expect(store.put([Buffer.from('beaucoup trop long')], { maxBytes: 3 })).rejects.toThrow();
      expect(readdirSync(path.join(dir, 'tmp'))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('content type from the bytes', () => {
  const cases: [string, Buffer, string][] = [
    ['PDF', Buffer.from('%PDF-1.7\n%âãÏÓ\n'), 'application/pdf'],
    ['PNG', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]), 'image/png'],
    ['JPEG', Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16]), 'image/jpeg'],
    ['HEIC (an iPhone photo)', Buffer.concat([Buffer.from([0, 0, 0, 24]), Buffer.from('ftypheic')]), 'image/heic'],
    ['plain French text', Buffer.from('Réponse à la question 1 : 42\n'), 'text/plain'],
    ['HTML named .pdf', Buffer.from('<!DOCTYPE html><script>alert(1)</script>'), 'text/html'],
    ['SVG', Buffer.from('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>'), 'image/svg+xml'],
    ['binary junk', Buffer.from([0, 1, 2, 3, 255, 254]), 'application/octet-stream'],
    ['empty', Buffer.alloc(0), 'application/octet-stream'],
  ];
  it.each(cases)('%s', (_name, bytes, type) => expect(sniffContentType(bytes)).toBe(type));

  it('tells a Word document from an OpenDocument text', () => {
    const zipHead = (first: string, extra = '') => {
      const h = Buffer.alloc(30);
      h.writeUInt32LE(0x04034b50, 0);
      h.writeUInt16LE(Buffer.byteLength(first), 26);
      return Buffer.concat([h, Buffer.from(first), Buffer.from(extra)]);
    };
    expect(sniffContentType(zipHead('mimetype', 'application/vnd.oasis.opendocument.text'))).toBe('application/vnd.oasis.opendocument.text');
    expect(sniffContentType(zipHead('[Content_Types].xml', '....word/document.xml'))).toBe('application/vnd.openxmlformats-officedocument.wordprocessingml.document');
    expect(sniffContentType(zipHead('photos/1.jpg'))).toBe('application/zip');
  });
});
