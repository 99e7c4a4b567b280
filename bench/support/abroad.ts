import type { CountryLookup } from '../../src/edge/index.js';

/**
 * Test country tables for loopback (benches and the drill): the shipped country database knows no
 * address of 127.0.0.0/8, so on one machine crisis mode would see every client as "unknown". A
 * table maps IPv4 networks to country codes, e.g. `127.66.0.0/16=FR,127.200.0.0/16=US`; an address
 * in no listed network stays unknown, as the shipped database sees loopback. Production composes the
 * shipped database and never uses this.
 */
export function countryTable(table: string): () => Promise<CountryLookup> {
  const ipv4 = /^\d+\.\d+\.\d+\.\d+$/;
  const toInt = (a: string) => a.split('.').reduce((n, part) => n * 256 + Number(part), 0);
  const nets = table.split(',').map((entry) => {
    const [cidr = '', country = ''] = entry.trim().split('=');
    const [base, bitsText] = cidr.split('/');
    const bits = bitsText === undefined ? 32 : Number(bitsText);
    if (!base || !ipv4.test(base) || !Number.isInteger(bits) || bits < 0 || bits > 32) throw new Error(`table des pays : « ${cidr} » n’est pas un réseau IPv4 (ex. 127.66.0.0/16)`);
    if (!/^[A-Z]{2}$/.test(country)) throw new Error(`table des pays : « ${entry.trim()} » doit finir par =XX, un code de pays en deux majuscules (ex. =FR)`);
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    return { net: (toInt(base) & mask) >>> 0, mask, country };
  });
  return async () => ({
    // The most specific network wins (they are few: a loop is enough).
    countryOf(address) {
      if (!ipv4.test(address)) return undefined;
      const a = toInt(address);
      let best: { mask: number; country: string } | undefined;
      for (const n of nets) if (((a & n.mask) >>> 0) === n.net && (!best || n.mask >>> 0 > best.mask >>> 0)) best = n;
      return best?.country;
    },
  });
}

/** Bench seam for crisis mode on loopback (preau-server.ts `--abroad-networks`): the given networks are "abroad" (US), every other address unknown. */
export function loopbackCountries(cidrs: string): () => Promise<CountryLookup> {
  return countryTable(
    cidrs
      .split(',')
      .map((cidr) => `${cidr.trim()}=US`)
      .join(','),
  );
}
