/**
 * The attack overlay of the drill (`--attack`): while pupils and parents ramp up to 08:30, the
 * login page is attacked as it was in April 2021.
 *  - an HTTP flood of password guesses from "abroad" (common passwords on real pupil identifiers);
 *  - distributed credential stuffing: leaked-looking pairs (real pupil identifiers, wrong
 *    passwords) from thousands of addresses, half of them in France (residential proxies: the
 *    country does not give them away), a few attempts per address;
 *  - slow-header and slow-read connections.
 * Every source address is real (127.0.0.0/8, bound by the generator); a test country table tells
 * the server which of these networks are in France and which abroad (`COUNTRY_TABLE`). The traffic
 * is played by the edge benches' generator (bench/support/flood-load.ts), bounded in rate, count
 * and time. Pure here: the plan, and how answers are classified for the report.
 */
import { loopbackAddresses } from '../../bench/support/loopback-client.js';
import type { FloodResultMessage, FloodSpec, FloodStreamResult, SlowCutSummary } from '../../bench/support/protocol.js';
import type { Roster } from './roster.js';

/** Where everyone comes from. The drill's clients are 127.66.0.1 onwards (scenario.ts clientAddress). */
export const NETWORKS = {
  people: '127.64.0.0/13',
  flood: '127.200.0.0/16',
  stuffingAbroad: '127.210.0.0/16',
  stuffingFrance: '127.150.0.0/16',
  slow: '127.220.0.0/16',
} as const;

/** The test country table the drill's Préau gets (bench/support/abroad.ts countryTable). */
export const COUNTRY_TABLE = [
  `${NETWORKS.people}=FR`,
  `${NETWORKS.stuffingFrance}=FR`,
  `${NETWORKS.flood}=US`,
  `${NETWORKS.stuffingAbroad}=RU`,
  `${NETWORKS.slow}=CN`,
].join(',');

export interface AttackOptions {
  /** Password guesses per second from abroad. */
  floodRatePerS: number;
  /** Credential-stuffing attempts per second, spread over `stuffingAddresses` addresses. */
  stuffingRatePerS: number;
  stuffingAddresses: number;
  slowHeaders: number;
  slowReads: number;
}

/** Sized for this 2-core machine: many times what one core can hash, and the generator keeps up. */
export const DEFAULT_ATTACK: AttackOptions = { floodRatePerS: 300, stuffingRatePerS: 30, stuffingAddresses: 3_000, slowHeaders: 400, slowReads: 100 };
export const MAX_ATTACK: AttackOptions = { floodRatePerS: 5_000, stuffingRatePerS: 1_000, stuffingAddresses: 60_000, slowHeaders: 5_000, slowReads: 1_000 };

/** Addresses in one of NETWORKS' /16s, as the edge benches number them (loopbackAddresses: 250 per /24, never .0 nor .255). */
const addressesIn = (network: string, count: number) => loopbackAddresses(Number(network.split('.')[1]), count);

const COMMON_PASSWORDS = ['123456', 'azerty', 'motdepasse', 'soleil', 'doudou', 'loulou', '000000', 'marseille', 'chocolat', 'bonjour'];
const MAX_BODIES = 2_000;
/** The slow connections are watched this long at most (the edge cuts slow headers at 10 s, slow reads at 30 s). */
export const SLOW_WATCH_MAX_S = 45;

/** The attack's traffic for the generator, from the ramp (08:00) to the end of the peak (08:45). */
export function planAttack(roster: Roster, o: AttackOptions, origin: string, durationS: number): FloodSpec {
  const pupils = roster.people.filter((p) => p.profile === 'eleve').map((p) => p.login);
  if (pupils.length === 0) throw new Error('aucun élève à viser dans l’académie de l’exercice');
  const guesses: string[] = [];
  for (let i = 0; guesses.length < Math.min(MAX_BODIES, pupils.length * COMMON_PASSWORDS.length); i++) {
    guesses.push(JSON.stringify({ login: pupils[i % pupils.length], password: COMMON_PASSWORDS[Math.floor(i / pupils.length) % COMMON_PASSWORDS.length], remember: false }));
  }
  // Leaked-looking pairs: each identifier with a password that was never its own.
  const leaked = pupils.slice(0, MAX_BODIES).map((login, i) => JSON.stringify({ login, password: `${login.slice(0, 4)}${1990 + (i % 30)}!`, remember: false }));
  const half = Math.ceil(o.stuffingAddresses / 2);
  const france = addressesIn(NETWORKS.stuffingFrance, half);
  const abroad = addressesIn(NETWORKS.stuffingAbroad, half);
  const stuffingAddresses = Array.from({ length: o.stuffingAddresses }, (_, i) => (i % 2 === 0 ? france : abroad)[i >> 1]!);
  const slow = addressesIn(NETWORKS.slow, o.slowHeaders + o.slowReads);
  return {
    origin,
    durationS,
    slowWatchS: Math.min(durationS, SLOW_WATCH_MAX_S),
    flood: { path: '/api/v1/auth/login', ratePerS: o.floodRatePerS, bodies: guesses, addresses: addressesIn(NETWORKS.flood, 1_000), maxConnections: 64 },
    // One connection per address at a time, so the attempts really spread over the addresses.
    stuffing: { path: '/api/v1/auth/login', ratePerS: o.stuffingRatePerS, bodies: leaked, addresses: stuffingAddresses, maxConnections: Math.min(half, 256) },
    slowHeaders: { count: o.slowHeaders, addresses: slow.slice(0, o.slowHeaders), byteEveryMs: 3_000 },
    slowReads: { count: o.slowReads, addresses: slow.slice(o.slowHeaders), path: '/attente.js', pipelined: 100, receiveBufferBytes: 2_048 },
    pupils: { path: '/api/v1/me/today', ratePerS: 0, cookies: [], addresses: [], deadlineMs: 1_000, timeoutMs: 5_000 },
  };
}

