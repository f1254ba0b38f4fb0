/**
 * The deployment's hands on a Lambda function: its alias (GetAlias, UpdateAlias with routing weights).
 * The same adapter serves AWS and local mode, whose local endpoint speaks Lambda's REST API.
 */
import { GetAliasCommand, UpdateAliasCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { FunctionDeployer } from '../../core/deployment';

export class LambdaDeployer implements FunctionDeployer {
  constructor(private readonly lambda: LambdaClient) {}

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
