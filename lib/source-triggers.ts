/**
 * A pipeline's rules on AWS: each one the declaration of the function it invokes gives
 * (core/platform-functions.ts, `pipelineRules`), made here from its trigger (core/sources/triggers.ts: the
 * very pattern and input local mode matches with) in the part of the pipeline's stack it belongs to
 * (lib/pipeline-stack.ts). A pipeline's source triggers are its run rule on the platform's bus, which hands
 * its SourceChanged events (core/sources/source-events.ts) to the run starter, and for a CodeCommit
 * pipeline its push rule on the default bus, which hands its repository's pushes to the source-change
 * publisher (GitHub pushes reach the bus through the platform's webhook receiver). The rules are named
 * `stepline-<pipeline>-push`, `-run` (and `-alarms`, the deployment's): the platform lets rules of those
 * names invoke its functions, so their resource policies do not grow with the pipelines. What EventBridge
 * cannot deliver to any of them goes to the one dead-letter queue here.
 */
import { ArnFormat, Duration, type Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { ArnOf } from '../core/platform-functions';
import type { EventPattern as CorePattern } from '../core/sources/event-pattern';
import { isEventPath, type EventPath, type InputTemplate, type SourceTrigger } from '../core/sources/triggers';
import { acknowledgeRule } from './nag';

export interface SourceTriggersProps {
  /**
   * How often EventBridge retries delivering an event to a pipeline rule's target.
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
  /** Events EventBridge could not deliver to a pipeline rule's target, kept for 14 days. */
  readonly deadLetterQueue: sqs.Queue;

  constructor(
    scope: Construct,
    id: string,
    private readonly props: SourceTriggersProps = {},
  ) {
    super(scope, id);
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
  }

  /**
   * One of the pipeline's rules, `id` in `scope` (this construct, or another part of the pipeline's
   * stack), its undeliverable events to this dead-letter queue.
   */
  addRule(
    scope: Construct,
    id: string,
    trigger: SourceTrigger,
    target: lambda.IFunction,
    options: { readonly ruleName: string; readonly description: string; readonly eventBus?: events.IEventBus },
  ): events.Rule {
    return triggerRule(scope, id, trigger, target, {
      ...options,
      deadLetterQueue: this.deadLetterQueue,
      retryAttempts: this.props.retryAttempts,
      maxEventAge: this.props.maxEventAge,
    });
  }
}

/**
 * ARNs of a stack's account and Region, as the declaration's triggers ask for them; without a name,
 * `arn:<partition>:<service>:<region>:<account>:<resource>` (what `Repository.fromRepositoryName` makes
 * of a CodeCommit repository's name).
 */
export function stackArnOf(stack: Stack): ArnOf {
  return (service, resource, name, separator = '/') =>
    stack.formatArn({
      service,
      resource,
      resourceName: name,
      arnFormat: separator === ':' ? ArnFormat.COLON_RESOURCE_NAME : ArnFormat.SLASH_RESOURCE_NAME,
    });
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
