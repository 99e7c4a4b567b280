import type { FastifyRequest } from 'fastify';
import type { Logger } from '../../platform/logger.js';
import { networkOf } from '../address.js';
import { clientAddress } from '../client-address.js';
import { classify, openCountryDatabase, type CountryLookup } from '../geo/geo.js';

/**
 * What the operator switches at run time on this node: crisis mode and the
 * networks abroad treated as France (a partner school, a VPN). In memory; with several nodes,
 * followed by all through Redis (shared-switches.ts).
 */
export class EdgeControls {
  private crisis = false;
  private lookup: CountryLookup | undefined;
  private loading: Promise<void> | undefined;
  franceNetworks: ReadonlySet<string> = new Set();
  /** What the operator must know about this node, in French, shown on the operator page (start-up warnings: backups missing or on the data's disk). */
  operatorNotices: readonly string[] = [];

  constructor(
    private readonly logger: Logger,
    private readonly open: () => Promise<CountryLookup> = openCountryDatabase,
  ) {}

  get crisisMode(): boolean {
    return this.crisis;
  }

  /** Switching crisis mode on loads the country database the first time (fails open if it cannot). */
  async setCrisisMode(on: boolean): Promise<void> {
    if (on && !this.lookup) {
      this.loading ??= this.open().then(
        (l) => {
          this.lookup = l;
        },
        (err: unknown) => {
          this.loading = undefined;
          this.logger.error({ err }, 'base des pays illisible : le mode crise ne distingue personne');
        },
      );
      await this.loading;
    }
    this.crisis = on;
  }

  /** Networks given as addresses or CIDR /24 (IPv4) or /48 (IPv6): kept as the edge's network keys. */
  setFranceNetworks(entries: readonly string[]): void {
    this.franceNetworks = new Set(entries.map((e) => networkOf(e.split('/')[0]!)));
  }

  /** In crisis mode, a client outside France: challenged first, queued last — never dropped. */
  isAbroad = (request: FastifyRequest): boolean => this.crisis && classify(this.lookup, clientAddress(request.raw), this.franceNetworks) === 'abroad';
}
