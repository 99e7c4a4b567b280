import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';
import LongestFirstSequencer from './test/support/sequencer.js';

/**
 * Test files at once. vitest's default is one fewer than the cores, which on the 2-core CI machine
 * is ONE: the suite ran file after file while most long files wait (browsers, child processes,
 * the drill's timed mornings, media) rather than compute. Two at once on 2 cores, the longest first
 * (test/support/sequencer.ts). Every file keeps its own fork (isolate), ports, ICE port range,
 * PostgreSQL schema and Redis prefix, so two files never share a resource. `PREAU_TEST_WORKERS=1`
 * gives the old one-at-a-time run (to tell a race from a bug).
 */
const workers = Number(process.env.PREAU_TEST_WORKERS) || Math.max(2, availableParallelism() - 1);

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'tools/**/*.test.ts', 'web/src/**/*.test.ts'],
    environment: 'node',
    // The web client is built once before the suite: browser tests and the bundle budget read web/dist.
    globalSetup: ['test/support/build-web.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: workers,
    sequence: { sequencer: LongestFirstSequencer },
    env: { TZ: 'Europe/Paris' },
  },
});
