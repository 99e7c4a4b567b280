/**
 * Generates a realistic AAF feed (format ficAlimMENESR) for tests and benchmarks: an académie with
 * schools, classes, groups, pupils with one or two parents (siblings share them), teachers with
 * class + subject assignments, staff with functions, subjects and MEFs. Deterministic for a seed,
 * and streamed to disk (no file is ever built as one string), so 100,000 people cost little memory.
 *
 *   tsx tools/gen-aaf.ts --out /tmp/aaf --people 100000 [--schools 40] [--seed 7]
 *                        [--encoding ISO-8859-15] [--delta-modify 100 --delta-delete 20]
 */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import iconv from 'iconv-lite';

export interface GenAafOptions {
  schools?: number;
  pupilsPerSchool?: number;
  /** Total people wanted (pupils + parents + teachers + staff, approximately): overrides pupilsPerSchool. */
  people?: number;
  pupilsPerClass?: number;
  /** One teacher for this many pupils. */
  pupilsPerTeacher?: number;
  staffPerSchool?: number;
  seed?: number;
  /** `YYYYMMDD` in the file names. */
  date?: string;
  prefix?: string;
  /** Prepended to every jointure (schools, people): a feed that can never name anyone of a real académie (the drill on a deployment). */
  jointurePrefix?: string;
  /** The first school's UAI number (7 digits before the letter); 0400000A by default. */
  uaiStart?: number;
  maxRecordsPerFile?: number;
  encoding?: 'UTF-8' | 'ISO-8859-15';
  /** Which files to write (all by default): lets tests build partial feeds. */
  only?: readonly FeedFileType[];
  /** Called every few thousand people: generation of a large feed takes a while. */
  onProgress?: (peopleWritten: number, peopleTotal: number) => void;
}

export type FeedFileType = 'EtabEducNat' | 'MatiereEducNat' | 'MefEducNat' | 'Eleve' | 'PersRelEleve' | 'PersEducNat';

export interface GeneratedFeed {
  dir: string;
  files: string[];
  counts: { schools: number; subjects: number; mefs: number; classes: number; groups: number; pupils: number; parents: number; teachers: number; staff: number; people: number; records: number };
}

export interface DeltaOptions {
  /** Pupils whose last name and class change (modifyRequest). */
  modifyPupils?: number;
  /** Pupils who leave (deleteRequest). */
  deletePupils?: number;
  date?: string;
}

export interface GeneratedDelta {
  file: string;
  modified: { jointure: string; lastName: string; classCode: string; structure: string }[];
  deleted: string[];
}

/** Jointure schemes: stable, so that tests and deltas can name people of a generated feed. */
export const jointureOf = {
  school: (s: number) => String(100_000 + s),
  pupil: (i: number) => String(3_000_000 + i),
  parent: (i: number) => String(5_000_000 + i),
  teacher: (i: number) => String(7_000_000 + i),
  staff: (i: number) => String(8_000_000 + i),
};

