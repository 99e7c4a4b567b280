/**
 * The drill against a deployment the operator owns (`--target`), in three steps:
 *  1. `preau drill --prepare-target --roster FICHIER --yes-i-own-this-target` runs where the
 *     deployment's configuration is (DATABASE_URL…): it imports a drill académie into that store —
 *     namespaced (evening.ts TARGET_NAMESPACE: jointures prefixed, UAIs in 999xxxx) so that it can
 *     never touch anyone real — with a random password, and writes the roster (mode 0600: it holds
 *     that password and the activation codes).
 *  2. `preau drill --target URL --roster FICHIER --yes-i-own-this-target` plays the morning from any
 *     machine; the acknowledged writes are checked through the API by the people who made them.
 *  3. `preau drill --clean-target --roster FICHIER --yes-i-own-this-target` removes the drill
 *     académie (people, then schools); `preau purge` sweeps the files they leave.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { compose } from '../../src/compose.js';
import type { Config } from '../../src/config/config.js';
import { cleanDrillAcademie, drillSchoolJointures, prepareEvening, TARGET_NAMESPACE } from './evening.js';
import type { Roster } from './roster.js';

export interface PrepareTargetOptions {
  rosterFile: string;
  schools: number;
  classes: number;
  pupils: number;
  activations: number;
  seed: number;
}

/** Imports the drill académie into the deployment's store and writes its roster. */
export async function prepareTarget(config: Config, o: PrepareTargetOptions): Promise<Roster> {
  const preau = await compose({ ...config, demo: 'off' });
  const feedDir = mkdtempSync(path.join(tmpdir(), 'preau-exercice-aaf-'));
  try {
    const password = `Ex-${randomBytes(18).toString('base64url')}`;
    const roster = await prepareEvening(preau, { feedDir, schools: o.schools, classes: o.classes, pupils: o.pupils, activations: o.activations, seed: o.seed, password, clockOffsetMs: 0, namespace: TARGET_NAMESPACE });
    const withSchools: Roster = { ...roster, schoolJointures: drillSchoolJointures(o.schools, TARGET_NAMESPACE.jointurePrefix) };
    writeFileSync(o.rosterFile, JSON.stringify(withSchools), { mode: 0o600 });
    chmodSync(o.rosterFile, 0o600);
    return withSchools;
  } finally {
    rmSync(feedDir, { recursive: true, force: true });
    await preau.close();
  }
}

/** Reads a roster written by `prepareTarget`; refuses anything else (an embedded drill's roster names no deployment's académie). */
export function readTargetRoster(file: string): Roster & { schoolJointures: string[] } {
  let roster: Roster;
  try {
    roster = JSON.parse(readFileSync(file, 'utf8')) as Roster;
  } catch (err) {
    throw new Error(`fichier de l’exercice illisible (${file}) : ${err instanceof Error ? err.message : String(err)}`);
  }
  const ns = TARGET_NAMESPACE.jointurePrefix;
  if (!Array.isArray(roster.schoolJointures) || roster.schoolJointures.length === 0 || !roster.schoolJointures.every((j) => typeof j === 'string' && j.startsWith(ns)) || !Array.isArray(roster.people)) {
    throw new Error(`${file} n’est pas un fichier écrit par « preau drill --prepare-target »`);
  }
  return roster as Roster & { schoolJointures: string[] };
}

/** Removes the drill académie the roster names from the deployment's store. */
export async function cleanTarget(config: Config, rosterFile: string): Promise<{ people: number; schools: number }> {
  const roster = readTargetRoster(rosterFile);
  const preau = await compose({ ...config, demo: 'off' });
  try {
    return await cleanDrillAcademie(preau, roster.schoolJointures);
  } finally {
    await preau.close();
  }
}
