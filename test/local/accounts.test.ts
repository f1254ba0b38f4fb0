/**
 * Local mode's accounts behind its endpoint, reached with the real SDK clients: STS's AssumeRole checked
 * against a role's trust policy and answered (or refused) as STS answers, the assumed keys acting in the
 * role's account only (Lambda, DescribeAlarms), and a bus forwarding to another account's bus once.
 */
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deploymentAlarms } from '../../core/alarms/deployment-alarms';
import { deploySchema } from '../../core/deployment/config';
import { deployFunctionRoleArn, deployRoleArn, deployRoleTrustPolicy } from '../../core/deployment/targets';
import { LocalAccounts, localAccount } from '../../local/accounts';
import { DESCRIBE_ALARMS_TARGET } from '../../local/describe-alarms';
import { startLocalEndpoint, type LocalEndpoint } from '../../local/aws-endpoint';
import {
  LOCAL_CREDENTIALS,
  LOCAL_DEPLOY_FUNCTION_CREDENTIALS,
  LOCAL_ENVIRONMENT,
  LOCAL_REGION,
} from '../../local/constants';
import { busEvent, forwardTo, LocalEventBus } from '../../local/event-bus';
import { localIam, STS_XMLNS, stsOperations, type LocalIam } from '../../local/iam';
import { TimeScale } from '../../local/time-scale';

const TARGET = { account: '222222222222', region: LOCAL_REGION };
const ROLE = deployRoleArn('aws', 'web', TARGET);
const DEPLOY_FUNCTION_SESSION = 'arn:aws:sts::000000000000:assumed-role/stepline-deploy-function-local/stepline-deploy';

