import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { FIXTURE_PASSWORD } from './fixtures.js';

/** Debian's chromium: never a downloaded browser. */
export const CHROMIUM_PATH = process.env.PREAU_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/**
 * Whether browser tests can run. Outside CI a missing chromium skips them with a loud message;
 * with CI=true it is a failure (.ci/run installs Debian's chromium first).
 */
export function chromiumAvailable(): boolean {
  if (existsSync(CHROMIUM_PATH)) return true;
  if (process.env.CI === 'true') throw new Error(`Chromium introuvable à ${CHROMIUM_PATH} alors que CI=true : .ci/run doit installer le paquet Debian chromium.`);
  console.warn(`\n!!! Chromium introuvable à ${CHROMIUM_PATH} : les tests navigateur sont SAUTÉS (apt-get install chromium ; ils tournent en CI). !!!\n`);
  return false;
}

export interface TestBrowser {
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught exceptions (CSP violations land here). */
  problems: string[];
  close(): Promise<void>;
}

/** A fresh chromium profile (its own --user-data-dir: no cache, no worker, no cookie from another test). */
export async function openBrowser(options: { viewport?: { width: number; height: number }; serviceWorkers?: 'allow' | 'block' } = {}): Promise<TestBrowser> {
  const userDataDir = mkdtempSync(path.join(tmpdir(), 'preau-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_FLAGS,
    locale: 'fr-FR',
    timezoneId: 'Europe/Paris',
    viewport: options.viewport ?? { width: 1024, height: 800 },
    serviceWorkers: options.serviceWorkers ?? 'allow',
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const problems: string[] = [];
  page.on('console', (m) => {
    // Failed loads while the server is deliberately stopped are expected; anything else is a problem.
    if (m.type() === 'error' && !/Failed to load resource|net::ERR_/.test(m.text())) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(`${e.name}: ${e.message}`));
  return {
    context,
    page,
    problems,
    async close() {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Fake camera and microphone (a test pattern and a beep), no permission prompt, audio that plays without a gesture, real host candidates (not mDNS names) for a local media server. */
export const FAKE_MEDIA_FLAGS = ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', '--autoplay-policy=no-user-gesture-required', '--disable-features=WebRtcHideLocalIpsWithMdns'];

export interface PeopleBrowser {
  browser: Browser;
  /** A page in a context of its own, signed in as `login` (a session from the API, as the login page would get). */
  person(origin: string, login: string): Promise<Page>;
  problems: string[];
  close(): Promise<void>;
}

/** One chromium (one browser at a time, as the other suites), a separate context per person. */
export async function openPeopleBrowser(options: { args?: string[]; viewport?: { width: number; height: number } } = {}): Promise<PeopleBrowser> {
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: [...CHROMIUM_FLAGS, ...(options.args ?? [])] });
  const problems: string[] = [];
  return {
    browser,
    problems,
    async person(origin, login) {
      const context = await browser.newContext({ locale: 'fr-FR', timezoneId: 'Europe/Paris', viewport: options.viewport ?? { width: 1024, height: 800 }, serviceWorkers: 'block' });
      const res = await fetch(`${origin}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin }, body: JSON.stringify({ login, password: FIXTURE_PASSWORD }) });
      if (res.status !== 200) throw new Error(`connexion de ${login} : ${res.status} ${await res.text()}`);
      const [name, value] = res.headers.getSetCookie().find((c) => c.includes('preau_session='))!.split(';')[0]!.split('=') as [string, string];
      await context.addCookies([{ name, value, url: origin, httpOnly: true, sameSite: 'Strict' }]);
      const page = await context.newPage();
      page.on('console', (m) => {
        if (m.type() === 'error' && !/Failed to load resource|net::ERR_/.test(m.text())) problems.push(`${login}: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`${login}: ${e.name}: ${e.message}`));
      return page;
    },
    close: () => browser.close(),
  };
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; failureSummary?: string }[];
}

/**
 * axe-core on the page as it is now, WCAG 2.0/2.1 A and AA rules. Evaluated through the devtools
 * protocol (not as a <script> tag), so the page's CSP stays as strict as in production.
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(axeSource);
  return page.evaluate(`(async () => {
    const result = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }, resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary })) }));
  })()`);
}

export function describeViolations(violations: AxeViolation[]): string {
  return violations.map((v) => `${v.id} (${v.impact}): ${v.help}\n${v.nodes.map((n) => `   ${n.target.join(' ')} — ${n.failureSummary ?? ''}`).join('\n')}`).join('\n');
}

/**
 * What this device still holds of the signed-in person: the worker's data cache, the last person's
 * id, the outbox's entries. Evaluated as page source (the suite is compiled without DOM types).
 */
export function deviceLeftovers(page: Page): Promise<{ data: boolean; lastPerson: string | null; outbox: number }> {
  return page.evaluate(`(async () => ({
    data: await caches.has('preau-data-v1'),
    lastPerson: localStorage.getItem('preau.lastPerson'),
    outbox: await new Promise((resolve) => {
      const req = indexedDB.open('preau');
      req.onsuccess = () => {
        const db = req.result;
        if (!db.objectStoreNames.contains('outbox')) return resolve(0);
        const count = db.transaction('outbox').objectStore('outbox').count();
        count.onsuccess = () => resolve(count.result);
      };
    }),
  }))()`);
}

/** The focused element's id and text. */
export function focused(page: Page): Promise<{ id: string; text: string }> {
  return page.evaluate(`({ id: document.activeElement?.id ?? '', text: document.activeElement?.textContent ?? '' })`);
}

/** CSS pixels the page is wider than its viewport (> 0: sideways scrolling, which WCAG 1.4.10 forbids at 320 px). */
export function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth');
}

/** The page-side globals the predicates below use (the suite compiles without DOM types). */
interface PageGlobals {
  caches: { open(name: string): Promise<{ match(url: string): Promise<unknown> }> };
  navigator: { serviceWorker: { controller: unknown } };
}

/**
 * Whether the service worker controls the page and keeps these answers for offline use. Runs in
 * the page (self-contained: Playwright sends its source).
 */
export async function offlineCopyReady(urls: string[]): Promise<boolean> {
  const { caches, navigator } = globalThis as unknown as PageGlobals;
  const cache = await caches.open('preau-data-v1');
  for (const url of urls) if ((await cache.match(url)) === undefined) return false;
  return navigator.serviceWorker.controller !== null;
}

/**
 * Waits until the worker keeps the signed-in person's answers. A function, not source text: polled
 * source text would be eval'd in the page, which its CSP forbids.
 */
export async function waitForOfflineCopy(page: Page, timeoutMs = 15_000): Promise<void> {
  await page.waitForFunction(offlineCopyReady, ['/api/v1/me/today', '/api/v1/me'], { timeout: timeoutMs });
}

/** axe-core (WCAG 2.1 A/AA) finds nothing on this screen; the failure names the screen and each violation. */
export async function expectAccessible(page: Page, screen: string): Promise<void> {
  const violations = await axeViolations(page);
  expect(violations, `${screen}\n${describeViolations(violations)}`).toEqual([]);
}

/** Signs in through the login page (the fixture password by default) and waits for Aujourd'hui. */
export async function signInThroughPage(page: Page, origin: string, login: string, password = FIXTURE_PASSWORD): Promise<void> {
  await page.goto(`${origin}/`);
  await page.getByLabel('Identifiant').fill(login);
  await page.getByLabel('Mot de passe').fill(password);
  await page.getByRole('button', { name: 'Se connecter' }).click();
  await page.getByTestId('today-content').waitFor({ timeout: 15_000 });
}
