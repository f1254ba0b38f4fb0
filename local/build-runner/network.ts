import { mkdir, rename, writeFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { dirname } from 'node:path';
import { exec } from './process-group';

/**
 * The variables of this machine that say how it reaches the network: its proxies and the certificate
 * authorities it trusts (a TLS-inspecting proxy's among them). They are the one thing of the machine a
 * build gets, because a CodeBuild build has network access and a local build must reach what the
 * machine reaches. Both cases of the proxy names: curl reads only `http_proxy` in lower case, other
 * tools read either.
 */
export const NETWORK_VARIABLES = [
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
  'NODE_EXTRA_CA_CERTS',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
] as const;

/**
 * npm's settings that say how it reaches its registry, read from the machine's npm configuration as npm
 * itself resolves it (environment, ~/.npmrc, the global npmrc). `strict-ssl` is left out on purpose: a
 * machine that turned certificate checks off does not turn them off for builds.
 */
export const NPM_NETWORK_SETTINGS = ['registry', 'cafile', 'proxy', 'https-proxy', 'noproxy'] as const;

/** The variable that points a build's npm at the global config file stepline writes from NPM_NETWORK_SETTINGS. */
export const NPM_GLOBALCONFIG_VARIABLE = 'npm_config_globalconfig';

export interface MachineNetwork {
  /** NETWORK_VARIABLES as this process has them (unset and empty ones left out). */
  readonly variables: Readonly<Record<string, string>>;
  /** NPM_NETWORK_SETTINGS that have a value in the machine's npm configuration. */
  readonly npmSettings: Readonly<Record<string, string>>;
  /**
   * The global npmrc of the machine's npm. `npm install --prefix <dir>` reads its global config from
   * `<dir>/etc/npmrc` unless told otherwise, so an install into a directory must name this one.
   */
  readonly npmGlobalConfig: string | undefined;
  /** Why npm's configuration could not be read, when it could not. */
  readonly npmConfigProblem: string | undefined;
}

/** Readings by the environment they were made in: npm's configuration is a function of it and of its files. */
const readings = new Map<string, Promise<MachineNetwork>>();

/**
 * Reads the machine's network settings once per environment of this process (`npm config get` takes
 * half a second). npm runs in `/`, so no project's `.npmrc` is taken for the machine's.
 */
export function readMachineNetwork(): Promise<MachineNetwork> {
  const key = JSON.stringify(Object.entries(process.env).sort(([a], [b]) => (a < b ? -1 : 1)));
  let reading = readings.get(key);
  if (reading === undefined) {
    reading = read();
    readings.set(key, reading);
  }
  return reading;
}

async function read(): Promise<MachineNetwork> {
  const variables: Record<string, string> = {};
  for (const name of NETWORK_VARIABLES) {
    const value = process.env[name];
    if (value) variables[name] = value;
  }
  const keys = [...NPM_NETWORK_SETTINGS, 'globalconfig'];
  const result = await exec('npm', ['config', 'get', ...keys], {
    cwd: '/',
    env: process.env,
    signal: new AbortController().signal,
  }).catch((error: Error) => ({ code: -1, stdout: '', stderr: error.message }));
  if (result.code !== 0) {
    const problem = `npm config get ${keys.join(' ')} failed: ${result.stderr.trim() || `exit status ${result.code}`}`;
    return { variables, npmSettings: {}, npmGlobalConfig: undefined, npmConfigProblem: problem };
  }
  const got = new Map<string, string>();
  for (const line of result.stdout.split('\n')) {
    const at = line.indexOf('=');
    const value = line.slice(at + 1).trim();
    // npm prints unset settings as `null` (or `undefined`); an empty noproxy is unset too.
    if (at > 0 && value !== '' && value !== 'null' && value !== 'undefined') got.set(line.slice(0, at), value);
  }
  const npmSettings: Record<string, string> = {};
  for (const name of NPM_NETWORK_SETTINGS) {
    const value = got.get(name);
    if (value !== undefined) npmSettings[name] = value;
  }
  return { variables, npmSettings, npmGlobalConfig: got.get('globalconfig'), npmConfigProblem: undefined };
}

/**
 * Writes npm's network settings as the global npmrc of builds, where the image's own npm configuration
 * sits: a repository's `.npmrc` and the build's own `npm config` still win over it, as they win over
 * the image's on CodeBuild. Variables (`npm_config_registry`) would win over the repository's instead.
 * Written beside and renamed into place, so a build starting meanwhile reads the old file or the new.
 */
export async function writeBuildNpmrc(path: string, settings: Readonly<Record<string, string>>): Promise<void> {
  const lines = Object.entries(settings).map(([name, value]) => `${name}=${value}\n`);
  const text = `# Written by stepline local mode from this machine's npm configuration; rewritten at start.\n${lines.join('')}`;
  await mkdir(dirname(path), { recursive: true });
  const staging = `${path}.${randomUUID()}.tmp`;
  // A proxy's URL may carry its credentials: readable by this user only.
  await writeFile(staging, text, { mode: 0o600 });
  await rename(staging, path);
}
