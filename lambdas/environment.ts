/**
 * What the handlers run against: SDK clients, settings and the few edges that differ between the
 * runtimes. On AWS they come from the function's environment (standard SDK endpoint resolution, the
 * variables the CDK app sets); local mode builds the same platform with clients pointed at its local
 * endpoints. Each handler module exports `handlerOn(platform, log)`, the one factory both runtimes
 * call, so neither runtime wires a handler by hand and no handler takes an option of one runtime.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { CodeBuildClient } from '@aws-sdk/client-codebuild';
import { CodeCommitClient } from '@aws-sdk/client-codecommit';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SSMClient } from '@aws-sdk/client-ssm';
import { STSClient } from '@aws-sdk/client-sts';
import {
  APPROVAL_LINK_KEY_SECRET_NAME,
  CATALOG_PATH,
  ENV,
  GITHUB_WEBHOOK_SECRET_NAME,
  SLACK_SIGNING_SECRET_NAME,
  SOURCE_BUS_NAME,
} from '../core/platform';
import { MissingEnvironmentVariableError } from '../core/config/errors';
import type { Clock, NotificationSender, WaitLength } from '../core/ports';
import type { RunRecord } from '../core/records';
import { StsDeployRoles, type DeployRoles } from './adapters/deploy-roles';
import { ChannelSenders } from './adapters/notification-senders';
import { SecretReader } from './adapters/secrets';
import { SLACK_RESPONSE_URLS } from './adapters/slack-response';

/** What every SDK client of a platform is configured with (empty on AWS). */
export interface ClientSettings {
  readonly endpoint?: string;
  readonly region?: string;
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

export interface PlatformClients {
  readonly dynamodb: () => DynamoDBClient;
  readonly sfn: () => SFNClient;
  readonly codebuild: () => CodeBuildClient;
  readonly logs: () => CloudWatchLogsClient;
  readonly codecommit: () => CodeCommitClient;
  readonly ssm: () => SSMClient;
  readonly eventbridge: () => EventBridgeClient;
  readonly secretsManager: () => SecretsManagerClient;
  readonly ses: () => SESv2Client;
  readonly lambda: () => LambdaClient;
  readonly cloudwatch: () => CloudWatchClient;
}

export interface HandlerPlatform {
  readonly clients: PlatformClients;
  /** The run store table. */
  readonly tableName: string;
  /** The SSM path of the pipeline catalog. */
  readonly catalogPath: string;
  /** The platform's bus, where SourceChanged events go. */
  readonly sourceBusName: string;
  /** The secret GitHub webhook deliveries are signed with. */
  readonly webhookSecretId: string;
  /** The decision endpoint's base URL (approval links point there). */
  readonly approvalsUrl: string;
  /** The secret whose value signs approval links. */
  readonly linkKeySecretId: string;
  /** The secret holding the Slack app's signing secret. */
  readonly slackSigningSecretId: string;
  /** Where Slack response URLs may point: Slack's hooks on AWS, the local endpoint in local mode. */
  readonly slackResponseUrls: RegExp;
  /** The platform's deploy function, which operators' controls are handed to. */
  readonly deployFunctionArn: string;
  /**
   * The decision endpoint lets local mode's demo approver decide (no person can be asked): false on
   * AWS, where every decision is a person's.
   */
  readonly demoApprover: boolean;
  /** The adapters that differ between the runtimes, built by the handler that needs them. */
  readonly edges: PlatformEdges;
  /** Where a message sends its reader to see a run. */
  readonly runLink: (run: RunRecord) => string;
  readonly now: Clock;
  /** How long a wait a policy sets lasts: as long as it says on AWS; local mode's time scale shortens it. */
  readonly waitLength: WaitLength;
}

/**
 * What differs between the runtimes beyond clients and settings, each built on request by the one
 * handler that needs it (so no other function's code reaches it).
 */
export interface PlatformEdges {
  /**
   * The clients a deployment works with on a pipeline's target: its deploy role's, assumed with STS
   * (in local mode, local STS and the target's local account: local/iam.ts, local/accounts.ts).
   */
  deployRoles(): DeployRoles;
  /**
   * Where notifications are delivered: Slack, SES and GitHub on AWS; local mode's outbox (or a
   * channel the user gave a secret for).
   */
  notificationSender(): NotificationSender;
}

/** AWS's edges: the pipelines' deploy roles through STS; notifications to Slack, SES and GitHub. */
class AwsEdges implements PlatformEdges {
  constructor(
    private readonly clients: PlatformClients,
    private readonly now: Clock,
  ) {}

