/**
 * `stepline doctor --aws`'s reads of the account, and nothing else: the applied value of each quota (Service Quotas
 * `GetServiceQuota`, else `GetAWSDefaultServiceQuota`, else the documented default of a quota with no code), how many
 * resources of its kind the account has now, and how many of those are stepline's own (by name). Every list is read
 * to its last page. The comparison is core's (`judgeAgainstAccount`, core/quotas.ts).
 *
 * Credentials: the default chain (variables, profiles, SSO, container, instance role). Off EC2, the instance metadata
 * service is tried once with a one-second timeout (`AWS_EC2_METADATA_DISABLED=true` skips it), so a shell with no
 * credentials is told so in about a second rather than hanging.
 */
import { CloudFormationClient, ListStacksCommand, StackStatus } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CodeBuildClient, ListProjectsCommand } from '@aws-sdk/client-codebuild';
import { EventBridgeClient, ListRulesCommand } from '@aws-sdk/client-eventbridge';
import { IAMClient, ListRolesCommand } from '@aws-sdk/client-iam';
import { GetAccountSettingsCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  GetAWSDefaultServiceQuotaCommand,
  GetServiceQuotaCommand,
  ServiceQuotasClient,
} from '@aws-sdk/client-service-quotas';
import { ListStateMachinesCommand, SFNClient } from '@aws-sdk/client-sfn';
import { DescribeParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand, STSClient, type STSClientConfig } from '@aws-sdk/client-sts';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { CATALOG_PATH, PLATFORM_PARAMETER_PATH } from '../core/platform';
import { defaultIn, type AccountQuotaState, type QuotaNeed } from '../core/quotas';
import { AwsAccessDeniedError, NoAwsCredentialsError, NoAwsRegionError } from './errors';

/** What the doctor reads of the account. */
export interface AccountQuotaReader {
  /** The account and Region the credentials reach. */
  whoAmI(): Promise<{ readonly account: string; readonly region: string; readonly arn: string }>;
  /** One quota's applied value and the account's use of it. */
  state(need: QuotaNeed): Promise<AccountQuotaState>;
}

export interface AwsClients {
  readonly sts: STSClient;
  readonly serviceQuotas: ServiceQuotasClient;
  /** Service Quotas in us-east-1, where it keeps the quotas of global services (IAM). */
  readonly globalServiceQuotas: ServiceQuotasClient;
  readonly events: EventBridgeClient;
  readonly iam: IAMClient;
  readonly cloudformation: CloudFormationClient;
  readonly codebuild: CodeBuildClient;
  readonly sfn: SFNClient;
  readonly ssm: SSMClient;
  readonly logs: CloudWatchLogsClient;
  readonly cloudwatch: CloudWatchClient;
  readonly lambda: LambdaClient;
}

/**
 * The clients, with `config`: by default the default credential chain with a short metadata-service timeout
 * (no hang off EC2), in the Region the environment names.
 */
export function awsClients(
  config: Pick<STSClientConfig, 'credentials' | 'region'> = {
    credentials: defaultProvider({ timeout: 1000, maxRetries: 0 }),
  },
): AwsClients {
  return {
    sts: new STSClient(config),
    serviceQuotas: new ServiceQuotasClient(config),
    globalServiceQuotas: new ServiceQuotasClient({ ...config, region: 'us-east-1' }),
    events: new EventBridgeClient(config),
    iam: new IAMClient(config),
    cloudformation: new CloudFormationClient(config),
    codebuild: new CodeBuildClient(config),
    sfn: new SFNClient(config),
    ssm: new SSMClient(config),
    logs: new CloudWatchLogsClient(config),
    cloudwatch: new CloudWatchClient(config),
    lambda: new LambdaClient(config),
  };
}

/**
 * Names stepline gives (`stepline-…`, the stacks `Stepline` and `Stepline-…` and the names CloudFormation derives from
 * them), alone or under the log group prefixes stepline's groups use.
 */
const STEPLINE_NAME = /^(\/aws\/(codebuild|lambda|vendedlogs\/states)\/)?(stepline-|Stepline-|Stepline$)/;
const STEPLINE_PARAMETER = new RegExp(`^(${CATALOG_PATH}|${PLATFORM_PARAMETER_PATH})/`);