describe('local accounts', () => {
  let dir: string;
  let now: Date;
  let iam: LocalIam;
  let accounts: LocalAccounts;
  let endpoint: LocalEndpoint;
  const clients: { destroy(): void }[] = [];
  const client = <C extends { destroy(): void }>(made: C) => (clients.push(made), made);
  const settings = () => ({ endpoint: endpoint.url, region: LOCAL_REGION });
  type Keys = { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string };
  const sts = (credentials: Keys = LOCAL_DEPLOY_FUNCTION_CREDENTIALS) =>
    client(new STSClient({ ...settings(), credentials }));

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stepline-accounts-'));
    now = new Date('2026-12-03T12:00:00Z');
    iam = localIam(() => now);
    const options = (name: string) => ({ lambdaDir: join(dir, name), now: () => now, timeScale: TimeScale.REAL });
    accounts = new LocalAccounts(localAccount(LOCAL_ENVIRONMENT, options('platform')), iam);
    accounts.add(localAccount(TARGET, options('target')));
    // The same function name in both accounts: which one a caller reaches says which account it acts in.
    for (const { lambdas } of accounts.all()) lambdas.createFunction({ name: 'web', handler: 'index.handler' });
    const deploy = deploySchema.parse({ function: 'web' });
    accounts.get(TARGET).alarms.define(deploymentAlarms('web', deploy));
    iam.createRole(ROLE, deployRoleTrustPolicy('aws', LOCAL_ENVIRONMENT));
    endpoint = await startLocalEndpoint(
      { [DESCRIBE_ALARMS_TARGET]: accounts.describeAlarmsOperation() },
      {},
      accounts.lambdaApiRoute(() => undefined),
      undefined,
      { xmlns: STS_XMLNS, operations: stsOperations(iam) },
    );
  });
  afterEach(async () => {
    clients.splice(0).forEach((made) => made.destroy());
    await Promise.all(accounts.all().map(({ lambdas }) => lambdas.close()));
    await endpoint.close();
    await rm(dir, { recursive: true, force: true });
  });

  const assume = (roleArn = ROLE, from = sts()) =>
    from.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'run-1' }));

  describe('STS', () => {
    it("hands the deploy function the target role's credentials: a session in the target account", async () => {
      const { Credentials, AssumedRoleUser } = await assume();
      expect(AssumedRoleUser).toEqual({
        AssumedRoleId: expect.stringMatching(/^AROA[A-Z2-7]{17}:run-1$/),
        Arn: 'arn:aws:sts::222222222222:assumed-role/stepline-web-deploy-local/run-1',
      });
      expect(Credentials).toMatchObject({
        AccessKeyId: expect.stringMatching(/^ASIA[A-Z2-7]{16}$/),
        Expiration: new Date('2026-12-03T13:00:00Z'),
      });
      const assumed = {
        accessKeyId: Credentials!.AccessKeyId!,
        secretAccessKey: Credentials!.SecretAccessKey!,
        sessionToken: Credentials!.SessionToken!,
      };
      expect(await sts(assumed).send(new GetCallerIdentityCommand({}))).toMatchObject({
        Account: '222222222222',
        Arn: 'arn:aws:sts::222222222222:assumed-role/stepline-web-deploy-local/run-1',
      });
      expect(await sts().send(new GetCallerIdentityCommand({}))).toMatchObject({
        Account: '000000000000',
        Arn: DEPLOY_FUNCTION_SESSION,
      });
    });

    it('refuses a caller the trust policy does not name with 403 AccessDenied, as STS words it; so a role that does not exist', async () => {
      const refusal = (role: string, caller: string) => ({
        name: 'AccessDenied',
        message: `User: ${caller} is not authorized to perform: sts:AssumeRole on resource: ${role}`,
        $metadata: expect.objectContaining({ httpStatusCode: 403 }),
      });
      // Local mode's own key is the platform account's, not the deploy function role's.
      await expect(assume(ROLE, sts(LOCAL_CREDENTIALS))).rejects.toMatchObject(
        refusal(ROLE, 'arn:aws:iam::000000000000:root'),
      );
      const missing = deployRoleArn('aws', 'nope', TARGET);
      await expect(assume(missing)).rejects.toMatchObject(refusal(missing, DEPLOY_FUNCTION_SESSION));
      iam.updateAssumeRolePolicy(ROLE, deployRoleTrustPolicy('aws', { account: '999999999999', region: LOCAL_REGION }));
      await expect(assume()).rejects.toMatchObject(refusal(ROLE, DEPLOY_FUNCTION_SESSION));
    });

    it('evaluates a trust policy as IAM does: account principals, an explicit Deny, conditions on keys the request lacks', async () => {
      const allow = (principal: unknown, condition?: unknown) => ({
        Effect: 'Allow',
        Principal: { AWS: principal },
        Action: 'sts:AssumeRole',
        ...(condition ? { Condition: condition } : {}),
      });
      const trustedBy = async (...statements: unknown[]) => {
        iam.updateAssumeRolePolicy(ROLE, { Version: '2012-10-17', Statement: statements });
        return assume().then(
          () => true,
          (error: Error) => (error.name === 'AccessDenied' ? false : Promise.reject(error)),
        );
      };
      // The account, as an id or its root: any principal of it.
      expect(await trustedBy(allow('000000000000'))).toBe(true);
      expect(await trustedBy(allow(['arn:aws:iam::111111111111:root', 'arn:aws:iam::000000000000:root']))).toBe(true);
      expect(await trustedBy(allow('arn:aws:iam::111111111111:root'))).toBe(false);
      // A role: any session of it.
      expect(await trustedBy(allow(deployFunctionRoleArn('aws', LOCAL_ENVIRONMENT)))).toBe(true);
      // An explicit Deny wins over an Allow.
      const deny = { ...allow('000000000000'), Effect: 'Deny' };
      expect(await trustedBy(allow('000000000000'), deny)).toBe(false);
      // aws:SourceAccount is set only when an AWS service calls: a role's session never matches it.
      expect(await trustedBy(allow('000000000000', { StringEquals: { 'aws:SourceAccount': '000000000000' } }))).toBe(
        false,
      );
      expect(
        await trustedBy(
          allow('000000000000', { ArnEquals: { 'aws:PrincipalArn': deployFunctionRoleArn('aws', LOCAL_ENVIRONMENT) } }),
        ),
      ).toBe(true);
      // A policy local mode cannot evaluate is refused when it is set, not misread.
      expect(() =>
        iam.updateAssumeRolePolicy(ROLE, { Statement: [{ ...allow('*'), NotPrincipal: { AWS: '1' } }] }),
      ).toThrow(expect.objectContaining({ name: 'MalformedPolicyDocument' }));
    });

    it('refuses a key it never issued, and an assumed key once its session has expired', async () => {
      await expect(
        sts({ accessKeyId: 'AKIAFORGED', secretAccessKey: 'x' }).send(new GetCallerIdentityCommand({})),
      ).rejects.toMatchObject({
        name: 'InvalidClientTokenId',
        $metadata: expect.objectContaining({ httpStatusCode: 403 }),
      });
      const { Credentials } = await assume();
      const lambda = client(
        new LambdaClient({
          ...settings(),
          credentials: { accessKeyId: Credentials!.AccessKeyId!, secretAccessKey: Credentials!.SecretAccessKey! },
        }),
      );
      now = new Date('2026-12-03T13:00:00Z');
      await expect(lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'web' }))).rejects.toMatchObject({
        name: 'ExpiredToken',
      });
    });
  });

  it("acts with assumed keys in the role's account only: its Lambda functions, its alarms", async () => {
    const { Credentials } = await assume();
    const credentials = {
      accessKeyId: Credentials!.AccessKeyId!,
      secretAccessKey: Credentials!.SecretAccessKey!,
      sessionToken: Credentials!.SessionToken!,
    };
    const functionArn = async (keys: Keys) =>
      (
        await client(new LambdaClient({ ...settings(), credentials: keys })).send(
          new GetFunctionConfigurationCommand({ FunctionName: 'web' }),
        )
      ).FunctionArn;
    expect(await functionArn(credentials)).toBe('arn:aws:lambda:local:222222222222:function:web');
    expect(await functionArn(LOCAL_CREDENTIALS)).toBe('arn:aws:lambda:local:000000000000:function:web');

    const alarmNames = async (keys: Keys) =>
      (
        await client(new CloudWatchClient({ ...settings(), credentials: keys })).send(new DescribeAlarmsCommand({}))
      ).MetricAlarms!.map(({ AlarmArn }) => AlarmArn);
    expect(await alarmNames(credentials)).toEqual([
      'arn:aws:cloudwatch:local:222222222222:alarm:stepline-web-errors',
      'arn:aws:cloudwatch:local:222222222222:alarm:stepline-web-throttles',
    ]);
    expect(await alarmNames(LOCAL_CREDENTIALS)).toEqual([]);
  });

  it("forwards a matching event to another account's bus as it is, and no further", async () => {
    const platform = new LocalEventBus();
    const third = new LocalEventBus();
    const seen: unknown[] = [];
    platform.addRule({ name: 'sees', pattern: { source: ['aws.cloudwatch'] }, target: async (e) => seen.push(e) });
    // A rule on the receiving bus that would send what it received on to a third account's bus.
    platform.addRule(forwardTo('onwards', { source: ['aws.cloudwatch'] }, third));
    const thirdSeen: unknown[] = [];
    third.addRule({ name: 'sees', pattern: { source: ['aws.cloudwatch'] }, target: async (e) => thirdSeen.push(e) });
    const target = accounts.get(TARGET).bus;
    target.addRule(forwardTo('stepline-alarm-forwarding', { source: ['aws.cloudwatch'] }, platform));

    const event = busEvent({
      source: 'aws.cloudwatch',
      detailType: 'CloudWatch Alarm State Change',
      detail: {},
      ...TARGET,
    });
    await Promise.all(target.put(event).map(({ result }) => result));
    await Promise.all(target.put(busEvent({ source: 'aws.s3', detailType: 'Other', detail: {} })).map((d) => d.result));

    expect(seen).toEqual([event]);
    expect(thirdSeen).toEqual([]);
  });
});
