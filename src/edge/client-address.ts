import type { IncomingMessage, Server } from 'node:http';
import { BlockList, isIP, isIPv4, type Socket } from 'node:net';
import type { Metrics } from '../platform/metrics.js';
import { normaliseAddress } from './address.js';
import { parseProxyHeader } from './proxy-protocol.js';

/**
 * The client's address, as every edge mechanism keys it (socket caps, rate limits, penalty box,
 * waiting-room and challenge bindings, crisis mode's geography, login throttling). Behind a load
 * balancer the socket's peer is the balancer; the client's address comes from it — but only from
 * the proxies the operator listed (`PREAU_TRUSTED_PROXIES`): from anyone else a forwarding header
 * is a forgery and is ignored, or every flood would come "from" a new address.
 *
 * - `proxy-protocol` (the default, what `deploy/haproxy.cfg` sends): a trusted proxy opens each
 *   connection with a PROXY v1/v2 header; a connection from it without a valid one is closed
 *   (fails closed: a misconfigured proxy is seen at once, not as one giant client). Known before
 *   any HTTP byte, so the per-address connection cap applies to clients, not to the proxy.
 * - `x-forwarded-for` or `forwarded` (RFC 7239): per request, the rightmost address that is not a
 *   trusted proxy. Connections are the proxy's then: trusted proxies are exempt from the
 *   per-address connection cap (only the total applies to them).
 */
export type ClientAddressSource = 'proxy-protocol' | 'x-forwarded-for' | 'forwarded';

export interface ClientAddressSettings {
  /** Addresses and CIDR blocks whose word on the client address is taken. Empty: nobody's. */
  trustedProxies: readonly string[];
  source: ClientAddressSource;
  /** A trusted proxy's connection must deliver its PROXY header within this, or it is closed. */
  proxyHeaderTimeoutMs: number;
}

export const DEFAULT_PROXY_HEADER_TIMEOUT_MS = 5_000;
/** Hops read from a forwarding header, from the right: the work per request is bounded. */
const MAX_HOPS = 16;

const bySocket = new WeakMap<Socket, string>();
const byRequest = new WeakMap<IncomingMessage, string>();

/** The client behind a connection: its PROXY protocol address, else the socket's peer. */
export function connectionAddress(socket: Socket): string {
  return bySocket.get(socket) ?? normaliseAddress(socket.remoteAddress);
}

/** The client behind a request (see the file comment for where it comes from). */
export function clientAddress(request: IncomingMessage): string {
  return byRequest.get(request) ?? (request.socket ? connectionAddress(request.socket) : 'unknown');
}

/** Parses a list of addresses and CIDR blocks; undefined when any is not one (config validation says which). */
export function parseTrustedProxies(entries: readonly string[]): BlockList | undefined {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', prefix, extra] = entry.split('/');
    const family = isIP(address);
    if (family === 0 || extra !== undefined) return undefined;
    const max = family === 4 ? 32 : 128;
    if (prefix !== undefined && !/^\d{1,3}$/.test(prefix)) return undefined;
    const bits = prefix === undefined ? max : Number(prefix);
    if (bits > max) return undefined;
    list.addSubnet(address, bits, family === 4 ? 'ipv4' : 'ipv6');
  }
  return list;
}

/**
 * Pure: the client in a chain of hops (`hops` as written left to right, the socket's `peer` last).
 * From the right, trusted proxies are skipped; the first address that is not one is the client.
 * An unreadable hop stops the walk at the hop after it (what a trusted proxy saw).
 */
export function rightmostUntrusted(hops: readonly (string | undefined)[], peer: string, isTrusted: (address: string) => boolean): string {
  let current = peer;
  for (let i = hops.length - 1; i >= 0 && i >= hops.length - MAX_HOPS; i--) {
    if (!isTrusted(current)) return current;
    const hop = hops[i];
    if (hop === undefined) return current;
    current = hop;
  }
  return current;
}

/** `X-Forwarded-For: a, b, c` → its addresses (undefined for an entry that is not one). */
export function xForwardedForHops(value: string): (string | undefined)[] {
  return value.split(',').map((entry) => asAddress(entry.trim()));
}

