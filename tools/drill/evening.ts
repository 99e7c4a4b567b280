/**
 * The evening before the drill, on a composed Préau: an académie generated as an AAF feed
 * (tools/gen-aaf.ts) and imported through the real importer, one password for the drill's people
 * (a few pupils get an activation code instead: their first time), and for each of the drill's
 * schools the demo's timetable and cahier de textes (src/demo/). Everything it changes is scoped to
 * the drill's own schools and the parents of their pupils: on a deployment (`preau drill
 * --prepare-target`) the feed is namespaced (jointures prefixed, UAIs in 999xxxx, a département that
 * does not exist) so that it can never name, change or remove anyone real. `cleanDrillAcademie`
 * removes it all again.
 */
import type { Kysely } from 'kysely';
import type { Preau } from '../../src/compose.js';
import { ensureDemoCahier, ensureWeekTimetable } from '../../src/demo/demo-school.js';
import { IdentityRepository } from '../../src/modules/identity/index.js';
import { importAafFeed } from '../../src/modules/schools/aaf/aaf.importer.js';
import { forgetPendingLinksOf } from '../../src/modules/schools/index.js';
import type { Database } from '../../src/storage/schema.js';
import { generateAafFeed, jointureOf } from '../gen-aaf.js';
import { readRoster, type Roster } from './roster.js';

/** How a deployment's drill académie is told apart from the real one. */
export const TARGET_NAMESPACE = { jointurePrefix: 'EXERCICE-PREAU-', uaiStart: 9_990_000 } as const;

export interface EveningOptions {
  feedDir: string;
  schools: number;
  classes: number;
  pupils: number;
  activations: number;
  seed: number;
  password: string;
  clockOffsetMs: number;
  /** On a deployment: TARGET_NAMESPACE. */
  namespace?: { jointurePrefix: string; uaiStart: number };
}

/** The drill's schools (by AAF jointure) and its people: their pupils, teachers and staff, and the parents of their pupils. */
export async function drillPeople(db: Kysely<Database>, schoolJointures: readonly string[]): Promise<{ schoolIds: string[]; personIds: string[] }> {
  if (schoolJointures.length === 0) return { schoolIds: [], personIds: [] };
  const schoolIds = (await db.selectFrom('schools').select('id').where('aaf_jointure', 'in', [...schoolJointures]).execute()).map((s) => s.id);
  if (schoolIds.length === 0) return { schoolIds, personIds: [] };
  const members = (await db.selectFrom('people').select('id').where('school_id', 'in', schoolIds).execute()).map((p) => p.id);
  const parents = members.length === 0 ? [] : (await db.selectFrom('guardianships').select('parent_id').distinct().where('child_id', 'in', members).execute()).map((g) => g.parent_id);
  return { schoolIds, personIds: [...new Set([...members, ...parents])] };
}

export function drillSchoolJointures(schools: number, namespace = ''): string[] {
  return Array.from({ length: schools }, (_, s) => `${namespace}${jointureOf.school(s)}`);
}

export async function prepareEvening(preau: Preau, o: EveningOptions): Promise<Roster> {
  const { db } = preau.storage;
  const ns = o.namespace?.jointurePrefix ?? '';
  await generateAafFeed(o.feedDir, {
    schools: o.schools, pupilsPerSchool: o.classes * o.pupils, pupilsPerClass: o.pupils, seed: o.seed, prefix: 'DRILL',
    ...(o.namespace ? { jointurePrefix: o.namespace.jointurePrefix, uaiStart: o.namespace.uaiStart } : {}),
  });
  // A delta import: it adds and updates, and never marks anyone outside the feed as departed.
  await importAafFeed(preau.storage, [o.feedDir], { clock: preau.clock, logger: preau.logger });
  const { schoolIds, personIds } = await drillPeople(db, drillSchoolJointures(o.schools, ns));
  if (schoolIds.length !== o.schools) throw new Error(`l’académie de l’exercice n’a pas été importée (${schoolIds.length} établissement(s) sur ${o.schools})`);

  // One Argon2id hash for everyone: hashing hundreds of passwords would only slow the setup (the
  // morning's sign-ins still check it for real, one by one).
  const now = preau.clock.nowMs();
  const hash = await preau.hasher.hash(o.password);
  for (const chunk of chunks(personIds, 500)) {
    await db.updateTable('people').set({ password_hash: hash, status: 'active', updated_at: now }).where('id', 'in', chunk).where('profile', 'in', ['eleve', 'parent', 'enseignant']).where('status', '!=', 'departed').execute();
  }

  // First-time pupils: never signed in, they activate their account with the code from the sheet.
  const firstTimers = o.activations === 0 ? [] : await db.selectFrom('people').selectAll().where('profile', '=', 'eleve').where('school_id', 'in', schoolIds).orderBy('login').limit(o.activations).execute();
  if (firstTimers.length > 0) await db.updateTable('people').set({ password_hash: null, status: 'pending_activation', updated_at: now }).where('id', 'in', firstTimers.map((p) => p.id)).execute();
  const issued = firstTimers.length > 0 ? await preau.identity.issueActivationCodes('drill', firstTimers.map((p) => ({ ...p, password_hash: null, status: 'pending_activation' as const })), { reset: false }) : [];

  for (const id of [...schoolIds].sort()) {
    await ensureWeekTimetable(preau, id);
    await ensureDemoCahier(preau, id);
  }
  preau.schools.forgetScopes();
  return { ...(await readRoster(db, new Map(issued.map((i) => [i.person.login, i.code])), o.clockOffsetMs, schoolIds)), password: o.password };
}

/**
 * Removes a drill académie from a store: its people (as the purge of departed accounts does, with
 * everything that cascades from them), then its schools (classes, timetables, cahier…). The blobs
 * they leave unreferenced go with the next `preau purge`.
 */
export async function cleanDrillAcademie(preau: Preau, schoolJointures: readonly string[]): Promise<{ people: number; schools: number }> {
  const { db } = preau.storage;
  const { schoolIds, personIds } = await drillPeople(db, schoolJointures);
  // Marked departed at the epoch, then purged "before 1 ms": no real account departed then.
  for (const chunk of chunks(personIds, 500)) await db.updateTable('people').set({ status: 'departed', departed_at: 0 }).where('id', 'in', chunk).execute();
  const { count, jointures } = await new IdentityRepository(db).purgeDepartedBefore(1);
  if (jointures.length > 0) await forgetPendingLinksOf(db, jointures);
  if (schoolIds.length > 0) await db.deleteFrom('schools').where('id', 'in', schoolIds).execute();
  preau.schools.forgetScopes();
  return { people: count, schools: schoolIds.length };
}

function chunks<T>(list: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}
