import { randomBytes } from 'node:crypto';
import { readdir, stat, open } from 'node:fs/promises';
import path from 'node:path';
import type { Kysely } from 'kysely';
import { chunkForInsert, type Storage, type StorageCapabilities } from '../../../storage/db.js';
import type { Database, PeopleTable, SchoolsTable, TeachingsTable } from '../../../storage/schema.js';
import type { Clock } from '../../../platform/clock.js';
import type { Logger } from '../../../platform/logger.js';
import { newId } from '../../../platform/ids.js';
import { uniqueLogin } from '../../identity/index.js';
import { AAF_CATEGORIES, categoryFromFileName, parseAafFile, type AafCategory, type AafRecord } from './aaf.parser.js';
import { mapMef, mapPerson, mapStructure, mapSubject, PERSON_CATEGORIES, PROFILES_OF_CATEGORY, structuresOf, type PersonDraft, type StructureDraft } from './aaf.mapping.js';

/**
 * The AAF import: one run is one transaction (a broken file anywhere leaves the database as it
 * was), files are applied in dependency order, people are written in batches so that memory stays
 * flat and round-trips stay few. Links whose other end is not imported yet wait in
 * aaf_pending_links and are made at the end of a later run (partial feeds).
 */

export interface ImportProgress {
  /** The file being read. */
  file: string;
  /** Bytes read so far over the whole run (all files), and their total size. */
  bytesRead: number;
  bytesTotal: number;
  /** Records applied so far over the whole run. */
  records: number;
}

export interface ImportOptions {
  clock: Clock;
  logger: Logger;
  onProgress?: (p: ImportProgress) => void;
  /**
   * The files are a complete export (`Complet`): a person of a category present in the feed who
   * was imported before and is absent now has left.
   */
  fullFeed?: boolean;
  /** People written per batch: bounds memory and the size of each statement. */
  batchSize?: number;
  /**
   * A full feed may mark at most this share of a category departed (default 0.2); beyond, the
   * run is refused and nothing is written. 1 allows anything (`--allow-mass-departure`).
   */
  maxDepartureRatio?: number;
}

export const DEFAULT_MAX_DEPARTURE_RATIO = 0.2;
/** Below this many people in a category, the mass-departure guard does not apply (a tiny school). */
const MASS_DEPARTURE_MIN_PEOPLE = 20;

const CATEGORY_LABELS_FR: Record<'Eleve' | 'PersRelEleve' | 'PersEducNat', string> = { Eleve: 'élèves', PersRelEleve: 'parents', PersEducNat: 'personnels' };

export class AafMassDepartureError extends Error {
  constructor(
    readonly category: 'Eleve' | 'PersRelEleve' | 'PersEducNat',
    readonly leaving: number,
    readonly total: number,
    readonly maxRatio: number,
  ) {
    super(
      `ce flux complet ferait partir ${Math.round((100 * leaving) / total)} % des ${CATEGORY_LABELS_FR[category]} (${leaving} sur ${total}), ` +
        `au-delà du seuil de ${Math.round(maxRatio * 100)} % : c’est probablement un export incomplet. ` +
        'Vérifiez le flux ; si ces départs sont voulus, relancez avec --allow-mass-departure.',
    );
    this.name = 'AafMassDepartureError';
  }
}

export interface CategoryCounts {
  created: number;
  updated: number;
  unchanged: number;
  departed: number;
  rejected: number;
}

export interface ImportSummary {
  runId: string;
  files: number;
  records: number;
  fullFeed: boolean;
  categories: Record<AafCategory, CategoryCounts>;
  classesCreated: number;
  groupsCreated: number;
  pendingLinks: { added: number; resolved: number; waiting: number };
}

/** Dependency order: structures before the people who point at them, parents before their children. */
const CATEGORY_ORDER: readonly AafCategory[] = ['EtabEducNat', 'MatEducNat', 'MefEducNat', 'PersRelEleve', 'Eleve', 'PersEducNat'];

type Trx = Kysely<Database>;
type PendingRow = Database['aaf_pending_links'];
type PendingKind = 'guardian' | 'member' | 'rattach' | 'class' | 'group' | 'teach_class' | 'teach_group';

interface OrderedFile {
  file: string;
  category: AafCategory | undefined;
  bytes: number;
}

/** Lists the XML files of the feed (directories are expanded) in the order they must be applied. */
export async function orderFeedFiles(input: string | readonly string[]): Promise<OrderedFile[]> {
  const entries = typeof input === 'string' ? [input] : [...input];
  const files: string[] = [];
  for (const e of entries) {
    const s = await stat(e);
    if (s.isDirectory()) {
      for (const name of (await readdir(e)).sort()) if (name.toLowerCase().endsWith('.xml')) files.push(path.join(e, name));
    } else files.push(e);
  }
  const out: OrderedFile[] = [];
  for (const file of files) {
    const category = categoryFromFileName(file) ?? (await sniffCategory(file));
    out.push({ file, category, bytes: (await stat(file)).size });
  }
  const rank = (c: AafCategory | undefined) => (c === undefined ? CATEGORY_ORDER.length : CATEGORY_ORDER.indexOf(c));
  return out.sort((a, b) => rank(a.category) - rank(b.category) || a.file.localeCompare(b.file));
}

/** A file whose name does not say its category: look at the first record. */
async function sniffCategory(file: string): Promise<AafCategory | undefined> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(16 * 1024);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const m = /<attr\s+name="categorie\w+"\s*>\s*<value>\s*(\w+)\s*<\/value>/.exec(buf.subarray(0, bytesRead).toString('latin1'));
    const v = m?.[1];
    if (v === 'Mef') return 'MefEducNat';
    if (v === 'MatiereEducNat') return 'MatEducNat';
    return AAF_CATEGORIES.find((c) => c === v);
  } finally {
    await fh.close();
  }
}

function emptyCounts(): Record<AafCategory, CategoryCounts> {
  const out = {} as Record<AafCategory, CategoryCounts>;
  for (const c of AAF_CATEGORIES) out[c] = { created: 0, updated: 0, unchanged: 0, departed: 0, rejected: 0 };
  return out;
}

