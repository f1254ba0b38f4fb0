/**
 * A pipeline's release to Lambda, on the AWS side: what `deploy` in the config asks for, in the
 * pipeline's own stack.
 *
 * - The deploy role `stepline-<pipeline>-deploy-<Region>`: the platform's deploy function holds no
 *   permission on any target; for each request it assumes this role, which alone may change this
 *   pipeline's target function, read its artifacts and read the alarms' states. The role trusts the deploy
 *   function's role by its fixed name (deployFunctionRoleName), so no reference crosses the stacks. Both
 *   names carry the Region: IAM names are account-wide, and each Region has its own platform.
 * - The deployment's alarms, as core/alarms/deployment-alarms.ts defines them (the same definitions local mode
 *   evaluates), and with `extraAlarms` the composite alarm `stepline-<pipeline>-extra-alarms` over the user's
 *   alarms. Their names carry stepline's prefix, so the platform's one alarm rule (the deploy function's,
 *   core/platform-functions.ts) hands their changes into ALARM to the deploy function: no rule here.
 * - With `createFunction`, the target function itself, with placeholder code, and its alias.
 */
import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import {
  alarmConfiguration,
  deploymentAlarms,
  extraAlarmsComposite,
  type DeploymentAlarm,
} from '../core/alarms/deployment-alarms';
import type { CreateFunctionConfig, DeployConfig } from '../core/deployment/config';
import {
  deployRoleTrustPolicy,
  isPlatformEnvironment,
  targetEnvironment,
  type PolicyDocument,
  type ReleaseTarget,
} from '../core/deployment/targets';
import { deployRoleName } from '../core/platform';
import { acknowledgeRule } from './nag';
import { ExplicitRole } from './permissions';
import { allowFunctionBasics } from './platform-function';

export interface PipelineDeploymentProps {
  /** The pipeline's name (config `name`). */
  readonly pipeline: string;
  /** The pipeline's `deploy` section, as `parseConfig` returned it. */
  readonly deploy: DeployConfig;
  /** The bucket the build stage uploads its artifacts to, under `<pipeline>/`: the code a release deploys. */
  readonly artifactBucket: s3.IBucket;
  /** The platform key that encrypts the artifacts. */
  readonly encryptionKey: kms.IKey;
  /**
   * Retention of the created target function's log group (with `createFunction`).
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
}

/** The target function stepline created (`createFunction`), its first version and its alias. */
export interface DeploymentTarget {
  readonly function: lambda.Function;
  readonly role: ExplicitRole;
  readonly logGroup: logs.LogGroup;
  /** Version 1, the placeholder: created once, never replaced. */
  readonly firstVersion: lambda.CfnVersion;
  readonly alias: lambda.CfnAlias;
}

const RUNTIMES: Readonly<Record<CreateFunctionConfig['runtime'], lambda.Runtime>> = {
  'nodejs20.x': lambda.Runtime.NODEJS_20_X,
  'nodejs22.x': lambda.Runtime.NODEJS_22_X,
};

/**
 * What releasing a build to one function takes, through core/deployment/protocol.ts and
 * lambdas/adapters/lambda-deployer.ts: the artifact becomes the code (UpdateFunctionCode, then
 * GetFunctionConfiguration until Lambda has ended the update), a version is published (PublishVersion),
 * the pre-traffic or smoke check invokes it (InvokeFunction), traffic moves through the alias (GetAlias,
 * UpdateAlias). The same for the target and the staging function; test/lib/calls-versus-grants.test.ts
 * checks it against the code.
 */
const RELEASE_ACTIONS = [
  'lambda:UpdateFunctionCode',
  'lambda:GetFunctionConfiguration',
  'lambda:PublishVersion',
  'lambda:GetAlias',
  'lambda:UpdateAlias',
  'lambda:InvokeFunction',
];

export class PipelineDeployment extends Construct {
  /**
   * `stepline-<pipeline>-deploy-<Region>`, assumed by the platform's deploy function only; absent when
   * neither target is in the platform's own account and Region (a target stack holds the role there).
   */
  readonly role?: ExplicitRole;
  /**
   * The deployment's own alarms by name (core/alarms/deployment-alarms.ts deploymentAlarms), when the
   * production target is in the platform's own account and Region (else its target stack holds them).
   */
  readonly alarms: ReadonlyMap<string, cloudwatch.CfnAlarm>;
  /** The composite alarm over the user's `extraAlarms`, whose changes into ALARM roll back; only with extraAlarms. */
  readonly extraAlarms?: cloudwatch.CfnCompositeAlarm;
  /** The target function and its alias, when the config has stepline create them. */
  readonly target?: DeploymentTarget;