/** `Forwarded: for=a;proto=https, for="[2001:db8::1]:4711"` (RFC 7239) → the `for` addresses. */
export function forwardedHops(value: string): (string | undefined)[] {
  return value.split(',').map((element) => {
    for (const pair of element.split(';')) {
      const eq = pair.indexOf('=');
      if (eq < 0 || pair.slice(0, eq).trim().toLowerCase() !== 'for') continue;
      let node = pair.slice(eq + 1).trim();
      if (node.startsWith('"') && node.endsWith('"') && node.length >= 2) node = node.slice(1, -1);
      // "[v6]:port", "[v6]", "v4:port", "v4"; "unknown" and obfuscated "_names" are not addresses.
      const bracket = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(node);
      if (bracket) return asAddress(bracket[1]!);
      const v4 = /^([\d.]+)(?::\d{1,5})?$/.exec(node);
      return v4 ? asAddress(v4[1]!) : undefined;
    }
    return undefined;
  });
}

function asAddress(raw: string): string | undefined {
  return isIP(raw) !== 0 ? normaliseAddress(raw) : undefined;
}

/** Installs the configured source of client addresses on a server (nothing to do when no proxy is trusted). */
export class ClientAddresses {
  private readonly trusted: BlockList;
  private readonly refused;

  constructor(
    readonly settings: ClientAddressSettings,
    metrics: Metrics,
  ) {
    const list = parseTrustedProxies(settings.trustedProxies);
    if (!list) throw new Error(`PREAU_TRUSTED_PROXIES invalide : ${settings.trustedProxies.join(',')}`);
    this.trusted = list;
    this.refused = metrics.counter('preau_edge_proxy_headers_refused_total', 'Connections from a trusted proxy closed because their PROXY protocol header was missing, broken or late, by reason');
  }

  isTrustedProxy = (address: string): boolean => {
    if (this.settings.trustedProxies.length === 0) return false;
    const family = isIP(address);
    return family !== 0 && this.trusted.check(address, isIPv4(address) ? 'ipv4' : 'ipv6');
  };

  /** True when trusted proxies hold connections on behalf of many clients (a forwarding header). */
  get perRequest(): boolean {
    return this.settings.trustedProxies.length > 0 && this.settings.source !== 'proxy-protocol';
  }

  install(server: Server): void {
    if (this.settings.trustedProxies.length === 0) return;
    if (this.settings.source === 'proxy-protocol') return this.installProxyProtocol(server);
    const header = this.settings.source;
    const hopsOf = header === 'forwarded' ? forwardedHops : xForwardedForHops;
    const resolve = (request: IncomingMessage) => {
      const peer = normaliseAddress(request.socket.remoteAddress);
      const value = request.headers[header];
      if (typeof value !== 'string' || !this.isTrustedProxy(peer)) return;
      byRequest.set(request, rightmostUntrusted(hopsOf(value), peer, this.isTrustedProxy));
    };
    // First of all listeners: the penalty box runs in the request handler, before Fastify.
    server.prependListener('request', resolve);
    server.prependListener('upgrade', resolve);
  }

  /**
   * Every connection listener (Node's HTTP parser, the socket guards) runs only once a trusted
   * proxy's PROXY header has been read off the socket; bytes after it go back to the stream.
   * Connections from other peers go straight through with their own address.
   */
  private installProxyProtocol(server: Server): void {
    const listeners = server.listeners('connection') as ((socket: Socket) => void)[];
    server.removeAllListeners('connection');
    const handOver = (socket: Socket) => {
      for (const listener of listeners) listener.call(server, socket);
    };
    server.on('connection', (socket: Socket) => {
      if (!this.isTrustedProxy(normaliseAddress(socket.remoteAddress))) return handOver(socket);
      let buffered: Buffer = Buffer.alloc(0);
      const refuse = (reason: string) => {
        cleanUp();
        this.refused.inc({ reason });
        socket.destroy();
      };
      const timer = setTimeout(() => refuse('timeout'), this.settings.proxyHeaderTimeoutMs);
      const onError = () => refuse('socket_error');
      const onEnd = () => refuse('incomplete');
      const onReadable = () => {
        let chunk: Buffer | null;
        while ((chunk = socket.read() as Buffer | null) !== null) {
          buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
          const header = parseProxyHeader(buffered);
          if (header.status === 'incomplete') continue;
          if (header.status === 'invalid') return refuse(header.reason);
          cleanUp();
          if (header.source) bySocket.set(socket, normaliseAddress(header.source));
          const rest = buffered.subarray(header.consumed);
          if (rest.length > 0) socket.unshift(rest);
          return handOver(socket);
        }
      };
      const cleanUp = () => {
        clearTimeout(timer);
        socket.removeListener('readable', onReadable);
        socket.removeListener('error', onError);
        socket.removeListener('end', onEnd);
      };
      socket.on('error', onError);
      socket.on('end', onEnd);
      socket.on('readable', onReadable);
    });
  }
}