/** What became of an attack attempt, from the answer's reason. */
export type AttackOutcome = 'refusé' | 'défié' | 'mis en file' | 'mot de passe vérifié' | 'session ouverte' | 'sans réponse' | 'autre';
export const ATTACK_OUTCOMES: readonly AttackOutcome[] = ['refusé', 'défié', 'mis en file', 'mot de passe vérifié', 'session ouverte', 'sans réponse', 'autre'];

export function outcomeOf(reason: string): AttackOutcome {
  if (reason.startsWith('challenge.')) return 'défié';
  if (reason === 'waiting.queued' || reason === 'waiting.not_your_turn') return 'mis en file';
  if (reason === 'auth.invalid_credentials' || reason === 'auth.account_not_active') return 'mot de passe vérifié';
  if (reason === 'http-200') return 'session ouverte';
  if (reason === 'réseau' || reason === 'délai') return 'sans réponse';
  if (/^(edge\.|auth\.throttled|auth\.busy|waiting\.full|http-(429|503))/.test(reason)) return 'refusé';
  return 'autre';
}

export type OutcomeCounts = Record<AttackOutcome, number>;
const zero = (): OutcomeCounts => Object.fromEntries(ATTACK_OUTCOMES.map((o) => [o, 0])) as OutcomeCounts;

export function outcomes(byReason: Record<string, number>): OutcomeCounts {
  const out = zero();
  for (const [reason, n] of Object.entries(byReason)) out[outcomeOf(reason)] += n;
  return out;
}

export interface AttackSummary {
  options: AttackOptions;
  /** Second of the drill (since the warm-up began) when the attack started. */
  startSec: number;
  durationS: number;
  slowWatchS: number;
  flood: FloodStreamResult & { outcomes: OutcomeCounts };
  stuffing: FloodStreamResult & { outcomes: OutcomeCounts };
  /** Per second of the drill: both streams' answers by outcome. */
  seconds: { sec: number; outcomes: OutcomeCounts }[];
  slowHeaders: SlowCutSummary;
  slowReads: SlowCutSummary;
  slowReadsSkipped: string | undefined;
  generatorLagP99Ms: number;
}

export function summariseAttack(options: AttackOptions, startSec: number, spec: FloodSpec, r: FloodResultMessage): AttackSummary {
  const stuffing: FloodStreamResult = r.stuffing ?? { sent: 0, notSent: 0, byStatus: {}, byReason: {}, errors: 0, timeouts: 0, pending: 0 };
  const withOutcomes = (s: FloodStreamResult) => {
    const o = outcomes(s.byReason);
    o['sans réponse'] += s.errors + s.timeouts + s.pending;
    return { ...s, outcomes: o };
  };
  return {
    options,
    startSec,
    durationS: spec.durationS,
    slowWatchS: spec.slowWatchS,
    flood: withOutcomes(r.flood),
    stuffing: withOutcomes(stuffing),
    seconds: r.series.map((s) => {
      const o = outcomes(s.flood);
      const p = outcomes(s.stuffing);
      for (const k of ATTACK_OUTCOMES) o[k] += p[k];
      return { sec: startSec + s.sec, outcomes: o };
    }),
    slowHeaders: r.slowHeaders,
    slowReads: r.slowReads,
    slowReadsSkipped: r.slowReadsSkipped,
    generatorLagP99Ms: r.generatorLagP99Ms,
  };
}