export async function importAafFeed(storage: Storage, input: string | readonly string[], options: ImportOptions): Promise<ImportSummary> {
  const files = await orderFeedFiles(input);
  const bytesTotal = files.reduce((s, f) => s + f.bytes, 0);
  const runId = newId();
  const log = options.logger.child({ component: 'aaf-import', runId });
  log.info({ files: files.length, bytesTotal, fullFeed: options.fullFeed ?? false }, 'import AAF : début');

  const summary = await storage.db.transaction().execute(async (trx) => {
    const run = new ImportRun(trx, storage.capabilities, runId, options, log);
    await run.load();
    let bytesBefore = 0;
    for (const f of files) {
      if (f.category) run.covered.add(f.category);
      for await (const rec of parseAafFile(f.file, {
        onBytes: (n) => options.onProgress?.({ file: f.file, bytesRead: bytesBefore + n, bytesTotal, records: run.summary.records }),
      })) {
        await run.accept(rec, f.file);
      }
      await run.flush();
      bytesBefore += f.bytes;
    }
    await run.finish();
    run.summary.files = files.length;
    await trx
      .insertInto('audit_events')
      .values({ id: newId(), at: options.clock.nowMs(), actor_id: null, action: 'aaf.import', target_id: null, details: JSON.stringify(run.summary) })
      .execute();
    return run.summary;
  });
  log.info({ summary }, 'import AAF : terminé');
  return summary;
}

interface ClassRef {
  id: string;
  name: string;
}

interface Batched {
  rec: AafRecord;
  file: string;
}

class ImportRun {
  readonly summary: ImportSummary;
  /** Person categories the feed contains a file of: only those can have departures. */
  readonly covered = new Set<AafCategory>();
  private readonly now: number;
  private readonly batchSize: number;
  private schools = new Map<string, SchoolsTable>();
  private schoolIdByJointure = new Map<string, string>();
  private classes = new Map<string, ClassRef>();
  private groups = new Map<string, ClassRef>();
  private subjects = new Map<string, { id: string; label: string }>();
  private mefs = new Map<string, string>();
  /** Loaded on the first new person only: a re-import of known people never needs it. */
  private logins: Set<string> | undefined;
  private batch: Batched[] = [];
  private batchJointures = new Set<string>();
  private batchKind: 'structure' | 'subject' | 'mef' | 'person' | undefined;
  private seenCategories = new Set<AafCategory>();

  constructor(
    private readonly trx: Trx,
    private readonly caps: StorageCapabilities,
    readonly runId: string,
    private readonly options: ImportOptions,
    private readonly log: Logger,
  ) {
    this.now = options.clock.nowMs();
    this.batchSize = options.batchSize ?? 1000;
    this.summary = {
      runId,
      files: 0,
      records: 0,
      fullFeed: options.fullFeed ?? false,
      categories: emptyCounts(),
      classesCreated: 0,
      groupsCreated: 0,
      pendingLinks: { added: 0, resolved: 0, waiting: 0 },
    };
  }

  /** The reference data is small (schools, classes, subjects, MEF): kept in memory for the run. */
  async load(): Promise<void> {
    for (const s of await this.trx.selectFrom('schools').selectAll().execute()) {
      this.schools.set(s.id, s);
      if (s.aaf_jointure) this.schoolIdByJointure.set(s.aaf_jointure, s.id);
    }
    for (const c of await this.trx.selectFrom('classes').select(['id', 'school_id', 'code', 'name']).execute()) this.classes.set(classKey(c.school_id, c.code), { id: c.id, name: c.name });
    for (const g of await this.trx.selectFrom('teaching_groups').select(['id', 'school_id', 'code', 'name']).execute()) this.groups.set(classKey(g.school_id, g.code), { id: g.id, name: g.name });
    for (const s of await this.trx.selectFrom('subjects').selectAll().execute()) this.subjects.set(s.code, { id: s.id, label: s.label });
    for (const m of await this.trx.selectFrom('mefs').selectAll().execute()) this.mefs.set(m.code, m.label);
  }

  async accept(rec: AafRecord, file: string): Promise<void> {
    this.summary.records++;
    this.seenCategories.add(rec.category);
    this.covered.add(rec.category);
    const kind = rec.category === 'EtabEducNat' ? 'structure' : rec.category === 'MatEducNat' ? 'subject' : rec.category === 'MefEducNat' ? 'mef' : 'person';
    // A jointure seen twice in one batch (add then modify in a delta) is applied in order.
    const key = `${rec.category}\u0000${rec.id}`;
    if (kind !== this.batchKind || this.batchJointures.has(key) || this.batch.length >= this.batchSize) await this.flush();
    this.batchKind = kind;
    this.batch.push({ rec, file });
    this.batchJointures.add(key);
  }

  async flush(): Promise<void> {
    const batch = this.batch;
    const kind = this.batchKind;
    this.batch = [];
    this.batchJointures.clear();
    this.batchKind = undefined;
    if (batch.length === 0) return;
    if (kind === 'structure') await this.applyStructures(batch);
    else if (kind === 'subject') await this.applySubjects(batch);
    else if (kind === 'mef') await this.applyMefs(batch);
    else await this.applyPeople(batch);
  }

  private count(category: AafCategory, what: keyof CategoryCounts, n = 1): void {
    this.summary.categories[category][what] += n;
  }

  private reject(b: Batched, reason: string): void {
    this.count(b.rec.category, 'rejected');
    // The AAF identifier and position only: never a name or another personal field in the logs.
    this.log.warn({ file: path.basename(b.file), line: b.rec.line, record: b.rec.id, op: b.rec.op, category: b.rec.category }, `enregistrement AAF rejeté : ${reason}`);
  }

  private async insertAll<T extends keyof Database>(table: T, rows: readonly Database[T][]): Promise<void> {
    if (rows.length === 0) return;
    const columns = Object.keys(rows[0] as object).length;
    for (const chunk of chunkForInsert(rows, columns, this.caps)) {
      // Kysely cannot relate a generic table name to its row type; the rows are typed by the caller.
      await this.trx
        .insertInto(table)
        .values(chunk as never)
        .execute();
    }
  }

  // ---------------------------------------------------------------- structures, subjects, MEF

