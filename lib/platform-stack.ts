/**
 * The platform: what every pipeline shares — the run store, the artifact bucket and its key, the
 * starter and recorder functions, the release gate's decision side — and nothing that belongs to one
 * pipeline. Its template does not
 * depend on the pipeline config but through the targets in other accounts (`targets`), so adding or removing
 * a pipeline that releases in the platform's own account never deploys it. It hands its
 * resources to the pipeline stacks through SSM parameters (core/platform.ts PLATFORM_PARAMETERS),
 * which CloudFormation reads at deploy time and, unlike exports, never locks.
 */
import { CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import type { Construct } from 'constructs';
import type { TargetDeployRole } from '../core/deployment/targets';
import { PLATFORM_PARAMETERS } from '../core/platform';
import { PLATFORM_FUNCTIONS, functionArnParameterName, functionsPipelinesInvoke } from '../core/platform-functions';
import { ArtifactStore } from './artifact-store';
import { OperatorAccess } from './operator-access';
import { PlatformFunctions } from './platform-functions';
import { ReleaseApprovals } from './release-approvals';
import { RunStore } from './run-store';
import { TargetAccountAccess } from './target-account-access';
import { SourceEvents } from './source-events';

export interface PlatformStackProps extends StackProps {
  /**
   * The deploy roles of the target stacks in other accounts (core/deployment/targets.ts targetDeployRoles)
   * and their accounts (targetAccounts): the deploy function may assume the roles, the artifact bucket and
   * key let each read its pipeline's artifacts, the bus takes the accounts' alarm events
   * (TargetAccountAccess). The platform's template depends on the config through these alone.
   * @default - none: every target is in the platform's own account and Region
   */
  readonly targets?: { readonly roles: readonly TargetDeployRole[]; readonly accounts: readonly string[] };
}

export class PlatformStack extends Stack {
  readonly runStore: RunStore;
  readonly artifacts: ArtifactStore;
  readonly platformKey: kms.Key;
  readonly functions: PlatformFunctions;
  readonly sources: SourceEvents;
  readonly approvals: ReleaseApprovals;
  readonly operatorAccess: OperatorAccess;

  constructor(scope: Construct, id: string, props: PlatformStackProps = {}) {
    const { targets, ...stackProps } = props;
    super(scope, id, stackProps);
    this.platformKey = new kms.Key(this, 'PlatformKey', {
      description: 'stepline: encrypts build artifacts',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    });
    this.runStore = new RunStore(this, 'RunStore');
    this.artifacts = new ArtifactStore(this, 'Artifacts', { encryptionKey: this.platformKey });
    this.sources = new SourceEvents(this, 'Sources');
    this.functions = new PlatformFunctions(this, 'Functions', {
      table: this.runStore.table,
      sourceBus: this.sources.bus,
      webhookSecret: this.sources.webhookSecret,
      ...(targets ? { targetDeployRoleArns: targets.roles.map(({ roleArn }) => roleArn) } : {}),
    });
    if (targets) {
      new TargetAccountAccess(this, 'TargetAccounts', {
        ...targets,
        platform: { account: this.account, region: this.region },
        artifactBucket: this.artifacts.bucket,
        encryptionKey: this.platformKey,
        bus: this.sources.bus,
      });
    }
    this.approvals = new ReleaseApprovals(this, 'Approvals', {
      table: this.runStore.table,
      sourceBus: this.sources.bus,
      deadLetterQueue: this.functions.failedRunRequests,
      deployFunction: this.functions.deploy,
    });
    const { encryptionKey } = this.runStore.table;
    this.operatorAccess = new OperatorAccess(this, 'OperatorAccess', {
      table: this.runStore.table,
      ...(encryptionKey ? { encryptionKey } : {}),
    });

    const publish = (id: string, parameterName: string, stringValue: string, description: string) =>
      new ssm.StringParameter(this, id, { parameterName, stringValue, description });
    // The functions the pipeline stacks' machines and rules invoke, each under its declared parameter name.
    for (const name of functionsPipelinesInvoke()) {
      const { id: functionId, description } = PLATFORM_FUNCTIONS[name];
      const made = this.functions.functions.get(name) ?? this.approvals.functions.get(name);
      publish(
        `${functionId}FunctionArnParameter`,
        functionArnParameterName(name),
        made!.fn.functionArn,
        `${description}: its ARN, read by the pipeline stacks`,
      );
    }
    publish(
      'ArtifactBucketNameParameter',
      PLATFORM_PARAMETERS.artifactBucketName,
      this.artifacts.bucket.bucketName,
      'stepline: the bucket build stages upload artifacts to',
    );
    publish(
      'PlatformKeyArnParameter',
      PLATFORM_PARAMETERS.platformKeyArn,
      this.platformKey.keyArn,
      'stepline: the key that encrypts build artifacts',
    );
    publish(
      'ApprovalsUrlParameter',
      PLATFORM_PARAMETERS.approvalsUrl,
      this.approvals.url,
      'stepline: the decision endpoint (approvals HTTP API) the CLI calls',
    );
    publish(
      'RunTableNameParameter',
      PLATFORM_PARAMETERS.runTableName,
      this.runStore.table.tableName,
      'stepline: the run store table the CLI reads (stepline runs --aws)',
    );

    new CfnOutput(this, 'RunTableName', { description: 'The run store table', value: this.runStore.table.tableName });
    new CfnOutput(this, 'GitHubWebhookUrl', {
      description: "The Payload URL of every GitHub repository's webhook (content type application/json, push events)",
      value: this.functions.githubWebhookUrl.url,
    });
    new CfnOutput(this, 'GitHubWebhookSecretName', {
      description: "The Secrets Manager secret whose value is every GitHub webhook's Secret",
      value: this.sources.webhookSecret.secretName,
    });
    new CfnOutput(this, 'ApprovalsUrl', {
      description: 'The decision endpoint of release approvals (email links, the CLI)',
      value: this.approvals.url,
    });
    new CfnOutput(this, 'SlackInteractionsUrl', {
      description: "Paste into your Slack app's Interactivity Request URL (Interactivity & Shortcuts)",
      value: this.approvals.slackInteractionsUrl,
    });
    new CfnOutput(this, 'SlackSigningSecretName', {
      description: "The Secrets Manager secret to put your Slack app's Signing Secret in",
      value: this.approvals.slackSigningSecret.secretName,
    });
    new CfnOutput(this, 'OperatorReadPolicyArn', {
      description:
        "The IAM managed policy an operator's identity needs for the CLI's reads against AWS (`stepline runs|run|logs --aws`), read only: attach it to their role, user or group",
      value: this.operatorAccess.policy.managedPolicyArn,
    });
    new CfnOutput(this, 'ApprovalsCliPolicy', {
      description:
        "The IAM policy an operator's identity needs for the CLI against AWS (`stepline approvals|approve|reject|deploy --aws`): ssm:GetParameter on the endpoint's parameter, execute-api:Invoke on the CLI routes only",
      value: this.toJsonString(this.approvals.cliPolicy().toJSON()),
    });
  }
}
