import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import iconv from 'iconv-lite';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../platform/clock.js';
import { createLogger } from '../../../platform/logger.js';
import type { Database } from '../../../storage/schema.js';
import type { Storage } from '../../../storage/db.js';
import { BACKENDS, freshStorage, postgresAvailable, type TestStorage } from '../../../../test/support/backends.js';
import { generateAafDelta, generateAafFeed, jointureOf, type GenAafOptions } from '../../../../tools/gen-aaf.js';
import { AafFormatError } from './aaf.parser.js';
import { AafMassDepartureError, importAafFeed, orderFeedFiles, type ImportSummary } from './aaf.importer.js';
import { importAafCommand } from './aaf.cli.js';

const SAMPLE_2020 = path.resolve('samples/aaf/sample-2020');
const ACADEMIE_2013 = path.resolve('samples/aaf/academie-2013');

const pgOk = await postgresAvailable();
const tmp = mkdtempSync(path.join(tmpdir(), 'aaf-import-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let dirCount = 0;
function newDir(name: string): string {
  const d = path.join(tmp, `${name}-${dirCount++}`);
  mkdirSync(d, { recursive: true });
  return d;
}

const logger = createLogger('silent');

/** Every table the import may touch, but the audit log (one new row per run, checked apart). */
const DUMPED_TABLES = [
  'schools',
  'people',
  'school_members',
  'classes',
  'teaching_groups',
  'subjects',
  'mefs',
  'class_enrolments',
  'group_members',
  'teachings',
  'guardianships',
  'sessions',
  'activation_codes',
  'timetable_slots',
  'settings',
  'aaf_pending_links',
  'aaf_import_seen',
] as const satisfies readonly (keyof Database)[];

async function dump(storage: Storage): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const t of DUMPED_TABLES) {
    const rows = await storage.db.selectFrom(t).selectAll().execute();
    out[t] = rows.map((r) => JSON.stringify(r)).sort();
  }
  return out;
}

async function auditCount(storage: Storage): Promise<number> {
  const rows = await storage.db.selectFrom('audit_events').select('id').where('action', '=', 'aaf.import').execute();
  return rows.length;
}

function totals(s: ImportSummary): { created: number; updated: number; unchanged: number; departed: number; rejected: number } {
  const t = { created: 0, updated: 0, unchanged: 0, departed: 0, rejected: 0 };
  for (const c of Object.values(s.categories)) for (const k of Object.keys(t) as (keyof typeof t)[]) t[k] += c[k];
  return t;
}

async function personByJointure(storage: Storage, jointure: string) {
  return storage.db.selectFrom('people').selectAll().where('aaf_jointure', '=', jointure).executeTakeFirstOrThrow();
}

/** Guardianships as (parent jointure, child jointure, legal): comparable across databases. */
async function guardianPairs(storage: Storage): Promise<string[]> {
  const rows = await storage.db
    .selectFrom('guardianships as g')
    .innerJoin('people as p', 'p.id', 'g.parent_id')
    .innerJoin('people as c', 'c.id', 'g.child_id')
    .select(['p.aaf_jointure as parent', 'c.aaf_jointure as child', 'g.legal_guardian', 'g.relation'])
    .execute();
  return rows.map((r) => `${r.parent}>${r.child}:${r.legal_guardian}:${r.relation}`).sort();
}

async function teachingTriples(storage: Storage): Promise<string[]> {
  const rows = await storage.db
    .selectFrom('teachings as t')
    .innerJoin('people as p', 'p.id', 't.teacher_id')
    .leftJoin('classes as c', 'c.id', 't.class_id')
    .leftJoin('teaching_groups as g', 'g.id', 't.group_id')
    .leftJoin('subjects as s', 's.id', 't.subject_id')
    .select(['p.aaf_jointure as teacher', 'c.code as class_code', 'g.code as group_code', 's.code as subject', 't.principal'])
    .execute();
  return rows.map((r) => `${r.teacher}:${r.class_code ?? ''}:${r.group_code ?? ''}:${r.subject ?? ''}:${r.principal}`).sort();
}