  private async applyStructures(batch: Batched[]): Promise<void> {
    const newClasses: Database['classes'][] = [];
    const newGroups: Database['teaching_groups'][] = [];
    for (const b of batch) {
      if (b.rec.op === 'delete') {
        // Deleting a school would cascade to its classes, timetables and people's links: an operator decides.
        this.reject(b, 'suppression d’établissement non appliquée automatiquement');
        continue;
      }
      const d = mapStructure(b.rec);
      const id = this.schoolIdByJointure.get(d.jointure);
      let school = id ? this.schools.get(id) : undefined;
      let changed = false;
      if (!school) {
        if (b.rec.op === 'modify') {
          this.reject(b, 'modification d’un établissement inconnu');
          continue;
        }
        if (!d.uai) {
          this.reject(b, 'UAI manquant');
          continue;
        }
        const byUai = await this.trx.selectFrom('schools').selectAll().where('uai', '=', d.uai).executeTakeFirst();
        if (byUai && byUai.aaf_jointure !== null && byUai.aaf_jointure !== d.jointure) {
          this.reject(b, `UAI ${d.uai} déjà utilisé par un autre établissement AAF`);
          continue;
        }
        if (byUai) {
          // A school created by hand before its first AAF import: adopt it rather than duplicate it.
          school = byUai;
          await this.trx.updateTable('schools').set({ aaf_jointure: d.jointure, updated_at: this.now }).where('id', '=', byUai.id).execute();
          school = { ...byUai, aaf_jointure: d.jointure, updated_at: this.now };
          changed = true;
        } else {
          school = {
            id: newId(),
            uai: d.uai,
            aaf_jointure: d.jointure,
            name: d.name || d.uai,
            kind: d.kind ?? '',
            academie: d.academie ?? '',
            created_at: this.now,
            updated_at: this.now,
          };
          await this.trx.insertInto('schools').values(school).execute();
          this.count('EtabEducNat', 'created');
        }
        this.schools.set(school.id, school);
        this.schoolIdByJointure.set(d.jointure, school.id);
        if (!changed) {
          // Just created: its classes are all new, and it is counted as created, not updated.
          await this.collectClasses(school.id, d, newClasses, newGroups);
          continue;
        }
      }
      const patch = structurePatch(school, d);
      if (Object.keys(patch).length > 0) {
        await this.trx
          .updateTable('schools')
          .set({ ...patch, updated_at: this.now })
          .where('id', '=', school.id)
          .execute();
        school = { ...school, ...patch, updated_at: this.now };
        this.schools.set(school.id, school);
        changed = true;
      }
      if (await this.collectClasses(school.id, d, newClasses, newGroups)) changed = true;
      this.count('EtabEducNat', changed ? 'updated' : 'unchanged');
    }
    await this.insertAll('classes', newClasses);
    await this.insertAll('teaching_groups', newGroups);
  }

  /** Classes and groups listed by a structure (`code$label`); a label change renames. Never deletes. */
  private async collectClasses(schoolId: string, d: StructureDraft, newClasses: Database['classes'][], newGroups: Database['teaching_groups'][]): Promise<boolean> {
    let changed = false;
    for (const c of d.classes ?? []) {
      const known = this.classes.get(classKey(schoolId, c.code));
      if (!known) {
        newClasses.push(this.newClass(schoolId, c.code, c.label));
        changed = true;
      } else if (known.name !== c.label) {
        await this.trx.updateTable('classes').set({ name: c.label }).where('id', '=', known.id).execute();
        known.name = c.label;
        changed = true;
      }
    }
    for (const g of d.groups ?? []) {
      const known = this.groups.get(classKey(schoolId, g.code));
      if (!known) {
        newGroups.push(this.newGroup(schoolId, g.code, g.label));
        changed = true;
      } else if (known.name !== g.label) {
        await this.trx.updateTable('teaching_groups').set({ name: g.label }).where('id', '=', known.id).execute();
        known.name = g.label;
        changed = true;
      }
    }
    return changed;
  }

  private newClass(schoolId: string, code: string, name: string): Database['classes'] {
    const row = { id: rowId(), school_id: schoolId, code, name, mef_code: null, created_at: this.now };
    this.classes.set(classKey(schoolId, code), { id: row.id, name });
    this.summary.classesCreated++;
    return row;
  }

  private newGroup(schoolId: string, code: string, name: string): Database['teaching_groups'] {
    const row = { id: rowId(), school_id: schoolId, code, name, created_at: this.now };
    this.groups.set(classKey(schoolId, code), { id: row.id, name });
    this.summary.groupsCreated++;
    return row;
  }

  private async applySubjects(batch: Batched[]): Promise<void> {
    const rows = await this.applyCodeLabels(batch, {
      category: 'MatEducNat',
      // Teachings and timetable slots point at subjects.
      refused: { delete: 'suppression de matière non appliquée automatiquement', unknown: 'modification d’une matière inconnue' },
      read: mapSubject,
      labelOf: (code) => this.subjects.get(code)?.label,
      create: (code, label) => {
        const row = { id: rowId(), code, label };
        this.subjects.set(code, { id: row.id, label });
        return row;
      },
      relabel: async (code, label) => {
        const known = this.subjects.get(code)!;
        await this.trx.updateTable('subjects').set({ label }).where('id', '=', known.id).execute();
        known.label = label;
      },
    });
    await this.insertAll('subjects', rows);
  }

  private async applyMefs(batch: Batched[]): Promise<void> {
    const rows = await this.applyCodeLabels(batch, {
      category: 'MefEducNat',
      refused: { delete: 'suppression de MEF non appliquée automatiquement', unknown: 'modification d’un MEF inconnu' },
      read: mapMef,
      labelOf: (code) => this.mefs.get(code),
      create: (code, label) => {
        this.mefs.set(code, label);
        return { code, label };
      },
      relabel: async (code, label) => {
        await this.trx.updateTable('mefs').set({ label }).where('code', '=', code).execute();
        this.mefs.set(code, label);
      },
    });
    await this.insertAll('mefs', rows);
  }

