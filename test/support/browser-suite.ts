import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { openBrowser, type TestBrowser } from './browser.js';
import { startServedPreau, type ServedPreau } from './served.js';

/**
 * The life of a browser suite: one served Préau for the file, one chromium at a time, closed after
 * each test (and before the next `open`) with no console error left behind (CSP violations included).
 */
export function servedBrowserSuite(): { readonly server: ServedPreau; open(options?: Parameters<typeof openBrowser>[0]): Promise<TestBrowser> } {
  let server: ServedPreau | undefined;
  let browser: TestBrowser | undefined;
  const closeBrowser = async () => {
    if (browser) expect(browser.problems, 'erreurs de console (CSP comprise)').toEqual([]);
    await browser?.close();
    browser = undefined;
  };
  beforeAll(async () => {
    server = await startServedPreau();
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
      browser = await openBrowser(options);
      return browser;
    },
  };
}