/** The names of one kind of resource in the account. */
interface Listing {
  readonly names: readonly string[];
  /** For rules: how many have a pattern with a wildcard. */
  readonly wildcards?: number;
}

/** The error of a call, in stepline's words where it is one the caller can act on. */
function named(action: string, error: unknown): unknown {
  const name = (error as { name?: string }).name ?? '';
  if (name === 'CredentialsProviderError') return new NoAwsCredentialsError({ cause: error });
  if (/^Region is missing/.test((error as Error).message ?? '')) return new NoAwsRegionError({ cause: error });
  if (/AccessDenied|UnauthorizedOperation|NotAuthorized/.test(name))
    return new AwsAccessDeniedError(action, { cause: error });
  return error;
}

export class AwsAccountQuotas implements AccountQuotaReader {
  private readonly listings = new Map<string, Promise<Listing>>();

  constructor(private readonly clients: AwsClients = awsClients()) {}

  async whoAmI() {
    const identity = await this.call('sts:GetCallerIdentity', () =>
      this.clients.sts.send(new GetCallerIdentityCommand({})),
    );
    const region = await this.call('sts:GetCallerIdentity', () => this.clients.sts.config.region());
    return { account: identity.Account!, region, arn: identity.Arn! };
  }

  async state(need: QuotaNeed): Promise<AccountQuotaState> {
    const { quota } = need;
    if (quota.id === 'lambda-code-storage') {
      // Lambda's own answer carries both: the applied storage limit and the use, in bytes.
      const settings = await this.call('lambda:GetAccountSettings', () =>
        this.clients.lambda.send(new GetAccountSettingsCommand({})),
      );
      return {
        limit: settings.AccountLimit!.TotalCodeSize!,
        limitIs: 'applied',
        used: settings.AccountUsage!.TotalCodeSize!,
        byStepline: 0,
      };
    }
    const [limit, listing] = await Promise.all([this.limit(need), this.listing(need)]);
    const wildcards = quota.id === 'eventbridge-wildcard-rules-per-bus';
    return {
      ...limit,
      used: wildcards ? listing.wildcards! : listing.names.length,
      // A rule of stepline's that uses no wildcard is not among the wildcard rules: none of stepline's does.
      byStepline: wildcards ? 0 : listing.names.filter((name) => stepline(quota.id, name)).length,
    };
  }

  /** The applied value; the AWS default when none was ever applied; the documented default with no code. */
  private async limit(need: QuotaNeed): Promise<Pick<AccountQuotaState, 'limit' | 'limitIs'>> {
    const { quota } = need;
    if (!quota.serviceQuota) return { limit: defaultIn(quota, need.region), limitIs: 'default' };
    const client = quota.scope === 'account' ? this.clients.globalServiceQuotas : this.clients.serviceQuotas;
    const input = { ServiceCode: quota.serviceQuota.serviceCode, QuotaCode: quota.serviceQuota.quotaCode };
    try {
      const applied = await client.send(new GetServiceQuotaCommand(input));
      return { limit: applied.Quota!.Value!, limitIs: 'applied' };
    } catch (error) {
      if ((error as { name?: string }).name !== 'NoSuchResourceException')
        throw named('servicequotas:GetServiceQuota', error);
    }
    const aws = await this.call('servicequotas:GetAWSDefaultServiceQuota', () =>
      client.send(new GetAWSDefaultServiceQuotaCommand(input)),
    );
    return { limit: aws.Quota!.Value!, limitIs: 'default' };
  }

  private listing(need: QuotaNeed): Promise<Listing> {
    const key = need.bus !== undefined ? `rules:${need.bus}` : need.quota.id;
    if (!this.listings.has(key)) this.listings.set(key, this.list(need));
    return this.listings.get(key)!;
  }

