/**
 * The Lambda functions' configuration and AWS clients, read from the environment once per container.
 * Endpoints come from the SDK's standard resolution (region, AWS_ENDPOINT_URL_* variables).
 */
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { CodeBuildClient } from '@aws-sdk/client-codebuild';
import { CodeCommitClient } from '@aws-sdk/client-codecommit';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { parseInput, pipelineCatalogSchema } from '../core/schemas';
import type { PipelineCatalog } from '../core/start-run';
import { RunStore } from '../store/run-store';

export const ENV = {
  tableName: 'RUN_TABLE_NAME',
  pipelines: 'PIPELINE_CATALOG',
} as const;

export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}

export function pipelineCatalogFromEnv(): PipelineCatalog {
  return parseInput(pipelineCatalogSchema, JSON.parse(requiredEnv(ENV.pipelines)), `${ENV.pipelines} value`);
}

export function runStoreFromEnv(): RunStore {
  return new RunStore(new DynamoDBClient({}), requiredEnv(ENV.tableName));
}

export const awsClients = {
  codebuild: () => new CodeBuildClient({}),
  logs: () => new CloudWatchLogsClient({}),
  codecommit: () => new CodeCommitClient({}),
  sfn: () => new SFNClient({}),
};

/** Builds a dependency set on first use and keeps it for the container's life. */
export function once<T>(create: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= create());
}
