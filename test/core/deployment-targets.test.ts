import { problemsOf } from '../support/config';
import { parseConfig } from '../../core/config/stepline-config';
import { deploymentAlarmTrigger } from '../../core/alarms/deployment-alarms';
import { matchesPattern } from '../../core/sources/event-pattern';
import {
  alarmForwardingBusStatement,
  alarmForwardingPattern,
  forwardedAlarmTrigger,
  alarmForwardingDestination,
  forwardedFromProduction,
  deployFunctionRoleArn,
  deployRoleArn,
  deployRoleTrustPolicy,
  targetDeployRoles,
  targetPlacementProblems,
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
    const problems = problemsOf({
      pipelines: [
        pipelineWith('web', {
          function: 'web',
          account: '1234',
          region: 'Europe',
          staging: { function: 'web-staging', account: 'abc', smokeEvent: {} },
        }),
      ],
    });
    expect(problems).toEqual([
      'pipeline "web" → deploy.account: must be a 12-digit AWS account id',
      'pipeline "web" → deploy.region: must be an AWS Region code such as eu-west-1',
      'pipeline "web" → deploy.staging.account: must be a 12-digit AWS account id',
    ]);
  });
});

describe('what crosses into a target account', () => {
  it('trusts exactly the platform deploy function role, with no other principal or condition', () => {
    expect(deployRoleTrustPolicy('aws', PLATFORM)).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: 'arn:aws:iam::111111111111:role/stepline-deploy-function-eu-west-1' },
          Action: 'sts:AssumeRole',
        },
      ],
    });
  });

  it('lists one deploy role per pipeline and target account, staging and production in one account sharing it', () => {
    const pipelines = parsed(
      pipelineWith('web', {
        function: 'web',
        account: '333333333333',
        staging: { function: 'web-staging', account: '333333333333', smokeEvent: {} },
      }),
      pipelineWith('api', {
        function: 'api',
        account: '333333333333',
        staging: { function: 'api-staging', account: '222222222222', smokeEvent: {} },
      }),
      pipelineWith('home', { function: 'home' }),
    );
    expect(targetDeployRoles(targetStacks(pipelines, PLATFORM), 'aws')).toEqual([
      {
        pipeline: 'api',
        account: '222222222222',
        region: 'eu-west-1',
        roleArn: 'arn:aws:iam::222222222222:role/stepline-api-deploy-eu-west-1',
      },
      {
        pipeline: 'web',
        account: '333333333333',
        region: 'eu-west-1',
        roleArn: 'arn:aws:iam::333333333333:role/stepline-web-deploy-eu-west-1',
      },
      {
        pipeline: 'api',
        account: '333333333333',
        region: 'eu-west-1',
        roleArn: 'arn:aws:iam::333333333333:role/stepline-api-deploy-eu-west-1',
      },
    ]);
  });

  it("releases to a target outside the platform's Region, and refuses createFunction in another account, naming the field", () => {
    const pipelines = parsed(
      pipelineWith('web', {
        function: 'web',
        region: 'us-east-1',
        staging: { function: 'web-staging', account: '222222222222', region: 'eu-west-1', smokeEvent: {} },
      }),
      pipelineWith('api', {
        function: 'api',
        account: '333333333333',
        createFunction: {},
        staging: { function: 'api-staging', region: 'eu-central-1', smokeEvent: {} },
      }),
      pipelineWith('home', { function: 'home', createFunction: {} }),
    );
    const problems = targetPlacementProblems(pipelines, PLATFORM);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      /^pipeline "api": deploy\.createFunction creates the function in the platform's account/,
    );
  });

  it("refuses a target outside the platform's Region in GovCloud and China, where EventBridge routes no events between Regions", () => {
    const pipelines = parsed(
      pipelineWith('web', {
        function: 'web',
        region: 'us-gov-east-1',
        staging: { function: 'web-staging', region: 'us-gov-west-1', smokeEvent: {} },
      }),
    );
    expect(targetPlacementProblems(pipelines, { account: '111111111111', region: 'us-gov-west-1' })).toEqual([
      'pipeline "web": deploy.region us-gov-east-1 is not the platform\'s Region us-gov-west-1: EventBridge routes no events between Regions in AWS GovCloud (US) or China, so the target\'s alarms could not reach the platform; release within us-gov-west-1, or deploy a stepline platform in us-gov-east-1',
    ]);
    const china = parsed(pipelineWith('web', { function: 'web', region: 'cn-northwest-1' }));
    expect(targetPlacementProblems(china, { account: '111111111111', region: 'cn-north-1' })).toHaveLength(1);
    // The same Regions within the commercial partition's rules: released to.
    expect(targetPlacementProblems(pipelines, { account: '111111111111', region: 'eu-west-1' })).toEqual([]);
  });

  it("forwards alarms from another account to the platform's stepline bus, and from its own account to its default bus", () => {
    expect(alarmForwardingDestination('aws', PLATFORM, '333333333333')).toBe(
      'arn:aws:events:eu-west-1:111111111111:event-bus/stepline',
    );
    expect(alarmForwardingDestination('aws', PLATFORM, '111111111111')).toBe(
      'arn:aws:events:eu-west-1:111111111111:event-bus/default',
    );
  });

  it('lets exactly the target accounts put alarm state changes on the platform bus, and no one when there are none', () => {
    expect(alarmForwardingBusStatement('aws', PLATFORM, [])).toBeUndefined();
    expect(alarmForwardingBusStatement('aws', PLATFORM, ['222222222222', '333333333333'])).toEqual({
      Sid: 'TargetAccountsForwardAlarmStateChanges',
      Effect: 'Allow',
      Principal: { AWS: ['arn:aws:iam::222222222222:root', 'arn:aws:iam::333333333333:root'] },
      Action: 'events:PutEvents',
      Resource: 'arn:aws:events:eu-west-1:111111111111:event-bus/stepline',
      Condition: {
        'ForAllValues:StringEquals': { 'events:source': ['aws.cloudwatch'] },
        StringEquals: { 'events:detail-type': 'CloudWatch Alarm State Change' },
      },
    });
  });
});

