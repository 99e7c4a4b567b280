import { createRequire } from 'node:module';
import maxmind from 'maxmind';
import { networkOf, normaliseAddress } from '../address.js';

/**
 * Where a client is, for crisis mode only: a country database shipped as an npm package
 * (@ip-location-db/geo-whois-asn-country-mmdb, CC0, read with `maxmind`), no lookup service.
 * Overseas departments and territories are France. Fails open: an address the database does
 * not know (private, loopback, new), or a database that cannot be read, is never "abroad" —
 * crisis mode orders the line, it must never shut a pupil out by mistake.
 */
export const FRANCE: ReadonlySet<string> = new Set(['FR', 'GP', 'MQ', 'GF', 'RE', 'YT', 'PM', 'BL', 'MF', 'WF', 'PF', 'NC', 'TF']);

export type Whereabouts = 'france' | 'abroad' | 'unknown';

/** Pure: given the country found (if any) and the operator's networks treated as France. */
export function whereabouts(countryCode: string | undefined, network: string, franceNetworks: ReadonlySet<string>): Whereabouts {
  if (franceNetworks.has(network)) return 'france';
  if (!countryCode) return 'unknown';
  return FRANCE.has(countryCode) ? 'france' : 'abroad';
}

export interface CountryLookup {
  countryOf(address: string): string | undefined;
}

/** Opens the shipped database (about 8 MB, read once). */
export async function openCountryDatabase(): Promise<CountryLookup> {
  const file = createRequire(import.meta.url).resolve('@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb');
  const reader = await maxmind.open(file);
  return {
    countryOf(address) {
      try {
        // This database's records are `{ country_code }`, not MaxMind's own shapes the typings describe.
        const record: unknown = reader.get(address);
        const code = record && typeof record === 'object' && 'country_code' in record ? record.country_code : undefined;
        return typeof code === 'string' ? code : undefined;
      } catch {
        return undefined;
      }
    },
  };
}

/** The client's whereabouts as crisis mode sees them. */
export function classify(lookup: CountryLookup | undefined, rawAddress: string, franceNetworks: ReadonlySet<string>): Whereabouts {
  const address = normaliseAddress(rawAddress);
  return whereabouts(lookup?.countryOf(address), networkOf(address), franceNetworks);
}
