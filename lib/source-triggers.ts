/**
 * What starts a pipeline's runs. A CodeCommit pipeline gets an EventBridge rule on the default bus
 * whose pattern and input come from core/triggers.ts, the very objects local mode matches with.
 * The rule is named `stepline-<pipeline>-push`: the platform lets rules of that name invoke the
 * starter, so the starter's resource policy does not grow with the pipelines.
 */
import { Duration } from 'aws-cdk-lib';
import type * as codecommit from 'aws-cdk-lib/aws-codecommit';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { EventPattern as CorePattern } from '../core/event-pattern';
import { isCodeCommitPipeline, type PipelineConfig } from '../core/config';
import { pushRuleName } from '../core/platform';
import { codeCommitTrigger, isEventPath, type InputTemplate } from '../core/triggers';
import { acknowledgeRule } from './nag';

export interface SourceTriggersProps {
  readonly pipeline: PipelineConfig;
  /**
   * The run starter (lambdas/start-run.ts), the rule's target, asked for only when the pipeline has
   * a rule. Its permission for the rule is the platform's (by rule name): import it with
   * `skipPermissions: true`.
   */
  readonly startRun: () => lambda.IFunction;
  /** The pipeline's CodeCommit repository; required for a CodeCommit source. */
  readonly repository?: codecommit.IRepository;
  /**
   * How often EventBridge retries delivering an event to the starter.
   * @default 4
   */
  readonly retryAttempts?: number;
  /**
   * How long EventBridge keeps retrying an event before it goes to the dead-letter queue.
   * @default Duration.hours(2)
   */
  readonly maxEventAge?: Duration;
}

export class SourceTriggers extends Construct {
  /** The push rule of a CodeCommit pipeline; undefined for GitHub pipelines. */
  readonly rule?: events.Rule;
  /** Events the starter could not take, kept for 14 days. */
  readonly deadLetterQueue?: sqs.Queue;

  constructor(scope: Construct, id: string, props: SourceTriggersProps) {
    super(scope, id);
    const { pipeline } = props;
    // GitHub pipelines get no trigger yet: a later issue adds the webhook endpoint that verifies
    // X-Hub-Signature-256 and calls the same starter. Until then their runs start only by hand.
    if (!isCodeCommitPipeline(pipeline)) return;
    if (!props.repository) {
      throw new Error(`SourceTriggers: pipeline "${pipeline.name}" has a codecommit source but no repository prop`);
    }

    const trigger = codeCommitTrigger(pipeline, props.repository.repositoryArn);
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledgeRule(
      this.deadLetterQueue,
      'SQS3',
      "This queue is itself a dead-letter queue: the push rule's target DLQ, which holds the events the starter could not take. A DLQ of a DLQ would only move them again.",
    );
    this.rule = new events.Rule(this, 'PushRule', {
      ruleName: pushRuleName(pipeline.name),
      description: `stepline: pushes to ${pipeline.source.repository} reach pipeline "${pipeline.name}", whose filters decide which run`,
      eventPattern: toCdkEventPattern(trigger.pattern),
      targets: [
        new targets.LambdaFunction(props.startRun(), {
          event: events.RuleTargetInput.fromObject(toTargetInput(trigger.input)),
          retryAttempts: props.retryAttempts ?? 4,
          maxEventAge: props.maxEventAge ?? Duration.hours(2),
          deadLetterQueue: this.deadLetterQueue,
        }),
      ],
    });
  }
}

const TOP_LEVEL_FIELDS: Readonly<Record<string, keyof events.EventPattern>> = {
  version: 'version',
  id: 'id',
  'detail-type': 'detailType',
  source: 'source',
  account: 'account',
  time: 'time',
  region: 'region',
  resources: 'resources',
  detail: 'detail',
};

/** Renders a core pattern as CDK's EventPattern, which spells `detail-type` as `detailType`. */
export function toCdkEventPattern(pattern: CorePattern): events.EventPattern {
  const result: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(pattern)) {
    if (value === undefined) continue;
    if (!Object.hasOwn(TOP_LEVEL_FIELDS, field)) {
      throw new Error(
        `event pattern field "${field}" has no counterpart in CDK's EventPattern (${Object.keys(TOP_LEVEL_FIELDS).join(', ')})`,
      );
    }
    result[TOP_LEVEL_FIELDS[field]] = value;
  }
  return result as events.EventPattern;
}

/** Turns each `{ path }` leaf of an input template into EventBridge's `<path>` placeholder. */
export function toTargetInput(template: InputTemplate): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(template).map(([key, value]) => [
      key,
      typeof value === 'string'
        ? value
        : isEventPath(value)
          ? events.EventField.fromPath(value.path)
          : toTargetInput(value),
    ]),
  );
}
