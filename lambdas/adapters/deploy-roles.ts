/**
 * The clients a deployment works with on its pipeline's target. The deploy function itself may do
 * nothing to any target: what a request may do is what its pipeline's deploy role allows.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { CallerIdentityUnreadableError, DeployRoleCredentialsMissingError } from '../../core/deployment/errors';
import { deployRoleName } from '../../core/platform';
import type { Clock } from '../../core/ports';

/** The clients a request works with on its pipeline's target: those of the pipeline's deploy role. */
export interface PipelineClients {
  readonly lambda: LambdaClient;
  readonly cloudwatch: CloudWatchClient;
}

/** A pipeline's clients; `session` names who acts (the run id) where the platform records it. */
export interface DeployRoles {
  clientsFor(pipeline: string, session?: string): Promise<PipelineClients>;
}

/** Credentials are renewed this long before they expire. */
const RENEW_BEFORE_MS = 5 * 60 * 1000;

/**
 * On AWS: the clients of the pipeline's deploy role (`stepline-<pipeline>-deploy-<Region>`, in the
 * pipeline's stack, the Region the function's own), assumed with STS. Kept per pipeline until 5 minutes
 * before the credentials expire; the session is named after the run that first needed them (CloudTrail
 * shows it).
 */
export class StsDeployRoles implements DeployRoles {
  private readonly cache = new Map<string, { readonly clients: PipelineClients; readonly renewAt: number }>();
  private caller?: Promise<{ partition: string; account: string; region: string }>;

  constructor(
    private readonly sts: STSClient,
    private readonly now: Clock = () => new Date(),
  ) {}

  async clientsFor(pipeline: string, session?: string): Promise<PipelineClients> {
    const cached = this.cache.get(pipeline);
    if (cached && this.now().getTime() < cached.renewAt) return cached.clients;
    const { partition, account, region } = await this.callerIdentity();
    const { Credentials } = await this.sts.send(
      new AssumeRoleCommand({
        RoleArn: `arn:${partition}:iam::${account}:role/${deployRoleName(pipeline, region)}`,
        RoleSessionName: sessionName(session ?? pipeline),
      }),
    );
    if (!Credentials?.AccessKeyId || !Credentials.SecretAccessKey || !Credentials.Expiration) {
      throw new DeployRoleCredentialsMissingError(pipeline);
    }
    const credentials = {
      accessKeyId: Credentials.AccessKeyId,
      secretAccessKey: Credentials.SecretAccessKey,
      sessionToken: Credentials.SessionToken,
      expiration: Credentials.Expiration,
    };
    const clients = { lambda: new LambdaClient({ credentials }), cloudwatch: new CloudWatchClient({ credentials }) };
    this.cache.set(pipeline, { clients, renewAt: Credentials.Expiration.getTime() - RENEW_BEFORE_MS });
    return clients;
  }

  /**
   * The function's own account and partition (GetCallerIdentity needs no permission): the deploy roles
   * live there. Their names carry the Region (IAM names are account-wide): the function's own, its clients'.
   */
  private callerIdentity(): Promise<{ partition: string; account: string; region: string }> {
    this.caller ??= this.sts.send(new GetCallerIdentityCommand({})).then(async ({ Arn }) => {
      const [, partition, , , account] = (Arn ?? '').split(':');
      if (!partition || !account) throw new CallerIdentityUnreadableError(Arn);
      return { partition, account, region: await this.sts.config.region() };
    });
    return this.caller;
  }
}

/** RoleSessionName: 2-64 characters of `[\w+=,.@-]`. */
function sessionName(name: string): string {
  return name
    .replace(/[^\w+=,.@-]/g, '-')
    .slice(0, 64)
    .padEnd(2, '-');
}
