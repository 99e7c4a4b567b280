import type { CountryLookup } from '../../src/edge/index.js';

/**
 * Bench seam for crisis mode on loopback (see preau-server.ts `--abroad-networks`): the given
 * IPv4 networks are "abroad" (country US), every other address unknown — as the shipped country
 * database sees loopback. Production composes the shipped database and never uses this.
 */
export function loopbackCountries(cidrs: string): () => Promise<CountryLookup> {
  const ipv4 = /^\d+\.\d+\.\d+\.\d+$/;
  const toInt = (a: string) => a.split('.').reduce((n, part) => n * 256 + Number(part), 0);
  const nets = cidrs.split(',').map((cidr) => {
    const [base, bitsText] = cidr.trim().split('/');
    const bits = bitsText === undefined ? 32 : Number(bitsText);
    if (!base || !ipv4.test(base) || !Number.isInteger(bits) || bits < 0 || bits > 32) throw new Error(`--abroad-networks : « ${cidr} » n’est pas un réseau IPv4 (ex. 127.66.0.0/16)`);
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    return { net: (toInt(base) & mask) >>> 0, mask };
  });
  return async () => ({
    countryOf: (address) => (ipv4.test(address) && nets.some((n) => ((toInt(address) & n.mask) >>> 0) === n.net) ? 'US' : undefined),
  });
}