  deployRoles(): DeployRoles {
    return new StsDeployRoles(new STSClient({}), this.now);
  }

  notificationSender(): NotificationSender {
    return new ChannelSenders({
      secrets: new SecretReader(this.clients.secretsManager(), this.now),
      ses: this.clients.ses,
    });
  }
}

/**
 * Clients created on first use and kept for the container's life. `dynamodb` may name other
 * settings: local mode's DynamoDB (dynalite) listens apart from its other endpoints.
 */
export function platformClients(settings: ClientSettings, dynamodb: ClientSettings = settings): PlatformClients {
  return {
    dynamodb: once(() => new DynamoDBClient({ ...dynamodb })),
    sfn: once(() => new SFNClient({ ...settings })),
    codebuild: once(() => new CodeBuildClient({ ...settings })),
    logs: once(() => new CloudWatchLogsClient({ ...settings })),
    codecommit: once(() => new CodeCommitClient({ ...settings })),
    ssm: once(() => new SSMClient({ ...settings })),
    eventbridge: once(() => new EventBridgeClient({ ...settings })),
    secretsManager: once(() => new SecretsManagerClient({ ...settings })),
    ses: once(() => new SESv2Client({ ...settings })),
    lambda: once(() => new LambdaClient({ ...settings })),
    cloudwatch: once(() => new CloudWatchClient({ ...settings })),
  };
}

/** The platform a function runs on in AWS, read from its environment. */
export function awsPlatform(): HandlerPlatform {
  const clients = platformClients({});
  const now = () => new Date();
  return {
    clients,
    tableName: requiredEnv(ENV.tableName),
    catalogPath: process.env[ENV.catalogPath] || CATALOG_PATH,
    sourceBusName: process.env[ENV.sourceBusName] || SOURCE_BUS_NAME,
    webhookSecretId: process.env[ENV.webhookSecretId] || GITHUB_WEBHOOK_SECRET_NAME,
    // Read where used: only the gate's functions have it.
    approvalsUrl: process.env[ENV.approvalsUrl] ?? '',
    linkKeySecretId: process.env[ENV.linkKeySecretId] || APPROVAL_LINK_KEY_SECRET_NAME,
    slackSigningSecretId: process.env[ENV.slackSigningSecretId] || SLACK_SIGNING_SECRET_NAME,
    slackResponseUrls: SLACK_RESPONSE_URLS,
    // Read where used: only the decision function has it.
    deployFunctionArn: process.env[ENV.deployFunctionArn] ?? '',
    demoApprover: false,
    edges: new AwsEdges(clients, now),
    runLink: consoleLink,
    now,
    waitLength: (ms) => ms,
  };
}

/** The run's execution in the Step Functions console (the Region is the execution ARN's). */
function consoleLink(run: RunRecord): string {
  const arn = run.executionArn ?? '';
  const region = arn.split(':')[3] || process.env.AWS_REGION || 'us-east-1';
  return `https://${region}.console.aws.amazon.com/states/home?region=${region}#/v2/executions/details/${encodeURIComponent(arn)}`;
}

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new MissingEnvironmentVariableError(name);
  return value;
}

/** Where a handler's log lines go: stdout (CloudWatch Logs) on AWS, a file in local mode. */
export type LogLine = (entry: Record<string, unknown>) => void;
export const stdoutLog: LogLine = (entry) => console.log(JSON.stringify(entry));

/** Builds a value on first use and keeps it for the container's life. */
export function once<T>(create: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= create());
}
