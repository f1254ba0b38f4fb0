/**
 * The deployment's hands on a Lambda function: its alias (GetAlias, UpdateAlias with routing weights).
 * The same adapter serves AWS and local mode, whose local endpoint speaks Lambda's REST API.
 */
import {
  GetAliasCommand,
  InvokeCommand,
  PublishVersionCommand,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import type { FunctionDeployer } from '../../core/deployment';

export class LambdaDeployer implements FunctionDeployer {
  constructor(private readonly lambda: LambdaClient) {}

  /** `artifact`: the build's artifact as `s3://bucket/key` (a zip on AWS; a directory locally, as `file://`). */
  async updateCode(fn: string, artifact: string): Promise<void> {
    const { host, pathname } = new URL(artifact);
    const [bucket, key] = artifact.startsWith('s3://') ? [host, pathname.slice(1)] : ['local', artifact];
    await this.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: fn, S3Bucket: bucket, S3Key: key }));
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
