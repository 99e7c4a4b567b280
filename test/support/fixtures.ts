import { hash } from '@node-rs/argon2';
import type { Kysely } from 'kysely';
import { ARGON2_OPTIONS } from '../../src/modules/identity/password-hasher.js';
import { addDays, parisDate, parisWallTimeToUtcMs, type Clock } from '../../src/platform/clock.js';
import type { Database, PersonStatus, Profile, StaffFunction } from '../../src/storage/schema.js';

export const FIXTURE_PASSWORD = 'Cartable-Bleu-2026';

let passwordHash: Promise<string> | undefined;
const sharedHash = () => (passwordHash ??= hash(FIXTURE_PASSWORD, ARGON2_OPTIONS));

/**
 * Two schools with every profile and relation the policies talk about. Names are the keys
 * the authorisation matrix refers to.
 */
export const PEOPLE = [
  'pupilA1', 'pupilA2', 'pupilB1', 'pupilOther', 'parentA1', 'parentB1', 'teacherA', 'teacherB', 'teacherOther',
  'cpeA', 'directionA', 'adminA', 'platformAdmin', 'departedPupil', 'pendingPupil',
] as const;
export type PersonKey = (typeof PEOPLE)[number];

export interface Fixture {
  schoolA: string;
  schoolB: string;
  class6A: string;
  class6B: string;
  class5C: string;
  groupLatin: string;
  subjectMaths: string;
  people: Record<PersonKey, { id: string; login: string }>;
  /** Cahier de textes entries (see the seed below). */
  homework: { maths6A: string; draft6A: string; latin: string; b6: string };
  /** Messagerie: teacher A's message to the parents of 6e A (delivered to parent A1), and a draft of theirs. */
  messages: { parents6A: string; draftTeacherA: string };
  /** Actualités: the direction's school news asking for acknowledgement (published the evening before), teacher A's draft for 6e A. */
  news: { schoolA: string; draft6A: string };
}

