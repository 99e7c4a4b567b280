/**
 * The login page on the crisis morning, in a real chromium against a real Préau: an unknown device
 * is challenged (the page solves the proof of work by itself), then the login gets a place in the
 * waiting room (the page shows the position, polls, and signs in by itself once admitted). The
 * person typed their password once and pressed the button once.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations, chromiumAvailable, describeViolations, openBrowser, type TestBrowser } from '../support/browser.js';
import { FIXTURE_PASSWORD } from '../support/fixtures.js';
import { startServedPreau, type ServedPreau } from '../support/served.js';

const enabled = chromiumAvailable();

describe.skipIf(!enabled)('login through the edge in chromium', () => {
  let server: ServedPreau;
  let browser: TestBrowser | undefined;

  beforeAll(async () => {
    server = await startServedPreau();
  });
  afterEach(async () => {
    if (browser) expect(browser.problems, 'erreurs de console (CSP comprise)').toEqual([]);
    await browser?.close();
    browser = undefined;
  });
  afterAll(async () => {
    await server?.close();
  });

  const metric = (name: string, label: string) => Number(new RegExp(`^${name}\\{${label}\\} (\\d+)$`, 'm').exec(server.current().metrics.render())?.[1] ?? 'NaN');

  it('challenged then queued: the page solves the check, shows the place in line, and signs in by itself when admitted', async () => {
    const edge = server.current().edge!;
    // Every unknown device is challenged (cheap here: 8 bits); nobody gets a password check without a ticket.
    edge.challenge.setMode('always');
    edge.challenge.setBits(8);
    const room = edge.waitingRoom;
    const capacity = room.settings.maxLoginsInFlight;
    Object.assign(room.settings, { maxLoginsInFlight: 0, pollBaseMs: 1_000, pollSpreadMs: 200 });
    const solvedBefore = metric('preau_challenges_total', 'outcome="solved"');

    browser = await openBrowser();
    const page = browser.page;
    await page.goto(`${server.origin}/`);
    await page.getByLabel('Identifiant').fill('pupila1');
    await page.getByLabel('Mot de passe').fill(FIXTURE_PASSWORD);
    await page.getByRole('button', { name: 'Se connecter' }).click();

    const status = page.getByRole('status').filter({ hasText: 'file d’attente' });
    await status.waitFor({ timeout: 15_000 });
    expect(await status.textContent()).toMatch(/position 1\. Attente estimée : \d+ seconde/);
    expect(await page.getByRole('button', { name: 'Se connecter' }).isDisabled()).toBe(true);
    expect(metric('preau_challenges_total', 'outcome="solved"')).toBe(solvedBefore + 1);
    const violations = await axeViolations(page);
    expect(violations, describeViolations(violations)).toEqual([]);

    // Capacity comes back: the room admits the ticket, the page's next poll sees it and signs in.
    Object.assign(room.settings, { maxLoginsInFlight: capacity });
    await page.getByTestId('today-content').waitFor({ timeout: 20_000 });
    expect(new URL(page.url()).pathname).toBe('/aujourdhui');
  });

  it('the person can give up waiting: nothing more is sent', async () => {
    const room = server.current().edge!.waitingRoom;
    const capacity = room.settings.maxLoginsInFlight;
    Object.assign(room.settings, { maxLoginsInFlight: 0 });
    server.current().edge!.challenge.setMode('off');
    try {
      browser = await openBrowser();
      const page = browser.page;
      await page.goto(`${server.origin}/`);
      await page.getByLabel('Identifiant').fill('pupila2');
      await page.getByLabel('Mot de passe').fill(FIXTURE_PASSWORD);
      await page.getByRole('button', { name: 'Se connecter' }).click();
      await page.getByRole('status').filter({ hasText: 'file d’attente' }).waitFor({ timeout: 15_000 });
      await page.getByRole('button', { name: 'Annuler' }).click();
      const sent = server.requests.length;
      await page.waitForTimeout(3_000);
      expect(server.requests.slice(sent).filter((r) => r.path.startsWith('/api/v1/waiting-room') || r.path === '/api/v1/auth/login')).toEqual([]);
      expect(await page.getByRole('button', { name: 'Se connecter' }).isEnabled()).toBe(true);
    } finally {
      Object.assign(room.settings, { maxLoginsInFlight: capacity });
    }
  });
});
