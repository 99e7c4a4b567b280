import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { openBrowser, openPeopleBrowser, type PeopleBrowser, type TestBrowser } from './browser.js';
import { startServedPreau, type ServedPreau } from './served.js';

/**
 * The life of a browser suite: one served Préau for the file, one chromium at a time, closed after
 * each test (and before the next `open`) with no console error left behind (CSP violations included).
 */
export function servedBrowserSuite(served: Parameters<typeof startServedPreau> = []): {
  readonly server: ServedPreau;
  open(options?: Parameters<typeof openBrowser>[0]): Promise<TestBrowser>;
  /** One chromium with a separate context (cookies, storage) per person: several people in one class. */
  openPeople(options?: Parameters<typeof openPeopleBrowser>[0]): Promise<PeopleBrowser>;
} {
  let server: ServedPreau | undefined;
  let browser: TestBrowser | PeopleBrowser | undefined;
  const closeBrowser = async () => {
    if (browser) expect(browser.problems, 'erreurs de console (CSP comprise)').toEqual([]);
    await browser?.close();
    browser = undefined;
  };
  beforeAll(async () => {
    server = await startServedPreau(...served);
  });
  afterEach(async () => {
    await closeBrowser();
    // A test that failed while the server was stopped must not take the next ones down with it.
    if (server && !server.running) await server.start();
  });
  afterAll(async () => {
    await server?.close();
  });
  return {
    get server() {
      return server!;
    },
    async open(options = {}) {
      await closeBrowser();
      const opened = await openBrowser(options);
      browser = opened;
      return opened;
    },
    async openPeople(options = {}) {
      await closeBrowser();
      const opened = await openPeopleBrowser(options);
      browser = opened;
      return opened;
    },
  };
}