const FIRST_NAMES = [
  'Léa', 'Chloé', 'Inès', 'Zoé', 'Maëlys', 'Anaïs', 'Hélène', 'Jade', 'Louise', 'Emma', 'Manon', 'Camille', 'Sarah', 'Lina', 'Clémence', 'Noémie',
  'Élise', 'Agathe', 'Margaux', 'Juliette', 'Océane', 'Romane', 'Capucine', 'Maïwenn', 'Louna', 'Ambre', 'Alice', 'Rose', 'Nina', 'Éloïse',
  'Lucas', 'Noé', 'Hugo', 'Louis', 'Jules', 'Gabriel', 'Raphaël', 'Arthur', 'Théo', 'Nathan', 'Mathéo', 'Ethan', 'Timéo', 'Jérôme', 'François',
  'Benoît', 'Loïc', 'Gaël', 'Maël', 'Yanis', 'Adam', 'Sacha', 'Nolan', 'Tom', 'Enzo', 'Clément', 'Aurélien', 'Rémi', 'Valentin', 'Joël', 'Côme',
  'Anne-Sophie', 'Jean-Baptiste', 'Marie-Claude', 'Pierre-Yves', 'Kévin', 'Mélodie', 'Frédéric', 'Cédric', 'Stéphane',
];
const LAST_NAMES = [
  'Martin', 'Bernard', 'Dubois', 'Thomas', 'Robert', 'Richard', 'Petit', 'Durand', 'Leroy', 'Moreau', 'Simon', 'Laurent', 'Lefèbvre', 'Michel',
  'Garcia', 'David', 'Bertrand', 'Roux', 'Vincent', 'Fournier', 'Morel', 'Girard', 'André', 'Lefèvre', 'Mercier', 'Dupont', 'Lambert', 'Bonnet',
  'François', 'Martinez', 'Legrand', 'Garnier', 'Faure', 'Rousseau', 'Blanc', 'Guérin', 'Muller', 'Henry', 'Roussel', 'Nicolas', 'Perrin',
  'Morin', 'Mathieu', 'Clément', 'Gauthier', 'Dumont', 'Lopez', 'Fontaine', 'Chevalier', 'Robin', 'Masson', 'Sanchez', 'Gérard', 'Nguyen',
  'Boyer', 'Denis', 'Lemaire', 'Duval', 'Joly', 'Gautier', 'Roger', 'Roche', 'Roy', 'Noël', 'Meyer', 'Lucas', 'Meunier', 'Jean', 'Pérez',
  'Marchand', 'Dufour', 'Blanchard', 'Barbier', 'Brun', 'Dumas', 'Brunet', 'Schmitt', 'Leroux', 'Colin', 'Fernandez', 'Renard', 'Arnaud',
  'Rolland', 'Caron', 'Aubert', 'Giraud', 'Leclerc', 'Vidal', 'Bourgeois', 'Renaud', 'Lemoine', 'Picard', 'Gaillard', 'Lacroix', 'Fabre',
  'Dupuis', 'Olivier', 'Da Silva', 'Hubert', 'Guillot', 'Rivière', 'Le Gall', 'Guillaume', 'Rey', 'Moulin', 'Berger', 'Lecomte', 'Ménard',
  'Fleury', 'Deschamps', 'Carpentier', 'Benoît', 'Maillard', 'Aubry', 'Prévost', 'Poirier', 'Charpentier', 'Huet', 'Carré', 'Rémy', "N'Diaye",
];
const SUBJECTS: readonly [string, string][] = [
  ['020700', 'FRANCAIS'],
  ['061300', 'MATHEMATIQUES'],
  ['040300', 'HISTOIRE-GEOGRAPHIE'],
  ['030201', 'ANGLAIS LV1'],
  ['030602', 'ESPAGNOL LV2'],
  ['030102', 'ALLEMAND LV2'],
  ['063700', 'SCIENCES VIE & TERRE'],
  ['061700', 'PHYSIQUE-CHIMIE'],
  ['062800', 'TECHNOLOGIE'],
  ['081300', 'EDUCATION MUSICALE'],
  ['070100', 'ARTS PLASTIQUES'],
  ['100100', 'EDUCATION PHYSIQUE ET SPORTIVE'],
  ['022400', 'LATIN'],
  ['080900', 'CHANT CHORAL'],
  ['006600', 'ACCOMPAGNEMENT PERSONNALISE'],
];
const LEVELS: readonly { prefix: string; mef: string; label: string }[] = [
  { prefix: '6', mef: '10010012110', label: '6EME' },
  { prefix: '5', mef: '10110001110', label: '5EME' },
  { prefix: '4', mef: '10210001110', label: '4EME' },
  { prefix: '3', mef: '10310019110', label: '3EME' },
];
const CITIES = ['DIGNE-LES-BAINS', 'MANOSQUE', 'SISTERON', 'FORCALQUIER', 'ORAISON', 'GAP', 'BRIANÇON', 'EMBRUN'];
const STAFF_FUNCTIONS: readonly [string, string][] = [
  ['DIR', 'DIRECTION'],
  ['EDU', 'EDUCATION'],
  ['DOC', 'DOCUMENTATION'],
  ['SUR', 'SURVEILLANCE'],
  ['ADF', 'PERSONNELS ADMINISTRATIFS'],
  ['MDS', 'MEDICO-SOCIAL'],
];

