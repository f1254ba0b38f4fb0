/**
 * The deployment's hands on a Lambda function: its code (UpdateFunctionCode, then GetFunctionConfiguration until
 * the update has ended), its versions (PublishVersion), its alias (GetAlias, UpdateAlias with routing weights).
 * The same adapter serves AWS and local mode, whose local endpoint speaks Lambda's REST API.
 *
 * Where the function takes its code from: Lambda reads `S3Bucket`/`S3Key` only from "an Amazon S3 bucket in the same
 * AWS Region as your function" (https://docs.aws.amazon.com/lambda/latest/api/API_UpdateFunctionCode.html). A
 * function in the artifact bucket's Region gets the artifact's location; a function in another Region gets the
 * artifact's bytes (`ZipFile`), read with GetObject in the bucket's Region by the same deploy role.
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
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FunctionDeployer } from '../../core/deployment/protocol';
import {
  ArtifactTooLargeForUploadError,
  ArtifactUnreadableError,
  FunctionUpdateFailedError,
  FunctionUpdateTimedOutError,
} from '../../core/deployment/errors';

/**
 * The largest zip a release uploads to Lambda directly. Lambda's quotas: "Deployment package (.zip file archive)
 * size: 50 MB (zipped, when uploaded through the Lambda API or SDKs)"
 * (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html). Lambda enforces it on the request,
 * base64 and all: "Request must be smaller than 69905067 bytes for the UpdateFunctionCode operation" (Lambda's
 * RequestEntityTooLargeException, serverless/serverless#10179), which is 50 MiB in base64. 50,000,000 bytes is the
 * stricter reading of "50 MB": its request (66,666,682 bytes, measured with the SDK) is below Lambda's bound.
 */
export const DIRECT_UPLOAD_LIMIT_BYTES = 50_000_000;

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
  /**
   * S3 in the artifact bucket's Region (the platform's), with the same deploy role's credentials: a function in
   * another Region than this client's gets the artifact's bytes, read with it.
   * @default - none: the function takes its code from the artifact's location (local mode: one Region)
   */
  readonly artifacts?: S3Client;
}

export class LambdaDeployer implements FunctionDeployer {
  private readonly maxUpdateWaitMs: number;
  private readonly firstPollMs: number;
  private readonly artifacts?: S3Client;

  constructor(
    private readonly lambda: LambdaClient,
    options: LambdaDeployerOptions = {},
  ) {
    this.maxUpdateWaitMs = options.maxUpdateWaitMs ?? 60_000;
    this.firstPollMs = options.firstPollMs ?? 500;
    this.artifacts = options.artifacts;
  }

  /** `artifact`: the build's artifact as `s3://bucket/key` (a zip on AWS; a directory locally, as `file://`). */
  async updateCode(fn: string, artifact: string): Promise<void> {
    const { host, pathname } = new URL(artifact);
    const [bucket, key] = artifact.startsWith('s3://') ? [host, pathname.slice(1)] : ['local', artifact];
    const functionRegion = await this.lambda.config.region();
    const bucketRegion = await this.artifacts?.config.region();
    const code =
      this.artifacts && bucketRegion !== undefined && bucketRegion !== functionRegion
        ? {
            ZipFile: await this.artifactBytes(this.artifacts, {
              fn,
              artifact,
              bucket,
              key,
              functionRegion,
              bucketRegion,
            }),
          }
        : { S3Bucket: bucket, S3Key: key };
    await this.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: fn, ...code }));
    await this.updated(fn);
  }

  /**
   * The artifact's bytes, refused above Lambda's direct upload limit by the object's size (ContentLength) before the
   * body is read. S3 decrypts the object with the platform key in the bucket's Region on the caller's behalf, which
   * is why this client is in that Region, whatever the function's.
   */
  private async artifactBytes(
    s3: S3Client,
    at: { fn: string; artifact: string; bucket: string; key: string; functionRegion: string; bucketRegion: string },
  ): Promise<Uint8Array> {
    const object = await s3.send(new GetObjectCommand({ Bucket: at.bucket, Key: at.key }));
    if (object.ContentLength === undefined || !object.Body) throw new ArtifactUnreadableError(at.artifact);
    if (object.ContentLength > DIRECT_UPLOAD_LIMIT_BYTES) {
      // The body is an open response stream: end it rather than leave the connection waiting to be read.
      (object.Body as { destroy?: () => void }).destroy?.();
      throw new ArtifactTooLargeForUploadError(
        at.fn,
        at.artifact,
        object.ContentLength,
        DIRECT_UPLOAD_LIMIT_BYTES,
        at.functionRegion,
        at.bucketRegion,
      );
    }
    return object.Body.transformToByteArray();
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