const small: GenAafOptions = { schools: 2, pupilsPerSchool: 40, seed: 7 };

describe('orderFeedFiles', () => {
  it('orders structures, subjects, MEF, then parents, pupils and staff, whatever the names on disk', async () => {
    const files = await orderFeedFiles([ACADEMIE_2013, SAMPLE_2020]);
    const categories = files.map((f) => f.category);
    expect(categories[0]).toBe('EtabEducNat');
    expect(categories.indexOf('MatEducNat')).toBeGreaterThan(categories.lastIndexOf('EtabEducNat'));
    expect(categories.indexOf('PersRelEleve')).toBeGreaterThan(categories.lastIndexOf('MatEducNat'));
    expect(categories.indexOf('Eleve')).toBeGreaterThan(categories.lastIndexOf('PersRelEleve'));
    expect(categories.at(-1)).toBe('PersEducNat');
  });
});

describe.each(BACKENDS)('importAafFeed (%s)', (backend) => {
  let ctx: TestStorage;
  let storage: Storage;
  let clock: ManualClock;
  const skip = backend === 'postgres' && !pgOk;

  beforeEach(async () => {
    if (skip) return;
    ctx = await freshStorage(backend);
    storage = ctx.storage;
    clock = new ManualClock();
  });
  afterEach(async () => {
    if (!skip) await ctx.drop();
  });

  const run = (input: string | string[], fullFeed = false, maxDepartureRatio?: number) =>
    importAafFeed(storage, input, { clock, logger, fullFeed, ...(maxDepartureRatio !== undefined ? { maxDepartureRatio } : {}) });

  it.skipIf(skip)('imports sample-2020: the school, the pupil, and links waiting for what the sample lacks', async () => {
    const summary = await run(SAMPLE_2020);
    expect(summary.categories.EtabEducNat.created).toBe(1);
    expect(summary.categories.Eleve.created).toBe(1);
    const school = await storage.db.selectFrom('schools').selectAll().executeTakeFirstOrThrow();
    expect(school).toMatchObject({ uai: '0000000V', aaf_jointure: '1', name: 'NOM STRUCTURE COURANT', kind: 'ECOLE', academie: 'LILLE' });
    const pupil = await personByJointure(storage, '2000000');
    expect(pupil).toMatchObject({
      profile: 'eleve',
      staff_function: null,
      login: 'prenom.nom',
      first_name: 'Prenom',
      last_name: 'NOM',
      title: 'M.',
      password_hash: null,
      status: 'pending_activation',
      mef_code: '10000000000',
      // Attached to structure 1000, which the sample does not contain.
      school_id: null,
      departed_at: null,
    });
    const pending = await storage.db.selectFrom('aaf_pending_links').select(['kind', 'target_jointure', 'code', 'legal_guardian', 'relation']).orderBy('kind').execute();
    expect(pending).toEqual([
      { kind: 'class', target_jointure: '3000', code: '1AQUA', legal_guardian: null, relation: null },
      // The self-reference of the anonymised sample is no link; the father (flag respLegal 1) is a legal guardian.
      { kind: 'guardian', target_jointure: '3000000', code: null, legal_guardian: 1, relation: 'pere' },
      // Member of the class's structure, attached to structure 1000: both wait for their school.
      { kind: 'member', target_jointure: '3000', code: null, legal_guardian: null, relation: null },
      { kind: 'rattach', target_jointure: '1000', code: null, legal_guardian: null, relation: null },
    ]);
    expect(await storage.db.selectFrom('guardianships').selectAll().execute()).toEqual([]);
    const audit = await storage.db.selectFrom('audit_events').selectAll().where('action', '=', 'aaf.import').executeTakeFirstOrThrow();
    expect(JSON.parse(audit.details!)).toMatchObject({ records: 2, categories: { Eleve: { created: 1 } } });
  });

  it.skipIf(skip)('imports academie-2013: schools, subjects, parents, staff and their links', async () => {
    const summary = await run(ACADEMIE_2013);
    expect(summary.categories).toMatchObject({
      EtabEducNat: { created: 10, rejected: 0 },
      MatEducNat: { created: 718 },
      PersRelEleve: { created: 82 },
      PersEducNat: { created: 3 },
      Eleve: { created: 0 },
    });
    const s52008 = await storage.db.selectFrom('schools').selectAll().where('aaf_jointure', '=', '52008').executeTakeFirstOrThrow();
    const music = await personByJointure(storage, '2397809');
    expect(music).toMatchObject({ profile: 'enseignant', first_name: 'ALMUDENA', last_name: 'ALBERTO', school_id: s52008.id, login: 'almudena.alberto' });
    expect(await personByJointure(storage, '2397810')).toMatchObject({ profile: 'personnel', staff_function: 'autre', title: 'Mme' });
    const parent = await personByJointure(storage, '1986923');
    expect(parent).toMatchObject({ profile: 'parent', first_name: 'Mélodie', last_name: 'Nichols', login: 'melodie.nichols', school_id: null });
    // Data minimisation: nothing but the schema's columns exist, and no phone or address made it anywhere.
    expect(JSON.stringify(await dump(storage))).not.toMatch(/0000000000|XXXXXXXXXX|MANOSQUE"|26\/04\/1978/);
    // Classes of the school she is attached to are created from her codes; those of unknown 50187 wait.
    const classes = await storage.db.selectFrom('classes').select('code').where('school_id', '=', s52008.id).orderBy('code').execute();
    expect(classes.map((c) => c.code)).toEqual(['1S8', '208', '213', '5E1', '6E2']);
    const triples = await teachingTriples(storage);
    expect(triples).toContain('2397809:208:::0');
    expect(triples).toContain('2397809::5E2::0');
    const members = await storage.db.selectFrom('school_members').select('school_id').where('person_id', '=', music.id).execute();
    expect(members.map((m) => m.school_id)).toEqual([s52008.id]);
    const waiting = await storage.db.selectFrom('aaf_pending_links').selectAll().where('person_jointure', '=', '2397809').execute();
    expect(waiting.filter((w) => w.kind === 'teach_class')).toHaveLength(15);
    expect(waiting.some((w) => w.kind === 'member' && w.target_jointure === '50187')).toBe(true);
    // No pupils in this partial feed: the parents are kept, without children yet.
    expect(await storage.db.selectFrom('guardianships').selectAll().execute()).toEqual([]);
  });

  it.skipIf(skip)('is idempotent: a second import of the same feed changes nothing', async () => {
    const dir = newDir('idem');
    await generateAafFeed(dir, small);
    // Each feed in turn on the same database (the feeds disagree on a few subject labels, so they
    // are not mixed in one run), full then delta mode.
    let audits = 0;
    for (const [input, fullFeed] of [
      [dir, true],
      [SAMPLE_2020, false],
      [ACADEMIE_2013, true],
      [dir, false],
    ] as const) {
      // Switching between unrelated full feeds departs most people on purpose: allowed here.
      const first = await run(input, fullFeed, 1);
      expect(first.records).toBeGreaterThan(0);
      const before = await dump(storage);
      clock.advance(3_600_000);
      const second = await run(input, fullFeed, 1);
      audits += 2;
      const t = totals(second);
      expect(t, input).toEqual({ created: 0, updated: 0, unchanged: t.unchanged, departed: 0, rejected: 0 });
      expect(t.unchanged).toBe(second.records);
      expect(second.classesCreated + second.groupsCreated + second.pendingLinks.added + second.pendingLinks.resolved).toBe(0);
      expect(await dump(storage)).toEqual(before);
      expect(await auditCount(storage)).toBe(audits);
    }
  });

  it.skipIf(skip)('imports a generated académie with every kind of link', async () => {
    const dir = newDir('gen');
    const feed = await generateAafFeed(dir, small);
    const summary = await run(dir);
    expect(summary.categories.Eleve.created).toBe(feed.counts.pupils);
    expect(summary.categories.PersRelEleve.created).toBe(feed.counts.parents);
    expect(summary.categories.PersEducNat.created).toBe(feed.counts.teachers + feed.counts.staff);
    expect(summary.pendingLinks.waiting).toBe(0);
    const count = async (t: keyof Database) => (await storage.db.selectFrom(t).selectAll().execute()).length;
    expect(await count('people')).toBe(feed.counts.people);
    expect(await count('classes')).toBe(feed.counts.classes);
    expect(await count('class_enrolments')).toBe(feed.counts.pupils);
    expect(await count('guardianships')).toBeGreaterThanOrEqual(feed.counts.pupils);
    const logins = (await storage.db.selectFrom('people').select('login').execute()).map((r) => r.login);
    expect(new Set(logins).size).toBe(logins.length);
    const pupil = await personByJointure(storage, jointureOf.pupil(0));
    expect(pupil.school_id).not.toBeNull();
    const dir0 = await storage.db.selectFrom('people').select(['profile', 'staff_function']).where('aaf_jointure', '=', jointureOf.staff(0)).executeTakeFirstOrThrow();
    expect(dir0).toEqual({ profile: 'personnel', staff_function: 'direction' });
    const cpe = await storage.db.selectFrom('people').select(['profile', 'staff_function']).where('aaf_jointure', '=', jointureOf.staff(1)).executeTakeFirstOrThrow();
    expect(cpe).toEqual({ profile: 'personnel', staff_function: 'cpe' });
    const principals = await storage.db.selectFrom('teachings').select('id').where('principal', '=', 1).execute();
    expect(principals.length).toBeGreaterThan(0);
    const teacherMembers = await storage.db.selectFrom('school_members').select('school_id').where('person_id', '=', (await personByJointure(storage, jointureOf.teacher(0))).id).execute();
    expect(teacherMembers).toHaveLength(1);
  });

  it.skipIf(skip)('applies a delta: modifications, and deletions that close sessions but keep the data', async () => {
    const dir = newDir('delta-base');
    await generateAafFeed(dir, small);
    await run(dir);
    const deltaDir = newDir('delta');
    const delta = await generateAafDelta(deltaDir, small, { modifyPupils: 4, deletePupils: 3 });
    const leaving = await personByJointure(storage, delta.deleted[0]!);
    await storage.db
      .insertInto('sessions')
      .values({ id: 's1', token_hash: 'h1', person_id: leaving.id, remember: 0, created_at: clock.nowMs(), last_seen_at: clock.nowMs(), expires_at: clock.nowMs() + 1e6, user_agent: null, ip: null })
      .execute();
    clock.advance(86_400_000);
    const summary = await run(deltaDir);
    expect(summary.categories.Eleve).toEqual({ created: 0, updated: 4, unchanged: 0, departed: 3, rejected: 0 });
    for (const m of delta.modified) {
      const p = await personByJointure(storage, m.jointure);
      expect(p.last_name).toBe(m.lastName);
      expect(p.updated_at).toBe(clock.nowMs());
      const classes = await storage.db.selectFrom('class_enrolments as e').innerJoin('classes as c', 'c.id', 'e.class_id').select('c.code').where('e.person_id', '=', p.id).execute();
      expect(classes.map((c) => c.code)).toEqual([m.classCode]);
      // Fields absent from the modification are kept.
      expect(p.first_name).not.toBe('');
      expect(p.mef_code).not.toBeNull();
    }
    for (const j of delta.deleted) {
      const p = await personByJointure(storage, j);
      expect(p).toMatchObject({ status: 'departed', departed_at: clock.nowMs() });
      expect(await storage.db.selectFrom('class_enrolments').select('class_id').where('person_id', '=', p.id).execute()).toHaveLength(1);
    }
    expect(await storage.db.selectFrom('sessions').selectAll().execute()).toEqual([]);
    // The delta again: nothing more changes.
    const again = await run(deltaDir);
    expect(again.categories.Eleve).toMatchObject({ updated: 0, departed: 0, unchanged: 7 });
  });

  it.skipIf(skip)('full feed: the absent leave, and come back reactivated', async () => {
    const dirA = newDir('full-a');
    const dirB = newDir('full-b');
    const base: GenAafOptions = { schools: 1, pupilsPerSchool: 30, seed: 3 };
    await generateAafFeed(dirA, base);
    await generateAafFeed(dirB, { ...base, pupilsPerSchool: 25 });
    await run(dirA, true);
    const gone = jointureOf.pupil(27);
    const withPassword = jointureOf.pupil(28);
    await storage.db.updateTable('people').set({ password_hash: 'argon2-hash', status: 'active' }).where('aaf_jointure', '=', withPassword).execute();
    clock.advance(60_000);
    const b = await run(dirB, true);
    expect(b.categories.Eleve.departed).toBe(5);
    expect(b.categories.PersRelEleve.departed).toBeGreaterThan(0);
    expect(await personByJointure(storage, gone)).toMatchObject({ status: 'departed', departed_at: clock.nowMs() });
    // A delta (not full) never departs anyone by absence.
    const partial = await run(path.join(dirB, 'ENT_Complet_20240902_Eleve_0000.xml'));
    expect(partial.categories.Eleve.departed).toBe(0);
    clock.advance(60_000);
    const back = await run(dirA, true);
    expect(back.categories.Eleve.updated).toBeGreaterThanOrEqual(5);
    expect(back.categories.Eleve.departed).toBe(0);
    expect(await personByJointure(storage, gone)).toMatchObject({ status: 'pending_activation', departed_at: null });
    expect(await personByJointure(storage, withPassword)).toMatchObject({ status: 'active', departed_at: null });
  });

  it.skipIf(skip)('a "full" feed that would make most pupils leave is refused and changes nothing', async () => {
    const dirA = newDir('mass-a');
    const dirB = newDir('mass-b');
    await generateAafFeed(dirA, { schools: 1, pupilsPerSchool: 40, seed: 5 });
    await generateAafFeed(dirB, { schools: 1, pupilsPerSchool: 10, seed: 5 });
    await run(dirA, true);
    const before = await dump(storage);
    const error = await run(dirB, true).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AafMassDepartureError);
    expect((error as Error).message).toMatch(/ferait partir 75 % des élèves \(30 sur 40\).*--allow-mass-departure/);
    expect(await dump(storage)).toEqual(before);
    // When the operator says the departures are real, they are applied.
    const forced = await importAafFeed(storage, dirB, { clock, logger, fullFeed: true, maxDepartureRatio: 1 });
    expect(forced.categories.Eleve.departed).toBe(30);
  });

  it.skipIf(skip)('partial feeds: parent first, then child (separate runs)', async () => {
    const parents = newDir('parents');
    const pupils = newDir('pupils');
    await generateAafFeed(parents, { ...small, only: ['EtabEducNat', 'PersRelEleve'] });
    await generateAafFeed(pupils, { ...small, only: ['Eleve'] });
    // SQLite for the reference: comparisons are by jointure, and one PostgreSQL test schema at a time is safer.
    const reference = await freshStorage('sqlite');
    try {
      const all = newDir('all');
      await generateAafFeed(all, small);
      await importAafFeed(reference.storage, all, { clock, logger });
      await run(parents);
      expect(await storage.db.selectFrom('guardianships').selectAll().execute()).toEqual([]);
      await run(pupils);
      expect(await guardianPairs(storage)).toEqual(await guardianPairs(reference.storage));
      expect((await guardianPairs(storage)).length).toBeGreaterThan(0);
      expect(await storage.db.selectFrom('aaf_pending_links').selectAll().execute()).toEqual([]);
    } finally {
      await reference.drop();
    }
  });

  it.skipIf(skip)('partial feeds: child first, then parent; teachers before their school', async () => {
    const parents = newDir('parents2');
    const pupils = newDir('pupils2');
    const staff = newDir('staff2');
    await generateAafFeed(parents, { ...small, only: ['PersRelEleve'] });
    await generateAafFeed(pupils, { ...small, only: ['Eleve'] });
    await generateAafFeed(staff, { ...small, only: ['MatiereEducNat', 'PersEducNat'] });
    // SQLite for the reference: comparisons are by jointure, and one PostgreSQL test schema at a time is safer.
    const reference = await freshStorage('sqlite');
    try {
      const all = newDir('all2');
      await generateAafFeed(all, small);
      await importAafFeed(reference.storage, all, { clock, logger });

      const first = await run([pupils, staff]);
      expect(first.pendingLinks.waiting).toBeGreaterThan(0);
      expect(await storage.db.selectFrom('guardianships').selectAll().execute()).toEqual([]);
      expect(await storage.db.selectFrom('teachings').selectAll().execute()).toEqual([]);
      const pupil = await personByJointure(storage, jointureOf.pupil(0));
      expect(pupil.school_id).toBeNull();

      const second = await run(parents);
      expect(second.pendingLinks.resolved).toBeGreaterThan(0);
      expect(await guardianPairs(storage)).toEqual(await guardianPairs(reference.storage));

      const generatedSchools = newDir('schools2');
      await generateAafFeed(generatedSchools, { ...small, only: ['EtabEducNat'] });
      const third = await run(generatedSchools);
      expect(third.pendingLinks.waiting).toBe(0);
      expect(await teachingTriples(storage)).toEqual(await teachingTriples(reference.storage));
      expect((await personByJointure(storage, jointureOf.pupil(0))).school_id).not.toBeNull();
      const enrolments = await storage.db.selectFrom('class_enrolments').selectAll().execute();
      expect(enrolments).toHaveLength((await reference.storage.db.selectFrom('class_enrolments').selectAll().execute()).length);
      const members = await storage.db.selectFrom('school_members').selectAll().execute();
      expect(members).toHaveLength((await reference.storage.db.selectFrom('school_members').selectAll().execute()).length);

      // And now everything is in place, the full feed changes nothing more.
      const before = await dump(storage);
      const all2 = await run(all);
      // Only the MEFs are new: no partial run carried them.
      expect(totals(all2)).toMatchObject({ created: 4, departed: 0, rejected: 0 });
      expect(all2.categories.MefEducNat.created).toBe(4);
      expect(all2.pendingLinks.added).toBe(0);
      const after = await dump(storage);
      expect(after.people).toEqual(before.people);
      expect(after.guardianships).toEqual(before.guardianships);
    } finally {
      await reference.drop();
    }
  });

  describe('a broken file anywhere leaves the database unchanged', () => {
    const corruptions: { name: string; expect: { recordId: string | RegExp; attribute: string }; make: (source: Buffer) => Buffer }[] = [
      {
        name: 'truncated',
        expect: { recordId: jointureOf.teacher(2), attribute: 'ENTAuxEnsClasses' },
        make: (src) => {
          const s = src.toString('utf8');
          const at = s.indexOf('<attr name="ENTAuxEnsClasses">', s.indexOf(`<id>${jointureOf.teacher(2)}</id>`));
          return Buffer.from(s.slice(0, at + 45), 'utf8');
        },
      },
      {
        name: 'ISO-8859-15 bytes declared UTF-8',
        expect: { recordId: jointureOf.teacher(3), attribute: 'sn' },
        make: (src) => {
          const s = src.toString('utf8');
          const start = s.indexOf(`<id>${jointureOf.teacher(3)}</id>`);
          const at = s.indexOf('<attr name="sn"><value>', start) + '<attr name="sn"><value>'.length;
          return Buffer.concat([Buffer.from(s.slice(0, at), 'utf8'), iconv.encode('Hélène', 'iso-8859-15'), Buffer.from(s.slice(s.indexOf('</value>', at)), 'utf8')]);
        },
      },
      {
        name: 'unknown category',
        expect: { recordId: jointureOf.teacher(1), attribute: 'categoriePersonne' },
        make: (src) => {
          const s = src.toString('utf8');
          const at = s.indexOf(`<id>${jointureOf.teacher(1)}</id>`);
          const cat = s.lastIndexOf('<value>PersEducNat</value>', at);
          return Buffer.from(s.slice(0, cat) + '<value>PersonnelInconnu</value>' + s.slice(cat + '<value>PersEducNat</value>'.length), 'utf8');
        },
      },
      {
        name: 'broken $ field',
        expect: { recordId: jointureOf.teacher(4), attribute: 'ENTAuxEnsClassesMatieres' },
        make: (src) => {
          const s = src.toString('utf8');
          const start = s.indexOf(`<id>${jointureOf.teacher(4)}</id>`);
          const at = s.indexOf('<attr name="ENTAuxEnsClassesMatieres"><value>', start) + '<attr name="ENTAuxEnsClassesMatieres"><value>'.length;
          const end = s.indexOf('</value>', at);
          return Buffer.from(s.slice(0, at) + s.slice(at, end).replace(/\$[^$]*$/, '') + s.slice(end), 'utf8');
        },
      },
      {
        name: 'missing identifier',
        expect: { recordId: new RegExp(jointureOf.teacher(5)), attribute: 'identifier' },
        make: (src) => Buffer.from(src.toString('utf8').replace(`<id>${jointureOf.teacher(5)}</id>`, '<id></id>'), 'utf8'),
      },
    ];

    for (const c of corruptions) {
      it.skipIf(skip)(`${c.name}: AafFormatError naming file, record and attribute`, async () => {
        const good = newDir('good');
        await generateAafFeed(good, small);
        await run(good);
        const before = await dump(storage);
        const audits = await auditCount(storage);

        // The whole feed again plus a newcomer school, with a broken staff file (applied last):
        // everything before it was written inside the transaction, and must be rolled back.
        const bad = newDir('bad');
        for (const f of readdirSync(good)) copyFileSync(path.join(good, f), path.join(bad, f));
        const extra = newDir('extra');
        await generateAafFeed(extra, { schools: 3, pupilsPerSchool: 5, seed: 99, prefix: 'NEW', only: ['EtabEducNat', 'MatiereEducNat'] });
        for (const f of readdirSync(extra)) copyFileSync(path.join(extra, f), path.join(bad, f));
        const staffFile = path.join(bad, 'ENT_Complet_20240902_PersEducNat_0000.xml');
        writeFileSync(staffFile, c.make(readFileSync(staffFile)));

        let error: unknown;
        try {
          await run(bad, true);
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(AafFormatError);
        const e = error as AafFormatError;
        expect(e.file).toBe(staffFile);
        if (typeof c.expect.recordId === 'string') expect(e.recordId).toBe(c.expect.recordId);
        else expect(e.recordId).toMatch(c.expect.recordId);
        expect(e.attribute).toBe(c.expect.attribute);
        expect(e.line).toBeGreaterThan(0);
        expect(e.message).toContain('ENT_Complet_20240902_PersEducNat_0000.xml');
        expect(e.message).toContain(c.expect.attribute);
        expect(await dump(storage)).toEqual(before);
        expect(await auditCount(storage)).toBe(audits);
      });
    }
  });

  it.skipIf(skip)('the command prints a French summary, and the error with exit code 1', async () => {
    const chunks: string[] = [];
    const out = { isTTY: false, write: (s: string) => chunks.push(s) === 0 || true } as unknown as NodeJS.WriteStream;
    const code = await importAafCommand([ACADEMIE_2013, '--full'], { storage, logger, clock, out });
    expect(code).toBe(0);
    const text = chunks.join('');
    expect(text).toMatch(/Import AAF terminé/);
    expect(text).toMatch(/Matières\s+718\s+0\s+0\s+0\s+0/);
    expect(text).toMatch(/Responsables\s+82/);
    const broken = newDir('cli-broken');
    writeFileSync(path.join(broken, 'ENT_Complet_20240101_Eleve_0000.xml'), '<?xml version="1.0" encoding="UTF-8"?>\n<ficAlimMENESR>\n<addRequest>');
    chunks.length = 0;
    expect(await importAafCommand([broken], { storage, logger, clock, out })).toBe(1);
    expect(chunks.join('')).toMatch(/Erreur : Fichier AAF invalide.*ENT_Complet_20240101_Eleve_0000\.xml/);
    chunks.length = 0;
    expect(await importAafCommand([], { storage, logger, clock, out })).toBe(2);
  });
});
