import type { Build } from '@aws-sdk/client-codebuild';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { BUILD_ARTIFACT_NAME, buildArtifactKey } from '../../../core/platform';
import { LocalBuildRunner, UnknownRepositoryError, type BuildRequest } from '../../../local/build-runner';
import { NETWORK_VARIABLES, NPM_GLOBALCONFIG_VARIABLE } from '../../../local/build-runner/network';
import { everyKeyBuildspec } from './every-key';
import { createFixture, type Fixture } from './git-fixture';

const phase = (build: Build, type: string) => build.phases?.find((p) => p.phaseType === type);
const phaseTypes = (build: Build) => build.phases?.map((p) => `${p.phaseType}:${p.phaseStatus ?? ''}`);

describe('LocalBuildRunner', () => {
  let fixture: Fixture;
  let runner: LocalBuildRunner;
  const run = (buildspec: string, request: Partial<BuildRequest> = {}) => {
    fixture.commit({ 'buildspec.yml': buildspec });
    return runner.run({
      projectName: 'demo',
      buildspecPath: 'buildspec.yml',
      repositoryPath: fixture.repo,
      sourceVersion: 'main',
      ...request,
    });
  };

  beforeEach(() => {
    fixture = createFixture({ 'src/app.txt': 'app\n' });
    runner = new LocalBuildRunner({ rootDir: fixture.rootDir, runtimeCacheDir: join(fixture.dir, 'runtimes') });
  });
  afterEach(() => fixture.cleanup());

  describe('the build environment', () => {
    const shell = {
      STEPLINE_SHELL_ONLY: 'from the shell',
      npm_package_name: 'stepline',
      AWS_ACCESS_KEY_ID: 'AKIAEXAMPLEEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_PROFILE: 'production',
    };
    beforeEach(() => Object.assign(process.env, shell));
    afterEach(() => Object.keys(shell).forEach((name) => delete process.env[name]));
    const printEnvironment = `version: 0.2
phases:
  build:
    commands:
      - env | sort
      - ls -A "$HOME"
`;
    const variablesOf = (log: string) =>
      Object.fromEntries(
        log
          .split('\n')
          .filter((line) => /^[A-Za-z_][A-Za-z0-9_]*=/.test(line))
          .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
      );

    it('holds nothing of the shell that started local mode, and no AWS credentials', async () => {
      const { build, logFile } = await run(printEnvironment);
      expect(build.buildStatus).toBe('SUCCEEDED');
      const log = readFileSync(logFile, 'utf8');
      const variables = variablesOf(log);
      for (const name of Object.keys(shell)) expect(variables[name]).toBeUndefined();
      expect(variables).toMatchObject({
        HOME: join(fixture.rootDir, 'home'),
        AWS_REGION: 'local',
        AWS_DEFAULT_REGION: 'local',
        AWS_EC2_METADATA_DISABLED: 'true',
        PATH: `${dirname(process.execPath)}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
        CODEBUILD_BUILD_ID: build.id,
      });
      // Every variable is CodeBuild's, the image's, what bash itself sets, or how the machine reaches the network.
      const expected =
        /^(CODEBUILD_\w+|HOME|PATH|AWS_REGION|AWS_DEFAULT_REGION|AWS_EC2_METADATA_DISABLED|PWD|OLDPWD|SHLVL|_|__STEPLINE_MARKER)$/;
      const network: readonly string[] = [...NETWORK_VARIABLES, NPM_GLOBALCONFIG_VARIABLE];
      expect(Object.keys(variables).filter((name) => !expected.test(name) && !network.includes(name))).toEqual([]);
      expect(variables[NPM_GLOBALCONFIG_VARIABLE]).toBe(join(fixture.rootDir, 'npmrc'));
      // The home holds npm's cache and none of the user's dotfiles.
      expect(log).toMatch(/^\.npm$/m);
      expect(log).not.toMatch(/^\.aws$/m);
    });

    it("passes this shell's AWS credentials when asked to, and nothing else of it", async () => {
      runner = new LocalBuildRunner({
        rootDir: fixture.rootDir,
        runtimeCacheDir: join(fixture.dir, 'runtimes'),
        passAwsCredentials: true,
      });
      const variables = variablesOf(readFileSync((await run(printEnvironment)).logFile, 'utf8'));
      expect(variables).toMatchObject({
        AWS_ACCESS_KEY_ID: shell.AWS_ACCESS_KEY_ID,
        AWS_SECRET_ACCESS_KEY: shell.AWS_SECRET_ACCESS_KEY,
        AWS_PROFILE: shell.AWS_PROFILE,
        AWS_SHARED_CREDENTIALS_FILE: join(homedir(), '.aws', 'credentials'),
      });
      expect(variables.STEPLINE_SHELL_ONLY).toBeUndefined();
    });
  });

  describe("the machine's network settings", () => {
    const machine = {
      HTTPS_PROXY: 'http://proxy.example:3128',
      http_proxy: 'http://proxy.example:3128',
      NO_PROXY: '.internal.example,169.254.169.254',
      NODE_EXTRA_CA_CERTS: '/etc/corporate/ca.pem',
      SSL_CERT_FILE: '/etc/corporate/bundle.pem',
      SSL_CERT_DIR: '/etc/corporate/certs',
      // npm's configuration as the machine has it: registry and cafile are passed, strict-ssl is not.
      npm_config_registry: 'https://registry.corporate.example/',
      npm_config_cafile: '/etc/corporate/ca.pem',
      npm_config_strict_ssl: 'false',
      STEPLINE_SHELL_ONLY: 'from the shell',
    };
    let saved: NodeJS.ProcessEnv;
    beforeEach(() => {
      saved = { ...process.env };
      for (const name of [...NETWORK_VARIABLES, 'npm_config_userconfig']) delete process.env[name];
      Object.assign(process.env, machine, { npm_config_userconfig: join(fixture.dir, 'no-user-npmrc') });
    });
    afterEach(() => {
      for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
      Object.assign(process.env, saved);
    });

    it('reach builds by name, npm settings as the global npmrc, which a repository .npmrc overrides', async () => {
      fixture.commit({ 'app/.npmrc': 'registry=https://project.example/\n' });
      const { build, logFile } = await run(`version: 0.2
phases:
  build:
    commands:
      - env | sort
      - npm config get registry cafile strict-ssl
      - cd app && npm config get registry
`);
      expect(build.buildStatus).toBe('SUCCEEDED');
      const log = readFileSync(logFile, 'utf8');
      for (const name of [
        'HTTPS_PROXY',
        'http_proxy',
        'NO_PROXY',
        'NODE_EXTRA_CA_CERTS',
        'SSL_CERT_FILE',
        'SSL_CERT_DIR',
      ])
        expect(log).toContain(`\n${name}=${machine[name as keyof typeof machine]}\n`);
      expect(log).not.toContain('STEPLINE_SHELL_ONLY');
      expect(log).not.toMatch(/^npm_config_(registry|cafile|strict_ssl)=/m);
      expect(log).toContain(
        'registry=https://registry.corporate.example/\ncafile=/etc/corporate/ca.pem\nstrict-ssl=true\n',
      );
      expect(log).toContain('\nhttps://project.example/\n');
      expect(log).toMatch(
        /Network settings of this machine passed to the build: HTTPS_PROXY, NO_PROXY, http_proxy, NODE_EXTRA_CA_CERTS, SSL_CERT_FILE, SSL_CERT_DIR, npm_config_globalconfig$/m,
      );
    });
  });

  it('runs all phases in one shell: directory, variables and exports persist', async () => {
    const lines: string[] = [];
    const { build, logFile } = await run(
      `version: 0.2
env:
  variables:
    FROM_SPEC: spec
    OVERRIDDEN: spec
phases:
  install:
    commands:
      - cd src
      - PLAIN=plain
  pre_build:
    commands:
      - export EXPORTED=exported
  build:
    commands:
      - echo "$(pwd | xargs basename) $PLAIN $EXPORTED $FROM_SPEC $OVERRIDDEN"
      - |
        for word in multi line; do
          printf '%s ' "$word"
        done
        echo
  post_build:
    commands:
      - bash -c 'echo child sees $EXPORTED'
`,
      { environmentVariables: [{ name: 'OVERRIDDEN', value: 'override' }], onLogLine: (line) => lines.push(line) },
    );
    expect(build.buildStatus).toBe('SUCCEEDED');
    expect(phaseTypes(build)).toEqual([
      'SUBMITTED:SUCCEEDED',
      'QUEUED:SUCCEEDED',
      'PROVISIONING:SUCCEEDED',
      'DOWNLOAD_SOURCE:SUCCEEDED',
      'INSTALL:SUCCEEDED',
      'PRE_BUILD:SUCCEEDED',
      'BUILD:SUCCEEDED',
      'POST_BUILD:SUCCEEDED',
      'UPLOAD_ARTIFACTS:SUCCEEDED',
      'FINALIZING:SUCCEEDED',
      'COMPLETED:',
    ]);
    const log = readFileSync(logFile, 'utf8');
    expect(log).toContain('src plain exported spec override\n');
    expect(log).toContain('multi line \n');
    expect(log).toContain('child sees exported\n');
    expect(log).toMatch(/^\[Container\] \d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d\.\d{6} Entering phase BUILD$/m);
    expect(log).toMatch(/Running command cd src\n/);
    expect(lines.join('\n') + '\n').toBe(log);
    expect(build).toMatchObject({
      id: expect.stringMatching(/^demo:[0-9a-f-]{36}$/),
      buildNumber: 1,
      currentPhase: 'COMPLETED',
      buildComplete: true,
      initiator: 'stepline-local',
      sourceVersion: 'main',
      resolvedSourceVersion: expect.stringMatching(/^[0-9a-f]{40}$/),
      logs: { groupName: '/stepline/local/codebuild/demo', deepLink: `file://${logFile}` },
      environment: { type: 'LINUX_CONTAINER', image: 'local' },
    });
    expect(build.arn).toBe(`arn:aws:codebuild:local:000000000000:build/${build.id}`);
    expect(existsSync(join(logFile, '..', 'src'))).toBe(false);
  });

  it('numbers builds per project, in order', async () => {
    const spec = 'version: 0.2\nphases:\n  build:\n    commands: [true]\n';
    expect((await run(spec)).build.buildNumber).toBe(1);
    expect((await run(spec)).build.buildNumber).toBe(2);
    expect((await run(spec, { projectName: 'other' })).build.buildNumber).toBe(1);
  });

  it('sets the CODEBUILD_* variables CodeBuild documents', async () => {
    const names = [
      'CODEBUILD_BUILD_ID',
      'CODEBUILD_BUILD_ARN',
      'CODEBUILD_BUILD_NUMBER',
      'CODEBUILD_BUILD_IMAGE',
      'CODEBUILD_BUILD_SUCCEEDING',
      'CODEBUILD_INITIATOR',
      'CODEBUILD_LOG_PATH',
      'CODEBUILD_RESOLVED_SOURCE_VERSION',
      'CODEBUILD_SOURCE_REPO_URL',
      'CODEBUILD_SOURCE_VERSION',
      'CODEBUILD_SRC_DIR',
      'CODEBUILD_START_TIME',
    ];
    const { build, logFile } = await run(
      `version: 0.2\nphases:\n  build:\n    commands:\n${names.map((n) => `      - echo "${n}=$${n}"`).join('\n')}\n`,
    );
    const log = readFileSync(logFile, 'utf8');
    const value = (name: string) => new RegExp(`^${name}=(.*)$`, 'm').exec(log)?.[1];
    expect(value('CODEBUILD_BUILD_ID')).toBe(build.id);
    expect(value('CODEBUILD_BUILD_ARN')).toBe(build.arn);
    expect(value('CODEBUILD_BUILD_NUMBER')).toBe('1');
    expect(value('CODEBUILD_BUILD_IMAGE')).toBe('local');
    expect(value('CODEBUILD_BUILD_SUCCEEDING')).toBe('1');
    expect(value('CODEBUILD_INITIATOR')).toBe('stepline-local');
    expect(value('CODEBUILD_LOG_PATH')).toBe(build.logs?.streamName);
    expect(value('CODEBUILD_RESOLVED_SOURCE_VERSION')).toBe(build.resolvedSourceVersion);
    expect(value('CODEBUILD_SOURCE_REPO_URL')).toBe(`file://${fixture.repo}`);
    expect(value('CODEBUILD_SOURCE_VERSION')).toBe('main');
    expect(value('CODEBUILD_SRC_DIR')).toBe(join(logFile, '..', 'src'));
    expect(Number(value('CODEBUILD_START_TIME'))).toBe(build.startTime?.getTime());
  });

  it('runs post_build and finally after a failed BUILD, with CODEBUILD_BUILD_SUCCEEDING=0', async () => {
    const { build, logFile } = await run(`version: 0.2
phases:
  build:
    commands:
      - echo before
      - exit 7
      - echo skipped
    finally:
      - echo finally ran
  post_build:
    commands:
      - echo post_build sees $CODEBUILD_BUILD_SUCCEEDING
artifacts:
  files: [src/app.txt]
`);
    expect(build.buildStatus).toBe('FAILED');
    expect(phase(build, 'BUILD')).toMatchObject({
      phaseStatus: 'FAILED',
      contexts: [
        {
          statusCode: 'COMMAND_EXECUTION_ERROR',
          message: 'Error while executing command: exit 7. Reason: exit status 7',
        },
      ],
    });
    expect(phase(build, 'POST_BUILD')?.phaseStatus).toBe('SUCCEEDED');
    expect(phase(build, 'UPLOAD_ARTIFACTS')?.phaseStatus).toBe('SUCCEEDED');
    const log = readFileSync(logFile, 'utf8');
    expect(log).not.toContain('skipped');
    expect(log).toContain('finally ran');
    expect(log).toContain('post_build sees 0');
    expect(log).toMatch(/Command did not exit successfully exit 7 exit status 7\n.*Running command echo finally ran/);
    expect(log).toMatch(
      /Phase complete: BUILD State: FAILED\n.*Phase context status code: COMMAND_EXECUTION_ERROR Message: Error while executing command: exit 7\. Reason: exit status 7\n/,
    );
  });

  it.each([
    ['install', 'INSTALL'],
    ['pre_build', 'PRE_BUILD'],
  ])('skips to FINALIZING after a failed %s', async (name, type) => {
    const { build, logFile } = await run(`version: 0.2
phases:
  ${name}:
    commands: ['false']
    finally: [echo cleanup]
  ${name === 'install' ? 'pre_build' : 'build'}:
    commands: [echo next phase]
  post_build:
    commands: [echo post]
artifacts:
  files: ['**/*']
`);
    expect(build.buildStatus).toBe('FAILED');
    expect(phaseTypes(build)?.slice(3)).toEqual([
      'DOWNLOAD_SOURCE:SUCCEEDED',
      ...(type === 'PRE_BUILD' ? ['INSTALL:SUCCEEDED'] : []),
      `${type}:FAILED`,
      'FINALIZING:SUCCEEDED',
      'COMPLETED:',
    ]);
    const log = readFileSync(logFile, 'utf8');
    expect(log).toContain('cleanup');
    expect(log).not.toContain('next phase');
    expect(log).not.toContain('post\n');
    expect(readdirSync(join(logFile, '..'))).toEqual(['build.log']);
  });

  it('goes on to the next phase after a failure under on-failure: CONTINUE, and the build still fails', async () => {
    const { build, logFile } = await run(`version: 0.2
phases:
  install:
    on-failure: CONTINUE
    commands: ['false']
  build:
    commands: [echo build ran]
`);
    expect(build.buildStatus).toBe('FAILED');
    expect(phase(build, 'INSTALL')?.phaseStatus).toBe('FAILED');
    expect(phase(build, 'BUILD')?.phaseStatus).toBe('SUCCEEDED');
    expect(readFileSync(logFile, 'utf8')).toContain('build ran');
  });

  it('fails the phase when a finally command fails', async () => {
    const { build } = await run("version: 0.2\nphases:\n  build:\n    commands: [true]\n    finally: ['false']\n");
    expect(phase(build, 'BUILD')?.contexts?.[0]?.message).toBe(
      'Error while executing command: false. Reason: exit status 1',
    );
  });

  it('parses JUnit reports into a report per group, kept for getReports', async () => {
    const junit = (failures: number) =>
      `<testsuite>${'<testcase name="ok" time="0.5"/>'.repeat(2)}${'<testcase name="bad"><failure/></testcase>'.repeat(failures)}<testcase name="skip"><skipped/></testcase></testsuite>`;
    const { build, reports } = await run(`version: 0.2
phases:
  build:
    commands:
      - mkdir -p out/nested && echo '${junit(1)}' > out/a.xml && echo '${junit(0)}' > out/nested/b.xml
reports:
  unit:
    files: ['**/*.xml']
    base-directory: out
  none:
    files: ['missing/*.xml']
`);
    expect(build.buildStatus).toBe('SUCCEEDED');
    expect(reports).toHaveLength(1);
    const [report] = reports;
    expect(report).toMatchObject({
      arn: expect.stringMatching(/^arn:aws:codebuild:local:000000000000:report\/demo-unit:[0-9a-f-]{36}$/),
      type: 'TEST',
      name: 'demo-unit',
      reportGroupArn: 'arn:aws:codebuild:local:000000000000:report-group/demo-unit',
      executionId: build.arn,
      status: 'FAILED',
      testSummary: {
        total: 7,
        statusCounts: { SUCCEEDED: 4, FAILED: 1, SKIPPED: 2, ERROR: 0, UNKNOWN: 0 },
        durationInNanoSeconds: 2e9,
      },
    });
    expect(build.reportArns).toEqual([report.arn]);
    const stored = new LocalBuildRunner({ rootDir: fixture.rootDir }).getReports([report.arn as string, 'arn:unknown']);
    expect(stored).toEqual([report]);
  });

  it('runs a buildspec with keys it cannot honour, saying so once in the log; artifacts/type is passed over', async () => {
    const { build, logFile } = await run(`version: 0.2
env:
  secrets-manager: { TOKEN: app/token:token }
phases:
  build:
    commands:
      - mkdir -p docs && echo guide > docs/guide.md && echo "token=[$TOKEN]"
artifacts:
  type: zip
  files: [src/app.txt]
  secondary-artifacts:
    docs:
      base-directory: docs
      files: ['**/*']
cache:
  paths: [node_modules]
`);
    expect(build.buildStatus).toBe('SUCCEEDED');
    const log = readFileSync(logFile, 'utf8');
    const warnings = log.split('\n').filter((line) => /^\[Container\] \S+ \S+ Warning: /.test(line));
    expect(warnings.map((line) => line.replace(/^.*? Warning: /, ''))).toEqual([
      'env/secrets-manager is not honoured locally: local mode reads no Secrets Manager secret: these variables are not set (TOKEN) at line 3',
      'The following keys cannot be identified: artifacts/type (ignored) at line 9',
    ]);
    expect(log).toContain('token=[]\n');
    expect(readdirSync(build.artifacts!.location!.replace('file://', ''), { recursive: true })).toContain('src');
    expect(build.secondaryArtifacts).toEqual([
      { artifactIdentifier: 'docs', location: expect.stringMatching(/^file:\/\/.*\/secondary-artifacts\/docs$/) },
    ]);
    expect(readdirSync(build.secondaryArtifacts![0]!.location!.replace('file://', ''))).toEqual(['guide.md']);
  });

  it('runs a buildspec that uses every key CodeBuild documents', async () => {
    const major = process.versions.node.split('.')[0];
    const { build, logFile } = await run(everyKeyBuildspec(major));
    expect(build.buildStatus).toBe('SUCCEEDED');
    expect(build.exportedEnvironmentVariables).toEqual([{ name: 'STAGE', value: 'test' }]);
    expect(build.reportArns).toHaveLength(1);
    expect(build.secondaryArtifacts).toHaveLength(1);
    const log = readFileSync(logFile, 'utf8');
    expect(log).toContain(`v${process.versions.node}\n`);
    expect(log).toContain('post test\n');
    expect(log.match(/ Warning: /g)).toHaveLength(10);
  });

  it('runs a version 0.1 buildspec with a shell per command: nothing carries over', async () => {
    const { build, logFile } = await run(`version: 0.1
phases:
  build:
    commands:
      - cd src && export CARRIED=yes
      - echo "in [\${PWD#"$CODEBUILD_SRC_DIR"}] carried=[$CARRIED]"
`);
    expect(build.buildStatus).toBe('SUCCEEDED');
    expect(readFileSync(logFile, 'utf8')).toMatch(/^in \[\] carried=\[\]$/m);
  });

  describe('the local build quota', () => {
    const spec = 'version: 0.2\nphases:\n  build:\n    commands: ["sleep 0.4"]\n';
    const window = (build: Build, type: string) => {
      const p = phase(build, type)!;
      return [p.startTime!.getTime(), p.endTime!.getTime()];
    };
    let request: BuildRequest;
    beforeEach(() => {
      runner = new LocalBuildRunner({
        rootDir: fixture.rootDir,
        runtimeCacheDir: join(fixture.dir, 'runtimes'),
        maxConcurrentBuilds: 1,
      });
      fixture.commit({ 'buildspec.yml': spec });
      request = {
        projectName: 'demo',
        buildspecPath: 'buildspec.yml',
        repositoryPath: fixture.repo,
        sourceVersion: 'main',
      };
    });

    it('runs builds past the quota in order, their wait recorded as the QUEUED phase', async () => {
      const firstRun = runner.run(request);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const [first, second] = await Promise.all([firstRun, runner.run(request)]);

      expect([first.build.buildStatus, second.build.buildStatus]).toEqual(['SUCCEEDED', 'SUCCEEDED']);
      const [queuedFrom, queuedUntil] = window(second.build, 'QUEUED');
      expect(queuedUntil! - queuedFrom!).toBeGreaterThanOrEqual(250);
      // The second build started only when the first had ended.
      expect(window(second.build, 'BUILD')[0]).toBeGreaterThanOrEqual(window(first.build, 'BUILD')[1]!);
      expect(readFileSync(second.logFile, 'utf8')).toContain(
        'Waiting for a build slot: 1 builds running, 0 waiting (local build quota 1)',
      );
      expect(readFileSync(first.logFile, 'utf8')).not.toContain('Waiting for a build slot');
    });

    it('stops a queued build without running it', async () => {
      const stop = new AbortController();
      const running = runner.run(request);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const queued = runner.run({ ...request, signal: stop.signal });
      setTimeout(() => stop.abort(), 100);

      const stopped = (await queued).build;
      expect(stopped.buildStatus).toBe('STOPPED');
      expect(phaseTypes(stopped)).toEqual([
        'SUBMITTED:SUCCEEDED',
        'QUEUED:STOPPED',
        'FINALIZING:SUCCEEDED',
        'COMPLETED:',
      ]);
      expect((await running).build.buildStatus).toBe('SUCCEEDED');
    });
  });

  it("keeps the artifacts of a project's newest builds only; older builds keep their logs", async () => {
    runner = new LocalBuildRunner({
      rootDir: fixture.rootDir,
      runtimeCacheDir: join(fixture.dir, 'runtimes'),
      keepArtifactsOfBuilds: 2,
    });
    const spec = 'version: 0.2\nphases:\n  build:\n    commands: [true]\nartifacts:\n  files: [src/app.txt]\n';
    const builds = [];
    for (let i = 0; i < 4; i++) builds.push(await run(spec));
    const kept = builds.map(({ build, logFile }) => ({
      artifacts: existsSync(build.artifacts!.location!.replace('file://', '')),
      log: existsSync(logFile),
    }));
    expect(kept).toEqual([
      { artifacts: false, log: true },
      { artifacts: false, log: true },
      { artifacts: true, log: true },
      { artifacts: true, log: true },
    ]);
  });

  it("puts the primary artifact at the S3 key's shape, <project dir>/<build uuid>/artifact.zip", async () => {
    const { build } = await run(
      'version: 0.2\nphases:\n  build:\n    commands: [true]\nartifacts:\n  files: [src/app.txt]\n',
    );
    const location = build.artifacts!.location!.replace('file://', '');
    const uuid = build.id!.split(':')[1]!;
    expect(location).toBe(buildArtifactKey(join(fixture.rootDir, 'builds', build.projectName!), build.id!));
    expect(location.endsWith(`/${uuid}/${BUILD_ARTIFACT_NAME}`)).toBe(true);
    expect(readdirSync(location, { recursive: true })).toContain(join('src', 'app.txt'));
  });

  it('copies artifacts with base-directory, discard-paths and exclude-paths', async () => {
    const { build } = await run(`version: 0.2
phases:
  build:
    commands:
      - mkdir -p dist/js/lib && touch dist/index.html dist/js/app.js dist/js/lib/x.js dist/js/app.js.map
artifacts:
  base-directory: dist
  files: ['**/*']
  exclude-paths: ['**/*.map']
`);
    const location = build.artifacts?.location?.replace('file://', '') as string;
    expect(readdirSync(location, { recursive: true }).sort()).toEqual([
      'index.html',
      'js',
      'js/app.js',
      'js/lib',
      'js/lib/x.js',
    ]);

    const flat = await run(`version: 0.2
phases:
  build:
    commands: ['mkdir -p a/b && touch a/one a/b/two']
artifacts:
  files: ['a/**/*']
  discard-paths: yes
`);
    expect(readdirSync(flat.build.artifacts?.location?.replace('file://', '') as string).sort()).toEqual([
      'one',
      'two',
    ]);
  });

  it('fails UPLOAD_ARTIFACTS when no file matches, as CodeBuild does', async () => {
    const { build } = await run(
      'version: 0.2\nphases:\n  build:\n    commands: [true]\nartifacts:\n  files: [nothing/*]\n',
    );
    expect(build.buildStatus).toBe('FAILED');
    expect(phase(build, 'UPLOAD_ARTIFACTS')?.contexts).toEqual([
      { statusCode: 'CLIENT_ERROR', message: 'no matching artifact paths found' },
    ]);
  });

  it('fails DOWNLOAD_SOURCE with YAML_FILE_ERROR for a malformed buildspec', async () => {
    const { build, logFile } = await run('version: 0.2\nphases:\n  build:\n    commands:\n      - echo a: b\n');
    expect(build.buildStatus).toBe('FAILED');
    expect(phaseTypes(build)?.slice(3)).toEqual(['DOWNLOAD_SOURCE:FAILED', 'FINALIZING:SUCCEEDED', 'COMPLETED:']);
    const context = {
      statusCode: 'YAML_FILE_ERROR',
      message: 'Expected Commands[0] to be of string type: found subkeys instead at line 5',
    };
    expect(phase(build, 'DOWNLOAD_SOURCE')?.contexts).toEqual([context]);
    expect(readFileSync(logFile, 'utf8')).toContain(
      `Phase context status code: YAML_FILE_ERROR Message: ${context.message}`,
    );
  });

  it('fails DOWNLOAD_SOURCE for a missing buildspec and for an unknown source version', async () => {
    const missing = await run('version: 0.2\n', { buildspecPath: 'nope.yml' });
    expect(phase(missing.build, 'DOWNLOAD_SOURCE')?.contexts).toEqual([
      { statusCode: 'YAML_FILE_ERROR', message: 'YAML file does not exist' },
    ]);
    const unknown = await run('version: 0.2\n', { sourceVersion: 'no-such-branch' });
    expect(phase(unknown.build, 'DOWNLOAD_SOURCE')?.contexts).toEqual([
      {
        statusCode: 'CLIENT_ERROR',
        message: 'reference not found for primary source and source version no-such-branch',
      },
    ]);
  });

  it('builds the commit asked for, by id', async () => {
    const buildspec = 'version: 0.2\nphases:\n  build:\n    commands: [cat version.txt]\n';
    const first = fixture.commit({ 'buildspec.yml': buildspec, 'version.txt': 'one\n' });
    fixture.commit({ 'version.txt': 'two\n' });
    const { build, logFile } = await runner.run({
      projectName: 'demo',
      buildspecPath: 'buildspec.yml',
      repositoryPath: fixture.repo,
      sourceVersion: first.slice(0, 10),
    });
    expect(build.resolvedSourceVersion).toBe(first);
    expect(readFileSync(logFile, 'utf8')).toContain('\none\n');
  });

  it('builds from a bare repository', async () => {
    fixture.commit({ 'buildspec.yml': 'version: 0.2\nphases:\n  build:\n    commands: [cat src/app.txt]\n' });
    const bare = join(fixture.dir, 'bare.git');
    execFileSync('git', ['clone', '--quiet', '--bare', fixture.repo, bare]);
    const { build } = await runner.run({
      projectName: 'demo',
      buildspecPath: 'buildspec.yml',
      repositoryPath: bare,
      sourceVersion: 'main',
    });
    expect(build.buildStatus).toBe('SUCCEEDED');
  });

  it('uses the running Node for its own major without downloading anything', async () => {
    const major = process.versions.node.split('.')[0];
    const { build, logFile } = await run(
      `version: 0.2\nphases:\n  install:\n    runtime-versions:\n      nodejs: ${major}.x\n  build:\n    commands: [node --version, npm --version]\n`,
    );
    expect(build.buildStatus).toBe('SUCCEEDED');
    expect(readFileSync(logFile, 'utf8')).toContain(`\nv${process.versions.node}\n`);
    expect(existsSync(join(fixture.dir, 'runtimes'))).toBe(false);
  });

  it('fails INSTALL with the reason for a runtime local mode cannot provide', async () => {
    const { build } = await run(
      'version: 0.2\nphases:\n  install:\n    runtime-versions:\n      python: 3.12\n  build:\n    commands: [true]\n',
    );
    expect(build.buildStatus).toBe('FAILED');
    expect(phase(build, 'INSTALL')?.contexts).toEqual([
      { statusCode: 'YAML_FILE_ERROR', message: "Unknown runtime named 'python'. Local mode provides: nodejs" },
    ]);
    expect(phase(build, 'BUILD')).toBeUndefined();
  });

  it('exports env/exported-variables as they stand after post_build', async () => {
    const { build } = await run(
      'version: 0.2\nenv:\n  exported-variables: [IMAGE_TAG, UNSET]\nphases:\n  build:\n    commands: [IMAGE_TAG=v1-$CODEBUILD_BUILD_NUMBER]\n',
    );
    expect(build.exportedEnvironmentVariables).toEqual([
      { name: 'IMAGE_TAG', value: 'v1-1' },
      { name: 'UNSET', value: '' },
    ]);
  });

  it('stops a running build promptly when aborted, killing its processes', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const result = run(
      'version: 0.2\nphases:\n  build:\n    commands: [echo started, sleep 30]\n  post_build:\n    commands: [echo post]\n',
      {
        signal: controller.signal,
        onLogLine: (line) => line === 'started' && setTimeout(() => controller.abort(), 50),
      },
    );
    const { build, logFile } = await result;
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(build.buildStatus).toBe('STOPPED');
    expect(phase(build, 'BUILD')?.phaseStatus).toBe('STOPPED');
    expect(phase(build, 'POST_BUILD')).toBeUndefined();
    expect(readFileSync(logFile, 'utf8')).not.toContain('\npost\n');
  });

  it('times out a build that runs past timeoutMinutes', async () => {
    const started = Date.now();
    const { build } = await run('version: 0.2\nphases:\n  build:\n    commands: [sleep 30]\n', {
      timeoutMinutes: 0.01,
    });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(build.buildStatus).toBe('TIMED_OUT');
    expect(phase(build, 'BUILD')?.phaseStatus).toBe('TIMED_OUT');
    expect(build.phases?.at(-1)?.phaseType).toBe('COMPLETED');
  });

  it('rejects a request for a path that is not a git repository', async () => {
    await expect(
      runner.run({
        projectName: 'demo',
        buildspecPath: 'buildspec.yml',
        repositoryPath: join(fixture.dir, 'nope'),
        sourceVersion: 'main',
      }),
    ).rejects.toBeInstanceOf(UnknownRepositoryError);
  });
});
