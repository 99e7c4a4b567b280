import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { countInversions } from '../bench/edge-surge.bench.js';
import { countryTable, loopbackCountries } from '../bench/support/abroad.js';
import type { SurgeVisitorOutcome } from '../bench/support/protocol.js';
import { EdgeControls } from '../src/edge/index.js';
import { createLogger } from '../src/platform/logger.js';

// The figures of the edge benches rest on these two: crisis mode must see the bench's "abroad"
// networks as abroad (and nothing else), and an inversion must be counted only on evidence.

// A request as the edge reads it: the client address comes from its socket (no proxy trusted here).
const request = (ip: string) => ({ raw: { socket: { remoteAddress: ip } } }) as unknown as FastifyRequest;

describe('bench seam: loopback networks abroad for crisis mode', () => {
  it('classifies the given networks as abroad once crisis mode is on, and nothing else', async () => {
    const controls = new EdgeControls(createLogger('silent'), loopbackCountries('127.66.0.0/16,10.1.2.0/24'));
    expect(controls.isAbroad(request('127.66.3.4'))).toBe(false); // crisis mode off: nobody is abroad
    await controls.setCrisisMode(true);
    expect(controls.isAbroad(request('127.66.3.4'))).toBe(true);
    expect(controls.isAbroad(request('::ffff:127.66.0.1'))).toBe(true);
    expect(controls.isAbroad(request('10.1.2.200'))).toBe(true);
    expect(controls.isAbroad(request('127.67.0.1'))).toBe(false);
    expect(controls.isAbroad(request('127.10.0.1'))).toBe(false);
    expect(controls.isAbroad(request('::1'))).toBe(false);
    // The operator's override still wins.
    controls.setFranceNetworks(['127.66.3.0/24']);
    expect(controls.isAbroad(request('127.66.3.4'))).toBe(false);
  });

  it('refuses a network that is not IPv4 CIDR', () => {
    expect(() => loopbackCountries('127.66.0.0/40')).toThrow(/IPv4/);
    expect(() => loopbackCountries('abroad')).toThrow(/IPv4/);
  });
});

describe('test country table (the drill: pupils in France, attackers abroad and in France)', () => {
  it('maps each network to its country, the most specific network first, unlisted addresses unknown', async () => {
    const lookup = await countryTable('127.66.0.0/15=FR, 127.200.0.0/16=US,127.200.7.0/24=FR,127.202.0.0/16=CN')();
    expect(lookup.countryOf('127.66.1.2')).toBe('FR');
    expect(lookup.countryOf('127.67.250.1')).toBe('FR');
    expect(lookup.countryOf('127.200.1.1')).toBe('US');
    expect(lookup.countryOf('127.200.7.9')).toBe('FR');
    expect(lookup.countryOf('127.202.0.1')).toBe('CN');
    expect(lookup.countryOf('127.68.0.1')).toBeUndefined();
    expect(lookup.countryOf('::1')).toBeUndefined();
    const controls = new EdgeControls(createLogger('silent'), countryTable('127.66.0.0/16=FR,127.200.0.0/16=US'));
    await controls.setCrisisMode(true);
    expect(controls.isAbroad(request('127.66.3.4'))).toBe(false);
    expect(controls.isAbroad(request('127.200.3.4'))).toBe(true);
  });

  it('refuses an entry without a network or a two-letter country', () => {
    expect(() => countryTable('127.66.0.0/16')).toThrow(/=XX/);
    expect(() => countryTable('127.66.0.0/16=France')).toThrow(/=XX/);
    expect(() => countryTable('127.66.0.0/33=FR')).toThrow(/IPv4/);
  });
});

describe('surge bench: admission order', () => {
  const visitor = (issued: number, lastWaiting: number | undefined, admittedSeen: number | undefined): SurgeVisitorOutcome => ({
    signedInAtMs: admittedSeen, first: 'ticket', ticketIssuedAtMs: issued, ticketAtMs: 0, lastWaitingAtMs: lastWaiting, admittedSeenAtMs: admittedSeen, challenges: 0, polls: 1, refusals: {}, failure: undefined,
  });

  it('counts no inversion when earlier tickets were never seen waiting after a later one was admitted', () => {
    // Polling jitter: the later ticket was seen admitted first, but the earlier one was not seen waiting after that.
    const r = countInversions([visitor(1, 900, 2_000), visitor(2, 800, 1_000), visitor(3, 1_500, 3_000)]);
    expect(r).toEqual({ inversions: 0, pairs: 3 });
  });

  it('counts a pair where a later ticket was admitted while an earlier one was still seen waiting', () => {
    const r = countInversions([visitor(1, 2_500, 3_000), visitor(2, 900, 2_000)]);
    expect(r).toEqual({ inversions: 1, pairs: 1 });
  });

  it('ignores visitors without a ticket and tickets issued in the same millisecond', () => {
    const noTicket = { ...visitor(0, undefined, undefined), first: 'pass', ticketIssuedAtMs: undefined };
    expect(countInversions([noTicket, visitor(5, 4_000, 5_000), visitor(5, 6_000, 1_000)])).toEqual({ inversions: 0, pairs: 0 });
  });
});
