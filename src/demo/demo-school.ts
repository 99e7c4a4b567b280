/**
 * The demo collège created by `npm start` on an empty database: real subjects from the
 * anonymised AAF samples (samples/aaf/), a generated collège (pupils, parents, teachers, staff,
 * classes) imported through the real AAF importer, demo passwords for one person per profile,
 * a timetable for the current week, a school-year calendar, and a cahier de textes posted "the
 * evening before" (work due today and tomorrow, one to hand in online with a PDF). Starting again
 * keeps the data (and tops up the timetable and the cahier when a new week or day has begun).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Preau } from '../compose.js';
import { addDays, parisDate, parisMonday, parisWallTimeToUtcMs } from '../platform/clock.js';
import { newId } from '../platform/ids.js';
import { chunkForInsert } from '../storage/db.js';
import type { Database, Profile } from '../storage/schema.js';
import { importAafFeed } from '../modules/schools/aaf/aaf.importer.js';
import { generateAafFeed } from '../../tools/gen-aaf.js';

/** Public on purpose: this is a demo school with invented people. */
export const DEMO_PASSWORD = 'preau-demo-2026';
const DEMO_MARKER = 'demo_school';
const DEMO_SEED = 2021_04_06;

export interface DemoLogin {
  profile: string;
  login: string;
  password: string;
}

interface DemoMarker {
  schoolId: string;
  logins: DemoLogin[];
}

/** samples/aaf/, found from the source tree (tsx) or the build (dist/src/demo). */
function samplesDir(): string | undefined {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const up of ['../..', '../../..']) {
    const dir = path.resolve(here, up, 'samples/aaf');
    if (existsSync(dir)) return dir;
  }
  return undefined;
}

export async function ensureDemoSchool(preau: Preau): Promise<DemoLogin[]> {
  const { db } = preau.storage;
  const marker = await db.selectFrom('settings').select('value').where('key', '=', DEMO_MARKER).executeTakeFirst();
  if (marker) {
    const demo = JSON.parse(marker.value) as DemoMarker;
    await ensureWeekTimetable(preau, demo.schoolId);
    await ensureDemoCahier(preau, demo.schoolId);
    await ensureDemoNews(preau, demo.schoolId);
    return demo.logins;
  }
  const anyone = await db.selectFrom('people').select('id').limit(1).executeTakeFirst();
  if (anyone) return []; // A real deployment: never add invented people to it.

  preau.logger.info('base vide : création du collège de démonstration');
  const work = mkdtempSync(path.join(tmpdir(), 'preau-demo-'));
  try {
    const samples = samplesDir();
    const realSubjects = samples ? path.join(samples, 'academie-2013/FULL_ENTTSSERVICES_Complet_20130117_MatiereEducNat_0000.xml') : undefined;
    await generateAafFeed(work, { schools: 1, pupilsPerSchool: 200, pupilsPerClass: 25, seed: DEMO_SEED, prefix: 'DEMO' });
    const files = [...(realSubjects && existsSync(realSubjects) ? [realSubjects] : [])];
    await importAafFeed(preau.storage, [...files, work], { clock: preau.clock, logger: preau.logger });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }

  const school = await db.selectFrom('schools').select(['id', 'name']).orderBy('uai').executeTakeFirstOrThrow();
  const now = preau.clock.nowMs();
  const demoName = 'Collège Lucie Aubrac (démonstration)';
  await db.updateTable('schools').set({ name: demoName, updated_at: now }).where('id', '=', school.id).execute();

  const passwordHash = await preau.hasher.hash(DEMO_PASSWORD);
  const logins: DemoLogin[] = [];
  const activate = async (personId: string, label: string) => {
    const p = await db.updateTable('people').set({ password_hash: passwordHash, status: 'active', updated_at: now }).where('id', '=', personId).returning('login').executeTakeFirstOrThrow();
    logins.push({ profile: label, login: p.login, password: DEMO_PASSWORD });
  };

  // A pupil with a legal guardian and a class that has teachers: the journey every profile can follow.
  const pupil = await db
    .selectFrom('people as p')
    .innerJoin('guardianships as g', 'g.child_id', 'p.id')
    .innerJoin('class_enrolments as e', 'e.person_id', 'p.id')
    .innerJoin('teachings as t', 't.class_id', 'e.class_id')
    .select(['p.id', 'g.parent_id', 't.teacher_id'])
    .where('p.profile', '=', 'eleve')
    .where('g.legal_guardian', '=', 1)
    .orderBy('p.login')
    .executeTakeFirstOrThrow();
  await activate(pupil.id, 'Élève');
  await activate(pupil.parent_id, 'Parent');
  await activate(pupil.teacher_id, 'Enseignant');
  for (const [fn, label] of [['direction', 'Personnel (direction)'], ['cpe', 'Personnel (CPE)']] as const) {
    const staff = await db.selectFrom('people').select('id').where('staff_function', '=', fn).where('school_id', '=', school.id).orderBy('login').executeTakeFirst();
    if (staff) await activate(staff.id, label);
  }
  for (const [profile, login, label, first, last] of [
    ['admin_etablissement', 'admin.college', 'Administrateur d’établissement', 'Camille', 'Admin'],
    ['admin_plateforme', 'admin.plateforme', 'Administrateur de la plateforme', 'Dominique', 'Exploitant'],
  ] as const satisfies readonly (readonly [Profile, string, string, string, string])[]) {
    const id = newId();
    await db
      .insertInto('people')
      .values({ id, aaf_jointure: null, profile, staff_function: null, login, first_name: first, last_name: last, title: null, password_hash: passwordHash, status: 'active', school_id: profile === 'admin_etablissement' ? school.id : null, mef_code: null, departed_at: null, created_at: now, updated_at: now })
      .execute();
    if (profile === 'admin_etablissement') await db.insertInto('school_members').values({ school_id: school.id, person_id: id }).execute();
    logins.push({ profile: label, login, password: DEMO_PASSWORD });
  }

  await ensureWeekTimetable(preau, school.id);
  await ensureDemoCahier(preau, school.id);
  await ensureDemoNews(preau, school.id);
  const value: DemoMarker = { schoolId: school.id, logins };
  await db.insertInto('settings').values({ key: DEMO_MARKER, value: JSON.stringify(value) }).execute();
  preau.schools.forgetScopes();
  return logins;
}