  private async list(need: QuotaNeed): Promise<Listing> {
    const c = this.clients;
    switch (need.quota.id) {
      case 'eventbridge-rules-per-bus':
      case 'eventbridge-wildcard-rules-per-bus':
        return this.rules(need.bus!);
      case 'iam-roles':
        return {
          names: await this.pages('iam:ListRoles', async (Marker) => {
            const page = await c.iam.send(new ListRolesCommand({ MaxItems: 1000, ...(Marker ? { Marker } : {}) }));
            return [page.Roles!.map((r) => r.RoleName!), page.IsTruncated ? page.Marker : undefined];
          }),
        };
      case 'cloudformation-stacks':
        return {
          names: await this.pages('cloudformation:ListStacks', async (NextToken) => {
            // A deleted stack no longer counts.
            const StackStatusFilter = Object.values(StackStatus).filter((s) => s !== StackStatus.DELETE_COMPLETE);
            const page = await c.cloudformation.send(
              new ListStacksCommand({ StackStatusFilter, ...(NextToken ? { NextToken } : {}) }),
            );
            return [page.StackSummaries!.map((s) => s.StackName!), page.NextToken];
          }),
        };
      case 'codebuild-projects':
        return {
          names: await this.pages('codebuild:ListProjects', async (nextToken) => {
            const page = await c.codebuild.send(new ListProjectsCommand(nextToken ? { nextToken } : {}));
            return [page.projects!, page.nextToken];
          }),
        };
      case 'step-functions-state-machines':
        return {
          names: await this.pages('states:ListStateMachines', async (nextToken) => {
            const page = await c.sfn.send(
              new ListStateMachinesCommand({ maxResults: 1000, ...(nextToken ? { nextToken } : {}) }),
            );
            return [page.stateMachines!.map((m) => m.name!), page.nextToken];
          }),
        };
      case 'ssm-standard-parameters':
        return {
          names: await this.pages('ssm:DescribeParameters', async (NextToken) => {
            const page = await c.ssm.send(
              new DescribeParametersCommand({
                ParameterFilters: [{ Key: 'Tier', Values: ['Standard'] }],
                MaxResults: 50,
                ...(NextToken ? { NextToken } : {}),
              }),
            );
            return [page.Parameters!.map((p) => p.Name!), page.NextToken];
          }),
        };
      case 'cloudwatch-log-groups':
        return {
          names: await this.pages('logs:DescribeLogGroups', async (nextToken) => {
            const page = await c.logs.send(
              new DescribeLogGroupsCommand({ limit: 50, ...(nextToken ? { nextToken } : {}) }),
            );
            return [page.logGroups!.map((g) => g.logGroupName!), page.nextToken];
          }),
        };
      case 'cloudwatch-alarms':
        return {
          names: await this.pages('cloudwatch:DescribeAlarms', async (NextToken) => {
            const page = await c.cloudwatch.send(
              new DescribeAlarmsCommand({
                AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
                MaxRecords: 100,
                ...(NextToken ? { NextToken } : {}),
              }),
            );
            const alarms = [...(page.MetricAlarms ?? []), ...(page.CompositeAlarms ?? [])];
            return [alarms.map((a) => a.AlarmName!), page.NextToken];
          }),
        };
      case 'lambda-code-storage':
        throw new Error('Lambda code storage is read from GetAccountSettings');
    }
  }

  /** The rules of one bus; a bus that does not exist yet (the platform's, before its first deploy) has none. */
  private async rules(bus: string): Promise<Listing> {
    const patterns: string[] = [];
    let names: string[];
    try {
      names = await this.pages('events:ListRules', async (NextToken) => {
        const page = await this.clients.events.send(
          new ListRulesCommand({ EventBusName: bus, Limit: 100, ...(NextToken ? { NextToken } : {}) }),
        );
        patterns.push(...page.Rules!.map((r) => r.EventPattern ?? ''));
        return [page.Rules!.map((r) => r.Name!), page.NextToken];
      });
    } catch (error) {
      if ((error as { name?: string }).name === 'ResourceNotFoundException') return { names: [], wildcards: 0 };
      throw error;
    }
    return { names, wildcards: patterns.filter((p) => p.includes('"wildcard"')).length };
  }

  /** Every page of a listing, its calls' errors in stepline's words. */
  private async pages(
    action: string,
    page: (token: string | undefined) => Promise<[readonly string[], string | undefined]>,
  ): Promise<string[]> {
    const names: string[] = [];
    let token: string | undefined;
    do {
      const [some, next]: [readonly string[], string | undefined] = await this.call(action, () => page(token));
      names.push(...some);
      token = next;
    } while (token);
    return names;
  }

  private async call<T>(action: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw named(action, error);
    }
  }
}

function stepline(quota: QuotaNeed['quota']['id'], name: string): boolean {
  return quota === 'ssm-standard-parameters' ? STEPLINE_PARAMETER.test(name) : STEPLINE_NAME.test(name);
}
