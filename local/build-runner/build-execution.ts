import type { Build, BuildArtifacts, PhaseContext, Report, StatusType } from '@aws-sdk/client-codebuild';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { buildArtifactKey } from '../../core/platform';
import {
  COMMAND_PHASES,
  parseBuildspec,
  type Buildspec,
  type CommandPhaseName,
  type FileSetSpec,
  type PhaseSpec,
} from './buildspec';
import { localBuildLogGroup } from '../build-logs';
import { BuildLog } from './build-log';
import { BuildCache, type ProjectCache } from './cache';
import { buildEnvironment } from './environment';
import type { MachineNetwork } from './network';
import { BuildspecError } from './errors';
import { copyFiles, resolveFileSet } from './file-sets';
import { afterFailure, PHASE_TYPES, PhaseRecorder } from './phases';
import type { ReportStore } from './report-store';
import { createReports } from './reports';
import { selectRuntimes } from './runtime-installer';
import type { BuildSlots } from './build-slots';
import type { ProcessRegistry } from './process-registry';
import { BuildShell } from './shell';
import { checkoutSource, removeWorkTree } from './source';

export interface BuildSettings {
  readonly projectName: string;
  readonly buildId: string;
  readonly buildArn: string;
  readonly projectArn: string;
  readonly buildNumber: number;
  readonly buildDir: string;
  readonly logStreamName: string;
  readonly buildspecPath: string;
  readonly repositoryPath: string;
  readonly sourceVersion: string;
  readonly environmentVariables: ReadonlyArray<{ name: string; value: string }>;
  readonly timeoutMinutes: number;
  readonly signal?: AbortSignal;
  readonly onLogLine?: (line: string) => void;
  readonly runtimeCacheDir: string;
  readonly reportStore: ReportStore;
  readonly now: () => Date;
  /** The builds' home directory. */
  readonly home: string;
  readonly region: string;
  readonly awsCredentials: Readonly<Record<string, string>>;
  /** How this machine reaches the network, as read when the runner started. */
  readonly machineNetwork: MachineNetwork;
  /** The network settings builds get (NETWORK_VARIABLES and the npmrc written from npm's). */
  readonly networkVariables: Readonly<Record<string, string>>;
  /** The local build quota this build waits its turn in. */
  readonly slots: BuildSlots;
  /** Where the build's shell process groups are recorded while they run. */
  readonly processes: ProcessRegistry;
  /** The project's cache type: whether and how the buildspec's `cache` section is honoured. */
  readonly projectCache: ProjectCache;
  /** False when local mode runs without caches (`--no-cache`). */
  readonly cacheEnabled: boolean;
  /** Where this project's caches are kept (`<state dir>/cache/<project>`). */
  readonly projectCacheDir: string;
}

export interface BuildOutcome {
  readonly build: Build;
  readonly logFile: string;
  readonly reports: Report[];
}

type Interruption = 'STOPPED' | 'TIMED_OUT';
interface CommandFailure {
  readonly command: string;
  readonly status: number;
}

const SUCCESS_CONTEXT: PhaseContext = { statusCode: '', message: '' };

/** One build, from SUBMITTED to COMPLETED, in its own work tree and shell. */
export class BuildExecution {
  private readonly log: BuildLog;
  private readonly recorder: PhaseRecorder;
  private readonly srcDir: string;
  private readonly artifactsDir: string;
  /** Aborts git and npm when the build is stopped or times out. */
  private readonly halt = new AbortController();
  private readonly startTime: Date;
  private interruption: Interruption | undefined;
  private faulted = false;
  private shell: BuildShell | undefined;
  private buildspec: Buildspec | undefined;
  private resolvedSourceVersion: string | undefined;
  private pathPrefix: readonly string[] = [];
  private succeeding = true;
  private reports: Report[] = [];
  private artifactsLocation = '';
  private readonly secondaryArtifacts: BuildArtifacts[] = [];
  private exportedVariables: { name: string; value: string }[] = [];
  private cache: BuildCache | undefined;

