import net, { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loopbackCountries } from '../../bench/support/abroad.js';
import { startTestPreau, type TestPreau } from '../../test/support/app.js';
import { forwardedHops, parseTrustedProxies, rightmostUntrusted, xForwardedForHops } from './client-address.js';
import { parseProxyHeader, V1_MAX_BYTES } from './proxy-protocol.js';

const V2_SIGNATURE = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');

/** A PROXY v2 header (command 1 = PROXY, 0 = LOCAL) for TCP over IPv4, with `tlv` extra bytes. */
function v2Header(source: string, command = 1, tlv = Buffer.alloc(0)): Buffer {
  const addresses = Buffer.alloc(12);
  source.split('.').forEach((b, i) => addresses.writeUInt8(Number(b), i));
  [127, 0, 0, 1].forEach((b, i) => addresses.writeUInt8(b, 4 + i));
  addresses.writeUInt16BE(50_123, 8);
  addresses.writeUInt16BE(80, 10);
  const head = Buffer.from([0x20 | command, 0x11, 0, 0]);
  head.writeUInt16BE(addresses.length + tlv.length, 2);
  return Buffer.concat([V2_SIGNATURE, head, addresses, tlv]);
}

function v2Header6(source16: Buffer): Buffer {
  const body = Buffer.concat([source16, Buffer.alloc(16), Buffer.from([0, 1, 0, 80])]);
  const head = Buffer.from([0x21, 0x21, 0, body.length]);
  return Buffer.concat([V2_SIGNATURE, head, body]);
}

describe('PROXY protocol header (pure)', () => {
  it('reads v1 TCP4, TCP6 and UNKNOWN lines, and says how many bytes they took', () => {
    const line = 'PROXY TCP4 198.51.100.7 10.0.0.1 51000 80\r\n';
    expect(parseProxyHeader(Buffer.from(`${line}GET / HTTP/1.1\r\n`))).toEqual({ status: 'ok', consumed: line.length, source: '198.51.100.7' });
    expect(parseProxyHeader(Buffer.from('PROXY TCP6 2001:db8::7 2001:db8::1 51000 443\r\n'))).toMatchObject({ status: 'ok', source: '2001:db8::7' });
    expect(parseProxyHeader(Buffer.from('PROXY UNKNOWN\r\n'))).toEqual({ status: 'ok', consumed: 15, source: undefined });
  });

  it('waits for more bytes while what came could still be a header, at any split', () => {
    const whole = Buffer.concat([v2Header('203.0.113.9'), Buffer.from('GET /')]);
    for (let n = 0; n < 28; n++) expect(parseProxyHeader(whole.subarray(0, n)).status, `v2 cut at ${n}`).toBe('incomplete');
    expect(parseProxyHeader(whole)).toEqual({ status: 'ok', consumed: 28, source: '203.0.113.9' });
    const v1 = Buffer.from('PROXY TCP4 198.51.100.7 10.0.0.1 51000 80\r\n');
    for (let n = 0; n < v1.length; n++) expect(parseProxyHeader(v1.subarray(0, n)).status, `v1 cut at ${n}`).toBe('incomplete');
  });

  it('reads v2 LOCAL (the proxy’s own checks: no client), IPv6, IPv4-mapped IPv6, and skips TLVs', () => {
    expect(parseProxyHeader(v2Header('203.0.113.9', 0))).toEqual({ status: 'ok', consumed: 28, source: undefined });
    const v6 = Buffer.from('20010db8000000000000000000000042', 'hex');
    expect(parseProxyHeader(v2Header6(v6))).toMatchObject({ status: 'ok', source: '2001:db8::42' });
    const mapped = Buffer.from('00000000000000000000ffffc6336407', 'hex');
    expect(parseProxyHeader(v2Header6(mapped))).toMatchObject({ status: 'ok', source: '198.51.100.7' });
    const tlv = Buffer.from([0x05, 0, 3, 0x61, 0x62, 0x63]);
    expect(parseProxyHeader(v2Header('203.0.113.9', 1, tlv))).toEqual({ status: 'ok', consumed: 34, source: '203.0.113.9' });
  });

  it('refuses what is not a header or is a broken one', () => {
    const bad = [
      'GET / HTTP/1.1\r\n',
      'PROXY TCP4 198.51.100.7 10.0.0.1 51000\r\n',
      'PROXY TCP4 2001:db8::7 10.0.0.1 51000 80\r\n',
      'PROXY TCP4 198.51.100.256 10.0.0.1 51000 80\r\n',
      'PROXY TCP4 198.51.100.7 10.0.0.1 051000 80\r\n',
      'PROXY TCP4 198.51.100.7 10.0.0.1 70000 80\r\n',
      'PROXY UDP4 198.51.100.7 10.0.0.1 1 80\r\n',
      'PROXY  TCP4 198.51.100.7 10.0.0.1 1 80\r\n',
      `PROXY TCP4 ${'1'.repeat(V1_MAX_BYTES)}`,
    ];
    for (const b of bad) expect(parseProxyHeader(Buffer.from(b)).status, b).toBe('invalid');
    const wrongVersion = v2Header('203.0.113.9');
    wrongVersion[12] = 0x11;
    expect(parseProxyHeader(wrongVersion)).toMatchObject({ status: 'invalid', reason: 'v2_version' });
    const wrongCommand = v2Header('203.0.113.9', 2);
    expect(parseProxyHeader(wrongCommand)).toMatchObject({ status: 'invalid', reason: 'v2_command' });
    const short = v2Header('203.0.113.9');
    short.writeUInt16BE(4, 14);
    expect(parseProxyHeader(short.subarray(0, 20))).toMatchObject({ status: 'invalid', reason: 'v2_length' });
    const huge = Buffer.concat([V2_SIGNATURE, Buffer.from([0x21, 0x11, 0xff, 0xff])]);
    expect(parseProxyHeader(huge)).toMatchObject({ status: 'invalid', reason: 'v2_too_long' });
  });
});

