import { delimiter, dirname } from 'node:path';

export interface EnvironmentLayers {
  readonly buildspec: Readonly<Record<string, string>>;
  readonly overrides: ReadonlyArray<{ readonly name: string; readonly value: string }>;
  readonly builtIns: Readonly<Record<string, string>>;
  readonly pathPrefix: readonly string[];
  /** The build's home directory (the image's /root): local mode keeps one for all builds. */
  readonly home: string;
  /** Region the build believes it runs in (AWS_REGION, AWS_DEFAULT_REGION). */
  readonly region: string;
  /** AWS credentials of the shell that started local mode, passed only when the user asked for them. */
  readonly awsCredentials: Readonly<Record<string, string>>;
  /** How this machine reaches the network (network.ts): the image's proxy and trust settings. */
  readonly network: Readonly<Record<string, string>>;
}

/**
 * What a CodeBuild image has on PATH before any runtime is chosen: the system directories, and the
 * Node that runs local mode standing in for the image's default Node (the standard images carry one).
 */
const BASE_PATH = [
  dirname(process.execPath),
  '/usr/local/sbin',
  '/usr/local/bin',
  '/usr/sbin',
  '/usr/bin',
  '/sbin',
  '/bin',
];

/** The variables of the shell that start local mode which carry AWS credentials or say where to find them. */
export const AWS_CREDENTIAL_VARIABLES = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_PROFILE',
  'AWS_CONFIG_FILE',
  'AWS_SHARED_CREDENTIALS_FILE',
];

/**
 * The environment of the build shell: built from nothing, as on CodeBuild, never from the shell that
 * started local mode (its PATH, its npm_* variables, its AWS credentials), with one exception: the
 * machine's proxy and trust settings, by name (network.ts), as the image's. Precedence as CodeBuild
 * documents it: start-build overrides over the buildspec's `env/variables` over the image's; the
 * reserved `CODEBUILD_*` variables last. Runtime directories go first on PATH.
 */
export function buildEnvironment(layers: EnvironmentLayers): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: BASE_PATH.join(delimiter),
    HOME: layers.home,
    AWS_REGION: layers.region,
    AWS_DEFAULT_REGION: layers.region,
    // Without credentials of its own, a build must not reach them any other way (instance metadata).
    AWS_EC2_METADATA_DISABLED: 'true',
    ...layers.network,
    ...layers.awsCredentials,
    ...layers.buildspec,
  };
  for (const { name, value } of layers.overrides) env[name] = value;
  Object.assign(env, layers.builtIns);
  if (layers.pathPrefix.length > 0) env.PATH = [...layers.pathPrefix, env.PATH ?? ''].join(delimiter);
  return env;
}