export async function seedFixture(db: Kysely<Database>, clock: Clock): Promise<Fixture> {
  const now = clock.nowMs();
  const pw = await sharedHash();
  await db.insertInto('schools').values([
    { id: 'schoolA', uai: '0750001A', aaf_jointure: 'SA', name: 'Collège Lucie Aubrac', kind: 'COLLEGE', academie: 'PARIS', created_at: now, updated_at: now },
    { id: 'schoolB', uai: '0750002B', aaf_jointure: 'SB', name: 'Collège Jean Zay', kind: 'COLLEGE', academie: 'PARIS', created_at: now, updated_at: now },
  ]).execute();
  await db.insertInto('classes').values([
    { id: 'class6A', school_id: 'schoolA', code: '6A', name: '6e A', mef_code: '10010012110', created_at: now },
    { id: 'class6B', school_id: 'schoolA', code: '6B', name: '6e B', mef_code: '10010012110', created_at: now },
    { id: 'class5C', school_id: 'schoolB', code: '5C', name: '5e C', mef_code: null, created_at: now },
  ]).execute();
  await db.insertInto('teaching_groups').values({ id: 'groupLatin', school_id: 'schoolA', code: 'LATIN', name: 'Latin', created_at: now }).execute();
  await db.insertInto('subjects').values([{ id: 'subjectMaths', code: '061300', label: 'MATHEMATIQUES' }]).execute();

  const people: Record<string, { id: string; login: string }> = {};
  const person = async (key: PersonKey, profile: Profile, school: string | null, opts: { fn?: StaffFunction; status?: PersonStatus } = {}) => {
    const login = key.toLowerCase();
    const status = opts.status ?? 'active';
    await db.insertInto('people').values({
      id: key, aaf_jointure: `J-${key}`, profile, staff_function: opts.fn ?? null, login, first_name: key, last_name: 'Fixture',
      title: null, password_hash: status === 'active' ? pw : null, status, school_id: school, mef_code: null,
      departed_at: status === 'departed' ? now : null, created_at: now, updated_at: now,
    }).execute();
    if (school) await db.insertInto('school_members').values({ school_id: school, person_id: key }).execute();
    people[key] = { id: key, login };
  };
  await person('pupilA1', 'eleve', 'schoolA');
  await person('pupilA2', 'eleve', 'schoolA');
  await person('pupilB1', 'eleve', 'schoolA');
  await person('pupilOther', 'eleve', 'schoolB');
  await person('parentA1', 'parent', null);
  await person('parentB1', 'parent', null);
  await person('teacherA', 'enseignant', 'schoolA');
  await person('teacherB', 'enseignant', 'schoolA');
  await person('teacherOther', 'enseignant', 'schoolB');
  await person('cpeA', 'personnel', 'schoolA', { fn: 'cpe' });
  await person('directionA', 'personnel', 'schoolA', { fn: 'direction' });
  await person('adminA', 'admin_etablissement', 'schoolA');
  await person('platformAdmin', 'admin_plateforme', null);
  await person('departedPupil', 'eleve', 'schoolA', { status: 'departed' });
  await person('pendingPupil', 'eleve', 'schoolA', { status: 'pending_activation' });

  await db.insertInto('class_enrolments').values([
    { class_id: 'class6A', person_id: 'pupilA1' },
    { class_id: 'class6A', person_id: 'pupilA2' },
    { class_id: 'class6B', person_id: 'pupilB1' },
    { class_id: 'class5C', person_id: 'pupilOther' },
    { class_id: 'class6A', person_id: 'departedPupil' },
    { class_id: 'class6A', person_id: 'pendingPupil' },
  ]).execute();
  await db.insertInto('group_members').values({ group_id: 'groupLatin', person_id: 'pupilA1' }).execute();
  await db.insertInto('teachings').values([
    { id: 't1', teacher_id: 'teacherA', class_id: 'class6A', group_id: null, subject_id: 'subjectMaths', principal: 1 },
    { id: 't2', teacher_id: 'teacherA', class_id: null, group_id: 'groupLatin', subject_id: null, principal: 0 },
    { id: 't3', teacher_id: 'teacherB', class_id: 'class6B', group_id: null, subject_id: 'subjectMaths', principal: 0 },
    { id: 't4', teacher_id: 'teacherOther', class_id: 'class5C', group_id: null, subject_id: 'subjectMaths', principal: 0 },
  ]).execute();
  await db.insertInto('guardianships').values([
    { parent_id: 'parentA1', child_id: 'pupilA1', legal_guardian: 1, relation: 'MERE' },
    { parent_id: 'parentB1', child_id: 'pupilB1', legal_guardian: 1, relation: 'PERE' },
  ]).execute();

  const day = parisDate(now);
  await db.insertInto('timetable_slots').values([
    { id: 'slot6A', school_id: 'schoolA', class_id: 'class6A', group_id: null, teacher_id: 'teacherA', subject_id: 'subjectMaths', starts_at: parisWallTimeToUtcMs(day, 8, 30), ends_at: parisWallTimeToUtcMs(day, 9, 25), room: 'B12', status: 'normal', note: null },
    { id: 'slotLatin', school_id: 'schoolA', class_id: null, group_id: 'groupLatin', teacher_id: 'teacherA', subject_id: null, starts_at: parisWallTimeToUtcMs(day, 10, 30), ends_at: parisWallTimeToUtcMs(day, 11, 25), room: null, status: 'annule', note: 'Professeur absent' },
    { id: 'slot6B', school_id: 'schoolA', class_id: 'class6B', group_id: null, teacher_id: 'teacherB', subject_id: 'subjectMaths', starts_at: parisWallTimeToUtcMs(day, 8, 30), ends_at: parisWallTimeToUtcMs(day, 9, 25), room: 'B14', status: 'normal', note: null },
  ]).execute();

  // The cahier de textes, posted "the evening before" (20:00): maths work for 6e A due tomorrow
  // 8:00 to hand in online, a draft nobody but its author sees, a Latin lesson (séance) today, and
  // 6e B's work due today.
  const evening = parisWallTimeToUtcMs(addDays(day, -1), 20);
  const entry = (id: string, o: Partial<Database['homework_entries']>): Database['homework_entries'] => ({
    id, school_id: 'schoolA', teacher_id: 'teacherA', class_id: 'class6A', group_id: null, subject_id: 'subjectMaths', kind: 'travail', title: id,
    body_html: '<p>Exercices 1 à 4 p. 52</p>', links: '[]', on_date: addDays(day, 1), due_at: parisWallTimeToUtcMs(addDays(day, 1), 8), estimated_minutes: 30,
    online_handin: 0, publish_at: evening, copied_from: null, created_at: evening, updated_at: evening, deleted_at: null, ...o,
  });
  await db.insertInto('homework_entries').values([
    entry('hwMaths6A', { title: 'Fractions : exercices 1 à 4', online_handin: 1 }),
    entry('hwDraft6A', { title: 'Contrôle (brouillon)', publish_at: null }),
    entry('hwLatin', { class_id: null, group_id: 'groupLatin', subject_id: null, kind: 'seance', title: 'Déclinaisons', on_date: day, due_at: null, estimated_minutes: null }),
    entry('hw6B', { teacher_id: 'teacherB', class_id: 'class6B', on_date: day, due_at: parisWallTimeToUtcMs(day, 17), online_handin: 1, title: 'Rédaction' }),
  ]).execute();

  const message = (id: string, o: Partial<Database['messages']>): Database['messages'] => ({
    id, thread_id: id, in_reply_to: null, sender_id: 'teacherA', subject: 'Sortie au musée', body_html: '<p>Merci de signer l’autorisation.</p>',
    search_text: 'sortie au musee merci de signer l’autorisation.', to_json: JSON.stringify([{ kind: 'class', id: 'class6A', audience: 'parents', name: '6e A' }]), cc_json: '[]',
    created_at: evening, updated_at: evening, sent_at: evening, sender_deleted_at: null, ...o,
  });
  await db.insertInto('messages').values([message('msgParents6A', {}), message('msgDraftTeacherA', { subject: 'Brouillon', sent_at: null, to_json: '[]' })]).execute();
  await db.insertInto('message_recipients').values({ message_id: 'msgParents6A', person_id: 'parentA1', kind: 'to', sent_at: evening, read_at: null, deleted_at: null }).execute();

  const news = (id: string, o: Partial<Database['news']>): Database['news'] => ({
    id, school_id: 'schoolA', author_id: 'directionA', audience_kind: 'school', audience_id: 'schoolA', audience_name: 'Collège Lucie Aubrac', headline: 'Rentrée : horaires',
    body_html: '<p>Le collège ouvre à 7 h 45.</p>', publish_from: evening, publish_until: null, pinned: 0, requires_ack: 1, created_at: evening, updated_at: evening,
    edited_at: null, withdrawn_at: null, ...o,
  });
  await db.insertInto('news').values([
    news('newsSchoolA', {}),
    news('newsDraft6A', { author_id: 'teacherA', audience_kind: 'class', audience_id: 'class6A', audience_name: '6e A', headline: 'Sortie (brouillon)', publish_from: null, requires_ack: 0 }),
  ]).execute();

  return {
    news: { schoolA: 'newsSchoolA', draft6A: 'newsDraft6A' },
    messages: { parents6A: 'msgParents6A', draftTeacherA: 'msgDraftTeacherA' },
    homework: { maths6A: 'hwMaths6A', draft6A: 'hwDraft6A', latin: 'hwLatin', b6: 'hw6B' },
    schoolA: 'schoolA', schoolB: 'schoolB', class6A: 'class6A', class6B: 'class6B', class5C: 'class5C', groupLatin: 'groupLatin', subjectMaths: 'subjectMaths',
    people: people as Fixture['people'],
  };
}

