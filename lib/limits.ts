/**
 * AWS limits that `cdk synth` does not check, checked in stepline's words before CloudFormation or
 * Lambda would refuse a deploy: each problem names the pipeline (or the platform), the limit and
 * what to change. `checkLimits` runs on the constructed app before synthesis (so it also comes before
 * CDK's own unreadable refusal of a 501st resource); `checkTemplateSizes` on the synthesized assembly.
 */
import { statSync } from 'node:fs';
import { CfnOutput, CfnParameter, CfnResource, Stack, Token } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as ssm from 'aws-cdk-lib/aws-ssm';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import type { IConstruct } from 'constructs';
import { stageSpecs, stateMachineName } from '../core/config/stepline-config';
import { deployRoleName, pipelineStackName } from '../core/platform';
import { executionName } from '../core/runs/naming';
import type { Stepline } from './app';
import type { LimitProblem } from './errors';

/** The limits, as the AWS quota pages state them. */
export const LIMITS = {
  /** CloudFormation: resources declared in one template. */
  resourcesPerStack: 500,
  /** CloudFormation: parameters and outputs declared in one template. */
  parametersPerStack: 200,
  outputsPerStack: 200,
  /** CloudFormation: a template body uploaded to S3 (1 MB; counted here in decimal bytes, to be safe). */
  templateBytes: 1_000_000,
  /** Lambda: all environment variables of a function together, as JSON. */
  environmentBytes: 4096,
  /** SSM Parameter Store: the value of a standard parameter. */
  parameterValueBytes: 4096,
  stackName: 128,
  stateMachineName: 80,
  executionName: 80,
  projectName: 255,
  /** IAM: a role's name. */
  roleName: 64,
  logGroupName: 512,
} as const;

/**
 * The longest Region name AWS has today (`us-isof-south-1`, 15 characters), for names that carry the
 * Region of an environment-agnostic stack, whose Region is known only when it deploys.
 */
export const LONGEST_REGION = 'us-isof-south-1';

/** The stack's Region, or the longest there is when the stack is environment-agnostic. */
function regionOf(stack: Stack): string {
  return Token.isUnresolved(stack.region) ? LONGEST_REGION : stack.region;
}

/**
 * What an unresolved reference (a table name, a function ARN) may grow to once deployed: the
 * longest such value among the ones stepline passes (DynamoDB table names go to 255 characters).
 */
const REFERENCE_BYTES = 256;