describe('forwarding headers and trusted proxies (pure)', () => {
  const trusted = parseTrustedProxies(['10.0.0.0/8', '2001:db8:ffff::/48'])!;
  const isTrusted = (a: string) => trusted.check(a, a.includes(':') ? 'ipv6' : 'ipv4');

  it('takes the rightmost address that is not a trusted proxy, only when the peer is one', () => {
    expect(rightmostUntrusted(xForwardedForHops('203.0.113.9'), '10.0.0.2', isTrusted)).toBe('203.0.113.9');
    // The client wrote "1.2.3.4" itself; the proxy appended what it saw. The forgery is never reached.
    expect(rightmostUntrusted(xForwardedForHops('1.2.3.4, 203.0.113.9'), '10.0.0.2', isTrusted)).toBe('203.0.113.9');
    expect(rightmostUntrusted(xForwardedForHops('1.2.3.4, 203.0.113.9, 10.1.1.1'), '10.0.0.2', isTrusted)).toBe('203.0.113.9');
    // An untrusted peer's header is not read at all.
    expect(rightmostUntrusted(xForwardedForHops('1.2.3.4'), '198.51.100.5', isTrusted)).toBe('198.51.100.5');
    // Garbage stops the walk at what the trusted proxy saw.
    expect(rightmostUntrusted(xForwardedForHops('nonsense'), '10.0.0.2', isTrusted)).toBe('10.0.0.2');
    expect(rightmostUntrusted(xForwardedForHops('203.0.113.9, nonsense, 10.0.0.3'), '10.0.0.2', isTrusted)).toBe('10.0.0.3');
    expect(rightmostUntrusted(xForwardedForHops('::ffff:203.0.113.9'), '10.0.0.2', isTrusted)).toBe('203.0.113.9');
  });

  it('reads RFC 7239 Forwarded: quoted, bracketed IPv6 with ports, several elements; ignores unknown and obfuscated nodes', () => {
    expect(forwardedHops('for=192.0.2.60;proto=http;by=203.0.113.43')).toEqual(['192.0.2.60']);
    expect(forwardedHops('For="[2001:db8:cafe::17]:4711", for=198.51.100.7:5000')).toEqual(['2001:db8:cafe::17', '198.51.100.7']);
    expect(forwardedHops('for=unknown, for=_hidden, proto=https')).toEqual([undefined, undefined, undefined]);
    expect(rightmostUntrusted(forwardedHops('for=1.2.3.4, for="[2001:db8::9]"'), '2001:db8:ffff::1', isTrusted)).toBe('2001:db8::9');
  });
});