  constructor(private readonly settings: BuildSettings) {
    this.startTime = settings.now();
    this.log = new BuildLog(join(settings.buildDir, 'build.log'), settings.now, settings.onLogLine);
    this.recorder = new PhaseRecorder(settings.now);
    this.srcDir = join(settings.buildDir, 'src');
    // The primary artifact where CodeBuild's S3 key would put it: `<project dir>/<build uuid>/artifact.zip`
    // (core/platform.ts buildArtifactKey; the build dir is named after the build's uuid). Locally it is
    // the unpacked directory, which local Lambda takes as the code.
    this.artifactsDir = buildArtifactKey(dirname(settings.buildDir), settings.buildId);
  }

  async run(): Promise<BuildOutcome> {
    const { signal, timeoutMinutes, slots } = this.settings;
    const stop = (): void => this.interrupt('STOPPED');
    signal?.addEventListener('abort', stop, { once: true });
    if (signal?.aborted) stop();
    let timer: NodeJS.Timeout | undefined;
    let release: (() => void) | undefined;
    try {
      this.recorder.instant('SUBMITTED');
      this.recorder.begin('QUEUED');
      const { running, waiting } = slots.load;
      if (running >= slots.limit) {
        this.log.container(
          `Waiting for a build slot: ${running} builds running, ${waiting} waiting (local build quota ${slots.limit})`,
        );
      }
      release = await slots.acquire(this.halt.signal);
      if (this.interruption) return await this.finish();
      this.recorder.end('SUCCEEDED');
      // As on CodeBuild, the build timeout counts from when the build leaves the queue.
      timer = setTimeout(() => this.interrupt('TIMED_OUT'), timeoutMinutes * 60_000);
      this.recorder.instant('PROVISIONING');
      await this.execute();
    } catch (error) {
      // A fault of the runner itself (a file it cannot write, bash missing), not of the build's commands.
      this.faulted = true;
      this.log.container(`Build fault: ${(error as Error).message}`);
      this.endPhase('FAULT', { statusCode: 'CLIENT_ERROR', message: (error as Error).message });
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', stop);
      this.shell?.kill();
      release?.();
    }
    return this.finish();
  }

  private async finish(): Promise<BuildOutcome> {
    if (this.interruption) this.endPhase(this.interruption, this.interruptionContext());
    this.recorder.instant('FINALIZING');
    this.recorder.complete();
    await removeWorkTree(this.srcDir);
    await this.log.close();
    return { build: this.describe(), logFile: this.log.path, reports: this.reports };
  }

  private async execute(): Promise<void> {
    const { networkVariables, machineNetwork } = this.settings;
    // Names only: a proxy's URL may carry its credentials.
    this.log.container(
      `Network settings of this machine passed to the build: ${Object.keys(networkVariables).join(', ')}`,
    );
    if (machineNetwork.npmConfigProblem) {
      this.log.container(`Warning: npm's registry settings were not passed: ${machineNetwork.npmConfigProblem}`);
    }
    if (!(await this.downloadSource())) return;
    const buildspec = this.buildspec as Buildspec;
    for (const name of COMMAND_PHASES) {
      const failed = await this.commandPhase(name, buildspec.phases[name]);
      if (this.interruption) return;
      const onFailure = buildspec.phases[name]?.onFailure ?? 'ABORT';
      if (failed && onFailure === 'ABORT' && afterFailure(name) === 'FINALIZING') return;
    }
    await this.collectExportedVariables(buildspec.exportedVariables);
    if (this.interruption) return;
    await this.uploadArtifacts(buildspec);
  }

