/**
 * Operators' controls handed to the platform's deploy function: a synchronous Lambda Invoke of it by
 * its ARN, the same call on both runtimes (local mode's Lambda API serves Invoke of the platform's
 * functions). A refusal is the deploy function's error: Lambda answers a function error with status
 * 200, `X-Amz-Function-Error` (the SDK's `FunctionError`) and the error as the payload, which the
 * Node.js runtime writes as `{ errorType, errorMessage, trace }` ("Invoke", Lambda API reference,
 * https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html; "AWS Lambda function errors in
 * Node.js", https://docs.aws.amazon.com/lambda/latest/dg/nodejs-exceptions.html). The refusal is
 * matched here alone, by the name of the error class the deploy function throws.
 */
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { ControlRefusedError, DeployFunctionFailedError } from '../../core/deployment/errors';
import type { DeploymentControl } from '../../core/schemas';

/** The deployment's status after the control, or why the deploy function refused it. */
export type ControlAnswer = { readonly status: string; readonly outcome: string } | { readonly refused: string };

export async function controlDeployment(
  lambda: LambdaClient,
  deployFunctionArn: string,
  control: DeploymentControl,
): Promise<ControlAnswer> {
  const answer = await lambda.send(
    new InvokeCommand({
      FunctionName: deployFunctionArn,
      Payload: Buffer.from(JSON.stringify({ kind: 'control', ...control })),
    }),
  );
  const payload = JSON.parse(Buffer.from(answer.Payload ?? new Uint8Array()).toString('utf8') || '{}') as Record<
    string,
    string
  >;
  if (answer.FunctionError) {
    if (payload.errorType === ControlRefusedError.name) return { refused: payload.errorMessage ?? 'refused' };
    throw new DeployFunctionFailedError(payload.errorType, payload.errorMessage);
  }
  return { status: payload.status ?? '', outcome: payload.outcome ?? '' };
}
