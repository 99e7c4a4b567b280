import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The suite's order: the longest files first, so that with two workers (vitest.config.ts) no long
 * file starts last and runs alone at the end (longest-processing-time-first scheduling).
 *
 * vitest's own order needs durations cached from an earlier run (node_modules/.vite); a CI run
 * starts from a clean checkout without them and falls back to file size, which puts the drill
 * (a short file playing real mornings for two minutes) near the end. So the files measured as
 * the longest are named here, longest first (`npx vitest run <dir> --reporter=verbose`, per-file
 * times, 2026-11-29, loaded machine); every other file follows in vitest's order. A file renamed
 * or removed here only loses its place, never its run.
 */
export const LONGEST_FIRST: readonly string[] = [
  'tools/drill/drill.test.ts',
  'test/web/web-client.test.ts',
  'tools/backup/backup.cli.test.ts',
  'src/modules/schools/aaf/aaf.importer.test.ts',
  'test/cli.test.ts',
  'test/web/classroom.test.ts',
  'test/web/messaging-liaison.test.ts',
  'src/modules/messaging/messaging.test.ts',
  'src/media/embedded/embedded-engine.test.ts',
  'src/storage/blobs/database-blob-store.test.ts',
  'src/modules/news/news.test.ts',
  'src/modules/identity/identity.test.ts',
  'test/web/cahier-teacher.test.ts',
  'test/bad-input.test.ts',
  'src/modules/documents/documents.test.ts',
  'src/media/janus/janus.integration.test.ts',
  'test/web/news.test.ts',
  'src/edge/rate-limit/rate-limit.test.ts',
  'test/web/engagement.test.ts',
];

export default class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (spec: TestSpecification): number => {
      const i = LONGEST_FIRST.findIndex((name) => spec.moduleId.endsWith(`/${name}`));
      return i === -1 ? LONGEST_FIRST.length : i;
    };
    // Array.prototype.sort is stable: files not named keep vitest's order among themselves.
    return sorted.sort((a, b) => rank(a) - rank(b));
  }
}
