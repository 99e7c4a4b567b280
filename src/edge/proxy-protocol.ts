import { isIP } from 'node:net';

/**
 * The PROXY protocol (HAProxy's, versions 1 and 2: https://www.haproxy.org/download/2.6/doc/proxy-protocol.txt):
 * a load balancer opens each connection to a backend with a short header saying who the client is.
 * Unlike a request header it is per connection, before any HTTP byte, so the socket guards (caps per
 * address) see the client too. Pure: bytes in, verdict out.
 */
export type ProxyHeader =
  /** Not enough bytes yet to decide. */
  | { status: 'incomplete' }
  /** Not a PROXY header, or a broken one: the connection is closed. */
  | { status: 'invalid'; reason: string }
  /**
   * A header of `consumed` bytes; `source` is the client's address, undefined for a connection the
   * proxy opened for itself (v2 LOCAL: its health checks) or of an unknown family (v1 UNKNOWN).
   */
  | { status: 'ok'; consumed: number; source: string | undefined };

const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
/** The specification's bound for a v1 line, CRLF included. */
export const V1_MAX_BYTES = 107;
/**
 * Our bound for a v2 header: 16 bytes, 36 of IPv6 addresses, and TLVs (HAProxy sends a few small
 * ones at most: unique id, ALPN, TLS facts). A longer header is refused, not buffered.
 */
export const V2_MAX_BYTES = 16 + 1024;

/** Parses the PROXY header at the start of `buf`. */
export function parseProxyHeader(buf: Buffer): ProxyHeader {
  // The first byte tells which version this may be; a prefix of either signature waits for more.
  if (buf.length === 0) return { status: 'incomplete' };
  if (buf[0] === V2_SIGNATURE[0]) return parseV2(buf);
  if (buf[0] === V1_PREFIX[0]) return parseV1(buf);
  return { status: 'invalid', reason: 'signature' };
}

function startsLike(buf: Buffer, prefix: Buffer): 'yes' | 'maybe' | 'no' {
  const n = Math.min(buf.length, prefix.length);
  if (!buf.subarray(0, n).equals(prefix.subarray(0, n))) return 'no';
  return n === prefix.length ? 'yes' : 'maybe';
}

function parseV1(buf: Buffer): ProxyHeader {
  const prefix = startsLike(buf, V1_PREFIX);
  if (prefix === 'no') return { status: 'invalid', reason: 'signature' };
  if (prefix === 'maybe') return { status: 'incomplete' };
  const end = buf.indexOf('\r\n', 0, 'latin1');
  if (end < 0) return buf.length >= V1_MAX_BYTES ? { status: 'invalid', reason: 'v1_too_long' } : { status: 'incomplete' };
  if (end + 2 > V1_MAX_BYTES) return { status: 'invalid', reason: 'v1_too_long' };
  const parts = buf.toString('latin1', V1_PREFIX.length, end).split(' ');
  const consumed = end + 2;
  // "PROXY UNKNOWN" may carry anything after it; the receiver ignores it and uses the socket.
  if (parts[0] === 'UNKNOWN') return { status: 'ok', consumed, source: undefined };
  if (parts.length !== 5) return { status: 'invalid', reason: 'v1_fields' };
  const [family, source, destination, sourcePort, destinationPort] = parts as [string, string, string, string, string];
  const version = family === 'TCP4' ? 4 : family === 'TCP6' ? 6 : 0;
  if (version === 0) return { status: 'invalid', reason: 'v1_family' };
  if (isIP(source) !== version || isIP(destination) !== version) return { status: 'invalid', reason: 'v1_address' };
  if (!isPort(sourcePort) || !isPort(destinationPort)) return { status: 'invalid', reason: 'v1_port' };
  return { status: 'ok', consumed, source };
}

/** A decimal port without leading zeros, 0–65535 (the specification's form). */
function isPort(raw: string): boolean {
  return /^(0|[1-9]\d{0,4})$/.test(raw) && Number(raw) <= 65_535;
}

function parseV2(buf: Buffer): ProxyHeader {
  const prefix = startsLike(buf, V2_SIGNATURE);
  if (prefix === 'no') return { status: 'invalid', reason: 'signature' };
  if (prefix === 'maybe' || buf.length < 16) return { status: 'incomplete' };
  const versionCommand = buf[12]!;
  if (versionCommand >> 4 !== 2) return { status: 'invalid', reason: 'v2_version' };
  const command = versionCommand & 0x0f;
  if (command > 1) return { status: 'invalid', reason: 'v2_command' };
  const length = buf.readUInt16BE(14);
  const consumed = 16 + length;
  if (consumed > V2_MAX_BYTES) return { status: 'invalid', reason: 'v2_too_long' };
  if (buf.length < consumed) return { status: 'incomplete' };
  // LOCAL: the proxy speaking for itself (health checks); the addresses, if any, are ignored.
  if (command === 0) return { status: 'ok', consumed, source: undefined };
  const family = buf[13]! >> 4;
  const body = buf.subarray(16, consumed);
  if (family === 0x1) {
    if (body.length < 12) return { status: 'invalid', reason: 'v2_length' };
    return { status: 'ok', consumed, source: [...body.subarray(0, 4)].join('.') };
  }
  if (family === 0x2) {
    if (body.length < 36) return { status: 'invalid', reason: 'v2_length' };
    return { status: 'ok', consumed, source: ipv6Text(body.subarray(0, 16)) };
  }
  // AF_UNSPEC or AF_UNIX: no client address to take; the socket's stands.
  if (family === 0x0 || family === 0x3) return { status: 'ok', consumed, source: undefined };
  return { status: 'invalid', reason: 'v2_family' };
}

/** An IPv6 address in its canonical text (zeros compressed); an IPv4-mapped one as the IPv4 it is. */
function ipv6Text(bytes: Buffer): string {
  if (bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) return [...bytes.subarray(12, 16)].join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  // WHATWG URL parsing writes IPv6 hosts canonically (RFC 5952).
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}
