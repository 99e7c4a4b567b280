/**
 * Baseline of the morning-mix bench: bare `node:http` doing the same I/O as Préau for the same
 * mix, and nothing else — no authentication, no database, no policy, no validation. It answers the
 * two reads with the very bytes Préau answered (files given in `--dir`), streams the same 200 KB
 * attachment from disk, and writes each 500 KB hand-in to a new file with fsync. So "Préau ÷ this"
 * says what Préau's features cost on top of the bytes the mix must move anyway.
 *
 *   node --import tsx bench/support/bytes-server.ts --dir DIR   (DIR holds today.json, homework.json, attachment.bin)
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { emit } from './protocol.js';

const { values } = parseArgs({ options: { dir: { type: 'string' } } });
if (!values.dir) throw new Error('--dir manquant');
const dir = values.dir;
const today = readFileSync(path.join(dir, 'today.json'));
const homework = readFileSync(path.join(dir, 'homework.json'));
const attachment = path.join(dir, 'attachment.bin');
const attachmentSize = readFileSync(attachment).length;
const uploads = mkdtempSync(path.join(tmpdir(), 'preau-bytes-'));
const receipt = Buffer.from(JSON.stringify({ ok: true }));

const json = (body: Buffer) => ({ 'content-type': 'application/json; charset=utf-8', 'content-length': body.length });

const server = createServer((req, res) => {
  const url = req.url ?? '';
  if (req.method === 'GET' && url === '/me/today') return void res.writeHead(200, json(today)).end(today);
  if (req.method === 'GET' && url === '/homework') return void res.writeHead(200, json(homework)).end(homework);
  if (req.method === 'GET' && url === '/attachment') {
    void open(attachment, 'r').then((h) => {
      res.writeHead(200, { 'content-type': 'application/pdf', 'content-length': attachmentSize });
      h.createReadStream({ autoClose: true, highWaterMark: 256 * 1024 }).pipe(res);
    });
    return;
  }
  if (req.method === 'POST' && url === '/handin') {
    // A client cut mid-upload (the load generator stops at the end of each slice) ends that request only.
    void (async () => {
      const f = await open(path.join(uploads, randomBytes(8).toString('hex')), 'wx', 0o600);
      try {
        for await (const chunk of req) await f.write(chunk as Buffer);
        await f.sync();
        res.writeHead(201, json(receipt)).end(receipt);
      } finally {
        await f.close();
      }
    })().catch(() => res.destroy());
    return;
  }
  res.writeHead(404).end();
});
server.keepAliveTimeout = 5_000;
server.listen(0, '127.0.0.1', () => emit({ type: 'ready', port: (server.address() as AddressInfo).port }));
const stop = () =>
  server.close(() => {
    rmSync(uploads, { recursive: true, force: true });
    process.exit(0);
  });
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
