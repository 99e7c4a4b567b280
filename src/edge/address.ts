import { isIPv4, isIPv6 } from 'node:net';

/**
 * Client addresses as the edge keys them. Node reports IPv4 peers of a dual-stack socket as
 * `::ffff:a.b.c.d`: the same client must get the same key whichever way it came.
 */
export function normaliseAddress(raw: string | undefined): string {
  if (!raw) return 'unknown';
  return raw.startsWith('::ffff:') && isIPv4(raw.slice(7)) ? raw.slice(7) : raw;
}

/**
 * The network a client address belongs to: its /24 (IPv4) or /48 (IPv6). One operator or one
 * attacker usually holds a whole such block; a per-network bucket limits a flood spread over it.
 */
export function networkOf(address: string): string {
  if (isIPv4(address)) return `${address.slice(0, address.lastIndexOf('.'))}.0/24`;
  if (isIPv6(address)) return `${expandIPv6(address).slice(0, 3).join(':')}::/48`;
  return address;
}

/** The eight 16-bit groups of an IPv6 address, as lowercase hex without leading zeros. */
function expandIPv6(address: string): string[] {
  const zone = address.indexOf('%');
  const bare = (zone >= 0 ? address.slice(0, zone) : address).toLowerCase();
  const [head = '', tail] = bare.split('::') as [string, string | undefined];
  const parse = (part: string) => (part ? part.split(':') : []);
  let left = parse(head);
  let right = tail === undefined ? [] : parse(tail);
  // An embedded IPv4 tail (::ffff:1.2.3.4, 64:ff9b::1.2.3.4) is two groups.
  const v4 = (groups: string[]) => {
    const last = groups[groups.length - 1];
    if (!last || !isIPv4(last)) return groups;
    const [a, b, c, d] = last.split('.').map(Number) as [number, number, number, number];
    return [...groups.slice(0, -1), ((a << 8) | b).toString(16), ((c << 8) | d).toString(16)];
  };
  left = v4(left);
  right = v4(right);
  const fill = tail === undefined ? [] : Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0');
  return [...left, ...fill, ...right].map((g) => (parseInt(g, 16) || 0).toString(16));
}
