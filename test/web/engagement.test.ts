/**
 * Suivi du décrochage in a real chromium against a real Préau (fixture school, 6e A): after a
 * simulated school day — pupil A2 never connected, pupil A1 handed in the maths work late, a pupil
 * of 6e A missed the virtual classes (reported through the engagement port the classroom module
 * will call) — the teacher opens "Suivi": the pupils of concern come first with the rule stated,
 * sortable columns, links to write to a pupil and to the parents through the messagerie's form.
 * axe-core on the screen, and on a phone's width nothing overflows the page.
 */
import { describe, expect, it } from 'vitest';
import { parisWallTimeToUtcMs } from '../../src/platform/clock.js';
import { chromiumAvailable, expectAccessible, horizontalOverflow, signInThroughPage } from '../support/browser.js';
import { servedBrowserSuite } from '../support/browser-suite.js';
import { addPupils, FIXTURE_PASSWORD } from '../support/fixtures.js';
import { JPEG_BYTES, multipart } from '../support/multipart.js';

const enabled = chromiumAvailable();
const at = (day: string, hour: number) => parisWallTimeToUtcMs(day, hour);

describe.skipIf(!enabled)('suivi du décrochage in chromium', () => {
  const suite = servedBrowserSuite();

  it('the teacher’s view of 6e A after a simulated day: concern first, rules stated, write to the pupil or the parents', async () => {
    const { clock } = suite.server;
    const preau = suite.server.current();
    const db = preau.storage.db;
    await db.insertInto('school_calendars').values({ school_id: 'schoolA', year_start: '2026-09-01', year_end: '2027-07-03', week_a_monday: '2026-09-07', updated_at: 0 }).execute();
    const [absentee] = await addPupils(db, clock, 1, 'suivi');
    // Tuesday 9:00: pupil A1 hands in the maths work due at 8:00 (late), through the API.
    clock.set(at('2026-09-08', 9));
    const login = await preau.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { login: 'pupila1', password: FIXTURE_PASSWORD, remember: false } });
    const cookie = login.cookies.find((c) => c.name.endsWith('preau_session'))!;
    const body = multipart([{ name: 'files', file: { fileName: 'photo.jpg', data: JPEG_BYTES } }]);
    const handin = await preau.app.inject({
      method: 'POST', url: '/api/v1/homework/hwMaths6A/handins', payload: body.payload,
      headers: { ...body.headers, cookie: `${cookie.name}=${cookie.value}`, 'x-csrf-token': login.json<{ csrfToken: string }>().csrfToken },
    });
    expect(handin.statusCode, handin.body).toBe(201);
    // Two virtual classes of 6e A (Tuesday, Wednesday): pupil A1 attends both; the new pupil connects every day but joins neither.
    for (const [id, day] of [['vc-tue', '2026-09-08'], ['vc-wed', '2026-09-09']] as const) {
      await preau.engagement.recordClassSession({ sessionId: id, schoolId: 'schoolA', classId: 'class6A', groupId: null, startsAt: at(day, 10) });
      await preau.engagement.recordClassAttendance({ pupilId: 'pupilA1', sessionId: id, joinedAt: at(day, 10), minutes: 50, audioOnly: false });
      preau.engagementRecorder!.seen(`suivi-0`, at(day, 9));
      preau.engagementRecorder!.seen('pupilA1', at(day, 11));
    }
    await preau.engagementRecorder!.flush();
    expect(absentee).toBe('suivi0');
    // Wednesday after school.
    clock.set(at('2026-09-09', 18));

    const browser = await suite.open({ viewport: { width: 390, height: 800 } });
    const page = browser.page;
    await signInThroughPage(page, suite.server.origin, 'teachera');
    await page.getByRole('link', { name: 'Suivi', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Suivi des élèves' }).waitFor();
    const table = page.getByTestId('engagement-table');
    await table.waitFor();
    await page.getByLabel('Cette semaine').check();
    const rows = table.getByTestId('engagement-line');
    await expect.poll(() => rows.count()).toBe(4);
    const names = async () => (await rows.locator('th').allTextContents()).map((s) => s.trim());
    expect(await names()).toEqual(['pendingPupil Fixture', 'pupilA2 Fixture', 'Élève0 Foule', 'pupilA1 Fixture']);
    expect(await rows.nth(1).textContent()).toContain('pas connecté depuis 3 jours d’école');
    expect(await rows.nth(1).textContent()).toContain('jamais');
    expect(await rows.nth(2).textContent()).toContain('absent des 2 dernières classes virtuelles');
    expect(await rows.nth(2).textContent()).toContain('0 suivie(s) sur 2');
    expect(await rows.nth(3).textContent()).toContain('0 à temps, 1 en retard');
    expect(await page.getByText('En tête de liste, les élèves pour qui l’une de ces règles s’applique').count()).toBe(1);
    await expectAccessible(page, 'suivi : classe (enseignant, téléphone)');
    expect(await horizontalOverflow(page)).toBe(0);

    // Sorting by last connection keeps the pupils of concern first.
    await table.getByRole('button', { name: 'Dernière connexion' }).click();
    expect(await table.locator('th[aria-sort="ascending"]').count()).toBe(1);
    expect((await names()).at(-1)).toBe('pupilA1 Fixture');

    // Write to pupil A1's parents: the messagerie's form opens with them chosen.
    const parents = page.getByRole('link', { name: 'Écrire aux parents de pupilA1 Fixture' });
    expect(await parents.getAttribute('href')).toContain('a=parentA1');
    await page.getByRole('link', { name: 'Écrire à pupilA2 Fixture' }).click();
    await page.getByText('Nouveau message').first().waitFor();
    await expect.poll(() => page.getByText('pupilA2 Fixture').count()).toBeGreaterThan(0);
  });

  it('the CPE’s school view with its trend chart, a parent’s week in words, the pupil’s "Mes données", the direction’s rules and access log', async () => {
    const browser = await suite.open();
    const page = browser.page;
    const signOut = async () => {
      await page.getByRole('button', { name: 'Se déconnecter' }).click();
      await page.getByLabel('Identifiant').waitFor();
    };
    await signInThroughPage(page, suite.server.origin, 'cpea');
    await page.getByRole('link', { name: 'Suivi', exact: true }).click();
    await page.getByTestId('engagement-school').waitFor();
    expect(await page.getByRole('img', { name: /^Élèves connectés sur \d+, par jour d’école/ }).count()).toBe(1);
    expect(await page.getByRole('heading', { name: /^Élèves à suivre \(\d+\)$/ }).count()).toBe(1);
    await expectAccessible(page, 'suivi : établissement (CPE)');
    await page.getByRole('link', { name: '6e A', exact: true }).first().click();
    await page.getByTestId('engagement-table').waitFor();
    await signOut();

    await signInThroughPage(page, suite.server.origin, 'parenta1');
    await page.getByRole('link', { name: 'Suivi', exact: true }).click();
    const child = page.getByTestId('engagement-child');
    await child.waitFor();
    expect(await child.textContent()).toContain('1 travail rendu sur 1 (dont 1 en retard)');
    await expectAccessible(page, 'suivi : semaine d’un enfant (parent)');
    await signOut();

    await signInThroughPage(page, suite.server.origin, 'pupila1');
    await page.getByRole('link', { name: 'Suivi', exact: true }).click();
    await page.getByTestId('engagement-mine').waitFor();
    // The teacher's and the parent's views of pupil A1 are listed for them.
    expect(await page.getByTestId('engagement-mine').textContent()).toContain('teacherA Fixture');
    await expectAccessible(page, 'suivi : mes données (élève)');
    await signOut();

    // The direction sets the school's thresholds; the rules stated follow; the access log shows who looked.
    await signInThroughPage(page, suite.server.origin, 'directiona');
    await page.getByRole('link', { name: 'Suivi', exact: true }).click();
    await page.getByTestId('engagement-school').waitFor();
    await page.getByText('Règles et résumé du CPE (direction)').click();
    await page.getByLabel('Jours d’école sans connexion avant de signaler un élève').fill('5');
    await page.getByRole('button', { name: 'Enregistrer les règles' }).click();
    await page.getByText('pas connecté depuis 5 jours d’école').first().waitFor();
    await page.getByText('Journal des consultations (responsable du traitement)').click();
    await expect.poll(() => page.getByTestId('engagement-access-log').textContent()).toContain('teacherA Fixture a consulté le suivi de pupilA2 Fixture');
    await expectAccessible(page, 'suivi : règles et journal (direction)');
  });
});
