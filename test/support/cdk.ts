/** Synthesizing the stepline app in tests as `cdk synth` does, and reading what it wrote. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import type { SteplineConfig } from '../../core/config/stepline-config';
import { buildStepline, type Stepline } from '../../lib/app';

const ROOT = join(__dirname, '..', '..');

/** The context `cdk synth` runs with (cdk.json), so that tests synthesize what the CLI does. */
export const CDK_CONTEXT = (
  JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }
).context;

export type Resource = {
  Type: string;
  Properties: Record<string, unknown>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
  DependsOn?: string[];
};
export type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown };
export type Template = {
  Resources: Record<string, Resource>;
  Parameters?: Record<string, { Type: string; Default?: string }>;
  Outputs?: Record<string, { Value: unknown }>;
};

export interface Synthesized {
  readonly app: App;
  readonly stepline: Stepline;
  readonly assembly: CloudAssembly;
  /** The templates by stack name, as written to the assembly. */
  readonly templates: ReadonlyMap<string, Template>;
  /** The raw template text by stack name. */
  readonly texts: ReadonlyMap<string, string>;
}

/** Builds and synthesizes the app (cdk-nag included, as `cdk synth` runs it). */
export function synthesize(config: SteplineConfig, options: { nag?: boolean } = {}): Synthesized {
  const app = new App({ context: CDK_CONTEXT });
  const stepline = buildStepline(app, config, options);
  const assembly = app.synth();
  const texts = new Map(assembly.stacks.map((s) => [s.stackName, readFileSync(s.templateFullPath, 'utf8')]));
  const templates = new Map([...texts].map(([name, text]) => [name, JSON.parse(text) as Template]));
  return { app, stepline, assembly, templates, texts };
}

/** Every IAM statement of a template, with the logical id of the policy that holds it. */
export function statementsOf(template: Template): { policy: string; roles: unknown[]; statement: Statement }[] {
  return Object.entries(template.Resources)
    .filter(([, r]) => r.Type === 'AWS::IAM::Policy')
    .flatMap(([policy, r]) =>
      (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement.map((statement) => ({
        policy,
        roles: r.Properties.Roles as unknown[],
        statement,
      })),
    );
}

/** The statements of every policy attached to the role with this logical id. */
export function statementsOfRole(template: Template, roleLogicalId: string): Statement[] {
  return statementsOf(template)
    .filter(({ roles }) => roles.some((r) => JSON.stringify(r) === JSON.stringify({ Ref: roleLogicalId })))
    .map(({ statement }) => statement);
}

/**
 * `arn:${Partition}:<service>:${Region}:${AccountId}:<resource>` as CDK's formatArn renders it; the
 * resource is one string, or tokens (an API id and its path) joined after the account.
 */
export const arn = (service: string, ...resource: unknown[]) => ({
  'Fn::Join': [
    '',
    [
      'arn:',
      { Ref: 'AWS::Partition' },
      `:${service}:`,
      { Ref: 'AWS::Region' },
      ':',
      { Ref: 'AWS::AccountId' },
      ...(typeof resource[0] === 'string' ? [`:${resource[0]}`, ...resource.slice(1)] : [':', ...resource]),
    ],
  ],
});
