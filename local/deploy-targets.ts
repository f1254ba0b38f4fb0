/**
 * Local mode's deploy targets: each pipeline's target functions stood up as the CDK app stands them up
 * on AWS, and traffic through their aliases, as their callers would send it (what a bake judges).
 */
import { writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { PipelineConfig } from '../core/config/stepline-config';
import type { LocalFunctions } from './functions/local-lambda';

/**
 * A deploy target as the CDK app stands it up on AWS: the function, a first version that answers it
 * is not deployed yet, and the alias on that version; a deployment moves the alias from there.
 */
export async function standUpTarget(
  lambdas: LocalFunctions,
  name: string,
  alias: string,
  placeholderDir: string,
): Promise<void> {
  await mkdir(placeholderDir, { recursive: true });
  writeFileSync(
    join(placeholderDir, 'index.js'),
    "exports.handler = async () => ({ statusCode: 503, body: 'not deployed yet' });\n",
  );
  lambdas.createFunction({ name, handler: 'index.handler' });
  lambdas.updateFunctionCode(name, placeholderDir);
  // As CloudFormation does before it publishes: the update has ended.
  await lambdas.updated(name);
  lambdas.createAlias(name, alias, lambdas.publishVersion(name).version);
}

/**
 * Traffic through each deploy target's alias, as its callers would send it (the pre-traffic event is
 * the request): what a bake judges the new version by. Returns what stops it.
 */
export function sendTraffic(
  lambdas: LocalFunctions,
  pipelines: readonly PipelineConfig[],
  perSecond: number,
): () => void {
  const targets = pipelines.flatMap((p) => (p.deploy ? [p.deploy] : []));
  let stopped = false;
  const timer = setInterval(() => {
    if (stopped) return;
    for (const target of targets)
      void lambdas.invoke(target.function, target.alias, target.preTraffic?.event ?? {}).catch(() => undefined);
  }, 1000 / perSecond);
  timer.unref();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