  /**
   * Code + label nomenclatures (subjects, MEF): created when new, relabelled when the label
   * changed, never deleted automatically (other rows point at them). Returns the rows to insert.
   */
  private async applyCodeLabels<Row>(
    batch: Batched[],
    spec: {
      category: AafCategory;
      refused: { delete: string; unknown: string };
      read: (rec: AafRecord) => { code: string; label?: string | undefined };
      labelOf: (code: string) => string | undefined;
      create: (code: string, label: string) => Row;
      relabel: (code: string, label: string) => Promise<void>;
    },
  ): Promise<Row[]> {
    const inserts: Row[] = [];
    for (const b of batch) {
      if (b.rec.op === 'delete') {
        this.reject(b, spec.refused.delete);
        continue;
      }
      const { code, label } = spec.read(b.rec);
      const known = spec.labelOf(code);
      if (known === undefined) {
        if (b.rec.op === 'modify') {
          this.reject(b, spec.refused.unknown);
          continue;
        }
        inserts.push(spec.create(code, label ?? code));
        this.count(spec.category, 'created');
      } else if (label !== undefined && label !== known) {
        await spec.relabel(code, label);
        this.count(spec.category, 'updated');
      } else this.count(spec.category, 'unchanged');
    }
    return inserts;
  }

  // ---------------------------------------------------------------- people

  private async takenLogins(): Promise<Set<string>> {
    if (!this.logins) {
      this.logins = new Set();
      for (const r of await this.trx.selectFrom('people').select('login').execute()) this.logins.add(r.login);
    }
    return this.logins;
  }

  private async applyPeople(batch: Batched[]): Promise<void> {
    const drafts = batch.map((b) => ({ b, d: mapPerson(b.rec) }));
    const jointures = [...new Set(drafts.map((x) => x.d.jointure))];
    const existing = new Map<string, PeopleTable>();
    for (const part of slices(jointures)) {
      for (const p of await this.trx.selectFrom('people').selectAll().where('aaf_jointure', 'in', part).execute()) existing.set(p.aaf_jointure!, p);
    }

    if (this.options.fullFeed) {
      const seen = drafts.filter((x) => x.b.rec.op !== 'delete').map((x) => ({ run_id: this.runId, jointure: x.d.jointure }));
      const unique = [...new Map(seen.map((s) => [s.jointure, s])).values()];
      for (const chunk of chunkForInsert(unique, 2, this.caps)) {
        await this.trx
          .insertInto('aaf_import_seen')
          .values(chunk)
          .onConflict((oc) => oc.columns(['run_id', 'jointure']).doNothing())
          .execute();
      }
    }

    // Parents named by pupils: their ids, from the database (they were imported earlier or in an earlier run).
    const parentJointures = new Set<string>();
    for (const { d } of drafts) for (const g of d.guardians ?? []) if (!existing.has(g.parentJointure)) parentJointures.add(g.parentJointure);
    const personIdByJointure = new Map<string, string>();
    for (const [j, p] of existing) personIdByJointure.set(j, p.id);
    for (const part of slices([...parentJointures])) {
      for (const p of await this.trx.selectFrom('people').select(['id', 'aaf_jointure']).where('aaf_jointure', 'in', part).execute()) personIdByJointure.set(p.aaf_jointure!, p.id);
    }

    // Links stored today for the known people of this batch.
    const knownIds = [...existing.values()].map((p) => p.id);
    const knownJointures = [...existing.keys()];
    const enrolments = await this.groupBy(knownIds, (ids) => this.trx.selectFrom('class_enrolments').selectAll().where('person_id', 'in', ids).execute(), (r) => r.person_id);
    const memberships = await this.groupBy(knownIds, (ids) => this.trx.selectFrom('group_members').selectAll().where('person_id', 'in', ids).execute(), (r) => r.person_id);
    const guardianships = await this.groupBy(knownIds, (ids) => this.trx.selectFrom('guardianships').selectAll().where('child_id', 'in', ids).execute(), (r) => r.child_id);
    const teachings = await this.groupBy(knownIds, (ids) => this.trx.selectFrom('teachings').selectAll().where('teacher_id', 'in', ids).execute(), (r) => r.teacher_id);
    const schoolMembers = await this.groupBy(knownIds, (ids) => this.trx.selectFrom('school_members').selectAll().where('person_id', 'in', ids).execute(), (r) => r.person_id);
    const pending = await this.groupBy(knownJointures, (js) => this.trx.selectFrom('aaf_pending_links').selectAll().where('person_jointure', 'in', js).execute(), (r) => r.person_jointure);

    const w = new BatchWrites();
    for (const { b, d } of drafts) {
      const before = existing.get(d.jointure);
      if (b.rec.op === 'delete') {
        if (!before) this.reject(b, 'suppression d’une personne inconnue');
        else if (before.status === 'departed') this.count(b.rec.category, 'unchanged');
        else {
          w.departures.push(before.id);
          existing.set(d.jointure, { ...before, status: 'departed', departed_at: this.now, updated_at: this.now });
          this.count(b.rec.category, 'departed');
        }
        continue;
      }
      if (!before && b.rec.op === 'modify') {
        this.reject(b, 'modification d’une personne inconnue');
        continue;
      }
      let person: PeopleTable;
      let rowChanged = false;
      if (!before) {
        if (!d.lastName && !d.firstName) {
          this.reject(b, 'nom et prénom absents');
          continue;
        }
        const logins = await this.takenLogins();
        const login = await uniqueLogin(d.firstName ?? '', d.lastName ?? '', (l) => logins.has(l));
        logins.add(login);
        person = {
          id: rowId(),
          aaf_jointure: d.jointure,
          profile: d.profile ?? 'personnel',
          staff_function: d.staffFunction ?? null,
          login,
          first_name: d.firstName ?? '',
          last_name: d.lastName ?? '',
          title: d.title ?? null,
          password_hash: null,
          status: 'pending_activation',
          school_id: d.rattach ? (this.schoolIdByJointure.get(d.rattach) ?? null) : null,
          mef_code: d.mefCode ?? null,
          departed_at: null,
          created_at: this.now,
          updated_at: this.now,
          preferred_lang: null,
        };
        w.newPeople.push(person);
      } else {
        const patch = personPatch(before, d, (j) => this.schoolIdByJointure.get(j) ?? null);
        if (before.status === 'departed') {
          // Back in the feed: the account comes back as it was (active if a password was set).
          patch.status = before.password_hash ? 'active' : 'pending_activation';
          patch.departed_at = null;
        }
        rowChanged = Object.keys(patch).length > 0;
        person = { ...before, ...patch };
        if (rowChanged) {
          person.updated_at = this.now;
          w.updates.push({ id: before.id, patch: { ...patch, updated_at: this.now } });
        }
      }
      existing.set(d.jointure, person);
      personIdByJointure.set(d.jointure, person.id);
      const linksChanged = this.diffLinks(b, d, person, personIdByJointure, w, {
        enrolments: enrolments.get(person.id) ?? [],
        memberships: memberships.get(person.id) ?? [],
        guardianships: guardianships.get(person.id) ?? [],
        teachings: teachings.get(person.id) ?? [],
        schoolMembers: schoolMembers.get(person.id) ?? [],
        pending: pending.get(d.jointure) ?? [],
      });
      if (!before) this.count(b.rec.category, 'created');
      else this.count(b.rec.category, rowChanged || linksChanged ? 'updated' : 'unchanged');
    }
    await this.write(w);
  }

