/**
 * The teacher's and the head of school's cahier de textes in a real chromium against a real Préau
 * (fixture school): a séance with bold text, a link and two attachments, published; a travail à
 * faire drafted with its estimated time, edited, scheduled and copied to another group; the pupil
 * reads the séance, then the work once its time has come (the served clock is advanced); the
 * direction visas the teacher's cahier with a comment and the teacher sees it. axe-core on every
 * screen, the teacher's form on a 320 px phone. The fixture school lives on Monday 7 September
 * 2026 (the served clock); dates are typed, not taken from the device's clock.
 */
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { parisWallTimeToUtcMs } from '../../src/platform/clock.js';
import { chromiumAvailable, expectAccessible, horizontalOverflow } from '../support/browser.js';
import { servedBrowserSuite } from '../support/browser-suite.js';
import { FIXTURE_PASSWORD } from '../support/fixtures.js';

const enabled = chromiumAvailable();
const PDF = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');
// A 1×1 PNG.
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082', 'hex');
const SEANCE = 'Fractions : le cours';
const TRAVAIL = 'Exercices 3 et 4 p. 52';

describe.skipIf(!enabled)('the teacher’s and the direction’s cahier de textes in chromium', () => {
  const suite = servedBrowserSuite();
  const signInTo = async (login: string, viewport?: { width: number; height: number }) => {
    const { page } = await suite.open(viewport ? { viewport } : {});
    await page.goto(`${suite.server.origin}/`);
    await page.getByLabel('Identifiant').fill(login);
    await page.getByLabel('Mot de passe').fill(FIXTURE_PASSWORD);
    await page.getByRole('button', { name: 'Se connecter' }).click();
    await page.getByTestId('today-content').waitFor({ timeout: 15_000 });
    await page.goto(`${suite.server.origin}/cahier-de-textes`);
    return page;
  };
  const announced = (page: Page, text: string) => expect.poll(() => page.getByTestId('live-region').textContent()).toBe(text);
  const line = (page: Page, title: string) => page.getByTestId('entry-line').filter({ has: page.getByRole('link', { name: new RegExp(`${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) }) });

  it('a teacher writes a séance and a travail, edits, schedules, copies; the pupil reads them; the direction visas; the teacher sees the visa', async () => {
    // 1. The teacher, on a phone: a séance with bold text, a link and two attachments, published now.
    let page = await signInTo('teachera', { width: 320, height: 700 });
    await page.getByText('Nouvelle entrée : séance ou travail à faire').click();
    const audience = page.getByLabel('Classe ou groupe, matière');
    await expect.poll(() => audience.locator('option').count()).toBeGreaterThan(1);
    await page.getByLabel('Séance (ce qui a été fait en classe)').check();
    await audience.selectOption({ label: '6e A — MATHEMATIQUES' });
    await page.getByLabel('Titre').fill(SEANCE);
    // Last Friday's lesson, written on Monday morning.
    await page.getByLabel('Date de la séance').fill('2026-09-04');
    const text = page.getByLabel('Contenu de la séance');
    await text.fill('Nous avons vu les ');
    await text.press('End');
    // "Gras" with nothing selected puts the marks in and selects the placeholder: typing replaces it.
    await page.getByRole('button', { name: 'Gras' }).click();
    await page.keyboard.type('fractions égales');
    await text.press('End');
    await page.keyboard.type('.');
    expect(await text.inputValue()).toBe('Nous avons vu les **fractions égales**.');
    await page.getByRole('button', { name: 'Ajouter un lien' }).click();
    await page.getByLabel('Adresse du lien 1').fill('https://fr.wikipedia.org/wiki/Fraction_(math%C3%A9matiques)');
    await page.getByLabel('Texte du lien 1 (facultatif)').fill('Les fractions sur Wikipédia');
    await page.getByLabel('Ajouter des pièces jointes (facultatif)').setInputFiles([
      { name: 'cours.pdf', mimeType: 'application/pdf', buffer: PDF },
      { name: 'schema.png', mimeType: 'image/png', buffer: PNG },
    ]);
    await expectAccessible(page, 'nouvelle séance (enseignant, 320 px)');
    expect(await horizontalOverflow(page), 'défilement horizontal à 320 px').toBeLessThanOrEqual(0);
    await page.getByRole('button', { name: 'Enregistrer' }).click();
    await announced(page, 'Séance publiée.');
    // The list starts at the school's today: last week is one press away.
    expect(await line(page, SEANCE).count()).toBe(0);
    await page.getByRole('button', { name: 'Voir la semaine précédente' }).click();
    await expect.poll(() => line(page, SEANCE).getAttribute('data-state')).toBe('published');
    expect(await line(page, SEANCE).textContent()).toContain('pièces jointes : 2');
    expect(await horizontalOverflow(page), 'défilement horizontal à 320 px (liste et actions)').toBeLessThanOrEqual(0);

    // 2. A travail à faire as a draft, with its estimated time: a bad time is refused on the spot.
    await page.getByLabel('Travail à faire', { exact: true }).check();
    await page.getByLabel('Titre').fill(TRAVAIL);
    await page.getByLabel('Pour le', { exact: true }).fill('2026-09-09');
    await page.getByLabel('Consignes').fill('Faire les exercices 3 et 4.');
    await page.getByLabel('Temps estimé en minutes (facultatif)').fill('900');
    await page.getByLabel('Garder en brouillon').check();
    await page.getByRole('button', { name: 'Enregistrer' }).click();
    await page.getByText('Le temps estimé est un nombre entier de minutes, de 1 à 600.').waitFor();
    await page.getByLabel('Temps estimé en minutes (facultatif)').fill('30');
    await page.getByRole('button', { name: 'Enregistrer' }).click();
    await announced(page, 'Brouillon enregistré.');
    await expect.poll(() => line(page, TRAVAIL).getAttribute('data-state')).toBe('draft');

    // 3. On a desktop: edit it (longer estimate, a list), schedule it for 18:00, copy it to the Latin group.
    page = await signInTo('teachera');
    await line(page, TRAVAIL).getByRole('link', { name: `Modifier : ${TRAVAIL}` }).click();
    await page.getByRole('heading', { name: 'Modifier l’entrée' }).waitFor();
    const minutes = page.getByLabel('Temps estimé en minutes (facultatif)');
    expect(await minutes.inputValue()).toBe('30');
    await minutes.fill('45');
    await page.getByLabel('Consignes').fill('Faire :\n- l’exercice 3\n- l’exercice 4');
    await page.getByLabel('Ajouter des pièces jointes (facultatif)').setInputFiles({ name: 'consignes.pdf', mimeType: 'application/pdf', buffer: PDF });
    await expectAccessible(page, 'modifier une entrée');
    await page.getByRole('button', { name: 'Enregistrer' }).click();
    await announced(page, 'Modifications enregistrées.');
    await expect.poll(() => page.url()).toBe(`${suite.server.origin}/cahier-de-textes`);
    expect(await line(page, TRAVAIL).textContent()).toContain('Environ 45 min');
    expect(await line(page, TRAVAIL).textContent()).toContain('pièces jointes : 1');
    // An attachment removed again from the edit page.
    await line(page, TRAVAIL).getByRole('link', { name: `Modifier : ${TRAVAIL}` }).click();
    await page.getByRole('button', { name: 'Retirer consignes.pdf' }).click();
    await announced(page, 'consignes.pdf retiré.');
    expect(await page.getByRole('button', { name: 'Retirer consignes.pdf' }).count()).toBe(0);
    await page.getByRole('link', { name: 'Retour au cahier de textes' }).click();
    await expect.poll(() => line(page, TRAVAIL).textContent()).not.toContain('pièces jointes');

    await line(page, TRAVAIL).getByRole('button', { name: `Programmer : ${TRAVAIL}` }).click();
    await page.getByLabel('Date et heure de publication').fill('2026-09-07T18:00');
    await page.getByRole('button', { name: 'Programmer la publication' }).click();
    await announced(page, `Publication de « ${TRAVAIL} » programmée.`);
    await expect.poll(() => line(page, TRAVAIL).getAttribute('data-state')).toBe('scheduled');
    expect(await line(page, TRAVAIL).textContent()).toContain('publication programmée le');

    await line(page, TRAVAIL).getByRole('button', { name: `Copier : ${TRAVAIL}` }).click();
    await page.getByLabel('Copier vers').selectOption({ label: 'Latin' });
    await page.getByLabel('Date de la copie').fill('2026-09-10');
    await page.getByRole('button', { name: 'Copier l’entrée' }).click();
    await announced(page, `« ${TRAVAIL} » copié.`);
    await expect.poll(() => line(page, TRAVAIL).count()).toBe(2);
    // The filter by class or group shows the copy alone, a draft of the Latin group.
    await page.getByLabel('Classe ou groupe', { exact: true }).selectOption({ label: 'Latin' });
    await expect.poll(() => line(page, TRAVAIL).count()).toBe(1);
    expect(await line(page, TRAVAIL).getAttribute('data-state')).toBe('draft');
    expect(await line(page, TRAVAIL).textContent()).toContain('Latin');
    // The copy published, back to draft, then deleted (after a confirmation).
    await line(page, TRAVAIL).getByRole('button', { name: `Publier maintenant : ${TRAVAIL}` }).click();
    await announced(page, `« ${TRAVAIL} » publié.`);
    await expect.poll(() => line(page, TRAVAIL).getAttribute('data-state')).toBe('published');
    await line(page, TRAVAIL).getByRole('button', { name: `Remettre en brouillon : ${TRAVAIL}` }).click();
    await announced(page, `« ${TRAVAIL} » remis en brouillon.`);
    await expect.poll(() => line(page, TRAVAIL).getAttribute('data-state')).toBe('draft');
    await line(page, TRAVAIL).getByRole('button', { name: `Supprimer : ${TRAVAIL}` }).click();
    await page.getByRole('button', { name: 'Oui, supprimer' }).click();
    await announced(page, `« ${TRAVAIL} » supprimé.`);
    await expect.poll(() => line(page, TRAVAIL).count()).toBe(0);
    await page.getByLabel('Classe ou groupe', { exact: true }).selectOption({ label: 'Toutes mes classes et groupes' });
    await page.getByLabel('Type', { exact: true }).selectOption({ label: 'Séances (fait en classe)' });
    await expect.poll(() => line(page, TRAVAIL).count()).toBe(0);
    await page.getByRole('button', { name: 'Voir la semaine précédente' }).click();
    await expect.poll(() => line(page, SEANCE).count()).toBe(1);
    await expectAccessible(page, 'cahier de l’enseignant (liste, filtres)');

    // 4. The pupil: the séance with its bold text, link and attachments; the work is not there yet.
    page = await signInTo('pupila1');
    await page.getByRole('button', { name: 'Voir la semaine précédente' }).click();
    const seance = line(page, SEANCE);
    await seance.waitFor();
    expect(await page.getByTestId('kind-seance').filter({ has: seance }).count()).toBe(1);
    expect(await line(page, TRAVAIL).count()).toBe(0);
    await seance.getByRole('link').click();
    await page.getByTestId('entry-detail').waitFor();
    expect(await page.locator('.rich-text strong').textContent()).toBe('fractions égales');
    expect(await page.getByRole('link', { name: 'Les fractions sur Wikipédia' }).getAttribute('href')).toBe('https://fr.wikipedia.org/wiki/Fraction_(math%C3%A9matiques)');
    for (const [name, head] of [['cours.pdf', '%PDF'], ['schema.png', '\u0089PNG']] as const) {
      const href = await page.getByRole('link', { name: `Télécharger ${name}` }).getAttribute('href');
      const got = await page.evaluate(async (url) => {
        const res = await fetch(url!, { credentials: 'same-origin' });
        return { status: res.status, head: String.fromCharCode(...new Uint8Array(await res.arrayBuffer()).slice(0, 4)) };
      }, href);
      expect(got).toEqual({ status: 200, head });
    }
    await expectAccessible(page, 'séance (élève)');

    // After 18:00 the scheduled work is there, with its estimated time.
    suite.server.clock.set(parisWallTimeToUtcMs('2026-09-07', 18, 5));
    await page.goto(`${suite.server.origin}/cahier-de-textes`);
    await line(page, TRAVAIL).waitFor();
    expect(await line(page, TRAVAIL).textContent()).toContain('Environ 45 min');
    expect(await page.getByTestId('kind-travail').filter({ has: line(page, TRAVAIL) }).count()).toBe(1);

    // 5. The direction: 6e A's cahier, the teacher's cahier from it, the visa with a comment.
    page = await signInTo('directiona');
    await page.getByLabel('Classe ou groupe').selectOption({ label: '6e A' });
    const teacherLink = page.getByTestId('audience-teachers').getByRole('link');
    await expect.poll(() => teacherLink.count()).toBe(1);
    await expectAccessible(page, 'cahier d’une classe (direction)');
    await teacherLink.click();
    await page.getByTestId('visas').waitFor();
    expect(await page.getByTestId('visas').textContent()).toContain('Ce cahier n’a pas encore été visé.');
    expect(await line(page, SEANCE).count()).toBe(1);
    await expectAccessible(page, 'cahier d’un professeur (direction)');
    await page.getByLabel('Commentaire (facultatif)').fill('Cahier bien tenu, merci.');
    await page.getByRole('button', { name: 'Viser', exact: true }).click();
    await announced(page, 'Cahier visé.');
    await expect.poll(() => page.getByTestId('visas').textContent()).toContain('Cahier bien tenu, merci.');

    // 6. The teacher sees the visa: who, when, the comment.
    page = await signInTo('teachera');
    await page.getByRole('link', { name: 'Mon cahier de textes et ses visas' }).click();
    const visas = page.getByTestId('visas');
    await expect.poll(() => visas.textContent()).toContain('Cahier bien tenu, merci.');
    expect(await visas.textContent()).toMatch(/Visé le .* par directionA Fixture/);
    expect(await page.getByRole('button', { name: 'Viser', exact: true }).count()).toBe(0);
    await expectAccessible(page, 'mon cahier et ses visas (enseignant)');
  });
});