/** mulberry32: tiny, fast, good enough for test data, and the same sequence for the same seed (the drill's scenario uses it too). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function xml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&apos;').replace(/"/g, '&quot;');
}

function attr(name: string, values: readonly string[]): string {
  const body = values.length === 0 ? '<value/>' : values.map((v) => (v === '' ? '<value/>' : `<value>${xml(v)}</value>`)).join('');
  return `<attr name="${name}">${body}</attr>\n`;
}

function addRequest(opAttr: string, category: string, id: string, attrs: string): string {
  return `<addRequest>\n<operationalAttributes><attr name="${opAttr}"><value>${category}</value></attr></operationalAttributes>\n<identifier><id>${id}</id></identifier>\n<attributes>\n${attrs}</attributes>\n</addRequest>\n`;
}

/** Writes one file type, rotating to `_0001`, `_0002`… every `maxRecords`, honouring backpressure. */
class FeedWriter {
  private stream: WriteStream | undefined;
  private index = 0;
  private inFile = 0;
  readonly files: string[] = [];
  records = 0;

  constructor(
    private readonly dir: string,
    private readonly name: (index: number) => string,
    private readonly maxRecords: number,
    private readonly encoding: 'UTF-8' | 'ISO-8859-15',
    /** A disabled writer drops records: the random sequence stays the same whichever files are asked for. */
    private readonly enabled = true,
  ) {}

  private encode(s: string): Buffer {
    return this.encoding === 'UTF-8' ? Buffer.from(s, 'utf8') : iconv.encode(s, 'iso-8859-15');
  }

  private async put(s: string): Promise<void> {
    if (!this.stream!.write(this.encode(s))) await once(this.stream!, 'drain');
  }

  async add(record: string): Promise<void> {
    if (!this.enabled) return;
    if (!this.stream || this.inFile >= this.maxRecords) {
      await this.close();
      const file = path.join(this.dir, this.name(this.index++));
      this.files.push(file);
      this.stream = createWriteStream(file);
      this.inFile = 0;
      await this.put(`<?xml version="1.0" encoding="${this.encoding}"?>\n<!DOCTYPE ficAlimMENESR SYSTEM "ficAlimMENESR.dtd">\n<ficAlimMENESR>\n`);
    }
    this.inFile++;
    this.records++;
    await this.put(record);
  }

  async close(): Promise<void> {
    if (!this.stream) return;
    await this.put('</ficAlimMENESR>\n');
    const s = this.stream;
    this.stream = undefined;
    s.end();
    await once(s, 'finish');
  }
}

interface Plan {
  schools: number;
  pupilsPerSchool: number;
  pupilsPerClass: number;
  teachersPerSchool: number;
  staffPerSchool: number;
}

function plan(o: GenAafOptions): Plan {
  const schools = Math.max(1, o.schools ?? (o.people ? Math.max(1, Math.round(o.people / 2500)) : 3));
  const pupilsPerTeacher = o.pupilsPerTeacher ?? 12;
  const staffPerSchool = o.staffPerSchool ?? 6;
  // A pupil brings about 1.36 parents (1–2 each, 70 % two; one in five shares a sibling's) and 1/pupilsPerTeacher of a teacher.
  const perPupil = 1 + 1.36 + 1 / pupilsPerTeacher;
  const pupilsPerSchool = o.people ? Math.max(1, Math.round((o.people / schools - staffPerSchool) / perPupil)) : (o.pupilsPerSchool ?? 60);
  return {
    schools,
    pupilsPerSchool,
    pupilsPerClass: o.pupilsPerClass ?? 28,
    teachersPerSchool: Math.max(2, Math.ceil(pupilsPerSchool / pupilsPerTeacher)),
    staffPerSchool,
  };
}

