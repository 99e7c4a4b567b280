/**
 * The web client on a weak link: time until a signed-in pupil's Aujourd'hui shows its content,
 * first visit (empty caches) and repeat visit (service worker and HTTP cache warm), with
 * Chromium's network emulation (CDP Network.emulateNetworkConditions: 1.6 Mbit/s down, 750 kbit/s
 * up, 150 ms round trip). The baseline is a bare static page (the same day's lessons as plain HTML:
 * no script, no stylesheet) served by the same Préau process, measured in the same rounds,
 * alternating which goes first. Figure: bare page's time ÷ Préau's time (1 = as fast as a static
 * page), plus the gzipped JS and CSS of the first page.
 *
 * Préau's "shown" is the User Timing mark the page sets when the day is on screen
 * (preau:today-shown); the bare page's is its first contentful paint (its content is the HTML).
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build } from 'vite';
import { FIXTURE_PASSWORD } from '../test/support/fixtures.js';
import { CHROMIUM_FLAGS, CHROMIUM_PATH, waitForOfflineCopy } from '../test/support/browser.js';
import { firstPageSizes, WEB_DIST } from '../test/support/web-dist.js';
import { REPO_ROOT, startServer } from './support/proc.js';
import type { BenchResult } from './support/protocol.js';
import { num, step } from './support/report.js';

export interface WebBenchOptions {
  /** Rounds of (first visit, repeat visit) per side. */
  rounds: number;
}

/** The weak link of the issue: a poor 3G/4G phone connection. */
export const WEAK_LINK = { offline: false, latency: 150, downloadThroughput: (1.6e6 / 8), uploadThroughput: (750e3 / 8) } as const;
/** Préau within 4× of a bare static page on a first visit (it must fetch its code and two API answers). */
export const WEB_FIRST_VISIT_TARGET = 0.25;
const TODAY_SHOWN_MARK = 'preau:today-shown';
const VISIT_TIMEOUT_MS = 60_000;

function barePage(): string {
  const lessons = [
    '8 h 30 – 9 h 25 · Mathématiques · Salle B12', '9 h 30 – 10 h 25 · Français · Salle S100', '10 h 30 – 11 h 25 · Latin · Annulé (professeur absent)',
    '11 h 30 – 12 h 25 · Histoire-géographie · Salle S101', '13 h 30 – 14 h 25 · Anglais LV1 · Salle S102', '14 h 30 – 15 h 25 · SVT · Salle changée',
    '15 h 30 – 16 h 25 · EPS · Gymnase', '16 h 30 – 17 h 25 · Physique-chimie · Salle S105', '17 h 30 – 18 h 25 · Arts plastiques · Salle S106',
  ];
  return `<!doctype html><html lang="fr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Aujourd’hui</title></head>
<body><h1>Aujourd’hui</h1><h2>Emploi du temps</h2><ol>${lessons.map((l) => `<li>${l}</li>`).join('')}</ol></body></html>\n`;
}

