/**
 * vitest globalSetup: builds the web client once per run, so that browser tests and the bundle
 * budget read a fresh web/dist (about a second with Vite 8).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export default async function setup(): Promise<void> {
  if (process.env.PREAU_SKIP_WEB_BUILD === '1') return;
  await build({ configFile: path.join(ROOT, 'web', 'vite.config.ts'), logLevel: 'warn' });
}