describe('the forwarded alarm events', () => {
  const alarmEvent = (alarmName: string, state: string) => ({
    source: 'aws.cloudwatch',
    'detail-type': 'CloudWatch Alarm State Change',
    account: '333333333333',
    region: 'eu-west-1',
    detail: { alarmName, state: { value: state, reason: 'r', timestamp: 't' } },
  });

  it("forwards exactly what the platform's alarm rule acts on: stepline's alarms going into ALARM", () => {
    expect(alarmForwardingPattern()).toEqual(deploymentAlarmTrigger().pattern);
    expect(matchesPattern(alarmForwardingPattern(), alarmEvent('stepline-web-errors', 'ALARM'))).toBe(true);
    expect(matchesPattern(alarmForwardingPattern(), alarmEvent('stepline-web-errors', 'OK'))).toBe(false);
    expect(matchesPattern(alarmForwardingPattern(), alarmEvent('billing-high', 'ALARM'))).toBe(false);
  });

  it("hands the deploy function the own rule's input and the alarm's account", () => {
    const own = deploymentAlarmTrigger();
    expect(forwardedAlarmTrigger()).toEqual({
      pattern: own.pattern,
      input: { ...own.input, forwardedFrom: { path: '$.account' } },
    });
  });

  it("takes a forwarded alarm only from the production target's account", () => {
    const [web, home] = parsed(
      pipelineWith('web', { function: 'web', account: '333333333333' }),
      pipelineWith('home', { function: 'home' }),
    );
    expect(forwardedFromProduction(web!.deploy!, '333333333333')).toBe(true);
    expect(forwardedFromProduction(web!.deploy!, '222222222222')).toBe(false);
    expect(forwardedFromProduction(home!.deploy!, '333333333333')).toBe(false);
    expect(forwardedFromProduction(home!.deploy!, undefined)).toBe(true);
  });
});
