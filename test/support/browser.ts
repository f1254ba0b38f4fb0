/** A real headless Chromium for tests of the web pages, driven by playwright-core. */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Where Debian puts Chromium; CI installs it (.ci/run). */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * Launches headless Chromium once per test file (beforeAll/afterAll) and gives each test a fresh page, in its own
 * context, closed after the test. Call it at the top of a test file or describe block. Fails with a message naming the
 * apt package when Chromium is missing: never skips.
 */
export function useBrowser(): { page: () => Page; browser: () => Browser } {
  let launched: Browser | undefined;
  let current: Page | undefined;
  const browser = () => launched ?? unavailable('no browser: Chromium did not launch, or beforeAll has not run');
  const page = () => current ?? unavailable('page() is only available inside a test');
  beforeAll(async () => {
    if (!existsSync(CHROMIUM_PATH)) {
      throw new Error(`${CHROMIUM_PATH} is missing: install Chromium (apt-get install chromium), as .ci/run does`);
    }
    // playwright-core passes --no-sandbox itself (chromiumSandbox defaults to false): Chromium needs it as root.
    launched = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true });
  });
  afterAll(async () => {
    await launched?.close();
  });
  beforeEach(async () => {
    current = await browser().newPage();
  });
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });
  return { page, browser };
}

function unavailable(message: string): never {
  throw new Error(message);
}