async function signIn(origin: string): Promise<{ name: string; value: string }> {
  const res = await fetch(`${origin}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ login: 'pupila1', password: FIXTURE_PASSWORD, remember: true }) });
  if (res.status !== 200) throw new Error(`connexion de pupila1 refusée : ${res.status} ${await res.text()}`);
  const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]!).find((c) => c.startsWith('preau_session='));
  if (!cookie) throw new Error('la connexion n’a pas posé le cookie preau_session');
  const [name, value] = cookie.split('=') as [string, string];
  return { name, value };
}

/** When the content was on screen, in ms since navigation start (functions, not source text: the page's CSP forbids eval). */
async function shownAtMs(page: Page, kind: 'preau' | 'bare'): Promise<number> {
  const entry = kind === 'preau' ? TODAY_SHOWN_MARK : 'first-contentful-paint';
  await page.waitForFunction((name) => performance.getEntriesByName(name).length > 0, entry, { timeout: VISIT_TIMEOUT_MS });
  return page.evaluate((name) => performance.getEntriesByName(name)[0]!.startTime, entry);
}

interface Visits {
  firstMs: number;
  repeatMs: number;
}

/** One fresh profile: a first visit, then (once the service worker holds the shell and the day) a repeat visit. */
async function visitTwice(browser: Browser, url: string, kind: 'preau' | 'bare', cookie: { name: string; value: string }): Promise<Visits> {
  const context = await browser.newContext({ locale: 'fr-FR', timezoneId: 'Europe/Paris', serviceWorkers: 'allow' });
  try {
    const origin = new URL(url).origin;
    await context.addCookies([{ ...cookie, url: origin }]);
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', WEAK_LINK);
    await page.goto(url, { waitUntil: 'commit', timeout: VISIT_TIMEOUT_MS });
    const firstMs = await shownAtMs(page, kind);
    if (kind === 'preau') {
      await waitForOfflineCopy(page, VISIT_TIMEOUT_MS);
    } else {
      await page.waitForLoadState('load');
    }
    await page.goto(url, { waitUntil: 'commit', timeout: VISIT_TIMEOUT_MS });
    const repeatMs = await shownAtMs(page, kind);
    return { firstMs, repeatMs };
  } finally {
    await context.close();
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

export async function runWebBench(options: WebBenchOptions): Promise<BenchResult> {
  step('construction du client web (vite build)');
  await build({ configFile: path.join(REPO_ROOT, 'web', 'vite.config.ts'), logLevel: 'warn' });
  const sizes = firstPageSizes();
  const dir = mkdtempSync(path.join(tmpdir(), 'preau-web-bench-'));
  cpSync(WEB_DIST, dir, { recursive: true });
  writeFileSync(path.join(dir, 'bare.html'), barePage());

  step('Préau (CPU 0) sert le client construit et la page statique nue ; chromium sur lien faible : 1,6 Mbit/s ↓, 750 kbit/s ↑, 150 ms');
  const server = await startServer('preau-server.ts', ['--web-dir', dir]);
  let browser: Browser | undefined;
  const preau: Visits[] = [];
  const bare: Visits[] = [];
  try {
    const origin = `http://127.0.0.1:${server.ready.port}`;
    const cookie = await signIn(origin);
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_FLAGS });
    for (let r = 0; r < options.rounds; r++) {
      // Alternate who goes first, so that drift on a shared machine falls on both sides.
      const order: ('preau' | 'bare')[] = r % 2 === 0 ? ['bare', 'preau'] : ['preau', 'bare'];
      for (const kind of order) {
        const v = await visitTwice(browser, kind === 'preau' ? `${origin}/aujourdhui` : `${origin}/bare.html`, kind, cookie);
        (kind === 'preau' ? preau : bare).push(v);
        console.log(`    [${r + 1}/${options.rounds}] ${kind === 'preau' ? 'Préau      ' : 'page nue   '} 1re visite ${num(v.firstMs, 0)} ms · visite suivante ${num(v.repeatMs, 0)} ms`);
      }
    }
  } finally {
    await browser?.close();
    await server.child.stop();
    rmSync(dir, { recursive: true, force: true });
  }

  const preauFirst = median(preau.map((v) => v.firstMs));
  const bareFirst = median(bare.map((v) => v.firstMs));
  const preauRepeat = median(preau.map((v) => v.repeatMs));
  const bareRepeat = median(bare.map((v) => v.repeatMs));
  const result: BenchResult = {
    name: 'web',
    title: 'Client web : Aujourd’hui sur lien faible (1re visite)',
    unit: 'ms',
    preau: preauFirst,
    baseline: bareFirst,
    baselineLabel: 'page statique nue (même serveur)',
    ratio: bareFirst / preauFirst,
    target: WEB_FIRST_VISIT_TARGET,
    details: {
      preauFirstVisitMs: preauFirst, bareFirstVisitMs: bareFirst, preauRepeatVisitMs: preauRepeat, bareRepeatVisitMs: bareRepeat,
      repeatRatio: bareRepeat / preauRepeat, firstPageJsGzipBytes: sizes.jsGzipBytes, cssGzipBytes: sizes.cssGzipBytes, rounds: options.rounds,
      link: '1,6 Mbit/s ↓ · 750 kbit/s ↑ · 150 ms', chromium: CHROMIUM_PATH,
    },
  };
  console.log(`    1re visite       Préau ${num(preauFirst, 0)} ms · page nue ${num(bareFirst, 0)} ms → ratio ${num(result.ratio, 3)} (objectif ≥ ${WEB_FIRST_VISIT_TARGET})`);
  console.log(`    visite suivante  Préau ${num(preauRepeat, 0)} ms · page nue ${num(bareRepeat, 0)} ms → ratio ${num(bareRepeat / preauRepeat, 3)}`);
  console.log(`    tailles gzip     JS du premier écran ${num(sizes.jsGzipBytes / 1024)} Ko (budget 60) · CSS ${num(sizes.cssGzipBytes / 1024)} Ko (budget 20)`);
  return result;
}
