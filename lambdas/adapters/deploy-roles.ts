/**
 * The clients a deployment works with on a pipeline's target. The deploy function itself may do
 * nothing to any target: what a request may do is what the deploy role of its pipeline's target allows.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { DeployConfig } from '../../core/deployment/config';
import { CallerIdentityUnreadableError, DeployRoleCredentialsMissingError } from '../../core/deployment/errors';
import { deployRoleArn, targetEnvironment, type ReleaseTarget } from '../../core/deployment/targets';
import type { Clock } from '../../core/ports';

/** The clients a request works with on its pipeline's target: those of the target's deploy role. */
export interface PipelineClients {
  readonly lambda: LambdaClient;
  readonly cloudwatch: CloudWatchClient;
  /**
   * S3 in the artifact bucket's Region (the platform's), with the same role's credentials: a release into another
   * Region reads the artifact with it and uploads its bytes (lambdas/adapters/lambda-deployer.ts).
   * @default - none: every target is in the artifacts' Region (local mode stands in for one Region)
   */
  readonly artifacts?: S3Client;
}

/** A release a request works on: the pipeline, its `deploy` section (catalog entry) and which target. */
export interface ReleaseOf {
  readonly pipeline: string;
  readonly deploy: DeployConfig;
  readonly target: ReleaseTarget;
}

/** A release's clients; `session` names who acts (the run id) where the platform records it. */
export interface DeployRoles {
  clientsFor(release: ReleaseOf, session?: string): Promise<PipelineClients>;
}

/** Credentials are renewed this long before they expire. */
const RENEW_BEFORE_MS = 5 * 60 * 1000;

/**
 * On AWS: the clients of the deploy role of the release's target, assumed with STS. The role is
 * `stepline-<pipeline>-deploy-<target Region>` in the target's account (core/deployment/targets.ts
 * targetEnvironment, deployRoleArn): the pipeline's stack's in the platform's own account and Region, a
 * target stack's elsewhere; staging and production each their own, so a pipeline may stage in one account
 * and release in another. The Lambda and CloudWatch clients talk to the target's Region, the S3 client to the
 * platform's, where the artifact bucket is (a release into another Region reads the artifact there). Kept per
 * role until 5 minutes before the credentials expire; the session is named after the run that first needed them
 * (CloudTrail in the target account shows it).
 */
export class StsDeployRoles implements DeployRoles {
  private readonly cache = new Map<string, { readonly clients: PipelineClients; readonly renewAt: number }>();
  private caller?: Promise<{ partition: string; account: string; region: string }>;

  /**
   * @param endpoint where the target clients send their requests: local mode's endpoint, which serves
   *   each target account by the assumed credentials; @default the target Region's AWS endpoints
   */
  constructor(
    private readonly sts: STSClient,
    private readonly now: Clock = () => new Date(),
    private readonly endpoint?: string,
  ) {}

  async clientsFor({ pipeline, deploy, target }: ReleaseOf, session?: string): Promise<PipelineClients> {
    const { partition, ...platform } = await this.callerIdentity();
    const environment = targetEnvironment(deploy, target, platform);
    const roleArn = deployRoleArn(partition, pipeline, environment);
    const cached = this.cache.get(roleArn);
    if (cached && this.now().getTime() < cached.renewAt) return cached.clients;
    const { Credentials } = await this.sts.send(
      new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: sessionName(session ?? pipeline) }),
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
    const { region } = environment;
    const endpoint = this.endpoint === undefined ? {} : { endpoint: this.endpoint };
    const clients = {
      lambda: new LambdaClient({ credentials, region, ...endpoint }),
      cloudwatch: new CloudWatchClient({ credentials, region, ...endpoint }),
      artifacts: new S3Client({ credentials, region: platform.region, ...endpoint }),
    };
    this.cache.set(roleArn, { clients, renewAt: Credentials.Expiration.getTime() - RENEW_BEFORE_MS });
    return clients;
  }

  /**
   * The function's own account, partition and Region (GetCallerIdentity needs no permission): the
   * platform's, where a target that names no account or Region lives.
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