  private async downloadSource(): Promise<boolean> {
    const { repositoryPath, sourceVersion, buildspecPath } = this.settings;
    this.recorder.begin('DOWNLOAD_SOURCE');
    this.log.container('Phase is DOWNLOAD_SOURCE');
    const checkout = await checkoutSource(repositoryPath, sourceVersion, this.srcDir, this.halt.signal, this.track);
    if (this.interruption) return false;
    if (!checkout.ok) return this.failPhase('CLIENT_ERROR', checkout.message);
    this.resolvedSourceVersion = checkout.commit;
    this.log.container(`CODEBUILD_SRC_DIR=${this.srcDir}`);
    const location = join(this.srcDir, buildspecPath);
    const text = await readFile(location, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'EISDIR') return undefined;
      throw error;
    });
    if (text === undefined) return this.failPhase('YAML_FILE_ERROR', 'YAML file does not exist');
    this.log.container(`YAML location is ${location}`);
    try {
      this.buildspec = parseBuildspec(text);
    } catch (error) {
      if (error instanceof BuildspecError) return this.failPhase('YAML_FILE_ERROR', error.message);
      throw error;
    }
    for (const warning of this.buildspec.warnings) this.log.container(`Warning: ${warning}`);
    await this.restoreCache(this.buildspec);
    if (this.interruption) return false;
    this.completePhase('SUCCEEDED', SUCCESS_CONTEXT);
    return true;
  }

  /** Before the install phase, as CodeBuild restores its cache; a cache that cannot be used is only logged. */
  private async restoreCache(buildspec: Buildspec): Promise<void> {
    const { projectCache, cacheEnabled, projectCacheDir, home, buildDir } = this.settings;
    this.cache = BuildCache.of(buildspec.cache, projectCache, cacheEnabled, {
      projectCacheDir,
      srcDir: this.srcDir,
      home,
      scratchDir: buildDir,
      log: (message) => this.log.container(message),
      expand: (template) => this.expandInShell(template),
    });
    await this.cache?.restore();
  }

  /**
   * A value expanded by bash in the build's environment, as an unquoted here-document expands it
   * (variables and command substitutions), in a shell of its own: the build's shell starts with the
   * install phase's runtimes.
   */
  private async expandInShell(template: string): Promise<{ ok: true; value: string } | { ok: false; message: string }> {
    const delimiter = `__STEPLINE_VALUE_${Date.now()}__`;
    const shell = new BuildShell(this.environment(), this.srcDir, (line) => this.log.output(line), this.track);
    try {
      const { status, output } = await shell.run(`cat <<${delimiter}\n${template}\n${delimiter}`, { capture: true });
      if (status !== 0) return { ok: false, message: `bash exited with status ${status}: ${output.trim()}` };
      return { ok: true, value: output.replace(/\n$/, '') };
    } finally {
      shell.kill();
    }
  }

  /** Runs one of install/pre_build/build/post_build; resolves to true when the phase failed. */
  private async commandPhase(name: CommandPhaseName, phase: PhaseSpec | undefined): Promise<boolean> {
    const type = PHASE_TYPES[name];
    this.recorder.begin(type);
    const runtimeVersions = name === 'install' ? (this.buildspec as Buildspec).runtimeVersions : {};
    if (phase === undefined && Object.keys(runtimeVersions).length === 0) {
      this.recorder.end('SUCCEEDED');
      return false;
    }
    this.log.container(`Entering phase ${type}`);
    if (Object.keys(runtimeVersions).length > 0) {
      const selection = await selectRuntimes(runtimeVersions, {
        cacheDir: this.settings.runtimeCacheDir,
        env: this.environment(),
        npmGlobalConfig: this.settings.machineNetwork.npmGlobalConfig,
        signal: this.halt.signal,
        log: (message) => this.log.container(message),
        track: this.track,
      });
      if (this.interruption) return false;
      if (!selection.ok) return !this.failPhase(selection.statusCode, selection.message);
      this.pathPrefix = selection.pathPrefix;
    }
    const failure = await this.runCommands(phase?.commands ?? []);
    if (this.interruption) return false;
    // `finally` runs even when a command failed; the phase fails if any command of either block did.
    const finallyFailure = await this.runCommands(phase?.finally ?? []);
    if (this.interruption) return false;
    const first = failure ?? finallyFailure;
    if (first === undefined) {
      this.completePhase('SUCCEEDED', SUCCESS_CONTEXT);
      return false;
    }
    const message = `Error while executing command: ${first.command}. Reason: exit status ${first.status}`;
    return !this.failPhase('COMMAND_EXECUTION_ERROR', message);
  }

  /** Runs commands in order, stopping at the first that fails. */
  private async runCommands(commands: readonly string[]): Promise<CommandFailure | undefined> {
    for (const command of commands) {
      this.log.container(`Running command ${command}`);
      const shell = this.liveShell();
      const { status } = await shell.run(command);
      // Version 0.1 runs every command in a shell of its own: nothing carries over to the next.
      if (this.buildspec?.version === '0.1') this.endShell();
      if (this.interruption) return undefined;
      if (!shell.alive) {
        this.log.container(
          `The build shell exited with status ${status}; later commands run in a new shell without earlier variables and directory changes`,
        );
      }
      if (status !== 0) {
        this.log.container(`Command did not exit successfully ${command} exit status ${status}`);
        return { command, status };
      }
    }
    return undefined;
  }

  /** Records a process group of this build while it runs, so a crash of local mode cannot orphan it. */
  private readonly track = (pgid: number): (() => void) =>
    this.settings.processes.register(pgid, { buildId: this.settings.buildId, buildDir: this.settings.buildDir });

  private endShell(): void {
    this.shell?.kill();
    this.shell = undefined;
  }

  private liveShell(): BuildShell {
    if (this.shell === undefined || !this.shell.alive) {
      this.shell = new BuildShell(this.environment(), this.srcDir, (line) => this.log.output(line), this.track);
    }
    return this.shell;
  }

  /** `env/exported-variables` take their values as they stand when post_build ends. */
  private async collectExportedVariables(names: readonly string[]): Promise<void> {
    if (names.length === 0 || this.shell === undefined) return;
    const script = `for __stepline_name in ${names.join(' ')}; do printf '%s\\0%s\\0' "$__stepline_name" "\${!__stepline_name-}"; done`;
    const { output } = await this.shell.run(script, { capture: true });
    const fields = output.split('\0');
    for (let i = 0; i + 1 < fields.length; i += 2)
      this.exportedVariables.push({ name: fields[i], value: fields[i + 1] });
  }

  private async uploadArtifacts(buildspec: Buildspec): Promise<void> {
    this.recorder.begin('UPLOAD_ARTIFACTS');
    this.log.container('Entering phase UPLOAD_ARTIFACTS');
    const log = (message: string): void => this.log.container(message);
    const context = { ...this.settings, srcDir: this.srcDir, log };
    const reports = await createReports(buildspec.reports, context);
    for (const { report, testCases } of reports) this.settings.reportStore.save(report, testCases);
    this.reports = reports.map(({ report }) => report);
    const sets: [string, FileSetSpec, string][] = [
      ...(buildspec.artifacts
        ? [['primary', buildspec.artifacts, this.artifactsDir] as [string, FileSetSpec, string]]
        : []),
      ...Object.entries(buildspec.secondaryArtifacts).map(([id, spec]): [string, FileSetSpec, string] => [
        id,
        spec,
        join(this.settings.buildDir, 'secondary-artifacts', id),
      ]),
    ];
    for (const [id, spec, destination] of sets) {
      log(
        `Expanding base directory path: ${spec.baseDirectory ?? '.'}${id === 'primary' ? '' : ` (secondary artifact ${id})`}`,
      );
      const files = await resolveFileSet(this.srcDir, spec);
      log(`Found ${files.length} file(s)`);
      if (files.length === 0) {
        this.failPhase('CLIENT_ERROR', 'no matching artifact paths found');
        return;
      }
      await copyFiles(files, destination);
      if (id === 'primary') this.artifactsLocation = `file://${destination}`;
      else this.secondaryArtifacts.push({ artifactIdentifier: id, location: `file://${destination}` });
    }
    // Only a build that succeeded is cached (cache.ts says why).
    if (this.succeeding) await this.cache?.save();
    else if (this.cache) log('No cache saved: the build failed');
    this.completePhase('SUCCEEDED', SUCCESS_CONTEXT);
  }

  /** Ends the current phase as FAILED; returns false so callers can `return this.failPhase(...)`. */
  private failPhase(statusCode: string, message: string): false {
    if (this.succeeding) {
      this.succeeding = false;
      // Later commands (post_build, finally) see the build failing, as CodeBuild's variable promises.
      if (this.shell?.alive) void this.shell.run('export CODEBUILD_BUILD_SUCCEEDING=0', { capture: true });
    }
    this.completePhase('FAILED', { statusCode, message });
    return false;
  }

  private completePhase(status: StatusType, context: PhaseContext): void {
    this.log.container(`Phase complete: ${this.recorder.currentType} State: ${status}`);
    this.log.container(`Phase context status code: ${context.statusCode} Message: ${context.message}`);
    this.recorder.end(status, status === 'SUCCEEDED' ? undefined : context);
  }

  private endPhase(status: StatusType, context: PhaseContext): void {
    if (this.recorder.currentType !== undefined) this.completePhase(status, context);
  }

  private interrupt(kind: Interruption): void {
    if (this.interruption) return;
    this.interruption = kind;
    this.halt.abort();
    this.shell?.kill();
  }

  private interruptionContext(): PhaseContext {
    return this.interruption === 'TIMED_OUT'
      ? { statusCode: 'BUILD_TIMED_OUT', message: `Build timed out after ${this.settings.timeoutMinutes} minutes` }
      : { statusCode: 'BUILD_STOPPED', message: 'Build was stopped' };
  }

  private environment(): NodeJS.ProcessEnv {
    const s = this.settings;
    return buildEnvironment({
      buildspec: this.buildspec?.variables ?? {},
      overrides: s.environmentVariables,
      pathPrefix: this.pathPrefix,
      home: s.home,
      region: s.region,
      awsCredentials: s.awsCredentials,
      network: s.networkVariables,
      builtIns: {
        CODEBUILD_BUILD_ID: s.buildId,
        CODEBUILD_BUILD_ARN: s.buildArn,
        CODEBUILD_BUILD_NUMBER: String(s.buildNumber),
        CODEBUILD_BUILD_IMAGE: 'local',
        CODEBUILD_BUILD_SUCCEEDING: this.succeeding ? '1' : '0',
        CODEBUILD_INITIATOR: 'stepline-local',
        CODEBUILD_LOG_PATH: s.logStreamName,
        CODEBUILD_PROJECT_ARN: s.projectArn,
        CODEBUILD_RESOLVED_SOURCE_VERSION: this.resolvedSourceVersion ?? '',
        CODEBUILD_SOURCE_REPO_URL: `file://${s.repositoryPath}`,
        CODEBUILD_SOURCE_VERSION: s.sourceVersion,
        CODEBUILD_SRC_DIR: this.srcDir,
        CODEBUILD_START_TIME: String(this.startTime.getTime()),
      },
    });
  }

  private status(): StatusType {
    if (this.interruption) return this.interruption;
    if (this.faulted) return 'FAULT';
    return this.recorder.phases.some((phase) => phase.phaseStatus === 'FAILED') ? 'FAILED' : 'SUCCEEDED';
  }

  private describe(): Build {
    const s = this.settings;
    const phases = this.recorder.phases;
    return {
      id: s.buildId,
      arn: s.buildArn,
      buildNumber: s.buildNumber,
      startTime: this.startTime,
      endTime: phases[phases.length - 1].startTime,
      currentPhase: 'COMPLETED',
      buildStatus: this.status(),
      sourceVersion: s.sourceVersion,
      resolvedSourceVersion: this.resolvedSourceVersion,
      projectName: s.projectName,
      phases,
      artifacts: { location: this.artifactsLocation },
      secondaryArtifacts: this.secondaryArtifacts,
      environment: { type: 'LINUX_CONTAINER', image: 'local', computeType: 'BUILD_GENERAL1_SMALL' },
      logs: {
        groupName: localBuildLogGroup(s.projectName),
        streamName: s.logStreamName,
        deepLink: `file://${this.log.path}`,
      },
      timeoutInMinutes: s.timeoutMinutes,
      buildComplete: true,
      initiator: 'stepline-local',
      reportArns: this.reports.map((report) => report.arn as string),
      exportedEnvironmentVariables: this.exportedVariables,
    };
  }
}
