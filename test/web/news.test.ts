/**
 * Actualités in a real chromium against a real Préau (fixture school): the direction publishes a
 * school news asking for acknowledgement → a parent sees it on Aujourd'hui ("à lire"), opens it and
 * acknowledges → Aujourd'hui says "lu" → the direction sees the count. axe-core on every screen.
 */
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { chromiumAvailable, expectAccessible, horizontalOverflow, signInThroughPage } from '../support/browser.js';
import { servedBrowserSuite } from '../support/browser-suite.js';
import { PDF_BYTES } from '../support/multipart.js';

const enabled = chromiumAvailable();

describe.skipIf(!enabled)('actualités in chromium', () => {
  const suite = servedBrowserSuite();

  const signIn = (page: Page, login: string) => signInThroughPage(page, suite.server.origin, login);
  const signOut = async (page: Page) => {
    await page.getByRole('button', { name: 'Se déconnecter' }).click();
    await page.getByLabel('Identifiant').waitFor();
  };
  const HEADLINE = 'Fermeture exceptionnelle jeudi';

  it('the direction publishes a school news asking for acknowledgement; a parent sees it on Aujourd’hui and acknowledges; the direction sees the count', async () => {
    const browser = await suite.open();
    const page = browser.page;

    await signIn(page, 'directiona');
    await page.getByRole('link', { name: 'Actualités', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Actualités' }).waitFor();
    await page.getByText('Écrire une actualité').click();
    const audience = page.getByLabel('Pour qui');
    await expect.poll(() => audience.locator('option').count()).toBeGreaterThan(1);
    await audience.selectOption({ label: 'Collège Lucie Aubrac' });
    await page.getByLabel('Titre (150 caractères au plus)').fill(HEADLINE);
    await page.getByLabel('Texte').fill('Le collège sera fermé jeudi en raison d’une grève des transports.\n\nLes cours reprennent vendredi.');
    await page.getByLabel('Demander une confirmation de lecture').check();
    await page.getByLabel('Joindre un fichier').setInputFiles({ name: 'lettre.pdf', mimeType: 'application/pdf', buffer: PDF_BYTES });
    await expectAccessible(page, 'actualités : formulaire (direction)');
    await page.getByRole('button', { name: 'Enregistrer l’actualité' }).click();
    await page.getByTestId('news-detail').waitFor();
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe(HEADLINE);
    expect(await page.getByTestId('news-ack-count').textContent()).toMatch(/^0 sur \d+ ont pris connaissance\.$/);
    await expectAccessible(page, 'actualités : détail (direction)');
    await signOut(page);

    // The parent: on Aujourd'hui, to read; opened, acknowledged; back on Aujourd'hui, read.
    await signIn(page, 'parenta1');
    const item = page.getByTestId('today-news-item').filter({ hasText: HEADLINE });
    await item.waitFor();
    await expect.poll(() => item.locator('.badge').textContent()).toBe('À lire');
    await expectAccessible(page, 'aujourd’hui avec les actualités (parent)');
    await item.getByRole('link', { name: HEADLINE }).click();
    await page.getByTestId('news-detail').waitFor();
    expect(await page.getByTestId('news-detail').textContent()).toContain('Les cours reprennent vendredi.');
    const link = page.getByRole('link', { name: 'Télécharger lettre.pdf' });
    const downloaded = await page.evaluate(async (href) => (await fetch(href)).arrayBuffer().then((b) => b.byteLength), (await link.getAttribute('href'))!);
    expect(downloaded).toBe(PDF_BYTES.length);
    await page.getByRole('button', { name: 'J’ai pris connaissance' }).click();
    await page.getByTestId('news-acked').waitFor();
    expect(await page.getByTestId('news-acked').textContent()).toMatch(/^Vous en avez pris connaissance le /);
    await expectAccessible(page, 'actualités : détail lu (parent)');
    await page.getByRole('link', { name: 'Aujourd’hui' }).click();
    await expect.poll(() => page.getByTestId('today-news-item').filter({ hasText: HEADLINE }).locator('.badge').textContent()).toBe('Lu');
    expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);
    await signOut(page);

    // The direction sees who acknowledged.
    await signIn(page, 'directiona');
    await page.getByTestId('today-news-item').filter({ hasText: HEADLINE }).getByRole('link').click();
    await page.getByTestId('news-detail').waitFor();
    expect(await page.getByTestId('news-ack-count').textContent()).toMatch(/^1 sur \d+ ont pris connaissance\.$/);
    await page.getByLabel('Qui ?').selectOption('done');
    await page.getByRole('button', { name: 'Afficher la liste' }).click();
    await expect.poll(() => page.locator('[data-testid="news-detail"] tbody tr').allTextContents()).toEqual([expect.stringContaining('parentA1 Fixture')]);
    await expectAccessible(page, 'actualités : qui a lu (direction)');
  });

  it('on a phone (320 px): the news list and a news reflow without sideways scrolling, and stay accessible', async () => {
    const browser = await suite.open({ viewport: { width: 320, height: 640 } });
    const page = browser.page;
    await signIn(page, 'pupila1');
    await page.getByRole('link', { name: 'Actualités', exact: true }).click();
    await page.getByTestId('news-list').waitFor();
    expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);
    await expectAccessible(page, 'actualités à 320 px (élève)');
    await page.getByRole('link', { name: 'Rentrée : horaires' }).click();
    await page.getByTestId('news-detail').waitFor();
    expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);
    await expectAccessible(page, 'une actualité à 320 px (élève)');
  });

  it('acknowledged while Préau cannot be reached: kept in the outbox, delivered once when it is back', async () => {
    const browser = await suite.open();
    const page = browser.page;
    await signIn(page, 'parentb1');
    await page.goto(`${suite.server.origin}/actualites?id=newsSchoolA`);
    await page.getByTestId('news-detail').waitFor();
    await suite.server.stop();
    await page.getByRole('button', { name: 'J’ai pris connaissance' }).click();
    await page.getByTestId('news-ack-queued').waitFor();
    expect(await page.getByTestId('news-ack-queued').textContent()).toBe('Votre lecture sera envoyée dès que Préau sera joignable.');
    await expectAccessible(page, 'actualité lue hors ligne');
    await suite.server.start();
    const acks = () => suite.server.current().storage.db.selectFrom('news_acks').select('person_id').where('news_id', '=', 'newsSchoolA').where('person_id', '=', 'parentB1').execute();
    await expect.poll(async () => (await acks()).length, { timeout: 45_000 }).toBe(1);
    const sends = suite.server.requests.filter((r) => r.method === 'POST' && r.path === '/api/v1/news/newsSchoolA/acknowledge');
    expect(sends.length).toBeGreaterThanOrEqual(1);
    expect(new Set(sends.map((r) => r.idempotencyKey)).size).toBe(1);
  });
});