  private async groupBy<T>(keys: string[], query: (part: string[]) => Promise<T[]>, keyOf: (row: T) => string): Promise<Map<string, T[]>> {
    const out = new Map<string, T[]>();
    for (const part of slices(keys)) {
      for (const row of await query(part)) {
        const k = keyOf(row);
        const list = out.get(k);
        if (list) list.push(row);
        else out.set(k, [row]);
      }
    }
    return out;
  }

  private schoolOf(structure: string): string | undefined {
    return this.schoolIdByJointure.get(structure);
  }

  private classIdFor(schoolId: string, code: string, w: BatchWrites): string {
    const k = classKey(schoolId, code);
    const known = this.classes.get(k);
    if (known) return known.id;
    const row = this.newClass(schoolId, code, code);
    w.newClasses.push(row);
    return row.id;
  }

  private groupIdFor(schoolId: string, code: string, w: BatchWrites): string {
    const k = classKey(schoolId, code);
    const known = this.groups.get(k);
    if (known) return known.id;
    const row = this.newGroup(schoolId, code, code);
    w.newGroups.push(row);
    return row.id;
  }

  /**
   * Compares the links a record describes with those stored, queues the differences, and returns
   * whether anything changes. Only the link kinds present in the record are touched.
   */
  private diffLinks(
    b: Batched,
    d: PersonDraft,
    person: PeopleTable,
    personIdByJointure: Map<string, string>,
    w: BatchWrites,
    stored: {
      enrolments: Database['class_enrolments'][];
      memberships: Database['group_members'][];
      guardianships: Database['guardianships'][];
      teachings: TeachingsTable[];
      schoolMembers: Database['school_members'][];
      pending: PendingRow[];
    },
  ): boolean {
    let changed = false;
    const pid = person.id;
    const j = d.jointure;
    const wantPending = new Map<string, PendingRow>();
    const touchedKinds = new Set<PendingKind>();
    const pendingRow = (kind: PendingKind, target: string, extra: Partial<PendingRow> = {}): void => {
      const row: PendingRow = {
        id: pendingId(kind, j, target, extra.code ?? null, extra.subject_code ?? null),
        kind,
        person_jointure: j,
        target_jointure: target,
        code: extra.code ?? null,
        subject_code: extra.subject_code ?? null,
        legal_guardian: extra.legal_guardian ?? null,
        relation: extra.relation ?? null,
        principal: extra.principal ?? null,
        created_at: this.now,
      };
      wantPending.set(row.id, row);
    };

    // Enrolments in classes and in groups follow the same rule: the feed's list replaces the stored one;
    // a code whose school is not imported yet waits as a pending link.
    const syncMemberships = (kind: 'class' | 'group', items: readonly { structure: string; code: string }[], haveIds: readonly string[], idFor: (school: string, code: string) => string, add: (id: string) => void, table: 'class_enrolments' | 'group_members') => {
      touchedKinds.add(kind);
      const want = new Set<string>();
      for (const item of items) {
        const school = this.schoolOf(item.structure);
        if (!school) pendingRow(kind, item.structure, { code: item.code });
        else want.add(idFor(school, item.code));
      }
      const have = new Set(haveIds);
      for (const id of want) if (!have.has(id)) add(id);
      const gone = [...have].filter((id) => !want.has(id));
      if (gone.length > 0) w.deletes.push({ table, personId: pid, ids: gone });
      if (gone.length > 0 || [...want].some((id) => !have.has(id))) changed = true;
    };
    if (d.classes) {
      syncMemberships('class', d.classes, stored.enrolments.map((e) => e.class_id), (school, code) => this.classIdFor(school, code, w), (id) => w.enrolments.push({ class_id: id, person_id: pid }), 'class_enrolments');
    }
    if (d.groups) {
      syncMemberships('group', d.groups, stored.memberships.map((e) => e.group_id), (school, code) => this.groupIdFor(school, code, w), (id) => w.groupMembers.push({ group_id: id, person_id: pid }), 'group_members');
    }
    if (d.guardians) {
      touchedKinds.add('guardian');
      const want = new Map<string, { legal: number; relation: string | null }>();
      for (const g of d.guardians) {
        const parentId = personIdByJointure.get(g.parentJointure);
        if (!parentId) pendingRow('guardian', g.parentJointure, { legal_guardian: g.legalGuardian, relation: g.relation });
        else if (parentId !== pid) want.set(parentId, { legal: g.legalGuardian, relation: g.relation });
      }
      const have = new Map(stored.guardianships.map((g) => [g.parent_id, g]));
      for (const [parentId, v] of want) {
        const h = have.get(parentId);
        if (!h) {
          w.guardianships.push({ parent_id: parentId, child_id: pid, legal_guardian: v.legal, relation: v.relation });
          changed = true;
        } else if (h.legal_guardian !== v.legal || h.relation !== v.relation) {
          w.guardianUpdates.push({ parent_id: parentId, child_id: pid, legal_guardian: v.legal, relation: v.relation });
          changed = true;
        }
      }
      const gone = [...have.keys()].filter((id) => !want.has(id));
      if (gone.length > 0) {
        w.deletes.push({ table: 'guardianships', personId: pid, ids: gone });
        changed = true;
      }
    }
    if (d.teachings) {
      touchedKinds.add('teach_class');
      touchedKinds.add('teach_group');
      const want = new Map<string, { class_id: string | null; group_id: string | null; subject_id: string | null; principal: number }>();
      for (const t of d.teachings) {
        const school = this.schoolOf(t.structure);
        const subject = t.subjectCode ? this.subjects.get(t.subjectCode) : undefined;
        if (!school || (t.subjectCode && !subject)) {
          pendingRow(t.kind === 'class' ? 'teach_class' : 'teach_group', t.structure, { code: t.code, subject_code: t.subjectCode, principal: t.principal });
          continue;
        }
        const classId = t.kind === 'class' ? this.classIdFor(school, t.code, w) : null;
        const groupId = t.kind === 'group' ? this.groupIdFor(school, t.code, w) : null;
        const row = { class_id: classId, group_id: groupId, subject_id: subject?.id ?? null, principal: t.principal };
        const k = teachingKey(row);
        const prev = want.get(k);
        if (!prev || row.principal > prev.principal) want.set(k, row);
      }
      const have = new Map(stored.teachings.map((t) => [teachingKey(t), t]));
      for (const [k, v] of want) {
        const h = have.get(k);
        if (!h) {
          w.teachings.push({ id: rowId(), teacher_id: pid, ...v });
          changed = true;
        } else if (h.principal !== v.principal) {
          w.teachingUpdates.push({ id: h.id, principal: v.principal });
          changed = true;
        }
      }
      const gone = [...have].filter(([k]) => !want.has(k)).map(([, t]) => t.id);
      if (gone.length > 0) {
        w.deletes.push({ table: 'teachings', personId: pid, ids: gone });
        changed = true;
      }
    }

    // School memberships: every structure the person appears in. A full record replaces them;
    // a modification only adds (it does not list the structures of the attributes it leaves out).
    const structures = structuresOf(d);
    const full = b.rec.op === 'add';
    if (full || structures.length > 0 || d.rattach !== undefined) {
      if (full) {
        touchedKinds.add('member');
        touchedKinds.add('rattach');
      }
      if (d.rattach !== undefined) touchedKinds.add('rattach');
      const want = new Set<string>();
      for (const s of structures) {
        const school = this.schoolOf(s);
        if (school) want.add(school);
        else if (s === d.rattach) pendingRow('rattach', s);
        else pendingRow('member', s);
      }
      if (person.school_id) want.add(person.school_id);
      const have = new Set(stored.schoolMembers.map((m) => m.school_id));
      for (const s of want) {
        if (!have.has(s)) {
          w.schoolMembers.push({ school_id: s, person_id: pid });
          changed = true;
        }
      }
      if (full) {
        const gone = [...have].filter((s) => !want.has(s));
        if (gone.length > 0) {
          w.deletes.push({ table: 'school_members', personId: pid, ids: gone });
          changed = true;
        }
      }
    }

    // Pending links of the kinds this record describes: replace them.
    for (const p of stored.pending) {
      if (!touchedKinds.has(p.kind as PendingKind)) continue;
      const want = wantPending.get(p.id);
      if (!want) {
        w.pendingDeletes.push(p.id);
        changed = true;
      } else if (want.legal_guardian !== p.legal_guardian || want.relation !== p.relation || want.principal !== p.principal) {
        w.pendingDeletes.push(p.id);
        w.pendingInserts.push(want);
        changed = true;
      }
    }
    const storedIds = new Set(stored.pending.map((p) => p.id));
    for (const [id, row] of wantPending) {
      if (!storedIds.has(id)) {
        w.pendingInserts.push(row);
        this.summary.pendingLinks.added++;
        changed = true;
      }
    }
    return changed;
  }

