/**
 * The state machine definitions and the placeholders they take. The CDK app passes these as
 * DefinitionSubstitutions; local mode fills them in the same way before executing the file.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const PIPELINE_DEFINITION_FILE = join(__dirname, 'pipeline.asl.json');

export interface PipelineSubstitutions {
  /** ARN of the progress recorder function (lambdas/record-progress.ts). */
  readonly RecordProgressFunctionArn: string;
  /** ARN of the release gate function (lambdas/approval-gate.ts). */
  readonly ApprovalGateFunctionArn: string;
  /** ARN of the deploy function (lambdas/deploy.ts), which runs the deployment states. */
  readonly DeployFunctionArn: string;
}

/** Fills `${Name}` placeholders as Step Functions' DefinitionSubstitutions do; an unfilled one is an error. */
export function renderDefinition(file: string, substitutions: Readonly<Record<string, string>>): string {
  const text = readFileSync(file, 'utf8').replace(/\$\{(\w+)\}/g, (placeholder, name: string) => {
    const value = substitutions[name];
    if (value === undefined) throw new Error(`${file}: no substitution for ${placeholder}`);
    return value;
  });
  return text;
}
