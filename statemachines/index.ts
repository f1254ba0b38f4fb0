/**
 * The state machine definitions and the placeholders they take. The CDK app passes these as
 * DefinitionSubstitutions; local mode fills them in the same way before executing the file.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TaskSubstitution } from '../core/platform-functions';

export const PIPELINE_DEFINITION_FILE = join(__dirname, 'pipeline.asl.json');

/**
 * The ARNs the pipeline definition's `${Name}` placeholders take: one per function its Tasks invoke, named
 * by that function's `task` invocation in core/platform-functions.ts.
 */
export type PipelineSubstitutions = Readonly<Record<TaskSubstitution, string>>;

/** Fills `${Name}` placeholders as Step Functions' DefinitionSubstitutions do; an unfilled one is an error. */
export function renderDefinition(file: string, substitutions: Readonly<Record<string, string>>): string {
  const text = readFileSync(file, 'utf8').replace(/\$\{(\w+)\}/g, (placeholder, name: string) => {
    const value = substitutions[name];
    if (value === undefined) throw new Error(`${file}: no substitution for ${placeholder}`);
    return value;
  });
  return text;
}
