import { ConfigError } from '../../core/config/errors';
import { parseConfig } from '../../core/config/stepline-config';
import {
  deployFunctionRoleArn,
  deployRoleArn,
  targetAccounts,
  targetEnvironment,
  targetStackName,
  targetStacks,
} from '../../core/deployment/targets';

const PLATFORM = { account: '111111111111', region: 'eu-west-1' };

function pipelineWith(name: string, deploy: Record<string, unknown> | undefined) {
  return {
    name,
    source: { type: 'codecommit', repository: name, branch: 'main' },
    build: { buildspec: 'buildspec.yml' },
    ...(deploy ? { deploy } : {}),
  };
}

function parsed(...pipelines: ReturnType<typeof pipelineWith>[]) {
  return parseConfig({ pipelines }).pipelines;
}

describe('deploy targets in other accounts and Regions', () => {
  it('takes the platform account and Region for a target that names neither', () => {
    const [web] = parsed(
      pipelineWith('web', { function: 'web', staging: { function: 'web-staging', smokeEvent: {} } }),
    );
    expect(targetEnvironment(web!.deploy!, 'production', PLATFORM)).toEqual(PLATFORM);
    expect(targetEnvironment(web!.deploy!, 'staging', PLATFORM)).toEqual(PLATFORM);
    expect(targetStacks(parsed(pipelineWith('web', { function: 'web' })), PLATFORM)).toEqual([]);
  });

  it('places staging and production each where the config says, and groups releases by account and Region', () => {
    const pipelines = parsed(
      pipelineWith('web', {
        function: 'web',
        account: '333333333333',
        staging: { function: 'web-staging', account: '222222222222', smokeEvent: {} },
      }),
      pipelineWith('api', { function: 'api', account: '333333333333', region: 'us-east-1' }),
      pipelineWith('jobs', { function: 'jobs', account: '333333333333' }),
      pipelineWith('docs', undefined),
    );
    expect(targetEnvironment(pipelines[0]!.deploy!, 'staging', PLATFORM)).toEqual({
      account: '222222222222',
      region: 'eu-west-1',
    });
    expect(targetStacks(pipelines, PLATFORM)).toEqual([
      {
        account: '222222222222',
        region: 'eu-west-1',
        releases: [{ pipeline: 'web', target: 'staging', function: 'web-staging', alias: 'live' }],
      },
      {
        account: '333333333333',
        region: 'eu-west-1',
        releases: [
          { pipeline: 'web', target: 'production', function: 'web', alias: 'live' },
          { pipeline: 'jobs', target: 'production', function: 'jobs', alias: 'live' },
        ],
      },
      {
        account: '333333333333',
        region: 'us-east-1',
        releases: [{ pipeline: 'api', target: 'production', function: 'api', alias: 'live' }],
      },
    ]);
    expect(targetAccounts(pipelines, PLATFORM)).toEqual(['222222222222', '333333333333']);
  });

  it('needs no bus policy for a target in the platform account in another Region', () => {
    const pipelines = parsed(pipelineWith('web', { function: 'web', region: 'us-east-1' }));
    expect(targetStacks(pipelines, PLATFORM).map(targetStackName)).toEqual(['Stepline-target-111111111111-us-east-1']);
    expect(targetAccounts(pipelines, PLATFORM)).toEqual([]);
  });

  it('names the deploy role in the target account and Region, trusted by the platform deploy function role', () => {
    expect(deployRoleArn('aws', 'web', { account: '333333333333', region: 'us-east-1' })).toBe(
      'arn:aws:iam::333333333333:role/stepline-web-deploy-us-east-1',
    );
    expect(deployFunctionRoleArn('aws', PLATFORM)).toBe(
      'arn:aws:iam::111111111111:role/stepline-deploy-function-eu-west-1',
    );
  });

  it('refuses an account or Region that is not one, naming the field', () => {
    const problems = (() => {
      try {
        parsed(
          pipelineWith('web', {
            function: 'web',
            account: '1234',
            region: 'Europe',
            staging: { function: 'web-staging', account: 'abc', smokeEvent: {} },
          }),
        );
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as ConfigError).problems;
      }
      throw new Error('expected the config to be refused');
    })();
    expect(problems).toEqual([
      'pipeline "web" → deploy.account: must be a 12-digit AWS account id',
      'pipeline "web" → deploy.region: must be an AWS Region code such as eu-west-1',
      'pipeline "web" → deploy.staging.account: must be a 12-digit AWS account id',
    ]);
  });
});
