/**
 * lambdas/adapters/deploy-roles.ts against a mocked STS (no local STS exists outside local mode's): the role
 * each release assumes is the one its target's place names, staging and production each their own, and
 * the clients talk to the target's Region with the assumed credentials.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { parseConfig } from '../../core/config/stepline-config';
import { CallerIdentityUnreadableError, DeployRoleCredentialsMissingError } from '../../core/deployment/errors';
import { StsDeployRoles } from '../../lambdas/adapters/deploy-roles';

const PLATFORM_CALLER = 'arn:aws:sts::111111111111:assumed-role/stepline-deploy-function-eu-west-1/deploy';

function deployOf(deploy: Record<string, unknown>) {
  return parseConfig({
    pipelines: [
      {
        name: 'web',
        source: { type: 'codecommit', repository: 'web', branch: 'main' },
        build: { buildspec: 'buildspec.yml' },
        deploy,
      },
    ],
  }).pipelines[0]!.deploy!;
}

describe('StsDeployRoles: the deploy role of each target', () => {
  const sts = mockClient(STSClient);
  beforeEach(() => {
    sts.on(GetCallerIdentityCommand).resolves({ Arn: PLATFORM_CALLER });
    sts.on(AssumeRoleCommand).callsFake(({ RoleArn }: { RoleArn: string }) => ({
      Credentials: {
        AccessKeyId: `AKIA-${RoleArn.split(':')[4]}`,
        SecretAccessKey: 'secret',
        SessionToken: 'token',
        Expiration: new Date(Date.now() + 3600_000),
      },
    }));
  });
  afterEach(() => sts.reset());

  it('stages in account A and releases in account B, each through the role in that account, in the target Region', async () => {
    const deploy = deployOf({
      function: 'web',
      account: '333333333333',
      staging: { function: 'web-staging', account: '222222222222', smokeEvent: {} },
    });
    const roles = new StsDeployRoles(new STSClient({ region: 'eu-west-1' }));
    const staging = await roles.clientsFor({ pipeline: 'web', deploy, target: 'staging' }, 'web-run-1');
    const production = await roles.clientsFor({ pipeline: 'web', deploy, target: 'production' }, 'web-run-1');

    expect(sts.commandCalls(AssumeRoleCommand).map((call) => call.args[0].input)).toEqual([
      { RoleArn: 'arn:aws:iam::222222222222:role/stepline-web-deploy-eu-west-1', RoleSessionName: 'web-run-1' },
      { RoleArn: 'arn:aws:iam::333333333333:role/stepline-web-deploy-eu-west-1', RoleSessionName: 'web-run-1' },
    ]);
    expect(staging.lambda).toBeInstanceOf(LambdaClient);
    expect(production.cloudwatch).toBeInstanceOf(CloudWatchClient);
    expect(await staging.lambda.config.credentials()).toMatchObject({ accessKeyId: 'AKIA-222222222222' });
    expect(await production.lambda.config.credentials()).toMatchObject({ accessKeyId: 'AKIA-333333333333' });
    expect(await production.cloudwatch.config.credentials()).toMatchObject({ accessKeyId: 'AKIA-333333333333' });
    expect(await production.lambda.config.region()).toBe('eu-west-1');
  });

  it("assumes the role of the target's Region, and builds the clients for that Region", async () => {
    const deploy = deployOf({ function: 'web', region: 'us-east-1' });
    const roles = new StsDeployRoles(new STSClient({ region: 'eu-west-1' }));
    const clients = await roles.clientsFor({ pipeline: 'web', deploy, target: 'production' });
    expect(sts.commandCalls(AssumeRoleCommand).map((call) => call.args[0].input)).toEqual([
      { RoleArn: 'arn:aws:iam::111111111111:role/stepline-web-deploy-us-east-1', RoleSessionName: 'web' },
    ]);
    expect(await clients.lambda.config.region()).toBe('us-east-1');
    expect(await clients.cloudwatch.config.region()).toBe('us-east-1');
    // The artifacts are read where the platform's bucket is, with the same role's credentials.
    expect(clients.artifacts).toBeInstanceOf(S3Client);
    expect(await clients.artifacts!.config.region()).toBe('eu-west-1');
    expect(await clients.artifacts!.config.credentials()).toMatchObject({ accessKeyId: 'AKIA-111111111111' });
  });

  it("uses the pipeline's own role in the platform account for a target that names no place, once for staging and production", async () => {
    const deploy = deployOf({ function: 'web', staging: { function: 'web-staging', smokeEvent: {} } });
    const roles = new StsDeployRoles(new STSClient({ region: 'eu-west-1' }));
    const staging = await roles.clientsFor({ pipeline: 'web', deploy, target: 'staging' }, 'run-1');
    expect(await roles.clientsFor({ pipeline: 'web', deploy, target: 'production' }, 'run-1')).toBe(staging);
    expect(sts.commandCalls(AssumeRoleCommand).map((call) => call.args[0].input)).toEqual([
      { RoleArn: 'arn:aws:iam::111111111111:role/stepline-web-deploy-eu-west-1', RoleSessionName: 'run-1' },
    ]);
  });

  it('refuses credentials STS did not give, and a caller identity without an account', async () => {
    const deploy = deployOf({ function: 'web', account: '333333333333' });
    sts.on(AssumeRoleCommand).resolves({});
    await expect(
      new StsDeployRoles(new STSClient({ region: 'eu-west-1' })).clientsFor({
        pipeline: 'web',
        deploy,
        target: 'production',
      }),
    ).rejects.toThrow(DeployRoleCredentialsMissingError);
    sts.on(GetCallerIdentityCommand).resolves({ Arn: 'not-an-arn' });
    await expect(
      new StsDeployRoles(new STSClient({ region: 'eu-west-1' })).clientsFor({
        pipeline: 'web',
        deploy,
        target: 'production',
      }),
    ).rejects.toThrow(CallerIdentityUnreadableError);
  });
});