interface RawAnswer {
  status: number | undefined;
  text: string;
}

/** Sends `chunks` (a pause between them) from `localAddress` and reads until the server closes. */
function raw(port: number, localAddress: string, chunks: (Buffer | string)[], pauseMs = 0): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress });
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve({ status: /^HTTP\/1\.1 (\d{3})/.exec(text) ? Number(/^HTTP\/1\.1 (\d{3})/.exec(text)![1]) : undefined, text }));
    socket.once('connect', async () => {
      try {
        for (const c of chunks) {
          socket.write(c);
          if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
        }
      } catch (err) {
        reject(err as Error);
      }
    });
  });
}

const get = (url: string, headers: Record<string, string> = {}) =>
  `GET ${url} HTTP/1.1\r\nHost: preau.test\r\nConnection: close\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;

/** Three anonymous requests per address, then the address is refused (429, then the penalty box); networks are not limited here. */
const RATE_LIMITS = { address: { name: 'address', ratePerS: 0.001, burst: 3 }, network: { name: 'network', ratePerS: 1_000, burst: 100_000 } };

describe('client address behind a trusted proxy sending X-Forwarded-For (real sockets)', () => {
  let t: TestPreau;
  let port: number;
  beforeAll(async () => {
    // Crisis mode's geography: 192.0.2.0/24 is "abroad", every other address unknown (never abroad).
    t = await startTestPreau('sqlite', { trustedProxies: ['127.0.0.2'], clientAddressFrom: 'x-forwarded-for' }, { rateLimits: RATE_LIMITS, countryLookup: loopbackCountries('192.0.2.0/24') });
    await t.preau.app.listen({ host: '127.0.0.1', port: 0 });
    port = (t.preau.app.server.address() as AddressInfo).port;
  });
  afterAll(() => t.close());

  it('from an untrusted peer, a forged header is ignored: its requests count as its own address', async () => {
    const statuses: (number | undefined)[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await raw(port, '127.0.0.3', [get('/healthz', { 'X-Forwarded-For': `198.51.100.${i + 1}` })])).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    // /metrics is for the machine itself: a forged "127.0.0.1" from another peer does not open it.
    expect((await raw(port, '127.0.0.4', [get('/metrics', { 'X-Forwarded-For': '127.0.0.1' })])).status).toBe(404);
  });

  it('from the trusted proxy, each client behind it has its own budget, and the proxy itself none of theirs', async () => {
    const one: (number | undefined)[] = [];
    for (let i = 0; i < 4; i++) one.push((await raw(port, '127.0.0.2', [get('/healthz', { 'X-Forwarded-For': '203.0.113.1' })])).status);
    expect(one).toEqual([200, 200, 200, 429]);
    // Another pupil behind the same proxy is not refused for the first one's flood; a forged left-hand entry changes nothing.
    expect((await raw(port, '127.0.0.2', [get('/healthz', { 'X-Forwarded-For': '203.0.113.2' })])).status).toBe(200);
    expect((await raw(port, '127.0.0.2', [get('/healthz', { 'X-Forwarded-For': '203.0.113.2, 203.0.113.1' })])).status).toBe(429);
    // Through the proxy, a remote client never reaches /metrics; the proxy's own local request does.
    expect((await raw(port, '127.0.0.2', [get('/metrics', { 'X-Forwarded-For': '203.0.113.3' })])).status).toBe(404);
  });

  it('crisis mode places the client, not the proxy: abroad behind the proxy is asked the challenge first, a forged header from elsewhere is not', async () => {
    await t.preau.edge!.controls.setCrisisMode(true);
    try {
      const login = (from: string, forwardedFor: string) => {
        const body = JSON.stringify({ login: 'personne', password: 'x' });
        return raw(port, from, [`POST /api/v1/auth/login HTTP/1.1\r\nHost: preau.test\r\nOrigin: http://preau.test\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nX-Forwarded-For: ${forwardedFor}\r\nConnection: close\r\n\r\n${body}`]);
      };
      const abroad = await login('127.0.0.2', '192.0.2.10');
      expect(abroad.text).toContain('"challenge.required"');
      const unknown = await login('127.0.0.2', '203.0.113.40');
      expect(unknown.status).toBe(401);
      // An untrusted peer claiming to be abroad (or anywhere) is placed by its own address.
      expect((await login('127.0.0.6', '192.0.2.11')).status).toBe(401);
    } finally {
      await t.preau.edge!.controls.setCrisisMode(false);
    }
  });
});

