import { delimiter } from 'node:path';

export interface EnvironmentLayers {
  readonly buildspec: Readonly<Record<string, string>>;
  readonly overrides: ReadonlyArray<{ readonly name: string; readonly value: string }>;
  readonly builtIns: Readonly<Record<string, string>>;
  readonly pathPrefix: readonly string[];
}

/**
 * The environment of the build shell. Precedence as CodeBuild documents it: start-build overrides over the
 * buildspec's `env/variables`, over the machine's environment; the reserved `CODEBUILD_*` variables last.
 * HOME is the user's, so npm's cache (~/.npm) is shared with builds run by hand. Runtime directories go
 * first on PATH.
 */
export function buildEnvironment(layers: EnvironmentLayers): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...layers.buildspec };
  for (const { name, value } of layers.overrides) env[name] = value;
  Object.assign(env, layers.builtIns);
  if (layers.pathPrefix.length > 0) env.PATH = [...layers.pathPrefix, env.PATH ?? ''].join(delimiter);
  return env;
}
