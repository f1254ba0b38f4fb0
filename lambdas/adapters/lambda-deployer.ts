/**
 * The deployment's hands on a Lambda function: its code (UpdateFunctionCode, then GetFunctionConfiguration until
 * the update has ended), its versions (PublishVersion), its alias (GetAlias, UpdateAlias with routing weights).
 * The same adapter serves AWS and local mode, whose local endpoint speaks Lambda's REST API.
 */
import {
  GetAliasCommand,
  GetFunctionConfigurationCommand,
  InvokeCommand,
  PublishVersionCommand,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FunctionDeployer } from '../../core/deployment/protocol';
import { FunctionUpdateFailedError, FunctionUpdateTimedOutError } from '../../core/deployment/errors';

export interface LambdaDeployerOptions {
  /**
   * How long to wait for Lambda to end a code update. The deploy function has 100 s for the whole release.
   * @default 60 s
   */
  readonly maxUpdateWaitMs?: number;
  /**
   * The first pause between two reads of the update's status; it doubles up to 5 s.
   * @default 500 ms
   */
  readonly firstPollMs?: number;
}

export class LambdaDeployer implements FunctionDeployer {
  private readonly maxUpdateWaitMs: number;
  private readonly firstPollMs: number;

  constructor(
    private readonly lambda: LambdaClient,
    options: LambdaDeployerOptions = {},
  ) {
    this.maxUpdateWaitMs = options.maxUpdateWaitMs ?? 60_000;
    this.firstPollMs = options.firstPollMs ?? 500;
  }

  /** `artifact`: the build's artifact as `s3://bucket/key` (a zip on AWS; a directory locally, as `file://`). */
  async updateCode(fn: string, artifact: string): Promise<void> {
    const { host, pathname } = new URL(artifact);
    const [bucket, key] = artifact.startsWith('s3://') ? [host, pathname.slice(1)] : ['local', artifact];
    await this.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: fn, S3Bucket: bucket, S3Key: key }));
    await this.updated(fn);
  }

  /**
   * Waits for the update to end: Lambda refuses PublishVersion (and further updates) with ResourceConflictException
   * while `LastUpdateStatus` is `InProgress` ("Lambda function states",
   * https://docs.aws.amazon.com/lambda/latest/dg/functions-states.html). Reads GetFunctionConfiguration, as the
   * SDK's `waitUntilFunctionUpdated` does, rather than GetFunction (`waitUntilFunctionUpdatedV2`), whose answer also
   * carries a link to download the code: the role needs only `lambda:GetFunctionConfiguration`. Unlike the SDK's
   * waiters, a refused read (AccessDenied, ...) fails at once instead of being retried until the wait runs out.
   */
  private async updated(fn: string): Promise<void> {
    const started = Date.now();
    for (let pause = this.firstPollMs; ; pause = Math.min(pause * 2, 5_000)) {
      const configuration = await this.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: fn }));
      switch (configuration.LastUpdateStatus) {
        case 'InProgress':
          break;
        case 'Failed':
          throw new FunctionUpdateFailedError(
            fn,
            configuration.LastUpdateStatusReasonCode ?? 'unknown',
            configuration.LastUpdateStatusReason ?? 'Lambda gave no reason',
          );
        // Successful, or a function that never had an update (no status).
        default:
          return;
      }
      const waited = Date.now() - started;
      if (waited + pause > this.maxUpdateWaitMs) throw new FunctionUpdateTimedOutError(fn, waited);
      await sleep(pause);
    }
  }

  async publishVersion(fn: string): Promise<string> {
    return (await this.lambda.send(new PublishVersionCommand({ FunctionName: fn }))).Version!;
  }

  async invoke(fn: string, qualifier: string, event: unknown): Promise<{ error?: string }> {
    const answer = await this.lambda.send(
      new InvokeCommand({ FunctionName: fn, Qualifier: qualifier, Payload: Buffer.from(JSON.stringify(event)) }),
    );
    if (!answer.FunctionError) return {};
    const payload = answer.Payload ? Buffer.from(answer.Payload).toString('utf8') : '';
    return { error: `${answer.FunctionError}: ${payload.slice(0, 1000)}` };
  }

  async aliasVersions(
    fn: string,
    alias: string,
  ): Promise<{ primary: string; weights: Readonly<Record<string, number>> }> {
    const answer = await this.lambda.send(new GetAliasCommand({ FunctionName: fn, Name: alias }));
    return { primary: answer.FunctionVersion!, weights: answer.RoutingConfig?.AdditionalVersionWeights ?? {} };
  }

  async routeAlias(
    fn: string,
    alias: string,
    primary: string,
    weights: Readonly<Record<string, number>>,
  ): Promise<void> {
    // An empty weight map clears the alias's routing: all traffic on the primary version.
    await this.lambda.send(
      new UpdateAliasCommand({
        FunctionName: fn,
        Name: alias,
        FunctionVersion: primary,
        RoutingConfig: { AdditionalVersionWeights: { ...weights } },
      }),
    );
  }
}
