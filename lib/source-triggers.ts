/**
 * Core's triggers (core/sources/triggers.ts and its kin: a pattern and an input, the very objects local
 * mode matches with) made into EventBridge rules on AWS. Every rule is the platform's, declared with the
 * function it invokes (core/platform-functions.ts) and made by `platformFunction`: none names a pipeline,
 * so their number does not grow with the pipelines, and what EventBridge cannot deliver to any of them goes
 * to the platform's one dead-letter queue.
 */
import { ArnFormat, Duration, type Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { ArnOf } from '../core/platform-functions';
import type { EventPattern as CorePattern } from '../core/sources/event-pattern';
import { isEventPath, type EventPath, type InputTemplate, type SourceTrigger } from '../core/sources/triggers';

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
