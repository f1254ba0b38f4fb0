/**
 * The operators' read policy (lib/operator-access.ts): exactly the reads `stepline runs | run | logs --aws` make,
 * as the platform stack outputs it, cdk-nag clean with each wildcard acknowledged on its own statement.
 */
import { App, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parseConfig } from '../../core/config/stepline-config';
import { OperatorAccess } from '../../lib/operator-access';
import { RunStore } from '../../lib/run-store';
import { arn, synthesize, type Statement, type Synthesized } from '../support/cdk';
import { pipeline } from '../support/config';

const logicalId = (stack: Stack, construct: { node: { defaultChild?: unknown } }) =>
  stack.getLogicalId(construct.node.defaultChild as never);

describe('OperatorAccess in the platform stack', () => {
  let synthesized: Synthesized;
  beforeAll(() => {
    synthesized = synthesize(parseConfig({ pipelines: [pipeline] }), { nag: false });
  });

  test("the managed policy: GetItem and Query on the table and its indexes, the table's parameter, the catalog, executions and build logs, nothing else", () => {
    const platform = synthesized.stepline.platform;
    const template = synthesized.templates.get('Stepline')!;
    const policyId = logicalId(platform, platform.operatorAccess.policy);
    const table = logicalId(platform, platform.runStore.table);
    const policy = template.Resources[policyId]!;
    expect(policy.Type).toBe('AWS::IAM::ManagedPolicy');
    const tableArn = { 'Fn::GetAtt': [table, 'Arn'] };
    const index = (name: string) => ({ 'Fn::Join': ['', [tableArn, `/index/${name}`]] });
    expect((policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement).toEqual([
      {
        Effect: 'Allow',
        Action: ['dynamodb:GetItem', 'dynamodb:Query'],
        Resource: [tableArn, index('byPipeline'), index('active')],
      },
      {
        Effect: 'Allow',
        Action: 'ssm:GetParameter',
        Resource: arn('ssm', 'parameter/stepline/platform/run-table-name'),
      },
      {
        Effect: 'Allow',
        Action: 'ssm:GetParametersByPath',
        Resource: [arn('ssm', 'parameter/stepline/pipelines'), arn('ssm', 'parameter/stepline/pipelines/*')],
      },
      {
        Effect: 'Allow',
        Action: ['states:DescribeExecution', 'states:GetExecutionHistory'],
        Resource: arn('states', 'execution:stepline-*:*'),
      },
      {
        Effect: 'Allow',
        Action: 'logs:GetLogEvents',
        Resource: arn('logs', 'log-group:/aws/codebuild/stepline-*:log-stream:*'),
      },
    ]);
    // Attached to nobody: operators attach it to their own roles, users or groups.
    expect(policy.Properties.Roles).toBeUndefined();
    expect(template.Outputs!.OperatorReadPolicyArn!.Value).toEqual({ Ref: policyId });
  });

  test('cdk-nag reports nothing on it, and would report a wildcard added to it', () => {
    const platform = synthesized.stepline.platform;
    const findings = () =>
      new AwsSolutionsChecks()
        .validateScope(platform)
        .violations.filter((v) => v.violatingResources.some((r) => r.constructPath?.includes('/OperatorAccess/')))
        .map((v) => v.ruleName);
    expect(findings()).toEqual([]);
    platform.operatorAccess.policy.addStatements(
      new iam.PolicyStatement({ actions: ['dynamodb:GetItem'], resources: [`${platform.runStore.table.tableArn}/*`] }),
    );
    expect(findings()).toHaveLength(1);
    expect(findings()[0]).toMatch(/^AwsSolutions-IAM5\[Resource::<RunStoreTable[0-9A-F]+\.Arn>\/\*\]$/);
  });
});

describe('OperatorAccess on a table with a customer managed key', () => {
  test('adds kms:Decrypt on that key alone, and grantRunReads gives a role exactly the same statements', () => {
    const stack = new Stack(new App(), 'Scratch');
    const key = new kms.Key(stack, 'Key');
    const store = new RunStore(stack, 'RunStore', { encryptionKey: key });
    const access = new OperatorAccess(stack, 'OperatorAccess', { table: store.table, encryptionKey: key });
    const role = new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() });
    const grant = access.grantRunReads(role);
    expect(grant.success).toBe(true);

    const resources = stack.resolve(access.policy.document.toJSON()) as { Statement: Statement[] };
    expect(resources.Statement[1]).toEqual({
      Effect: 'Allow',
      Action: 'kms:Decrypt',
      Resource: stack.resolve(key.keyArn),
    });
    expect(resources.Statement.map((s) => s.Action)).toEqual([
      ['dynamodb:GetItem', 'dynamodb:Query'],
      'kms:Decrypt',
      'ssm:GetParameter',
      'ssm:GetParametersByPath',
      ['states:DescribeExecution', 'states:GetExecutionHistory'],
      'logs:GetLogEvents',
    ]);
    const roleStatements = (
      stack.resolve((role.node.findChild('DefaultPolicy') as iam.Policy).document.toJSON()) as {
        Statement: Statement[];
      }
    ).Statement;
    expect(roleStatements).toEqual(resources.Statement);
  });
});