  constructor(scope: Construct, id: string, props: PipelineDeploymentProps) {
    super(scope, id);
    const { pipeline, deploy } = props;
    const stack = Stack.of(this);
    const platform = { account: stack.account, region: stack.region };
    // The targets in the platform's own account and Region: a target elsewhere is its target stack's.
    const here = releasesOf(deploy).filter(({ target }) =>
      isPlatformEnvironment(targetEnvironment(deploy, target, platform), platform),
    );

    if (here.length) {
      this.role = new ExplicitRole(this, 'Role', {
        roleName: deployRoleName(pipeline, stack.region),
        // The platform's deploy function's role, by its fixed name (core/deployment/targets.ts
        // deployRoleTrustPolicy). IAM checks that the role exists when this trust policy is written (the
        // platform deploys first) and keeps its unique id: were the platform's role ever deleted and created
        // again, this stack must be deployed again too.
        assumedBy: trustedBy(deployRoleTrustPolicy(stack.partition, platform)),
        description: `stepline pipeline "${pipeline}": releases to ${deploy.function}:${deploy.alias}, assumed by the deploy function`,
      });
      allowReleases(
        this.role,
        here.map((release) => ({ ...release, arn: functionArn(stack, release.function) })),
        {
          objects: props.artifactBucket.arnForObjects(`${pipeline}/*`),
          key: props.encryptionKey.keyArn,
          objectsWhy:
            "The build stage writes the artifact under <pipeline>/<build id>/, the build id unknown before the build: this pipeline's prefix of the artifact bucket only.",
        },
      );
    }

    const productionHere = here.some(({ target }) => target === 'production');
    const alarms = productionHere ? deploymentAlarmResources(this, pipeline, deploy) : NO_ALARMS;
    this.alarms = alarms.alarms;
    if (alarms.extraAlarms) this.extraAlarms = alarms.extraAlarms;

    if (deploy.createFunction) {
      this.target = createTarget(this, pipeline, deploy, deploy.createFunction, props.logRetention);
    }
  }
}

/** A pipeline's releases: production, and staging when it has one, each with its function and alias. */
export function releasesOf(deploy: DeployConfig): Omit<ReleasedFunction, 'arn'>[] {
  return [
    { target: 'production', function: deploy.function, alias: deploy.alias },
    ...(deploy.staging
      ? [{ target: 'staging' as const, function: deploy.staging.function, alias: deploy.staging.alias }]
      : []),
  ];
}

/** A function of this stack's account and Region, by name. */
function functionArn(stack: Stack, name: string): string {
  return stack.formatArn({
    service: 'lambda',
    resource: 'function',
    resourceName: name,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}

/** The principal a deploy role's trust policy (core/deployment/targets.ts) names, as CDK takes it. */
export function trustedBy(document: PolicyDocument): iam.IPrincipal {
  const [statement, ...others] = document.Statement;
  // A programming error: core's trust policy is one statement.
  if (!statement || others.length) throw new Error('a deploy role is trusted through exactly one statement');
  const principal = new iam.ArnPrincipal(statement.Principal.AWS);
  return statement.Condition ? principal.withConditions(statement.Condition) : principal;
}

/** A function a deploy role releases to, and whether it is the pipeline's staging or production target. */
export interface ReleasedFunction {
  readonly target: ReleaseTarget;
  readonly function: string;
  readonly alias: string;
  readonly arn: string;
}

/** Where a deploy role reads the pipeline's artifacts, and why its resources are as they are. */
export interface ArtifactAccess {
  /** The pipeline's objects (`<pipeline>/*`) of the artifact bucket, or a pattern matching them. */
  readonly objects: string;
  /** The platform key, or a pattern matching it. */
  readonly key: string;
  readonly objectsWhy: string;
  /** @default - none needed: the key's exact ARN */
  readonly keyWhy?: string;
  /** @default - none */
  readonly conditions?: Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>;
}

/**
 * Every statement a deploy role holds, the same in the pipeline's stack and in a target stack: the release
 * actions on each function and its qualifiers, the pipeline's artifacts (UpdateFunctionCode reads the zip
 * from S3 with the caller's permissions: this role's) and their key, and the alarms' states.
 */
export function allowReleases(
  role: ExplicitRole,
  functions: readonly ReleasedFunction[],
  artifacts: ArtifactAccess,
): void {
  for (const released of functions) {
    role.allow(
      RELEASE_ACTIONS,
      [released.arn, `${released.arn}:*`],
      released.target === 'production'
        ? `The target function ${released.function} and its qualifiers: a deployment publishes versions whose numbers are Lambda's, invokes the new one by number and moves the alias ${released.alias}; this one function only.`
        : // Staging before the gate: the same artifact, published and switched all at once, smoke-checked,
          // by the same deployer: the same actions.
          `The staging function ${released.function} and its qualifiers: staging publishes a version, moves the alias ${released.alias} to it and smoke-checks through it; this one function only.`,
    );
  }
  role.allow(['s3:GetObject'], [artifacts.objects], artifacts.objectsWhy, artifacts.conditions);
  role.allow(['kms:Decrypt'], [artifacts.key], artifacts.keyWhy, artifacts.conditions);
  role.allowOnAnyResource(
    'AlarmStates',
    ['cloudwatch:DescribeAlarms'],
    "The alarm reader asks DescribeAlarms for metric and composite alarms (a user's extraAlarms may be composite). CloudWatch's API reference: \"To use this operation and return information about composite alarms, you must be signed on with the cloudwatch:DescribeAlarms permission that is scoped to *. You can't return information about composite alarms if your cloudwatch:DescribeAlarms permission has a narrower scope.\" It reads alarm states and configuration only.",
  );
}

/** A deployment's alarms as made in a stack. */
export interface DeploymentAlarmResources {
  readonly alarms: ReadonlyMap<string, cloudwatch.CfnAlarm>;
  readonly extraAlarms?: cloudwatch.CfnCompositeAlarm;
}

/** No alarms: the production target is in another stack. */
export const NO_ALARMS: DeploymentAlarmResources = { alarms: new Map() };

/**
 * The deployment's alarms (core/alarms/deployment-alarms.ts) under `scope`, by name, and the composite alarm
 * over the user's `extraAlarms` when there are any.
 */
export function deploymentAlarmResources(
  scope: Construct,
  pipeline: string,
  deploy: DeployConfig,
): DeploymentAlarmResources {
  const alarms = new Map(
    deploymentAlarms(pipeline, deploy).map((alarm) => [
      alarm.name,
      new cloudwatch.CfnAlarm(scope, `Alarm-${alarm.metric.metricName}`, alarmProps(alarm)),
    ]),
  );
  const composite = extraAlarmsComposite(pipeline, deploy);
  if (!composite) return { alarms };
  const extraAlarms = new cloudwatch.CfnCompositeAlarm(scope, 'ExtraAlarms', {
    alarmName: composite.name,
    alarmRule: composite.rule,
    // No actions: its state changes reach EventBridge whatever its actions, and the alarm rule acts on them.
    actionsEnabled: false,
    alarmDescription: `stepline: in ALARM while any of pipeline "${pipeline}"'s extraAlarms is (${composite.children.join(', ')}); rolls back its deployment`,
  });
  return { alarms, extraAlarms };
}

/** An alarm as CloudFormation takes it: the configuration core/alarms/deployment-alarms.ts defines, in CDK's casing. */
export function alarmProps(alarm: DeploymentAlarm): cloudwatch.CfnAlarmProps {
  const { Dimensions, ...fields } = alarmConfiguration(alarm);
  const { metric, definition } = alarm;
  return {
    ...Object.fromEntries(
      Object.entries(fields).map(([key, value]) => [key.charAt(0).toLowerCase() + key.slice(1), value]),
    ),
    alarmDescription: `stepline: rolls back a deployment to ${metric.dimensions.Resource ?? metric.dimensions.FunctionName} when ${metric.metricName} reach ${definition.threshold}`,
    dimensions: Dimensions.map(({ Name, Value }) => ({ name: Name, value: Value })),
  } as cloudwatch.CfnAlarmProps;
}

/**
 * The target function with placeholder code, version 1 of it, and the alias on version 1.
 *
 * From the first release on, stepline's deployments change the function's code and move the alias
 * out of band (UpdateFunctionCode, PublishVersion, UpdateAlias); CloudFormation manages the function's
 * configuration only. So the template must never move the alias itself:
 * - `lambda.Alias` on `fn.currentVersion` would: `currentVersion` is a new `AWS::Lambda::Version`
 *   (logical id hashed from code and configuration) whenever either changes, and the alias, pointed at
 *   it, would be updated to it, taking all traffic back to the placeholder and dropping the routing.
 * - Here version 1 is a `CfnVersion` whose properties never change, so CloudFormation never replaces it,
 *   and the alias is a `CfnAlias` whose properties never change, so no stack update touches it:
 *   CloudFormation updates a resource only when its template properties change, and does not undo drift.
 *   Changing the alias name in the config replaces the alias (a new one on version 1).
 * - A configuration change (memory, timeout) updates `$LATEST`; the published versions keep theirs, and
 *   the next release publishes with the new configuration. The code stays the last release's: the
 *   placeholder below changes only if its text or handler changes, which would put it back on `$LATEST`
 *   (not on the alias) until the next release.
 */
function createTarget(
  scope: Construct,
  pipeline: string,
  deploy: DeployConfig,
  create: CreateFunctionConfig,
  logRetention: logs.RetentionDays | undefined,
): DeploymentTarget {
  const logGroup = new logs.LogGroup(scope, 'TargetLogs', {
    retention: logRetention ?? logs.RetentionDays.THREE_MONTHS,
    removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
  });
  const role = new ExplicitRole(scope, 'TargetRole', {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: `stepline pipeline "${pipeline}": execution role of ${deploy.function}`,
  });
  allowFunctionBasics(role, logGroup);
  const fn = new lambda.Function(scope, 'Target', {
    functionName: deploy.function,
    description: `stepline pipeline "${pipeline}": its code and alias ${deploy.alias} are released by the pipeline`,
    runtime: RUNTIMES[create.runtime],
    handler: create.handler,
    code: lambda.Code.fromInline(placeholderCode(pipeline, create.handler)),
    memorySize: create.memoryMb,
    timeout: Duration.seconds(create.timeoutSeconds),
    tracing: lambda.Tracing.ACTIVE,
    logGroup,
    role: role.immutable,
  });
  role.isNeededBy(fn);
  acknowledgeRule(
    fn,
    'L1',
    `The runtime is the one the pipeline's code is built for (deploy.createFunction.runtime, ${create.runtime}), not the newest Lambda offers: it changes with the code, in the config.`,
  );
  const firstVersion = new lambda.CfnVersion(scope, 'TargetFirstVersion', {
    functionName: fn.functionName,
    description: 'stepline: the placeholder, before the first release',
  });
  const alias = new lambda.CfnAlias(scope, 'TargetAlias', {
    functionName: fn.functionName,
    name: deploy.alias,
    functionVersion: firstVersion.attrVersion,
    description: `stepline: moved by pipeline "${pipeline}"'s deployments, never by CloudFormation after its creation`,
  });
  return { function: fn, role, logGroup, firstVersion, alias };
}

/**
 * Inline code (Lambda saves it as `index.js`) exporting the handler's function: every request is
 * answered 503 until the pipeline's first release. A handler in another file than `index` finds no
 * placeholder, and invocations fail until the first release instead.
 */
function placeholderCode(pipeline: string, handler: string): string {
  const exported = handler.slice(handler.lastIndexOf('.') + 1);
  const body = JSON.stringify({
    message: `not deployed yet: pipeline "${pipeline}" has not released a build to this function`,
  });
  return [
    '// stepline placeholder: replaced by the first release of the pipeline.',
    `exports[${JSON.stringify(exported)}] = async () => ({`,
    '  statusCode: 503,',
    "  headers: { 'content-type': 'application/json; charset=utf-8', 'retry-after': '60' },",
    `  body: ${JSON.stringify(body)},`,
    '});',
    '',
  ].join('\n');
}