function classCodes(p: Plan): string[] {
  const count = Math.max(1, Math.ceil(p.pupilsPerSchool / p.pupilsPerClass));
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const level = LEVELS[i % LEVELS.length]!;
    out.push(`${level.prefix}${String.fromCharCode(65 + Math.floor(i / LEVELS.length) % 26)}${i >= LEVELS.length * 26 ? Math.floor(i / (LEVELS.length * 26)) : ''}`);
  }
  return out;
}

function levelOf(code: string): (typeof LEVELS)[number] {
  return LEVELS.find((l) => code.startsWith(l.prefix)) ?? LEVELS[0]!;
}

function pupilClass(p: Plan, classes: readonly string[], indexInSchool: number): string {
  return classes[Math.floor(indexInSchool / p.pupilsPerClass) % classes.length]!;
}

export async function generateAafFeed(dir: string, options: GenAafOptions = {}): Promise<GeneratedFeed> {
  mkdirSync(dir, { recursive: true });
  const p = plan(options);
  const random = rng(options.seed ?? 1);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const date = options.date ?? '20240902';
  const prefix = options.prefix ?? 'ENT';
  const ns = options.jointurePrefix ?? '';
  const uaiStart = options.uaiStart ?? 400_000;
  const maxRecords = options.maxRecordsPerFile ?? 20_000;
  const encoding = options.encoding ?? 'UTF-8';
  const wanted = (t: FeedFileType) => !options.only || options.only.includes(t);
  const writer = (t: FeedFileType) => new FeedWriter(dir, (i) => `${prefix}_Complet_${date}_${t}_${String(i).padStart(4, '0')}.xml`, maxRecords, encoding, wanted(t));
  const etab = writer('EtabEducNat');
  const mat = writer('MatiereEducNat');
  const mef = writer('MefEducNat');
  const eleve = writer('Eleve');
  const rel = writer('PersRelEleve');
  const pen = writer('PersEducNat');
  const classes = classCodes(p);
  const groups = ['LATIN', 'CHORALE', 'ESP-LV2', 'ALL-LV2'];
  const peopleTotal = p.schools * (p.pupilsPerSchool * 2.36 + p.teachersPerSchool + p.staffPerSchool);
  let peopleWritten = 0;
  const progress = () => {
    if (peopleWritten % 5000 === 0) options.onProgress?.(peopleWritten, Math.round(peopleTotal));
  };

  for (const [code, label] of SUBJECTS) await mat.add(addRequest('categorieMatiere', 'MatEducNat', code, attr('ENTMatJointure', [code]) + attr('ENTLibelleMatiere', [label])));
  for (const l of LEVELS) {
    await mef.add(
      addRequest('categorieMef', 'MefEducNat', l.mef, attr('ENTMefJointure', [l.mef]) + attr('ENTLibelleMef', [l.label]) + attr('ENTMEFRattach', [l.mef]) + attr('ENTMEFSTAT11', ['']) + attr('ENTNivFormation', [l.label])),
    );
  }

  let pupilIndex = 0;
  let parentIndex = 0;
  let teacherIndex = 0;
  let staffIndex = 0;
  for (let s = 0; s < p.schools; s++) {
    const sj = `${ns}${jointureOf.school(s)}`;
    const uai = `${String(uaiStart + s).padStart(7, '0')}${String.fromCharCode(65 + (s % 26))}`;
    const city = pick(CITIES);
    await etab.add(
      addRequest(
        'categorieStructure',
        'EtabEducNat',
        sj,
        attr('ENTStructureJointure', [sj]) +
          attr('ENTStructureUAI', [uai]) +
          attr('ENTEtablissementUAI', [uai]) +
          attr('ENTStructureSIREN', ['']) +
          attr('ENTStructureNomCourant', [`COLLEGE$${pick(LAST_NAMES).toUpperCase()}$${city}`]) +
          attr('ENTStructureTypeStruct', ['CLG']) +
          attr('ENTEtablissementContrat', ['PU']) +
          attr('street', [`${1 + Math.floor(random() * 90)} avenue de la République`]) +
          attr('postalCode', ['04000']) +
          attr('l', [city]) +
          attr('telephoneNumber', ['+33 4 92 00 00 00']) +
          attr('ENTServAcAcademie', ['AIX-MARSEILLE']) +
          attr('ENTStructureClasses', classes.map((c) => `${c}$${c}`)) +
          attr('ENTStructureGroupes', groups.map((g) => `${g}$${g}`)),
      ),
    );

    // Pupils and their parents: siblings (one pupil in five) share the previous pupil's parents.
    let lastParents: { jointure: string; link: string }[] = [];
    let lastFamilyName = '';
    for (let k = 0; k < p.pupilsPerSchool; k++) {
      const pj = `${ns}${jointureOf.pupil(pupilIndex++)}`;
      const sibling = k > 0 && random() < 0.2;
      let parents: { jointure: string; link: string }[];
      let family: string;
      if (sibling) {
        parents = lastParents;
        family = lastFamilyName;
      } else {
        family = pick(LAST_NAMES);
        const count = random() < 0.7 ? 2 : 1;
        parents = [];
        for (let n = 0; n < count; n++) {
          const parent = `${ns}${jointureOf.parent(parentIndex++)}`;
          const link = n === 0 ? '10' : '20';
          parents.push({ jointure: parent, link });
          await rel.add(
            addRequest(
              'categoriePersonne',
              'PersRelEleve',
              parent,
              attr('ENTPersonJointure', [parent]) +
                attr('ENTPersonDateNaissance', ['']) +
                attr('ENTPersonNomPatro', [family.toUpperCase()]) +
                attr('sn', [family]) +
                attr('givenName', [pick(FIRST_NAMES)]) +
                attr('personalTitle', [n === 0 ? 'Mme' : 'M.']) +
                attr('homePhone', ['0492000000']) +
                attr('telephoneNumber', ['0600000000']) +
                attr('ENTPersonAdresse', [`${1 + Math.floor(random() * 120)} rue des Écoles`]) +
                attr('ENTPersonCodePostal', ['04100']) +
                attr('ENTPersonVille', [city]) +
                attr('ENTPersonPays', ['FRANCE']),
            ),
          );
          peopleWritten++;
          progress();
        }
      }
      lastParents = parents;
      lastFamilyName = family;
      const cls = pupilClass(p, classes, k);
      const level = levelOf(cls);
      const group = random() < 0.3 ? [`${sj}$${pick(groups)}`] : [];
      await eleve.add(
        addRequest(
          'categoriePersonne',
          'Eleve',
          pj,
          attr('ENTPersonJointure', [pj]) +
            attr('ENTEleveINE', [`${String(100000000 + pupilIndex)}AB`]) +
            attr('ENTPersonDateNaissance', [`${String(1 + (k % 28)).padStart(2, '0')}/0${1 + (k % 9)}/2012`]) +
            attr('ENTPersonNomPatro', [family.toUpperCase()]) +
            attr('sn', [family]) +
            attr('givenName', [pick(FIRST_NAMES)]) +
            attr('personalTitle', [random() < 0.5 ? 'M.' : 'Mme']) +
            attr(
              'ENTElevePersRelEleve',
              parents.map((x, n) => `${x.jointure}$${x.link}$${n === 0 ? 1 : 0}$1$1$${n === 0 ? 1 : 0}`),
            ) +
            attr('ENTEleveBoursier', ['N']) +
            attr('ENTEleveRegime', ['DP DAN LA SEMAINE']) +
            attr('ENTPersonAdresse', ['3 rue des Écoles$$$']) +
            attr('ENTPersonCodePostal', ['04100']) +
            attr('ENTPersonVille', [city]) +
            attr('ENTEleveStatutEleve', ['SCOLAIRE']) +
            attr('ENTEleveMEF', [level.mef]) +
            attr('ENTEleveLibelleMEF', [level.label]) +
            attr('ENTPersonStructRattach', [sj]) +
            attr('ENTEleveClasses', [`${sj}$${cls}`]) +
            attr('ENTEleveGroupes', group),
        ),
      );
      peopleWritten++;
      progress();
    }

    // Teachers: one subject each, a few classes, principal of one class; some teach a group.
    for (let t = 0; t < p.teachersPerSchool; t++) {
      const tj = `${ns}${jointureOf.teacher(teacherIndex++)}`;
      const [subject, subjectLabel] = SUBJECTS[t % SUBJECTS.length]!;
      const taught = new Set<string>();
      const n = Math.min(classes.length, 3 + Math.floor(random() * 4));
      for (let c = 0; c < n; c++) taught.add(classes[(t + c * 3) % classes.length]!);
      const list = [...taught];
      const principal = t < classes.length ? [`${sj}$${classes[t]}`] : [];
      if (principal.length > 0 && !taught.has(classes[t]!)) list.push(classes[t]!);
      const groupTaught = random() < 0.2 ? [pick(groups)] : [];
      await pen.add(
        addRequest(
          'categoriePersonne',
          'PersEducNat',
          tj,
          attr('ENTPersonJointure', [tj]) +
            attr('ENTPersonDateNaissance', ['12/03/1980']) +
            attr('ENTPersonNomPatro', [pick(LAST_NAMES).toUpperCase()]) +
            attr('sn', [pick(LAST_NAMES)]) +
            attr('givenName', [pick(FIRST_NAMES)]) +
            attr('personalTitle', [random() < 0.5 ? 'M.' : 'Mme']) +
            attr('mail', ['']) +
            attr('ENTPersonStructRattach', [sj]) +
            attr('ENTAuxEnsCategoDiscipline', [`13$${subjectLabel}`]) +
            attr('ENTAuxEnsClasses', list.map((c) => `${sj}$${c}`)) +
            attr('ENTAuxEnsGroupes', groupTaught.map((g) => `${sj}$${g}`)) +
            attr('ENTAuxEnsClassesMatieres', list.map((c) => `${sj}$${c}$${subject}`)) +
            attr('ENTAuxEnsGroupesMatieres', groupTaught.map((g) => `${sj}$${g}$${subject}`)) +
            attr('ENTAuxEnsClassesPrincipal', principal) +
            attr('ENTPersonFonctions', [`${sj}$ENS$ENSEIGNEMENT$L1300$${subjectLabel}`]) +
            attr('PersEducNatPresenceDevantEleves', ['O']),
        ),
      );
      peopleWritten++;
      progress();
    }
    for (let k = 0; k < p.staffPerSchool; k++) {
      const stj = `${ns}${jointureOf.staff(staffIndex++)}`;
      const [code, label] = STAFF_FUNCTIONS[k % STAFF_FUNCTIONS.length]!;
      await pen.add(
        addRequest(
          'categoriePersonne',
          'PersEducNat',
          stj,
          attr('ENTPersonJointure', [stj]) +
            attr('ENTPersonDateNaissance', ['01/02/1975']) +
            attr('sn', [pick(LAST_NAMES)]) +
            attr('givenName', [pick(FIRST_NAMES)]) +
            attr('personalTitle', ['Mme']) +
            attr('ENTPersonStructRattach', [sj]) +
            attr('ENTAuxEnsClasses', ['']) +
            attr('ENTAuxEnsClassesMatieres', ['']) +
            attr('ENTPersonFonctions', [`${sj}$${code}$${label}$$`]) +
            attr('PersEducNatPresenceDevantEleves', ['N']),
        ),
      );
      peopleWritten++;
      progress();
    }
  }
  const all = [etab, mat, mef, rel, eleve, pen];
  for (const w of all) await w.close();
  options.onProgress?.(peopleWritten, peopleWritten);
  return {
    dir,
    files: all.flatMap((w) => w.files),
    counts: {
      schools: wanted('EtabEducNat') ? p.schools : 0,
      subjects: mat.records,
      mefs: mef.records,
      classes: p.schools * classes.length,
      groups: p.schools * groups.length,
      pupils: pupilIndex,
      parents: parentIndex,
      teachers: teacherIndex,
      staff: staffIndex,
      people: pupilIndex + parentIndex + teacherIndex + staffIndex,
      records: all.reduce((s, w) => s + w.records, 0),
    },
  };
}

