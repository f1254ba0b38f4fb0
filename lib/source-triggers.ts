/**
 * What starts a pipeline's runs. Every pipeline gets a run rule on the platform's bus that hands its
 * SourceChanged events (core/sources/source-events.ts) to the run starter. A CodeCommit pipeline also gets a
 * push rule on the default bus, whose pattern and input come from core/sources/triggers.ts (the very objects
 * local mode matches with), handing its repository's pushes to the source-change publisher; GitHub
 * pushes reach the bus through the platform's webhook receiver. The rules are named
 * `stepline-<pipeline>-push` and `-run`: the platform lets rules of those names invoke its functions,
 * so their resource policies do not grow with the pipelines.
 */
import { Duration } from 'aws-cdk-lib';
import type * as codecommit from 'aws-cdk-lib/aws-codecommit';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { EventPattern as CorePattern } from '../core/sources/event-pattern';
import { isCodeCommitPipeline, type PipelineConfig } from '../core/config/stepline-config';
import { pushRuleName, runRuleName } from '../core/platform';
import { sourceChangedTrigger } from '../core/sources/source-events';
import {
  codeCommitTrigger,
  isEventPath,
  type EventPath,
  type InputTemplate,
  type SourceTrigger,
} from '../core/sources/triggers';
import { InvalidPropError } from './errors';
import { acknowledgeRule } from './nag';

export interface SourceTriggersProps {
  readonly pipeline: PipelineConfig;
  /** The platform's bus, where the pipeline's run rule lives. */
  readonly sourceBus: events.IEventBus;
  /**
   * The run starter (lambdas/start-run.ts), the run rule's target. Its permission for the rule is
   * the platform's (by rule name): import it with `skipPermissions: true`.
   */
  readonly startRun: lambda.IFunction;
  /**
   * The source-change publisher (lambdas/publish-source-change.ts), the push rule's target, asked
   * for only when the pipeline has one (a CodeCommit source). Import it with `skipPermissions: true`.
   */
  readonly publishSourceChange: () => lambda.IFunction;
  /** The pipeline's CodeCommit repository; required for a CodeCommit source. */
  readonly repository?: codecommit.IRepository;
  /**
   * How often EventBridge retries delivering an event to a target.
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
  /** On the platform's bus: the pipeline's SourceChanged events to the run starter. */
  readonly runRule: events.Rule;
  /** On the default bus: a CodeCommit pipeline's pushes to the publisher; undefined for GitHub pipelines. */
  readonly pushRule?: events.Rule;
  /** Events EventBridge could not deliver to either target, kept for 14 days. */
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: SourceTriggersProps) {
    super(scope, id);
    const { pipeline } = props;
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledgeRule(
      this.deadLetterQueue,
      'SQS3',
      "This queue is itself a dead-letter queue: the pipeline's rules' target DLQ, which holds the events their targets could not take. A DLQ of a DLQ would only move them again.",
    );
    const rule = (
      id: string,
      ruleName: string,
      trigger: SourceTrigger,
      target: lambda.IFunction,
      description: string,
      eventBus?: events.IEventBus,
    ) =>
      triggerRule(this, id, trigger, target, {
        ruleName,
        eventBus,
        description,
        deadLetterQueue: this.deadLetterQueue,
        retryAttempts: props.retryAttempts,
        maxEventAge: props.maxEventAge,
      });

    this.runRule = rule(
      'RunRule',
      runRuleName(pipeline.name),
      sourceChangedTrigger(pipeline.name),
      props.startRun,
      `stepline: SourceChanged events of pipeline "${pipeline.name}" start its runs`,
      props.sourceBus,
    );
    if (!isCodeCommitPipeline(pipeline)) return;
    if (!props.repository) {
      throw new InvalidPropError(
        'repository',
        `SourceTriggers: pipeline "${pipeline.name}" has a codecommit source but no repository prop`,
      );
    }
    this.pushRule = rule(
      'PushRule',
      pushRuleName(pipeline.name),
      codeCommitTrigger(pipeline, props.repository.repositoryArn),
      props.publishSourceChange(),
      `stepline: pushes to ${pipeline.source.repository} reach pipeline "${pipeline.name}", whose filters decide which run`,
    );
  }
}

/**
 * A rule made of a core trigger (pattern and input) whose target is a function: what EventBridge
 * cannot deliver to it (after `retryAttempts` or `maxEventAge`) goes to `deadLetterQueue`.
 */
export function triggerRule(
  scope: Construct,
  id: string,
  trigger: SourceTrigger,
  target: lambda.IFunction,
  options: {
    readonly description: string;
    readonly deadLetterQueue: sqs.IQueue;
    readonly ruleName?: string;
    readonly eventBus?: events.IEventBus;
    /** @default 4 */
    readonly retryAttempts?: number;
    /** @default Duration.hours(2) */
    readonly maxEventAge?: Duration;
  },
): events.Rule {
  return new events.Rule(scope, id, {
    ruleName: options.ruleName,
    eventBus: options.eventBus,
    description: options.description,
    eventPattern: toCdkEventPattern(trigger.pattern),
    targets: [
      new targets.LambdaFunction(target, {
        event: toTargetInput(trigger.input),
        retryAttempts: options.retryAttempts ?? 4,
        maxEventAge: options.maxEventAge ?? Duration.hours(2),
        deadLetterQueue: options.deadLetterQueue,
      }),
    ],
  });
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
      // Programming error: core's triggers build every pattern, with top-level fields CDK's EventPattern has.
      throw new Error(
        `event pattern field "${field}" has no counterpart in CDK's EventPattern (${Object.keys(TOP_LEVEL_FIELDS).join(', ')})`,
      );
    }
    result[TOP_LEVEL_FIELDS[field]] = value;
  }
  return result as events.EventPattern;
}

/** A trigger's input as the target's: one event path (InputPath), or a template (InputTransformer). */
export function toTargetInput(input: InputTemplate | EventPath): events.RuleTargetInput {
  return isEventPath(input)
    ? events.RuleTargetInput.fromEventPath(input.path)
    : events.RuleTargetInput.fromObject(toTemplate(input));
}

/** Turns each `{ path }` leaf of an input template into EventBridge's `<path>` placeholder. */
function toTemplate(template: InputTemplate): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(template).map(([key, value]) => [
      key,
      typeof value === 'string'
        ? value
        : isEventPath(value)
          ? events.EventField.fromPath(value.path)
          : toTemplate(value),
    ]),
  );
}