  private async write(w: BatchWrites): Promise<void> {
    // Parents of foreign keys first.
    await this.insertAll('classes', w.newClasses);
    await this.insertAll('teaching_groups', w.newGroups);
    await this.insertAll('people', w.newPeople);
    for (const u of w.updates) await this.trx.updateTable('people').set(u.patch).where('id', '=', u.id).execute();
    for (const del of w.deletes) {
      if (del.table === 'class_enrolments') await this.trx.deleteFrom('class_enrolments').where('person_id', '=', del.personId).where('class_id', 'in', del.ids).execute();
      else if (del.table === 'group_members') await this.trx.deleteFrom('group_members').where('person_id', '=', del.personId).where('group_id', 'in', del.ids).execute();
      else if (del.table === 'guardianships') await this.trx.deleteFrom('guardianships').where('child_id', '=', del.personId).where('parent_id', 'in', del.ids).execute();
      else if (del.table === 'teachings') await this.trx.deleteFrom('teachings').where('teacher_id', '=', del.personId).where('id', 'in', del.ids).execute();
      else await this.trx.deleteFrom('school_members').where('person_id', '=', del.personId).where('school_id', 'in', del.ids).execute();
    }
    await this.insertAll('class_enrolments', w.enrolments);
    await this.insertAll('group_members', w.groupMembers);
    await this.insertAll('guardianships', w.guardianships);
    for (const g of w.guardianUpdates) {
      await this.trx
        .updateTable('guardianships')
        .set({ legal_guardian: g.legal_guardian, relation: g.relation })
        .where('parent_id', '=', g.parent_id)
        .where('child_id', '=', g.child_id)
        .execute();
    }
    await this.insertAll('teachings', w.teachings);
    for (const t of w.teachingUpdates) await this.trx.updateTable('teachings').set({ principal: t.principal }).where('id', '=', t.id).execute();
    await this.insertAll('school_members', w.schoolMembers);
    for (const part of slices(w.pendingDeletes)) await this.trx.deleteFrom('aaf_pending_links').where('id', 'in', part).execute();
    await this.insertAll('aaf_pending_links', w.pendingInserts);
    await this.depart(w.departures);
  }