/** Hours of a collège day (Paris time); Wednesday afternoon is free. */
const HOURS: readonly [number, number][] = [[8, 0], [9, 0], [10, 15], [11, 15], [13, 30], [14, 30], [15, 30]];

/**
 * This week's lessons for every class of the demo school, from its teachings, with no teacher in
 * two places at once; one lesson today is cancelled and one moved, as on a real morning.
 */
export async function ensureWeekTimetable(preau: Preau, schoolId: string): Promise<number> {
  const { db } = preau.storage;
  const monday = parisMonday(preau.clock.nowMs());
  const weekStart = parisWallTimeToUtcMs(monday, 0);
  const weekEnd = parisWallTimeToUtcMs(addDays(monday, 7), 0);
  const existing = await db.selectFrom('timetable_slots').select('id').where('school_id', '=', schoolId).where('starts_at', '>=', weekStart).where('starts_at', '<', weekEnd).limit(1).executeTakeFirst();
  if (existing) return 0;

  const teachings = await db
    .selectFrom('teachings as t')
    .innerJoin('classes as c', 'c.id', 't.class_id')
    .select(['t.class_id', 't.teacher_id', 't.subject_id'])
    .where('c.school_id', '=', schoolId)
    .orderBy('c.code')
    .orderBy('t.id')
    .execute();
  const byClass = new Map<string, { teacher_id: string; subject_id: string | null }[]>();
  for (const t of teachings) {
    if (!t.class_id) continue;
    const list = byClass.get(t.class_id) ?? [];
    list.push({ teacher_id: t.teacher_id, subject_id: t.subject_id });
    byClass.set(t.class_id, list);
  }

  const rows: Database['timetable_slots'][] = [];
  const busy = new Set<string>();
  const todayDate = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Paris' }).format(preau.clock.nowMs());
  let classIndex = 0;
  for (const [classId, list] of byClass) {
    let next = classIndex++;
    for (let day = 0; day < 5; day++) {
      const date = addDays(monday, day);
      HOURS.forEach(([h, m], slotIndex) => {
        if (day === 2 && h >= 12) return;
        // The first teaching whose teacher is free at this hour; none free: a study period (no slot).
        for (let tries = 0; tries < list.length; tries++) {
          const t = list[(next + tries) % list.length]!;
          const key = `${t.teacher_id}@${date}@${slotIndex}`;
          if (busy.has(key)) continue;
          busy.add(key);
          next += tries + 1;
          const startsAt = parisWallTimeToUtcMs(date, h, m);
          rows.push({
            id: newId(), school_id: schoolId, class_id: classId, group_id: null, teacher_id: t.teacher_id, subject_id: t.subject_id,
            starts_at: startsAt, ends_at: startsAt + 55 * 60_000, room: `B${100 + ((classIndex * 7 + slotIndex) % 30)}`, status: 'normal', note: null,
          });
          return;
        }
      });
    }
  }
  const today = rows.filter((r) => new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Paris' }).format(r.starts_at) === todayDate);
  if (today[1]) Object.assign(today[1], { status: 'annule', note: 'Absence du professeur' });
  if (today[3]) Object.assign(today[3], { status: 'modifie', note: 'Salle changée : CDI', room: 'CDI' });
  for (const chunk of chunkForInsert(rows, 11, preau.storage.capabilities)) await preau.timetable.insertSlots(chunk);
  return rows.length;
}

/** A one-page PDF, written by hand: the demo's "énoncé" attachment. */
function demoPdf(title: string): Buffer {
  const text = title.replace(/[()\\]/g, '');
  const stream = `BT /F1 18 Tf 72 720 Td (${text}) Tj ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let body = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((o, i) => {
    offsets.push(body.length);
    body += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = body.length;
  body += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  body += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(body, 'latin1');
}

/**
 * The school-year calendar (weeks A/B, the usual holidays) and, for each class, work posted by its
 * teachers the evening before: a séance today, work due today, and work due tomorrow to hand in
 * online with a PDF. Added once per day (when nothing is due from today on yet).
 */
export async function ensureDemoCahier(preau: Preau, schoolId: string): Promise<number> {
  const { db } = preau.storage;
  const now = preau.clock.nowMs();
  const today = parisDate(now);
  const year = Number(today.slice(0, 4)) - (Number(today.slice(5, 7)) < 8 ? 1 : 0);
  const calendar = await db.selectFrom('school_calendars').select('school_id').where('school_id', '=', schoolId).executeTakeFirst();
  if (!calendar) {
    const start = `${year}-09-01`;
    await db.insertInto('school_calendars').values({ school_id: schoolId, year_start: start, year_end: `${year + 1}-07-04`, week_a_monday: parisMonday(parisWallTimeToUtcMs(start, 12)), updated_at: now }).execute();
    await db.insertInto('school_holidays').values([
      { id: `${schoolId}-h0`, school_id: schoolId, label: 'Vacances de la Toussaint', first_day: `${year}-10-17`, last_day: `${year}-11-01` },
      { id: `${schoolId}-h1`, school_id: schoolId, label: 'Vacances de Noël', first_day: `${year}-12-19`, last_day: `${year + 1}-01-03` },
    ]).execute();
  }
  const due = await db.selectFrom('homework_entries').select('id').where('school_id', '=', schoolId).where('on_date', '>=', today).limit(1).executeTakeFirst();
  if (due) return 0;
  const teachings = await db
    .selectFrom('teachings as t')
    .innerJoin('classes as c', 'c.id', 't.class_id')
    .leftJoin('subjects as s', 's.id', 't.subject_id')
    .select(['t.class_id', 't.teacher_id', 't.subject_id', 's.label'])
    .where('c.school_id', '=', schoolId)
    .orderBy('c.code')
    .orderBy('t.id')
    .execute();
  const byClass = new Map<string, typeof teachings>();
  for (const t of teachings) if (t.class_id) byClass.set(t.class_id, [...(byClass.get(t.class_id) ?? []), t]);
  const evening = parisWallTimeToUtcMs(addDays(today, -1), 19, 30);
  const tomorrow = addDays(today, 1);
  const pdf = demoPdf('Fiche d exercices - a rendre en ligne');
  const stored = await preau.blobs.put([pdf], { maxBytes: pdf.length });
  await db.insertInto('blobs').values({ sha256: stored.sha256, size_bytes: stored.sizeBytes, crc32: stored.crc32, content_type: 'application/pdf', created_at: now }).onConflict((oc) => oc.column('sha256').doNothing()).execute();
  const rows: Database['homework_entries'][] = [];
  const attachments: Database['homework_attachments'][] = [];
  for (const [classId, list] of byClass) {
    const [first, second, third] = list;
    const entry = (t: (typeof list)[number], o: Partial<Database['homework_entries']>): Database['homework_entries'] => ({
      id: newId(), school_id: schoolId, teacher_id: t.teacher_id, class_id: classId, group_id: null, subject_id: t.subject_id, kind: 'travail', title: '', body_html: '',
      links: '[]', on_date: tomorrow, due_at: parisWallTimeToUtcMs(tomorrow, 8), estimated_minutes: 30, online_handin: 0, publish_at: evening, copied_from: null,
      created_at: evening, updated_at: evening, deleted_at: null, ...o,
    });
    if (first) {
      const e = entry(first, {
        title: 'Exercices de la fiche, à rendre en ligne', online_handin: 1, estimated_minutes: 45,
        body_html: '<p>Faire les exercices <strong>1 à 4</strong> de la fiche jointe. Rendez une photo lisible de votre copie ou un fichier.</p>',
      });
      rows.push(e);
      attachments.push({ id: newId(), entry_id: e.id, blob_sha256: stored.sha256, file_name: 'fiche-exercices.pdf', size_bytes: stored.sizeBytes, content_type: 'application/pdf', created_at: evening });
    }
    if (second) rows.push(entry(second, { title: 'Relire la leçon et apprendre le vocabulaire', on_date: today, due_at: parisWallTimeToUtcMs(today, 8), estimated_minutes: 20, body_html: '<p>Relire la leçon du jour ; apprendre les mots de la liste.</p>' }));
    if (third) rows.push(entry(third, { kind: 'seance', title: 'Séance du jour', on_date: today, due_at: null, estimated_minutes: null, body_html: '<p>Correction de l’évaluation, puis début du chapitre suivant.</p>' }));
  }
  for (const chunk of chunkForInsert(rows, 19, preau.storage.capabilities)) await db.insertInto('homework_entries').values(chunk).execute();
  for (const chunk of chunkForInsert(attachments, 7, preau.storage.capabilities)) await db.insertInto('homework_attachments').values(chunk).execute();
  return rows.length;
}

/**
 * One school news from the direction, pinned and asking for "j'ai pris connaissance", written
 * through the actualités' own rules (once: a school that has news keeps them).
 */
export async function ensureDemoNews(preau: Preau, schoolId: string): Promise<boolean> {
  const { db } = preau.storage;
  if (await db.selectFrom('news').select('id').where('school_id', '=', schoolId).limit(1).executeTakeFirst()) return false;
  const direction = await db.selectFrom('people').select('id').where('staff_function', '=', 'direction').where('school_id', '=', schoolId).where('status', '=', 'active').orderBy('login').executeTakeFirst();
  if (!direction) return false;
  await preau.news.create(await preau.schools.scopeOf(direction.id), {
    audience: { kind: 'school', id: schoolId },
    headline: 'Bienvenue sur Préau',
    bodyHtml: '<p>Votre emploi du temps, le cahier de textes et les actualités du collège sont ici, même les jours de forte affluence.</p><p>Merci d’indiquer que vous avez pris connaissance de ce message.</p>',
    publishFrom: 'now',
    pinned: true,
    requiresAck: true,
  });
  return true;
}
