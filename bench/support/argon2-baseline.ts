/**
 * Baseline of the login bench: the raw Argon2id verification rate of this machine, with
 * Préau's parameters (ARGON2_OPTIONS) and the same number of verifications in flight as the
 * server's PasswordHasher (its hashConcurrency). Run pinned to the server CPU like the server
 * itself: taskset pins every thread of the process, libuv's pool included, so both sides get
 * exactly one core for their hashes.
 *
 *   node --import tsx bench/support/argon2-baseline.ts --concurrency N --warmup S --duration S
 */
import { parseArgs } from 'node:util';
import { hash, verify } from '@node-rs/argon2';
import { ARGON2_OPTIONS } from '../../src/modules/identity/password-hasher.js';
import { FIXTURE_PASSWORD } from '../../test/support/fixtures.js';
import { emit } from './protocol.js';

const { values } = parseArgs({ options: { concurrency: { type: 'string' }, warmup: { type: 'string' }, duration: { type: 'string' } } });
const concurrency = Number(values.concurrency ?? '1');
const warmupS = Number(values.warmup ?? '2');
const durationS = Number(values.duration ?? '10');

const stored = await hash(FIXTURE_PASSWORD, ARGON2_OPTIONS);

async function phase(name: 'warmup' | 'measure', seconds: number): Promise<{ verifies: number; failures: number; elapsedS: number; cpuMs: number }> {
  let verifies = 0;
  let failures = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  let tick = 0;
  const cpu0 = process.cpuUsage();
  const ticker = setInterval(() => emit({ type: 'progress', phase: name, elapsedS: ++tick, totalS: seconds, count: verifies }), 1000);
  // A verification started before the deadline counts; its result is awaited (as autocannon awaits its in-flight requests).
  const worker = async () => {
    while (performance.now() < end) {
      if (await verify(stored, FIXTURE_PASSWORD)) verifies++;
      else failures++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  clearInterval(ticker);
  const cpu = process.cpuUsage(cpu0);
  return { verifies, failures, elapsedS: (performance.now() - start) / 1000, cpuMs: (cpu.user + cpu.system) / 1000 };
}

if (warmupS > 0) await phase('warmup', warmupS);
const m = await phase('measure', durationS);
emit({ type: 'hash-result', durationS: m.elapsedS, verifies: m.verifies, failures: m.failures, verifiesPerSecond: m.verifies / m.elapsedS, concurrency, cpuMs: m.cpuMs });