/** A problem found by a check: where, and the sentence that says what to change. */
export function checkLimits(stepline: Stepline): LimitProblem[] {
  const problems: LimitProblem[] = [];
  const stacks: [Stack, string, string | undefined][] = [
    [stepline.platform, `platform stack ${stepline.platform.stackName}`, undefined],
    ...[...stepline.pipelines].map(([name, stack]): [Stack, string, string] => [
      stack,
      `pipeline "${name}" (stack ${stack.stackName})`,
      name,
    ]),
  ];
  for (const [stack, where, pipeline] of stacks) {
    const fix = pipeline
      ? 'declare fewer test stages for this pipeline, or split it into two pipelines'
      : 'this is the platform stack; report it as a stepline bug';
    // CDK adds its metadata resource at synthesis.
    const resources = ownResources(stack).length + 1;
    if (resources > LIMITS.resourcesPerStack) {
      problems.push({
        where,
        message: `${resources} resources, CloudFormation allows ${LIMITS.resourcesPerStack} per stack; ${fix}`,
      });
    }
    const parameters = ownConstructs(stack).filter((c) => c instanceof CfnParameter).length + 1;
    if (parameters > LIMITS.parametersPerStack) {
      problems.push({
        where,
        message: `${parameters} template parameters, CloudFormation allows ${LIMITS.parametersPerStack}; ${fix}`,
      });
    }
    const outputs = ownConstructs(stack).filter((c) => c instanceof CfnOutput).length;
    if (outputs > LIMITS.outputsPerStack) {
      problems.push({ where, message: `${outputs} outputs, CloudFormation allows ${LIMITS.outputsPerStack}; ${fix}` });
    }
    for (const fn of ownConstructs(stack).filter((c): c is lambda.CfnFunction => c instanceof lambda.CfnFunction)) {
      // L1 properties are camelCase until CloudFormation rendering.
      const environment = stack.resolve(fn.environment) as { variables?: unknown } | undefined;
      const bytes = estimatedBytes(stack, environment?.variables ?? {});
      if (bytes > LIMITS.environmentBytes) {
        problems.push({
          where,
          message: `function ${fn.node.path} has up to ${bytes} bytes of environment variables, Lambda allows ${LIMITS.environmentBytes} in all; move data out of its environment`,
        });
      }
    }
  }
  for (const [name, stack] of stepline.pipelines) {
    const where = `pipeline "${name}"`;
    const entryBytes = estimatedBytes(stack, (stack.catalogEntry.node.defaultChild as ssm.CfnParameter).value);
    if (entryBytes > LIMITS.parameterValueBytes) {
      problems.push({
        where,
        message: `its catalog entry takes up to ${entryBytes} bytes, a standard SSM parameter holds ${LIMITS.parameterValueBytes}; use shorter stage names, fewer test stages or a smaller approval policy`,
      });
    }
    const logGroupName = `/aws/vendedlogs/states/${stateMachineName(name)}-${'0'.repeat(36)}`;
    const names: [string, string, number][] = [
      ['stack name', pipelineStackName(name), LIMITS.stackName],
      ['state machine name', stateMachineName(name), LIMITS.stateMachineName],
      ['execution name', executionName(name, '0'.repeat(40), 'event'), LIMITS.executionName],
      ['execution log group name', logGroupName, LIMITS.logGroupName],
      ...(stack.pipeline.deploy
        ? ([['deploy role name', deployRoleName(name, regionOf(stack)), LIMITS.roleName]] as [string, string, number][])
        : []),
      ...stageSpecs(stack.pipeline).map((s): [string, string, number] => [
        `project name of stage "${s.name}"`,
        s.project,
        LIMITS.projectName,
      ]),
    ];
    for (const [what, value, max] of names) {
      if (value.length > max) {
        problems.push({
          where,
          message: `its ${what} "${value}" has ${value.length} characters, AWS allows ${max}; use a shorter pipeline or stage name`,
        });
      }
    }
  }
  return problems;
}

/** Template sizes, from the synthesized assembly. */
export function checkTemplateSizes(assembly: CloudAssembly): LimitProblem[] {
  return assembly.stacks
    .map((stack) => ({ stack, bytes: statSync(stack.templateFullPath).size }))
    .filter(({ bytes }) => bytes > LIMITS.templateBytes)
    .map(({ stack, bytes }) => ({
      where: `stack ${stack.stackName}`,
      message: `its template is ${bytes} bytes, CloudFormation accepts ${LIMITS.templateBytes}; declare fewer test stages in its pipeline`,
    }));
}

function ownConstructs(stack: Stack): IConstruct[] {
  return stack.node.findAll().filter((c) => Stack.of(c) === stack);
}

function ownResources(stack: Stack): CfnResource[] {
  return ownConstructs(stack).filter((c): c is CfnResource => CfnResource.isCfnResource(c));
}

/** Bytes of `value` as JSON once deployed, each unresolved reference counted at its longest. */
function estimatedBytes(stack: Stack, value: unknown): number {
  return Buffer.byteLength(JSON.stringify(longest(stack.resolve(value))), 'utf8');
}

function longest(value: unknown): unknown {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || value === null) {
    return value;
  }
  if (Array.isArray(value)) return value.map(longest);
  const node = value as Record<string, unknown>;
  const join = node['Fn::Join'] as [string, unknown[]] | undefined;
  if (join) return join[1].map((part) => String(longest(part))).join(join[0]);
  if ('Ref' in node || 'Fn::GetAtt' in node || 'Fn::Select' in node || 'Fn::ImportValue' in node) {
    return 'x'.repeat(REFERENCE_BYTES);
  }
  return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, longest(v)]));
}
