/**
 * Baseline of the session-resume bench: the bare `node:http` hello world, pinned to the same CPU
 * as Préau's server and loaded identically. Prints `{"type":"ready","port":…}`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { emit } from './protocol.js';

const body = JSON.stringify({ hello: 'world' });
const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
});
server.keepAliveTimeout = 5_000;
server.listen(0, '127.0.0.1', () => emit({ type: 'ready', port: (server.address() as AddressInfo).port }));
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
