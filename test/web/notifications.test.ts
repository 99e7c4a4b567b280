/**
 * "A message from a parent to a teacher is delivered live" (issue 4): the teacher's page is open in
 * chromium; the parent sends a message through the API with their own session; the teacher's page
 * shows it — the badge's count and the item in the feed — without a reload, announced politely;
 * axe-core finds nothing on the page. Then the teacher marks it read and the badge goes; the server
 * restarts and the page reconnects by itself (backoff) and gets the next message live.
 */
import { describe, expect, it } from 'vitest';
import { chromiumAvailable, expectAccessible, signInThroughPage } from '../support/browser.js';
import { servedBrowserSuite } from '../support/browser-suite.js';
import { FIXTURE_PASSWORD } from '../support/fixtures.js';

const enabled = chromiumAvailable();

describe.skipIf(!enabled)('live notifications in chromium', () => {
  const suite = servedBrowserSuite();

  /** A session of the parent's own, as their phone would have it (cookie + CSRF token). */
  async function sessionOf(login: string): Promise<{ cookie: string; csrf: string }> {
    const res = await fetch(`${suite.server.origin}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: suite.server.origin }, body: JSON.stringify({ login, password: FIXTURE_PASSWORD }) });
    expect(res.status).toBe(200);
    const cookie = res.headers.getSetCookie().find((c) => c.includes('preau_session='))!.split(';')[0]!;
    return { cookie, csrf: ((await res.json()) as { csrfToken: string }).csrfToken };
  }

  it('a parent’s message reaches the teacher’s open page live: badge, item, announcement; accessible; marked read', async () => {
    const browser = await suite.open();
    const page = browser.page;
    await signInThroughPage(page, suite.server.origin, 'teachera');
    await page.getByTestId('today-notifications').getByText('Aucune nouvelle notification').waitFor();
    await page.getByRole('link', { name: 'Notifications', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Notifications' }).waitFor();
    await page.getByText('Rien de nouveau pour le moment', { exact: false }).waitFor();
    // The socket is up before the parent writes (the count comes over it once connected).
    await expect.poll(() => suite.server.current().realtime.connections(), { timeout: 10_000 }).toBe(1);
    // Any reload would lose this mark.
    await page.evaluate(() => ((globalThis as unknown as { noReload: boolean }).noReload = true));

    const parent = await sessionOf('parenta1');
    const sent = await fetch(`${suite.server.origin}/api/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: parent.cookie, 'x-csrf-token': parent.csrf, origin: suite.server.origin },
      body: JSON.stringify({ to: [{ kind: 'person', id: 'teacherA' }], subject: 'Absence de Léa mardi', bodyHtml: '<p>Bonjour, Léa sera absente mardi.</p>' }),
    });
    expect(sent.status, await sent.clone().text()).toBe(201);

    const item = page.getByTestId('notification-list').getByRole('link', { name: 'Non lue : Nouveau message : « Absence de Léa mardi »' });
    await item.waitFor({ timeout: 10_000 });
    expect(await item.getAttribute('href')).toMatch(/^\/messagerie\?conversation=[A-Za-z0-9_-]+$/);
    await expect.poll(() => page.getByTestId('notifications-badge').textContent()).toBe('1');
    await page.getByRole('link', { name: 'Notifications, 1 non lue', exact: true }).waitFor();
    await expect.poll(() => page.getByTestId('live-region').textContent()).toBe('Nouvelle notification : Nouveau message : « Absence de Léa mardi »');
    expect(await page.evaluate(() => (globalThis as unknown as { noReload?: boolean }).noReload)).toBe(true);
    await expectAccessible(page, 'notifications (enseignant, message reçu en direct)');

    await page.getByRole('button', { name: 'Marquer comme lue : Nouveau message : « Absence de Léa mardi »' }).click();
    await page.getByTestId('notifications-badge').waitFor({ state: 'detached' });
    await page.getByRole('link', { name: 'Notifications', exact: true }).waitFor();
    // Another person's page never gets it: the parent's own count is zero.
    const theirs = await fetch(`${suite.server.origin}/api/v1/me/notifications/unread-count`, { headers: { cookie: parent.cookie } });
    expect(await theirs.json()).toEqual({ unread: 0 });

    // The server restarts (clients are told "going away"): the page reconnects by itself, with backoff.
    await suite.server.stop();
    await suite.server.start();
    await expect.poll(() => suite.server.current().realtime.connections(), { timeout: 20_000 }).toBe(1);
    await new Promise((r) => setTimeout(r, 200));
    const again = await fetch(`${suite.server.origin}/api/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: parent.cookie, 'x-csrf-token': parent.csrf, origin: suite.server.origin },
      body: JSON.stringify({ to: [{ kind: 'person', id: 'teacherA' }], subject: 'Après le redémarrage', bodyHtml: '<p>x</p>' }),
    });
    expect(again.status).toBe(201);
    await page.getByTestId('notification-list').getByRole('link', { name: 'Non lue : Nouveau message : « Après le redémarrage »' }).waitFor({ timeout: 10_000 });
    await expect.poll(() => page.getByTestId('notifications-badge').textContent()).toBe('1');
    expect(await page.evaluate(() => (globalThis as unknown as { noReload?: boolean }).noReload)).toBe(true);
  });
});