/**
 * `count` more active pupils of 6e A in school A, logins `${prefix}${i}`, sharing the fixture's
 * password (one hash, computed once): crowds for the edge's tests.
 */
export async function addPupils(db: Kysely<Database>, clock: Clock, count: number, prefix: string): Promise<string[]> {
  const now = clock.nowMs();
  const pw = await sharedHash();
  const rows = Array.from({ length: count }, (_, i) => ({
    id: `${prefix}-${i}`, aaf_jointure: `J-${prefix}-${i}`, profile: 'eleve' as const, staff_function: null, login: `${prefix}${i}`, first_name: `Élève${i}`, last_name: 'Foule',
    title: null, password_hash: pw, status: 'active' as const, school_id: 'schoolA', mef_code: null, departed_at: null, created_at: now, updated_at: now,
  }));
  for (let i = 0; i < rows.length; i += 200) {
    const chunk = rows.slice(i, i + 200);
    await db.insertInto('people').values(chunk).execute();
    await db.insertInto('school_members').values(chunk.map((r) => ({ school_id: 'schoolA', person_id: r.id }))).execute();
    await db.insertInto('class_enrolments').values(chunk.map((r) => ({ class_id: 'class6A', person_id: r.id }))).execute();
  }
  return rows.map((r) => r.login);
}