describe('client address from the PROXY protocol (real sockets)', () => {
  let t: TestPreau;
  let port: number;
  beforeAll(async () => {
    t = await startTestPreau('sqlite', { trustedProxies: ['127.0.0.2'] }, { rateLimits: RATE_LIMITS });
    await t.preau.app.listen({ host: '127.0.0.1', port: 0 });
    port = (t.preau.app.server.address() as AddressInfo).port;
  });
  afterAll(() => t.close());

  it('takes the client from a v1 or v2 header of the trusted proxy, even sent a byte at a time', async () => {
    const v1 = 'PROXY TCP4 203.0.113.10 127.0.0.1 51000 80\r\n';
    const statuses: (number | undefined)[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await raw(port, '127.0.0.2', [v1 + get('/healthz')])).status);
    statuses.push((await raw(port, '127.0.0.2', [v2Header('203.0.113.10'), get('/healthz')])).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const slow = [...Buffer.concat([v2Header('203.0.113.11'), Buffer.from(get('/healthz'))])].map((b) => Buffer.from([b]));
    expect((await raw(port, '127.0.0.2', slow, 2)).status).toBe(200);
    const v1b = 'PROXY TCP4 203.0.113.13 127.0.0.1 51000 80\r\n';
    const split = await raw(port, '127.0.0.2', [v1b.slice(0, 9), v1b.slice(9) + get('/healthz').slice(0, 10), get('/healthz').slice(10)], 20);
    expect(split.status).toBe(200);
    // The address is the client's: a remote one does not reach /metrics, a LOCAL command (the proxy's own check) does.
    expect((await raw(port, '127.0.0.2', [v2Header('203.0.113.12'), get('/metrics')])).status).toBe(404);
    expect((await raw(port, '127.0.0.2', [v2Header('203.0.113.12', 0), get('/healthz')])).status).toBe(200);
  });

  it('ignores a forwarding header (the PROXY header is the only word taken)', async () => {
    const v1 = (src: string) => `PROXY TCP4 ${src} 127.0.0.1 51000 80\r\n`;
    const statuses: (number | undefined)[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await raw(port, '127.0.0.2', [v1('203.0.113.20') + get('/healthz', { 'X-Forwarded-For': `198.51.100.${i}` })])).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
  });

  it('closes a trusted proxy’s connection whose header is malformed or missing, without an HTTP answer', async () => {
    for (const bad of ['PROXY TCP4 nonsense\r\n', get('/healthz'), 'PROXY TCP4 203.0.113.30 127.0.0.1 51000 80 extra\r\n']) {
      const answer = await raw(port, '127.0.0.2', [bad + get('/healthz')]);
      expect(answer, bad).toEqual({ status: undefined, text: '' });
    }
    const metrics = await t.preau.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/^preau_edge_proxy_headers_refused_total\{reason="v1_fields"\} 2$/m);
    expect(metrics.body).toMatch(/^preau_edge_proxy_headers_refused_total\{reason="signature"\} 1$/m);
  });

  it('from an untrusted peer, a PROXY header is not honoured (the HTTP parser refuses it) and plain HTTP is served', async () => {
    expect((await raw(port, '127.0.0.5', ['PROXY TCP4 127.0.0.1 127.0.0.1 51000 80\r\n' + get('/metrics')])).status).toBe(400);
    expect((await raw(port, '127.0.0.5', [get('/healthz')])).status).toBe(200);
  });
});