/**
 * A delta file for a feed generated with the same options: some pupils get a new last name and
 * move to another class (modifyRequest), others leave (deleteRequest).
 */
export async function generateAafDelta(dir: string, options: GenAafOptions, delta: DeltaOptions): Promise<GeneratedDelta> {
  mkdirSync(dir, { recursive: true });
  const p = plan(options);
  const classes = classCodes(p);
  const random = rng((options.seed ?? 1) ^ 0x5eed);
  const total = p.schools * p.pupilsPerSchool;
  const modifyCount = Math.min(delta.modifyPupils ?? 0, total);
  const deleteCount = Math.min(delta.deletePupils ?? 0, total - modifyCount);
  const file = path.join(dir, `${options.prefix ?? 'ENT'}_Delta_${delta.date ?? '20240915'}_Eleve_0000.xml`);
  const w = new FeedWriter(dir, () => path.basename(file), Number.MAX_SAFE_INTEGER, options.encoding ?? 'UTF-8');
  const out: GeneratedDelta = { file, modified: [], deleted: [] };
  // Spread over the whole feed, deterministically: every step-th pupil.
  const step = Math.max(1, Math.floor(total / Math.max(1, modifyCount + deleteCount)));
  for (let n = 0; n < modifyCount + deleteCount; n++) {
    const i = n * step;
    const j = jointureOf.pupil(i);
    const structure = jointureOf.school(Math.floor(i / p.pupilsPerSchool));
    const op = `<operationalAttributes><attr name="categoriePersonne"><value>Eleve</value></attr></operationalAttributes>\n<identifier><id>${j}</id></identifier>\n`;
    if (n < modifyCount) {
      const current = pupilClass(p, classes, i % p.pupilsPerSchool);
      const others = classes.filter((c) => c !== current);
      const classCode = others.length > 0 ? others[Math.floor(random() * others.length)]! : current;
      const lastName = `${LAST_NAMES[Math.floor(random() * LAST_NAMES.length)]!}-Modifié`;
      await w.add(
        `<modifyRequest>\n${op}<modifications>\n<modification name="sn" operation="replace"><value>${xml(lastName)}</value></modification>\n<modification name="ENTEleveClasses" operation="replace"><value>${structure}$${xml(classCode)}</value></modification>\n</modifications>\n</modifyRequest>\n`,
      );
      out.modified.push({ jointure: j, lastName, classCode, structure });
    } else {
      await w.add(`<deleteRequest>\n${op}</deleteRequest>\n`);
      out.deleted.push(j);
    }
  }
  await w.close();
  return out;
}