  /** Departed: the account closes (sessions end) but the data stays until the 3-month purge. */
  private async depart(ids: readonly string[]): Promise<void> {
    for (const part of slices([...ids])) {
      await this.trx.updateTable('people').set({ status: 'departed', departed_at: this.now, updated_at: this.now }).where('id', 'in', part).execute();
      await this.trx.deleteFrom('sessions').where('person_id', 'in', part).execute();
    }
  }

  // ---------------------------------------------------------------- end of run

  async finish(): Promise<void> {
    await this.flush();
    await this.resolvePending();
    if (this.options.fullFeed) await this.departAbsentees();
    await this.trx.deleteFrom('aaf_import_seen').where('run_id', '=', this.runId).execute();
    const waiting = await this.trx.selectFrom('aaf_pending_links').select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirst();
    this.summary.pendingLinks.waiting = Number(waiting?.n ?? 0);
  }

  /** People of a fully covered category who were imported before and are absent from this feed. */
  private async departAbsentees(): Promise<void> {
    const maxRatio = this.options.maxDepartureRatio ?? DEFAULT_MAX_DEPARTURE_RATIO;
    for (const category of ['Eleve', 'PersRelEleve', 'PersEducNat'] as const) {
      if (!this.covered.has(category)) continue;
      const profiles = [...PROFILES_OF_CATEGORY[category]];
      const present = () => this.trx.selectFrom('people as p').where('p.aaf_jointure', 'is not', null).where('p.status', '<>', 'departed').where('p.profile', 'in', profiles);
      const absent = () =>
        present().where(({ not, exists, selectFrom }) =>
          not(exists(selectFrom('aaf_import_seen as s').select('s.jointure').where('s.run_id', '=', this.runId).whereRef('s.jointure', '=', 'p.aaf_jointure'))),
        );
      // A "complete" feed that lacks most of a category is far more likely a truncated export than a mass
      // departure: marking everyone departed would close every session on the crisis morning. Refuse it.
      const [total, leaving] = await Promise.all([
        present().select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow(),
        absent().select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow(),
      ]);
      const totalN = Number(total.n);
      const leavingN = Number(leaving.n);
      if (totalN >= MASS_DEPARTURE_MIN_PEOPLE && leavingN > maxRatio * totalN) {
        throw new AafMassDepartureError(category, leavingN, totalN, maxRatio);
      }
      for (;;) {
        // Paged: each page leaves the set once departed, so memory stays bounded even if everyone left.
        const rows = await absent().select('p.id').limit(5000).execute();
        if (rows.length === 0) break;
        await this.depart(rows.map((r) => r.id));
        this.count(category, 'departed', rows.length);
      }
    }
  }

  /** Links that waited for a person, school or subject now imported (in this run or an earlier one). */
  private async resolvePending(): Promise<void> {
    const pageSize = 2000;
    // Guardianships: both people exist now.
    for (;;) {
      const rows = await this.trx
        .selectFrom('aaf_pending_links as pl')
        .innerJoin('people as parent', 'parent.aaf_jointure', 'pl.target_jointure')
        .innerJoin('people as child', 'child.aaf_jointure', 'pl.person_jointure')
        .select(['pl.id', 'pl.legal_guardian', 'pl.relation', 'parent.id as parent_id', 'child.id as child_id'])
        .where('pl.kind', '=', 'guardian')
        .limit(pageSize)
        .execute();
      if (rows.length === 0) break;
      const links = new Map<string, Database['guardianships']>();
      for (const r of rows) {
        if (r.parent_id === r.child_id) continue;
        links.set(`${r.parent_id}\u0000${r.child_id}`, { parent_id: r.parent_id, child_id: r.child_id, legal_guardian: r.legal_guardian ?? 0, relation: r.relation });
      }
      for (const chunk of chunkForInsert([...links.values()], 4, this.caps)) {
        await this.trx
          .insertInto('guardianships')
          .values(chunk)
          .onConflict((oc) => oc.columns(['parent_id', 'child_id']).doNothing())
          .execute();
      }
      await this.trx
        .deleteFrom('aaf_pending_links')
        .where(
          'id',
          'in',
          rows.map((r) => r.id),
        )
        .execute();
      this.summary.pendingLinks.resolved += rows.length;
    }
    // Links to a structure (and a subject) that now exist.
    for (;;) {
      const rows = await this.trx
        .selectFrom('aaf_pending_links as pl')
        .innerJoin('schools as s', 's.aaf_jointure', 'pl.target_jointure')
        .innerJoin('people as p', 'p.aaf_jointure', 'pl.person_jointure')
        .leftJoin('subjects as sub', 'sub.code', 'pl.subject_code')
        .select(['pl.id', 'pl.kind', 'pl.code', 'pl.subject_code', 'pl.principal', 's.id as school_id', 'p.id as person_id', 'sub.id as subject_id'])
        .where('pl.kind', '<>', 'guardian')
        .where((eb) => eb.or([eb('pl.subject_code', 'is', null), eb('sub.id', 'is not', null)]))
        .limit(pageSize)
        .execute();
      if (rows.length === 0) break;
      const w = new BatchWrites();
      const members = new Map<string, Database['school_members']>();
      for (const r of rows) {
        members.set(`${r.school_id}\u0000${r.person_id}`, { school_id: r.school_id, person_id: r.person_id });
        if (r.kind === 'rattach') w.updates.push({ id: r.person_id, patch: { school_id: r.school_id } });
        else if (r.kind === 'class' && r.code) w.enrolments.push({ class_id: this.classIdFor(r.school_id, r.code, w), person_id: r.person_id });
        else if (r.kind === 'group' && r.code) w.groupMembers.push({ group_id: this.groupIdFor(r.school_id, r.code, w), person_id: r.person_id });
        else if ((r.kind === 'teach_class' || r.kind === 'teach_group') && r.code) {
          const classId = r.kind === 'teach_class' ? this.classIdFor(r.school_id, r.code, w) : null;
          const groupId = r.kind === 'teach_group' ? this.groupIdFor(r.school_id, r.code, w) : null;
          w.teachings.push({ id: rowId(), teacher_id: r.person_id, class_id: classId, group_id: groupId, subject_id: r.subject_id, principal: r.principal ?? 0 });
        }
      }
      await this.insertAll('classes', w.newClasses);
      await this.insertAll('teaching_groups', w.newGroups);
      for (const u of w.updates) await this.trx.updateTable('people').set(u.patch).where('id', '=', u.id).execute();
      await this.insertIgnoring('school_members', [...members.values()], ['school_id', 'person_id']);
      await this.insertIgnoring('class_enrolments', dedupe(w.enrolments, (e) => `${e.class_id}\u0000${e.person_id}`), ['class_id', 'person_id']);
      await this.insertIgnoring('group_members', dedupe(w.groupMembers, (e) => `${e.group_id}\u0000${e.person_id}`), ['group_id', 'person_id']);
      for (const t of w.teachings) {
        // Teachings have a surrogate key: look for the same teaching before adding it.
        let q = this.trx.selectFrom('teachings').select(['id', 'principal']).where('teacher_id', '=', t.teacher_id);
        q = t.class_id === null ? q.where('class_id', 'is', null) : q.where('class_id', '=', t.class_id);
        q = t.group_id === null ? q.where('group_id', 'is', null) : q.where('group_id', '=', t.group_id);
        q = t.subject_id === null ? q.where('subject_id', 'is', null) : q.where('subject_id', '=', t.subject_id);
        const same = await q.executeTakeFirst();
        if (!same) await this.trx.insertInto('teachings').values(t).execute();
        else if (same.principal < t.principal) await this.trx.updateTable('teachings').set({ principal: t.principal }).where('id', '=', same.id).execute();
      }
      await this.trx
        .deleteFrom('aaf_pending_links')
        .where(
          'id',
          'in',
          rows.map((r) => r.id),
        )
        .execute();
      this.summary.pendingLinks.resolved += rows.length;
    }
  }

