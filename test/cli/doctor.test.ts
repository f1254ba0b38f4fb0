/**
 * `stepline doctor`: the account reads (cli/aws-account-quotas.ts) against mocked SDK clients, asserting each request
 * as AWS receives it (there is no local implementation of these APIs); the command's verdicts over a reader; and the
 * command as a user runs it with no credentials.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ListStacksCommand } from '@aws-sdk/client-cloudformation';
import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { ListProjectsCommand } from '@aws-sdk/client-codebuild';
import { ListRulesCommand, ResourceNotFoundException } from '@aws-sdk/client-eventbridge';
import { ListRolesCommand } from '@aws-sdk/client-iam';
import { GetAccountSettingsCommand } from '@aws-sdk/client-lambda';
import {
  GetAWSDefaultServiceQuotaCommand,
  GetServiceQuotaCommand,
  NoSuchResourceException,
} from '@aws-sdk/client-service-quotas';
import { ListStateMachinesCommand } from '@aws-sdk/client-sfn';
import { DescribeParametersCommand } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { quotaById, type AccountQuotaState, type QuotaId, type QuotaNeed } from '../../core/quotas';
import { AwsAccountQuotas, awsClients, type AccountQuotaReader, type AwsClients } from '../../cli/aws-account-quotas';
import { runDoctorCommand } from '../../cli/doctor';
import { AwsAccessDeniedError, NoAwsCredentialsError } from '../../cli/errors';
import { ROOT, TSX_CLI } from '../support/cli';

const region = 'eu-west-1';
const config = { region, credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } };

const need = (id: QuotaId, count: number, bus?: string): QuotaNeed => ({
  quota: quotaById(id),
  account: '111122223333',
  region: id === 'iam-roles' ? undefined : region,
  ...(bus ? { bus } : {}),
  count,
});

const denied = (message: string) => Object.assign(new Error(message), { name: 'AccessDenied' });
const notApplied = () =>
  new NoSuchResourceException({
    message: 'The request failed because the specified service quota does not exist.',
    $metadata: {},
  });

describe('AwsAccountQuotas', () => {
  let aws: AwsClients;
  let reader: AwsAccountQuotas;
  beforeEach(() => {
    aws = awsClients(config);
    reader = new AwsAccountQuotas(aws);
  });

  test('whoAmI: GetCallerIdentity, and the Region the clients are configured with', async () => {
    const sts = mockClient(aws.sts);
    sts.on(GetCallerIdentityCommand).resolves({ Account: '111122223333', Arn: 'arn:aws:iam::111122223333:user/ops' });
    await expect(reader.whoAmI()).resolves.toEqual({
      account: '111122223333',
      region,
      arn: 'arn:aws:iam::111122223333:user/ops',
    });
    expect(sts.commandCalls(GetCallerIdentityCommand).map((c) => c.args[0].input)).toEqual([{}]);
  });

  test("IAM roles: the applied quota from Service Quotas in us-east-1, every page of ListRoles, stepline's by name", async () => {
    const global = mockClient(aws.globalServiceQuotas);
    const regional = mockClient(aws.serviceQuotas);
    global.on(GetServiceQuotaCommand).resolves({ Quota: { Value: 1500 } });
    const iam = mockClient(aws.iam);
    iam
      .on(ListRolesCommand, { MaxItems: 1000 })
      .resolves({ Roles: [role('stepline-deploy-function-eu-west-1'), role('admin')], IsTruncated: true, Marker: 'm1' })
      .on(ListRolesCommand, { MaxItems: 1000, Marker: 'm1' })
      .resolves({ Roles: [role('Stepline-orders-PipelineRoleA1B2-XYZ'), role('steplineish')], IsTruncated: false });
    await expect(reader.state(need('iam-roles', 10))).resolves.toEqual({
      limit: 1500,
      limitIs: 'applied',
      used: 4,
      byStepline: 2,
    });
    expect(global.commandCalls(GetServiceQuotaCommand).map((c) => c.args[0].input)).toEqual([
      { ServiceCode: 'iam', QuotaCode: 'L-FE177D64' },
    ]);
    expect(regional.calls()).toHaveLength(0);
    expect(iam.commandCalls(ListRolesCommand).map((c) => c.args[0].input)).toEqual([
      { MaxItems: 1000 },
      { MaxItems: 1000, Marker: 'm1' },
    ]);
  });

  test('a quota never raised: the AWS default Service Quotas reports', async () => {
    const quotas = mockClient(aws.serviceQuotas);
    quotas.on(GetServiceQuotaCommand).rejects(notApplied());
    quotas.on(GetAWSDefaultServiceQuotaCommand).resolves({ Quota: { Value: 2000 } });
    mockClient(aws.cloudformation)
      .on(ListStacksCommand)
      .resolves({ StackSummaries: [stack('Stepline'), stack('CDKToolkit')] });
    await expect(reader.state(need('cloudformation-stacks', 3))).resolves.toEqual({
      limit: 2000,
      limitIs: 'default',
      used: 2,
      byStepline: 1,
    });
    const input = { ServiceCode: 'cloudformation', QuotaCode: 'L-0485CB21' };
    expect(quotas.commandCalls(GetServiceQuotaCommand).map((c) => c.args[0].input)).toEqual([input]);
    expect(quotas.commandCalls(GetAWSDefaultServiceQuotaCommand).map((c) => c.args[0].input)).toEqual([input]);
  });

  test('stacks: every status but DELETE_COMPLETE (a deleted stack no longer counts), every page', async () => {
    mockClient(aws.serviceQuotas)
      .on(GetServiceQuotaCommand)
      .resolves({ Quota: { Value: 2000 } });
    const cloudformation = mockClient(aws.cloudformation);
    cloudformation
      .on(ListStacksCommand)
      .resolvesOnce({ StackSummaries: [stack('Stepline-orders')], NextToken: 't1' })
      .resolves({ StackSummaries: [stack('web')] });
    await expect(reader.state(need('cloudformation-stacks', 3))).resolves.toMatchObject({ used: 2, byStepline: 1 });
    const inputs = cloudformation.commandCalls(ListStacksCommand).map((c) => c.args[0].input);
    expect(inputs.map((i) => i.NextToken)).toEqual([undefined, 't1']);
    expect(inputs[0]!.StackStatusFilter).toHaveLength(22);
    expect(inputs[0]!.StackStatusFilter).not.toContain('DELETE_COMPLETE');
    expect(inputs[0]!.StackStatusFilter).toEqual(
      expect.arrayContaining(['CREATE_COMPLETE', 'ROLLBACK_COMPLETE', 'DELETE_FAILED']),
    );
  });

  test('rules: ListRules of the bus, every page; the wildcard rules among them; one listing for both quotas', async () => {
    const quotas = mockClient(aws.serviceQuotas);
    quotas.on(GetServiceQuotaCommand).resolves({ Quota: { Value: 300 } });
    const events = mockClient(aws.events);
    events
      .on(ListRulesCommand, { EventBusName: 'default', Limit: 100 })
      .resolves({
        Rules: [
          { Name: 'stepline-orders-push', EventPattern: '{"source":["aws.codecommit"]}' },
          { Name: 'audit', EventPattern: '{"source":[{"wildcard":"aws.*"}]}' },
        ],
        NextToken: 'n1',
      })
      .on(ListRulesCommand, { EventBusName: 'default', Limit: 100, NextToken: 'n1' })
      .resolves({ Rules: [{ Name: 'Stepline-FunctionsSweepRule-ABC', ScheduleExpression: 'rate(5 minutes)' }] });
    await expect(reader.state(need('eventbridge-rules-per-bus', 5, 'default'))).resolves.toEqual({
      limit: 300,
      limitIs: 'applied',
      used: 3,
      byStepline: 2,
    });
    await expect(reader.state(need('eventbridge-wildcard-rules-per-bus', 0, 'default'))).resolves.toEqual({
      limit: 30,
      limitIs: 'default',
      used: 1,
      byStepline: 0,
    });
    expect(events.commandCalls(ListRulesCommand).map((c) => c.args[0].input)).toEqual([
      { EventBusName: 'default', Limit: 100 },
      { EventBusName: 'default', Limit: 100, NextToken: 'n1' },
    ]);
    expect(quotas.commandCalls(GetServiceQuotaCommand).map((c) => c.args[0].input)).toEqual([
      { ServiceCode: 'events', QuotaCode: 'L-244521F2' },
    ]);
  });

  test("the platform's bus before its first deploy has no rules", async () => {
    mockClient(aws.serviceQuotas)
      .on(GetServiceQuotaCommand)
      .resolves({ Quota: { Value: 300 } });
    mockClient(aws.events)
      .on(ListRulesCommand)
      .rejects(new ResourceNotFoundException({ message: 'Event bus stepline does not exist.', $metadata: {} }));
    await expect(reader.state(need('eventbridge-rules-per-bus', 4, 'stepline'))).resolves.toEqual({
      limit: 300,
      limitIs: 'applied',
      used: 0,
      byStepline: 0,
    });
  });

  test('projects, state machines (no Service Quotas code: the documented default), parameters, log groups, alarms', async () => {
    const quotas = mockClient(aws.serviceQuotas);
    quotas.on(GetServiceQuotaCommand).resolves({ Quota: { Value: 7000 } });
    const codebuild = mockClient(aws.codebuild);
    codebuild
      .on(ListProjectsCommand)
      .resolvesOnce({ projects: ['stepline-orders-build'], nextToken: 'p1' })
      .resolves({ projects: ['legacy'] });
    const sfn = mockClient(aws.sfn);
    sfn.on(ListStateMachinesCommand).resolves({
      stateMachines: [{ name: 'stepline-orders', stateMachineArn: 'a', type: 'STANDARD', creationDate: new Date() }],
    });
    const ssm = mockClient(aws.ssm);
    ssm.on(DescribeParametersCommand).resolves({
      Parameters: [
        { Name: '/stepline/pipelines/orders' },
        { Name: '/stepline/platform/artifact-bucket-name' },
        { Name: '/app/db-url' },
      ],
    });
    const logs = mockClient(aws.logs);
    logs.on(DescribeLogGroupsCommand).resolves({
      logGroups: [
        { logGroupName: '/aws/codebuild/stepline-orders-build-Stepline-orders-0c1d' },
        { logGroupName: '/aws/vendedlogs/states/stepline-orders-0c1d' },
        { logGroupName: 'Stepline-StartRunLogs1234-ABCD' },
        { logGroupName: '/aws/lambda/web' },
      ],
    });
    const cloudwatch = mockClient(aws.cloudwatch);
    cloudwatch.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [{ AlarmName: 'stepline-orders-errors' }],
      CompositeAlarms: [{ AlarmName: 'web-health' }],
    });
    expect(await reader.state(need('codebuild-projects', 2))).toEqual({
      limit: 7000,
      limitIs: 'applied',
      used: 2,
      byStepline: 1,
    });
    expect(await reader.state(need('step-functions-state-machines', 1))).toEqual({
      limit: 100_000,
      limitIs: 'default',
      used: 1,
      byStepline: 1,
    });
    expect(await reader.state(need('ssm-standard-parameters', 2))).toEqual({
      limit: 10_000,
      limitIs: 'default',
      used: 3,
      byStepline: 2,
    });
    expect(await reader.state(need('cloudwatch-log-groups', 3))).toEqual({
      limit: 7000,
      limitIs: 'applied',
      used: 4,
      byStepline: 3,
    });
    expect(await reader.state(need('cloudwatch-alarms', 2))).toEqual({
      limit: 5000,
      limitIs: 'default',
      used: 2,
      byStepline: 1,
    });
    expect(codebuild.commandCalls(ListProjectsCommand).map((c) => c.args[0].input)).toEqual([{}, { nextToken: 'p1' }]);
    expect(sfn.commandCalls(ListStateMachinesCommand).map((c) => c.args[0].input)).toEqual([{ maxResults: 1000 }]);
    expect(ssm.commandCalls(DescribeParametersCommand).map((c) => c.args[0].input)).toEqual([
      { ParameterFilters: [{ Key: 'Tier', Values: ['Standard'] }], MaxResults: 50 },
    ]);
    expect(logs.commandCalls(DescribeLogGroupsCommand).map((c) => c.args[0].input)).toEqual([{ limit: 50 }]);
    expect(cloudwatch.commandCalls(DescribeAlarmsCommand).map((c) => c.args[0].input)).toEqual([
      { AlarmTypes: ['MetricAlarm', 'CompositeAlarm'], MaxRecords: 100 },
    ]);
    expect(quotas.commandCalls(GetServiceQuotaCommand).map((c) => c.args[0].input)).toEqual([
      { ServiceCode: 'codebuild', QuotaCode: 'L-ACCF6C0D' },
      { ServiceCode: 'logs', QuotaCode: 'L-C7B9AAAB' },
    ]);
  });

  test("Lambda's code storage: the limit and the use GetAccountSettings returns, in bytes", async () => {
    const lambda = mockClient(aws.lambda);
    lambda.on(GetAccountSettingsCommand).resolves({
      AccountLimit: { TotalCodeSize: 80_530_636_800 },
      AccountUsage: { TotalCodeSize: 1_234_567, FunctionCount: 12 },
    });
    await expect(reader.state(need('lambda-code-storage', 0))).resolves.toEqual({
      limit: 80_530_636_800,
      limitIs: 'applied',
      used: 1_234_567,
      byStepline: 0,
    });
    expect(lambda.commandCalls(GetAccountSettingsCommand).map((c) => c.args[0].input)).toEqual([{}]);
  });

  test('a read the identity may not make is named: the action to allow', async () => {
    mockClient(aws.globalServiceQuotas)
      .on(GetServiceQuotaCommand)
      .resolves({ Quota: { Value: 1000 } });
    mockClient(aws.iam)
      .on(ListRolesCommand)
      .rejects(denied('User: arn:aws:iam::111122223333:user/ops is not authorized to perform: iam:ListRoles'));
    const error = await reader.state(need('iam-roles', 1)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AwsAccessDeniedError);
    expect((error as Error).message).toBe(
      'access denied: this identity may not call iam:ListRoles; allow it (read-only) and run it again',
    );
    mockClient(aws.serviceQuotas)
      .on(GetServiceQuotaCommand)
      .rejects(Object.assign(new Error('no'), { name: 'AccessDeniedException' }));
    await expect(reader.state(need('codebuild-projects', 1))).rejects.toThrow(
      'access denied: this identity may not call servicequotas:GetServiceQuota',
    );
  });

  test('no credentials in the chain: said as such', async () => {
    mockClient(aws.sts)
      .on(GetCallerIdentityCommand)
      .rejects(
        Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }),
      );
    await expect(reader.whoAmI()).rejects.toBeInstanceOf(NoAwsCredentialsError);
  });
});

function stack(StackName: string) {
  return { StackName, StackStatus: 'CREATE_COMPLETE' as const, CreationTime: new Date() };
}

function role(RoleName: string) {
  return {
    RoleName,
    Path: '/',
    RoleId: 'AROAEXAMPLE',
    Arn: `arn:aws:iam::111122223333:role/${RoleName}`,
    CreateDate: new Date(),
  };
}

describe('stepline doctor', () => {
  const configFile = () => {
    const file = join(mkdtempSync(join(tmpdir(), 'stepline-doctor-')), 'config.json');
    const pipelines = ['orders', 'billing', 'docs'].map((name, i) => ({
      name,
      source: { type: 'codecommit', repository: name, branch: 'main' },
      build: { buildspec: 'buildspecs/build.yml' },
      ...(i < 2 ? { deploy: { function: name } } : {}),
    }));
    writeFileSync(file, JSON.stringify({ pipelines }));
    return file;
  };

  test('--aws: each need against the applied quota and the use the reader reports; a quota exceeded exits 1', async () => {
    const states: Partial<Record<QuotaId, AccountQuotaState>> = {
      'iam-roles': { limit: 1000, limitIs: 'applied', used: 995, byStepline: 0 },
      'lambda-code-storage': { limit: 75 * 1024 ** 3, limitIs: 'applied', used: 2 * 1024 ** 3, byStepline: 0 },
    };
    const asked: QuotaNeed[] = [];
    const reader: AccountQuotaReader = {
      whoAmI: async () => ({ account: '111122223333', region, arn: 'arn:aws:sts::111122223333:assumed-role/ops/me' }),
      state: async (n) => {
        asked.push(n);
        return states[n.quota.id] ?? { limit: 100_000, limitIs: 'applied', used: 0, byStepline: 0 };
      },
    };
    const lines: string[] = [];
    const code = await runDoctorCommand(
      { config: configFile(), aws: true },
      (line) => lines.push(line),
      () => reader,
    );
    expect(code).toBe(1);
    expect(lines[0]).toBe(
      'stepline doctor: 3 pipeline(s) against account 111122223333, eu-west-1, as arn:aws:sts::111122223333:assumed-role/ops/me',
    );
    expect(lines[1]).toMatch(
      /^ {2}over: IAM roles per account \(iam\/L-FE177D64\), account 111122223333: the account uses 995 now \(0 of them stepline's\), this app needs \d+: 1,0\d\d after deploying, 10\d% of the applied 1,000 — exceeds it; adjustable: /,
    );
    expect(
      lines.some((l) =>
        /^ {2}ok: Lambda function and layer storage .*: the account's functions use 2 GB, 3% of the applied 75 GB/.test(
          l,
        ),
      ),
    ).toBe(true);
    expect(asked.every((n) => n.account === '111122223333')).toBe(true);
    expect(asked.filter((n) => n.quota.scope === 'region').every((n) => n.region === region)).toBe(true);
    expect(asked.map((n) => n.bus).filter(Boolean)).toEqual(['default', 'stepline']);
  });

  test('without --aws: against the defaults; everything fits, exit 0', async () => {
    const lines: string[] = [];
    expect(await runDoctorCommand({ config: configFile(), aws: false }, (line) => lines.push(line))).toBe(0);
    expect(lines.slice(1).every((line) => line.startsWith('  ok: '))).toBe(true);
    expect(lines.join('\n')).toContain(
      'CloudFormation stacks (cloudformation/L-0485CB21), any Region: this app needs 4, 0% of the default 2,000',
    );
  });

  test('as a user runs it with no credentials and no AWS settings: a clear error and exit 1, without a hang', async () => {
    const home = mkdtempSync(join(tmpdir(), 'stepline-no-aws-'));
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: home,
      AWS_REGION: region,
      AWS_EC2_METADATA_DISABLED: 'true',
    };
    const run = (args: string[], extra: NodeJS.ProcessEnv = {}) =>
      promisify(execFile)(process.execPath, ['--no-warnings', TSX_CLI, 'cli/stepline.ts', ...args], {
        cwd: ROOT,
        env: { ...env, ...extra },
        timeout: 60_000,
      }).then(
        () => ({ code: 0, stdout: '' }),
        (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
      );
    const noCredentials = await run(['doctor', '--aws', '--config', configFile()]);
    expect(noCredentials).toEqual({
      code: 1,
      stdout: expect.stringMatching(
        /^stepline doctor --aws: no AWS credentials: .*sign in \(e\.g\. `aws sso login` or `aws configure`\) and run it again\n$/,
      ),
    });
    const noRegion = await run(['doctor', '--aws', '--config', configFile()], { AWS_REGION: undefined });
    expect(noRegion).toEqual({
      code: 1,
      stdout: 'stepline doctor --aws: no AWS Region: set AWS_REGION, or a region in your AWS profile\n',
    });
  });
});