function parseArgs(argv: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) continue;
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('--')) out[a.slice(2)] = 'true';
    else {
      out[a.slice(2)] = next;
      i++;
    }
  }
  return out;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const out = args.out;
  if (!out) {
    console.error('usage : tsx tools/gen-aaf.ts --out <dossier> [--people 100000] [--schools N] [--pupils-per-school N] [--seed N] [--encoding UTF-8|ISO-8859-15] [--delta-modify N] [--delta-delete N]');
    process.exitCode = 2;
    return;
  }
  const num = (k: string) => (args[k] !== undefined ? Number(args[k]) : undefined);
  const options: GenAafOptions = {
    people: num('people'),
    schools: num('schools'),
    pupilsPerSchool: num('pupils-per-school'),
    seed: num('seed'),
    encoding: args.encoding === 'ISO-8859-15' ? 'ISO-8859-15' : 'UTF-8',
    onProgress: (done, total) => process.stderr.write(`\rgénération : ${done} / ~${total} personnes`),
  };
  const feed = await generateAafFeed(out, options);
  process.stderr.write('\n');
  console.log(JSON.stringify(feed.counts));
  if (args['delta-modify'] || args['delta-delete']) {
    const d = await generateAafDelta(out, options, { modifyPupils: num('delta-modify'), deletePupils: num('delta-delete') });
    console.log(`delta : ${d.file} (${d.modified.length} modifications, ${d.deleted.length} suppressions)`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