  private async insertIgnoring<T extends 'school_members' | 'class_enrolments' | 'group_members'>(table: T, rows: Database[T][], key: [string, string]): Promise<void> {
    for (const chunk of chunkForInsert(rows, 2, this.caps)) {
      await this.trx
        .insertInto(table)
        .values(chunk as never)
        .onConflict((oc) => oc.columns(key as never).doNothing())
        .execute();
    }
  }
}

class BatchWrites {
  newClasses: Database['classes'][] = [];
  newGroups: Database['teaching_groups'][] = [];
  newPeople: PeopleTable[] = [];
  updates: { id: string; patch: Partial<PeopleTable> }[] = [];
  deletes: { table: 'class_enrolments' | 'group_members' | 'guardianships' | 'teachings' | 'school_members'; personId: string; ids: string[] }[] = [];
  enrolments: Database['class_enrolments'][] = [];
  groupMembers: Database['group_members'][] = [];
  guardianships: Database['guardianships'][] = [];
  guardianUpdates: Database['guardianships'][] = [];
  teachings: TeachingsTable[] = [];
  teachingUpdates: { id: string; principal: number }[] = [];
  schoolMembers: Database['school_members'][] = [];
  pendingInserts: PendingRow[] = [];
  pendingDeletes: string[] = [];
  departures: string[] = [];
}

function classKey(schoolId: string, code: string): string {
  return `${schoolId}\u0000${code}`;
}

function teachingKey(t: { class_id: string | null; group_id: string | null; subject_id: string | null }): string {
  return `${t.class_id ?? ''}\u0000${t.group_id ?? ''}\u0000${t.subject_id ?? ''}`;
}

function pendingId(kind: PendingKind, person: string, target: string, code: string | null, subject: string | null): string {
  return [kind, person, target, code ?? '', subject ?? ''].join('|');
}

function dedupe<T>(rows: T[], key: (r: T) => string): T[] {
  return [...new Map(rows.map((r) => [key(r), r])).values()];
}

/**
 * Same ids as platform `newId()` (128 random bits, base64url), drawn from one random buffer per
 * thousand ids: a `randomBytes` call per row was a tenth of a 100,000-person import.
 */
const ID_BYTES = 16;
const ID_POOL_SIZE = 1024;
let idPool = Buffer.alloc(0);
let idPoolOffset = 0;
function rowId(): string {
  if (idPoolOffset >= idPool.length) {
    idPool = randomBytes(ID_BYTES * ID_POOL_SIZE);
    idPoolOffset = 0;
  }
  const id = idPool.toString('base64url', idPoolOffset, idPoolOffset + ID_BYTES);
  idPoolOffset += ID_BYTES;
  return id;
}

/** `in (…)` lists stay well under every backend's bound-parameter limit. */
function slices(values: readonly string[], size = 1000): string[][] {
  const out: string[][] = [];
  for (let i = 0; i < values.length; i += size) out.push(values.slice(i, i + size));
  return out;
}

function structurePatch(s: SchoolsTable, d: StructureDraft): Partial<SchoolsTable> {
  const patch: Partial<SchoolsTable> = {};
  if (d.uai && d.uai !== s.uai) patch.uai = d.uai;
  if (d.name && d.name !== s.name) patch.name = d.name;
  if (d.kind !== undefined && d.kind !== s.kind) patch.kind = d.kind;
  if (d.academie !== undefined && d.academie !== s.academie) patch.academie = d.academie;
  return patch;
}

function personPatch(p: PeopleTable, d: PersonDraft, schoolIdOf: (jointure: string) => string | null): Partial<PeopleTable> {
  const patch: Partial<PeopleTable> = {};
  if (d.profile !== undefined && d.profile !== p.profile) patch.profile = d.profile;
  if (d.staffFunction !== undefined && d.staffFunction !== p.staff_function) patch.staff_function = d.staffFunction;
  if (d.firstName !== undefined && d.firstName !== p.first_name) patch.first_name = d.firstName;
  if (d.lastName !== undefined && d.lastName !== p.last_name) patch.last_name = d.lastName;
  if (d.title !== undefined && d.title !== p.title) patch.title = d.title;
  if (d.mefCode !== undefined && d.mefCode !== p.mef_code) patch.mef_code = d.mefCode;
  if (d.rattach !== undefined) {
    const school = d.rattach ? schoolIdOf(d.rattach) : null;
    if (school !== p.school_id) patch.school_id = school;
  }
  return patch;
}

export { PERSON_CATEGORIES };
